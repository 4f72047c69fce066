/**
 * One lock order (issue 24, finding 10): a teacher moving a student's booking while another teacher
 * bumps it stalled 1 s and ended `409 try again` in 18 of 30 rounds (a move locked the booking then
 * the room, a bump the room then the booking). Needs two connections, so PostgreSQL: an in-process
 * app on its own database on the local server (or TEST_DATABASE_URL's), on the real clock. The
 * other hostile rules: test/hostile-rules.test.ts.
 */
import { describe, expect, test } from 'bun:test'
import { and, eq, gt } from 'drizzle-orm'
import { createApp } from '../../src/app'
import { loadConfig } from '../../src/config'
import { createDb } from '../../src/db/client'
import { migrate } from '../../src/db/migrate'
import { reservations, rooms } from '../../src/db/schema'
import { seed } from '../../src/db/seed'
import { systemClock } from '../../src/lib/clock'
import { silentLogger } from '../../src/lib/log'
import { loggedIn, TEST_ENV, type Client } from '../helpers/app'
import { createPostgresDatabase, postgresServerUrl } from '../helpers/db'

const MIN = 60_000

const book = (c: Client, roomId: number, start: string, end: string, extra: Record<string, unknown> = {}) =>
  c.post(`/api/rooms/${roomId}/reserve`, { start_time: start, end_time: end, ...extra })

const PG = await postgresServerUrl()

describe.skipIf(!PG)('one lock order: a move and a bump of the same booking queue, they do not deadlock (PostgreSQL)', () => {
  test('30 rounds of a teacher moving a student\'s booking while another teacher bumps it: no stall, no 409 try again', async () => {
    const created = await createPostgresDatabase('qrbook_lock_order', PG)
    const database = await createDb({ kind: 'postgres', url: created.url })
    try {
      await migrate(database)
      await seed(database.db, systemClock)
      const config = loadConfig({ ...TEST_ENV, STATIC_QR_PATH: '', BOOKING_HORIZON_DAYS: '3660' })
      const qrbook = createApp({ config, database, clock: systemClock, log: silentLogger, startedAt: Date.now() })
      const app = qrbook.app
      try {
        const admin = await loggedIn(app, 'admin')
        expect((await admin.post('/api/admin/users', { name: 'teacher2', password: 'teacher2-password-1234', role: 'teacher' })).status).toBe(201)
        const [student, mover, bumper] = await Promise.all([loggedIn(app, 'student'), loggedIn(app, 'teacher'), loggedIn(app, 'teacher2', 'teacher2-password-1234')])
        const [room] = await database.db.select({ id: rooms.id }).from(rooms).where(eq(rooms.name, 'B101'))
        const outcomes: string[] = []
        let slowest = 0
        for (let round = 0; round < 30; round++) {
          const start = Date.UTC(2031, 0, 6, 8) + round * 3 * 3600_000
          const at = (ms: number) => new Date(start + ms).toISOString()
          const booked = await book(student, room!.id, at(0), at(30 * MIN))
          expect(booked.status).toBe(201)
          const began = performance.now()
          const [moved, bumped] = await Promise.all([
            mover.patch(`/api/reservations/${booked.body.reservation.id}`, { start_time: at(15 * MIN), end_time: at(45 * MIN) }),
            book(bumper, room!.id, at(0), at(60 * MIN), { bump: true }),
          ])
          slowest = Math.max(slowest, performance.now() - began)
          outcomes.push(`${moved.status}/${bumped.status}`)
          // whichever came first, the other saw its result: either the move went through and the
          // lesson bumped the moved booking, or the lesson bumped it first and the move found it cancelled
          expect(bumped.status).toBe(201)
          expect([200, 400]).toContain(moved.status)
          const active = await database.db.select().from(reservations)
            .where(and(eq(reservations.roomId, room!.id), eq(reservations.status, 'active'), gt(reservations.endTime, new Date(start))))
          expect(active.filter((r) => r.startTime < new Date(start + 60 * MIN)).map((r) => r.userId)).toEqual([active.find((r) => r.id === bumped.body.reservation.id)!.userId])
        }
        console.log(`lock order: 30 rounds, move/bump answers ${JSON.stringify(Object.fromEntries(Object.entries(Object.groupBy(outcomes, (o) => o)).map(([k, v]) => [k, v!.length])))}, slowest round ${slowest.toFixed(0)} ms`)
        expect(outcomes.filter((o) => o.includes('409') || o.includes('503'))).toEqual([])
        expect(slowest).toBeLessThan(900)
      } finally {
        await qrbook.stop()
      }
    } finally {
      await database.close()
      await created.drop()
    }
  }, 120_000)
})
