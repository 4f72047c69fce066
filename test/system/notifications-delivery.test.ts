/**
 * Issue 28, delivery as the "done when" states it: two app processes on one PostgreSQL
 * database, a real SMTP server (smtp-server, in this process) that is down for 30 s. While it is
 * down, 100 bookings through both processes each answer 201 at once; once it is back, every notice
 * arrives, each exactly once (two notifiers and two outbox workers share the work).
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createPostgresDatabase, postgresServerUrl } from '../helpers/db'
import { killAll, processEnv, spawnServer } from '../helpers/process'
import { startSmtp } from '../helpers/smtp'

setDefaultTimeout(180_000)

const PG_SERVER = await postgresServerUrl()
const OUTAGE_MS = 30_000
const BOOKINGS = 100

afterAll(() => killAll())

async function api(base: string, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: await res.json().catch(() => null) as any }
}

describe('e-mail notices across two instances and an SMTP outage (needs PostgreSQL)', () => {
  test.skipIf(!PG_SERVER)('100 bookings while SMTP is down: all 201 at once; every notice arrives once it is back, exactly once', async () => {
    const database = await createPostgresDatabase('qrbook_notices', PG_SERVER!)
    const smtp = await startSmtp()
    try {
      const env = processEnv({ DATABASE_URL: database.url, RATELIMIT_ENABLED: 'false', SMTP_URL: smtp.url, APP_TIMEZONE: 'Europe/Moscow' })
      const one = spawnServer({ env })
      await one.waitForLog('listening')
      const two = spawnServer({ env })
      await two.waitForLog('listening')

      const login = async (base: string, name: string) => (await api(base, 'POST', '/api/auth/login', undefined, { name, password: `${name}1234` })).body.access_token as string
      const admin = await login(one.base, 'admin')
      const students = { one: await login(one.base, 'student'), two: await login(two.base, 'student') }
      const student = (await api(one.base, 'GET', '/api/auth/me', students.one)).body
      expect((await api(one.base, 'PATCH', `/api/admin/users/${student.id}`, admin, { email: 'student@college.test' })).status).toBe(200)
      // every booking of theirs is a notice: the confirmation, off by default, turned on for e-mail
      expect((await api(two.base, 'PUT', '/api/me/notification-preferences', students.two, { preferences: [{ kind: 'booking_confirmed', channel: 'email', enabled: true }] })).status).toBe(200)
      const room = (await api(one.base, 'GET', '/api/rooms')).body.rooms.find((r: { name: string }) => r.name === 'B102')

      await smtp.stop()
      const down = Date.now()
      const first = Math.ceil((Date.now() + 3 * 24 * 3600_000) / 3600_000) * 3600_000
      const booked: number[] = []
      let slowest = 0
      for (let i = 0; i < BOOKINGS; i++) {
        const [base, token] = i % 2 === 0 ? [one.base, students.one] : [two.base, students.two]
        const start = first + i * 3600_000
        const began = performance.now()
        const r = await api(base, 'POST', `/api/rooms/${room.id}/reserve`, token, { start_time: new Date(start).toISOString(), end_time: new Date(start + 30 * 60_000).toISOString() })
        slowest = Math.max(slowest, performance.now() - began)
        expect(r.status).toBe(201)
        booked.push(r.body.reservation.id)
      }
      // A down mail server costs a booking nothing: it never waits for it.
      expect(slowest).toBeLessThan(1000)
      await Bun.sleep(Math.max(0, OUTAGE_MS - (Date.now() - down)))
      expect(smtp.messages).toHaveLength(0)

      await smtp.restart()
      await smtp.waitFor(BOOKINGS, 90_000).catch(async (error) => {
        // what was left behind, for whoever reads the failure
        const left = await Bun.$`psql ${database.url} -Atc ${"select d.id, d.status, d.attempts, d.next_attempt_at, d.lease_until, d.last_error from mail_deliveries d where d.status <> 'sent'"}`.nothrow().text()
        const notices = await Bun.$`psql ${database.url} -Atc ${"select count(*) from notifications where kind = 'booking_confirmed'"}`.nothrow().text()
        throw new Error(`${(error as Error).message}; notices ${notices.trim()}; not sent: ${left.trim() || 'none'}`)
      })
      await Bun.sleep(3000) // anything sent twice would arrive now
      expect(smtp.messages).toHaveLength(BOOKINGS)
      const ids = new Set(smtp.messages.map((m) => m.messageId))
      expect(ids.size).toBe(BOOKINGS)
      expect([...new Set(smtp.messages.map((m) => m.subject))]).toEqual(['Booking confirmed: B102'])
      // each booking told once: the .ics of each names its own booking
      const uids = new Set(smtp.messages.map((m) => m.attachments[0]!.content.toString('utf8').match(/UID:reservation-(\d+)@/)![1]))
      expect([...uids].map(Number).sort((a, b) => a - b)).toEqual([...booked].sort((a, b) => a - b))
      await Promise.all([one.stop(), two.stop()])
    } finally {
      await killAll()
      await smtp.stop().catch(() => {})
      await database.drop()
    }
  })
})
