import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { reservations, rooms } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { stamped } from './helpers/db'

setDefaultTimeout(30_000) // see test/setup.ts

const clock = fixedClock('2030-03-10T12:00:00Z')
let t: TestApp

beforeAll(async () => {
  t = await testApp({ clock })
})
afterAll(() => t.close())

describe('GET /admin/stats', () => {
  test('non-admins are refused', async () => {
    expect((await new Client(t.app).get('/api/admin/stats')).status).toBe(401)
    expect((await (await loggedIn(t.app, 'teacher')).get('/api/admin/stats')).status).toBe(403)
  })

  test('exact shape and counts on the seeded database', async () => {
    const admin = await loggedIn(t.app, 'admin')
    const r = await admin.get('/api/admin/stats')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      stats: {
        rooms: { total: 4, blocked: 0, available: 3, active_now: 1, by_type: { public: 2, admin: 1, service: 1 } },
        reservations: {
          total: 3, active: 3, upcoming: 2, by_status: { active: 3, finished: 0, cancelled: 0 }, no_shows: 0,
          checked_in: 1, awaiting_check_in: 1,
        },
        users: { total: 4, by_role: { student: 2, teacher: 1, admin: 1 } },
        updated_at: '2030-03-10T12:00:00Z',
      },
    })
  })

  test('follows blocks, cancellations, finished reservations and the clock; legacy path', async () => {
    const db = t.database.db
    const [b101] = await db.select().from(rooms).where(eq(rooms.name, 'B101'))
    const [s001] = await db.select().from(rooms).where(eq(rooms.name, 'S001'))
    // S001 blocked; a blocked room is counted as blocked, never as active_now.
    await db.update(rooms).set({ isBlocked: true }).where(eq(rooms.id, s001!.id))
    await db.insert(reservations).values([
      stamped({ roomId: s001!.id, userId: 3, startTime: new Date('2030-03-10T11:00:00Z'), endTime: new Date('2030-03-10T13:00:00Z') }),
      stamped({ roomId: b101!.id, userId: 3, startTime: new Date('2030-03-09T09:00:00Z'), endTime: new Date('2030-03-09T10:00:00Z') }),
      stamped({ roomId: b101!.id, userId: 3, startTime: new Date('2030-03-08T09:00:00Z'), endTime: new Date('2030-03-08T10:00:00Z'), status: 'finished' }),
      stamped({ roomId: b101!.id, userId: 4, startTime: new Date('2030-03-12T09:00:00Z'), endTime: new Date('2030-03-12T10:00:00Z'), status: 'cancelled' }),
      // a no-show released by the sweeper: counted as cancelled (by_status keeps the original's keys), and in no_shows
      stamped({ roomId: b101!.id, userId: 3, startTime: new Date('2030-03-10T08:00:00Z'), endTime: new Date('2030-03-10T09:00:00Z'), status: 'released', checkInRequired: true }),
    ])
    const admin = await loggedIn(t.app, 'admin')
    const r = await admin.get('/admin/stats')
    expect(r.status).toBe(200)
    expect(r.body.stats.rooms).toEqual({ total: 4, blocked: 1, available: 2, active_now: 1, by_type: { public: 2, admin: 1, service: 1 } })
    expect(r.body.stats.reservations).toEqual({
      total: 8, active: 4, upcoming: 2, by_status: { active: 4, finished: 2, cancelled: 2 }, no_shows: 1, checked_in: 1, awaiting_check_in: 1,
    })
    expect(Object.keys(r.body.stats.reservations.by_status).sort()).toEqual(['active', 'cancelled', 'finished'])

    // Two hours later the seeded B101 reservation (-30 min .. +90 min) is over and B102's
    // (+120 .. +240 min) has just begun.
    clock.advance(2 * 3600_000)
    const later = await (await loggedIn(t.app, 'admin')).get('/api/admin/stats')
    expect(later.body.stats.rooms).toMatchObject({ blocked: 1, active_now: 1, available: 2 })
    expect(later.body.stats.reservations).toEqual({
      total: 8, active: 2, upcoming: 1, by_status: { active: 2, finished: 4, cancelled: 2 }, no_shows: 1, checked_in: 1, awaiting_check_in: 1,
    })
    expect(later.body.stats.updated_at).toBe('2030-03-10T14:00:00Z')
  })
})
