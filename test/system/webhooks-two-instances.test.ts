/**
 * Webhooks across processes (issue 28): two app processes on one PostgreSQL database, one
 * endpoint; 30 bookings made through both reach the receiver exactly once each, signed (verified
 * with the standardwebhooks library). Both processes follow the change record and both run a
 * delivery worker: the follower's cursor lock and the claims' SKIP LOCKED leave each delivery to
 * one of them. In process: test/webhooks.test.ts.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { Webhook } from 'standardwebhooks'
import { createPostgresDatabase, postgresServerUrl } from '../helpers/db'
import { killAll, processEnv, spawnServer } from '../helpers/process'

setDefaultTimeout(90_000) // see test/setup.ts

const PG_SERVER = await postgresServerUrl()
const HOUR = 3600_000
const DAY = 24 * HOUR

describe('webhooks across two instances on one PostgreSQL', () => {
  afterAll(() => killAll())

  test.skipIf(!PG_SERVER)('30 bookings through both instances: each reaches the receiver exactly once, signed (needs PostgreSQL)', async () => {
    const database = await createPostgresDatabase('qrbook_webhooks', PG_SERVER!)
    const received: { id: string; type: string; reservation: number; valid: boolean }[] = []
    let secret = ''
    const receiver = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      async fetch(request) {
        const text = await request.text()
        let valid = true
        try {
          new Webhook(secret).verify(text, Object.fromEntries(request.headers))
        } catch {
          valid = false
        }
        const body = JSON.parse(text)
        received.push({ id: request.headers.get('webhook-id')!, type: body.type, reservation: body.data.reservation_id, valid })
        // a little slow, so both instances' workers have something to race for
        await Bun.sleep(15)
        return new Response(null, { status: 204 })
      },
    })
    try {
      const env = processEnv({ DATABASE_URL: database.url, RATELIMIT_ENABLED: 'false', SWEEP_INTERVAL_S: '0' })
      const [a, b] = [spawnServer({ env }), spawnServer({ env })]
      await Promise.all([a.waitForLog('listening'), b.waitForLog('listening')])
      const call = async (base: string, token: string, method: string, path: string, body?: unknown) => {
        const response = await fetch(`${base}${path}`, {
          method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body),
        })
        return { status: response.status, body: (await response.json()) as any }
      }
      const login = async (base: string) => ((await (await fetch(`${base}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: 'admin1234' }),
      })).json()) as { access_token: string }).access_token
      const [tokenA, tokenB] = [await login(a.base), await login(b.base)]

      const room = await call(a.base, tokenA, 'POST', '/api/admin/rooms', { name: 'WH-SYS', requires_check_in: false })
      expect(room.status).toBe(201)
      const endpoint = await call(a.base, tokenA, 'POST', '/api/admin/webhooks', { url: `http://127.0.0.1:${receiver.port}/hook`, events: ['reservation.created'] })
      expect(endpoint.status).toBe(201)
      secret = endpoint.body.secret

      // one booking a day at 10:00 UTC, 3 to 32 days ahead; alternately through A and B, 5 at a time
      const first = Math.floor(Date.now() / DAY) * DAY + 3 * DAY + 10 * HOUR
      const ids: number[] = []
      for (let batch = 0; batch < 30; batch += 5) {
        const replies = await Promise.all([0, 1, 2, 3, 4].map((k) => {
          const i = batch + k
          const start = first + i * DAY
          const [base, token] = i % 2 === 0 ? [a.base, tokenA] : [b.base, tokenB]
          return call(base, token, 'POST', `/api/rooms/${room.body.room.id}/reserve`, { start_time: new Date(start).toISOString(), end_time: new Date(start + HOUR).toISOString() })
        }))
        for (const reply of replies) {
          expect(reply.status).toBe(201)
          ids.push(reply.body.reservation.id)
        }
      }

      const deadline = Date.now() + 30_000
      while (received.length < 30 && Date.now() < deadline) await Bun.sleep(50)
      // long enough for a second delivery of anything (two follower and worker ticks)
      await Bun.sleep(5000)
      expect(received.length).toBe(30)
      expect(received.every((r) => r.valid && r.type === 'reservation.created')).toBe(true)
      expect(new Set(received.map((r) => r.id)).size).toBe(30)
      expect(received.map((r) => r.reservation).sort((x, y) => x - y)).toEqual([...ids].sort((x, y) => x - y))

      const log = await call(b.base, tokenB, 'GET', `/api/admin/webhooks/${endpoint.body.endpoint.id}/deliveries?per_page=100`)
      expect(log.body.pagination.total).toBe(30)
      expect(log.body.deliveries.every((d: any) => d.status === 'sent' && d.attempts === 1)).toBe(true)
      await Promise.all([a.stop(), b.stop()])
    } finally {
      receiver.stop(true)
      await killAll()
      await database.drop()
    }
  })
})
