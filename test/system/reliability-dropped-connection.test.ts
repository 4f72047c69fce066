/**
 * A dropped PostgreSQL connection must not end the process (issue 24, finding 1).
 *
 * postgres.js 3.4.9 threw from a setImmediate callback when a connection closed with a statement of
 * a transaction in flight (porsager/postgres#1066, #1154, #1208): the ROLLBACK that sql.begin() sends
 * on the dead connection was flushed to a socket already set to null, and the TypeError ended the
 * process. patches/postgres@3.4.9.patch fixes it; this test is why the patch stays.
 *
 * A TCP proxy the test controls ends every connection in order (FIN, as PgBouncer, a load balancer
 * or a server-side timeout does) while 20 clients keep writing, right after start and then 50 rounds
 * in a row. The same process must answer through all of it: 503 {msg} while the connections are
 * cut, 200/201 after, never a network error or a 500.
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { createPostgresDatabase, postgresServerUrl } from '../helpers/db'
import { killAll, processEnv, spawnServer } from '../helpers/process'
import { startTcpProxy } from '../helpers/tcp-proxy'

const PG = await postgresServerUrl()
const SECRETS = { SECRET_KEY: 'dropped-secret-key-0123456789abcdefghijklmn', JWT_SECRET_KEY: 'dropped-jwt-secret-key-0123456789abcdefghij' }
const ROUNDS = 50
const WRITERS = 20

afterAll(killAll)

interface Reply { status: number; msg?: string; error?: string }

async function send(url: string, init: RequestInit = {}): Promise<Reply> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
    const text = await res.text()
    let msg: string | undefined
    try {
      msg = (JSON.parse(text) as { msg?: string }).msg
    } catch {}
    return { status: res.status, msg }
  } catch (error) {
    return { status: 0, error: (error as Error).message }
  }
}

describe.skipIf(!PG)('a dropped PostgreSQL connection (TCP proxy, FIN)', () => {
  test(`right after start and ${ROUNDS} times under ${WRITERS} writers: the process answers 503 during, 200 after, and never exits`, async () => {
    const created = await createPostgresDatabase('qrbook_dropped', PG)
    const pg = new URL(created.url)
    const proxy = startTcpProxy({ hostname: pg.hostname, port: Number(pg.port || 5432) })
    try {
      const server = spawnServer({
        env: processEnv({ ...SECRETS, BOOKING_HORIZON_DAYS: '3660', DATABASE_URL: proxy.urlFor(created.url), TIMEOUT: '5', RATELIMIT_ENABLED: 'false' }),
      })
      await server.waitForLog('listening')
      const pid = server.proc.pid
      // Right after start: the pool, the LISTEN connection and the breaker's probe are all new.
      proxy.setMode('refuse', { close: 'fin' })
      await Bun.sleep(100)
      proxy.setMode('pass')

      const base = server.base
      const untilAnswered = async (what: () => Promise<Reply>, ok: number[]) => {
        const started = performance.now()
        for (;;) {
          const reply = await what()
          if (ok.includes(reply.status)) return performance.now() - started
          if (reply.status !== 503 || performance.now() - started > 10_000) throw new Error(`no recovery: ${JSON.stringify(reply)}`)
          await Bun.sleep(25)
        }
      }
      const loginReply = { token: '' }
      await untilAnswered(async () => {
        const res = await fetch(`${base}/api/auth/login`, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'teacher', password: 'teacher1234' }),
        })
        if (res.status === 200) loginReply.token = ((await res.json()) as { access_token: string }).access_token
        return { status: res.status }
      }, [200])
      const auth = { authorization: `Bearer ${loginReply.token}` }
      // public, unblocked rooms without a booking window: any slot can be booked
      const { rooms: listed } = (await (await fetch(`${base}/api/rooms`)).json()) as { rooms: { id: number; type: string; is_blocked: boolean; booking_window: { start: string | null; end: string | null } }[] }
      const rooms = listed.filter((r) => r.type === 'public' && !r.is_blocked && !r.booking_window.start && !r.booking_window.end).map((r) => r.id)
      expect(rooms.length).toBeGreaterThan(0)

      // 20 writers, each booking its own distinct slots (a room a writer, 30 minutes a booking)
      let stopped = false
      const replies: Reply[] = []
      const firstSlot = Date.UTC(2031, 0, 6, 8)
      const writers = Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
        for (let k = 0; !stopped; k++) {
          const start = firstSlot + (k * WRITERS + w) * 30 * 60_000 // distinct for every writer and room
          const reply = await send(`${base}/api/rooms/${rooms[w % rooms.length]}/reserve`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ start_time: new Date(start).toISOString(), end_time: new Date(start + 30 * 60_000).toISOString() }),
          })
          replies.push(reply)
          if (reply.status !== 201) await Bun.sleep(50) // the database is cut: do not spin
        }
      }))

      const recoveries: number[] = []
      let refusedDuringCuts = 0
      for (let round = 0; round < ROUNDS; round++) {
        await Bun.sleep(60) // writes in flight on every pool connection
        const before = replies.length
        proxy.setMode('refuse', { close: 'fin' })
        const during = await send(`${base}/api/reservations/mine`, { headers: auth })
        if (during.status === 503) refusedDuringCuts++
        await Bun.sleep(50)
        proxy.setMode('pass')
        expect({ round, exited: server.proc.exitCode ?? server.proc.signalCode, stderr: server.proc.exitCode === null ? '' : server.stderr.slice(-2000) }).toEqual({ round, exited: null, stderr: '' })
        recoveries.push(await untilAnswered(() => send(`${base}/api/reservations/mine`, { headers: auth }), [200]))
        // the writers were answered during the round (the process did not hang either)
        expect(replies.length).toBeGreaterThan(before)
      }
      stopped = true
      await writers

      const byStatus = replies.reduce<Record<string, number>>((acc, r) => {
        acc[r.status] = (acc[r.status] ?? 0) + 1
        return acc
      }, {})
      recoveries.sort((a, b) => a - b)
      console.log(`dropped connections: ${ROUNDS} rounds, bookings ${JSON.stringify(byStatus)}, `
        + `reads during a cut answered 503 ${refusedDuringCuts} times, recovery median ${recoveries[ROUNDS >> 1]!.toFixed(0)} ms, max ${recoveries.at(-1)!.toFixed(0)} ms`)
      // the same process, alive; every answer a 201 or a 503 with a message: no network error, no 500
      expect(server.proc.pid).toBe(pid)
      expect(server.proc.exitCode).toBeNull()
      expect(server.stderr).not.toContain('socket.write')
      expect(replies.filter((r) => r.status !== 201 && !(r.status === 503 && typeof r.msg === 'string'))).toEqual([])
      expect(byStatus['201']).toBeGreaterThan(ROUNDS)
      expect(byStatus['503']).toBeGreaterThan(0)
      expect(server.logs().filter((l) => l.msg === 'unhandled error')).toEqual([])
      // and it still serves
      expect((await send(`${base}/health`)).status).toBe(200)
      expect(await server.stop('SIGTERM')).toBe(0)
    } finally {
      await killAll()
      proxy.close()
      await created.drop()
    }
  }, 120_000)
})
