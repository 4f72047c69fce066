/**
 * Rooms (contract section 3): list, detail with schedule and free slots, room creation, and the
 * constant number of SQL queries of the list. Clock fixed at 2030-01-15T09:00:00Z, APP_TIMEZONE UTC.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { and, desc, eq } from 'drizzle-orm'
import { changes, reservations, rooms, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { freeSlots, getRoomView, listRoomViews } from '../src/core/bookings/views/rooms'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { stamped, onPostgres } from './helpers/db'
import { createDb } from '../src/db/client'
import { recordChange, writeTransaction } from '../src/core/changes'

setDefaultTimeout(30_000) // see test/setup.ts

const NOW = new Date('2030-01-15T09:00:00Z')
const clock = fixedClock(NOW)
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString().replace('.000Z', 'Z')
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/

let t: TestApp
let anon: Client
let admin: Client
let student: Client
let teacher: Client
let counting = false
const queries: string[] = []

beforeAll(async () => {
  t = await testApp({ clock, db: { onQuery: (q) => { if (counting) queries.push(q) } } })
  anon = new Client(t.app)
  admin = await loggedIn(t.app, 'admin')
  student = await loggedIn(t.app, 'student')
  teacher = await loggedIn(t.app, 'teacher')
})
afterAll(() => t.close())

const db = () => t.database.db
/**
 * After writing to the database behind the app's back: record the change as another instance's
 * core would (every room, the test does not say which), and wait until the app's live feed has
 * heard it (decision 027).
 */
async function seen() {
  await writeTransaction(t.database, async (tx) => recordChange(tx, { event: 'room.updated', actorId: null, rooms: 'all', description: 'changed behind the app', at: clock.now() }))
  expect(await t.ctx.events.readBarrier()).toBe(true)
}
async function userId(name: string) {
  const [u] = await db().select({ id: users.id }).from(users).where(eq(users.name, name))
  return u!.id
}
async function roomId(name: string) {
  const [r] = await db().select({ id: rooms.id }).from(rooms).where(eq(rooms.name, name))
  return r!.id
}
async function lastAudit() {
  const [row] = await db().select().from(changes).orderBy(desc(changes.position)).limit(1)
  return row!
}

describe('GET /rooms', () => {
  test('lists every room ordered by name with status, current and next reservation', async () => {
    const r = await anon.get('/api/rooms')
    expect(r.status).toBe(200)
    expect(r.body.rooms.map((room: any) => room.name)).toEqual(['A200', 'B101', 'B102', 'S001'])
    const byName = Object.fromEntries(r.body.rooms.map((room: any) => [room.name, room]))
    const b101 = byName.B101
    expect(b101).toEqual({
      id: await roomId('B101'),
      name: 'B101',
      type: 'public',
      is_blocked: false,
      qr_code_url: `http://qrbook.test/static/qr/${b101.id}.png`,
      status: 'occupied',
      current_reservation: {
        id: expect.any(Number), user_id: await userId('teacher'), user_name: 'teacher', end_time: at(90),
        check_in_required: true, checked_in_at: at(-30),
      },
      next_reservation: null,
      booking_window: { start: null, end: null },
      requires_check_in: true,
      check_in_opens_min: 10,
      auto_release_after_min: 15,
      check_in_proof: 'poster',
      series_require_check_in: false,
      closure: null,
    })
    expect(byName.B102.status).toBe('available')
    expect(byName.B102.current_reservation).toBeNull()
    expect(byName.B102.next_reservation).toEqual({ id: expect.any(Number), start_time: at(120), user_name: 'student' })
    expect(byName.A200.type).toBe('admin')
    expect(byName.A200.next_reservation.user_name).toBe('guest')
    expect(byName.S001).toMatchObject({ type: 'service', status: 'available', current_reservation: null, next_reservation: null })
  })

  test('the legacy path without /api answers the same', async () => {
    const api = await anon.get('/api/rooms')
    const legacy = await anon.get('/rooms')
    expect(legacy.status).toBe(200)
    expect(legacy.body).toEqual(api.body)
  })

  test('a blocked room is reported blocked, whatever its reservations', async () => {
    const id = await roomId('B101')
    await db().update(rooms).set({ isBlocked: true }).where(eq(rooms.id, id))
    await seen()
    try {
      const room = (await anon.get('/api/rooms')).body.rooms.find((x: any) => x.id === id)
      expect(room.status).toBe('blocked')
      expect(room.is_blocked).toBe(true)
      expect(room.current_reservation.user_name).toBe('teacher')
    } finally {
      await db().update(rooms).set({ isBlocked: false }).where(eq(rooms.id, id))
      await seen()
    }
  })

  test('cancelled reservations are neither current nor next', async () => {
    const id = await roomId('S001')
    const [row] = await db().insert(reservations).values(stamped({
      roomId: id, userId: await userId('student'), startTime: new Date(at(-10)), endTime: new Date(at(10)), status: 'cancelled',
    })).returning()
    await seen()
    try {
      const room = (await anon.get(`/api/rooms/${id}`)).body.room
      expect(room.status).toBe('available')
      expect(room.current_reservation).toBeNull()
    } finally {
      await db().delete(reservations).where(eq(reservations.id, row!.id))
      await seen()
    }
  })
})

describe('GET /rooms/:id', () => {
  test('room, schedule ascending and free slots for the next 24 h', async () => {
    const id = await roomId('B102')
    const r = await anon.get(`/api/rooms/${id}`)
    expect(r.status).toBe(200)
    expect(r.body.room.name).toBe('B102')
    expect(r.body.schedule).toEqual([
      {
        id: expect.any(Number), user_id: await userId('student'), user_name: 'student', start_time: at(120), end_time: at(240), status: 'active',
        cancel_reason: null, approval: null, check_in_required: true, checked_in_at: null,
      },
    ])
    expect(r.body.free_slots).toEqual([
      { start: at(0), end: at(120) },
      { start: at(240), end: at(24 * 60) },
    ])
  })

  test('a slot that is taken now starts the free slots at its end; legacy path works', async () => {
    const id = await roomId('B101')
    const r = await anon.get(`/rooms/${id}`)
    expect(r.status).toBe(200)
    expect(r.body.room.status).toBe('occupied')
    expect(r.body.free_slots).toEqual([{ start: at(90), end: at(24 * 60) }])
  })

  test('schedule shows every status; cancelled and finished ones do not take free time', async () => {
    const id = await roomId('S001')
    const student = await userId('student')
    const inserted = await db().insert(reservations).values([
      stamped({ roomId: id, userId: student, startTime: new Date(at(-180)), endTime: new Date(at(-120)) }),
      stamped({ roomId: id, userId: student, startTime: new Date(at(60)), endTime: new Date(at(120)), status: 'cancelled' }),
      stamped({ roomId: id, userId: student, startTime: new Date(at(180)), endTime: new Date(at(240)) }),
    ]).returning()
    await seen()
    try {
      const r = await anon.get(`/api/rooms/${id}`)
      expect(r.body.schedule.map((s: any) => s.status)).toEqual(['finished', 'cancelled', 'active'])
      expect(r.body.schedule.map((s: any) => s.start_time)).toEqual([at(-180), at(60), at(180)])
      for (const s of r.body.schedule) expect(s.start_time).toMatch(ISO_Z)
      expect(r.body.free_slots).toEqual([{ start: at(0), end: at(180) }, { start: at(240), end: at(1440) }])
    } finally {
      for (const row of inserted) await db().delete(reservations).where(eq(reservations.id, row.id))
      await seen()
    }
  })

  test('free slots are clipped to the daily booking window', async () => {
    const created = await admin.post('/api/rooms', { name: 'Windowed', booking_start: '08:00', booking_end: '18:00' })
    expect(created.status).toBe(201)
    expect(created.body.room.booking_window).toEqual({ start: '08:00', end: '18:00' })
    const r = await anon.get(`/api/rooms/${created.body.room.id}`)
    // now is 09:00 UTC: today until 18:00, tomorrow from 08:00 until now + 24 h
    expect(r.body.free_slots).toEqual([
      { start: '2030-01-15T09:00:00Z', end: '2030-01-15T18:00:00Z' },
      { start: '2030-01-16T08:00:00Z', end: '2030-01-16T09:00:00Z' },
    ])
  })

  test('unknown room 404, non-numeric id 400', async () => {
    const missing = await anon.get('/api/rooms/99999')
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ msg: 'room not found' })
    const bad = await anon.get('/api/rooms/abc')
    expect(bad.status).toBe(400)
    expect(typeof bad.body.msg).toBe('string')
  })
})

describe('times are instants (issue 11)', () => {
  test('a booking with milliseconds comes back exact, and every advertised free slot can be booked as advertised', async () => {
    const created = await admin.post('/api/rooms', { name: 'Millis' })
    expect(created.status).toBe(201)
    const id = created.body.room.id
    // covers now (09:00:00Z), starts within the one-minute grace for "now"
    const current = { start_time: '2030-01-15T08:59:30.125Z', end_time: '2030-01-15T10:15:00.875Z' }
    const later = { start_time: '2030-01-15T11:00:00.500Z', end_time: '2030-01-15T12:00:00.250Z' }
    for (const slot of [current, later]) {
      const booked = await student.post(`/api/rooms/${id}/reserve`, slot)
      expect(booked.status).toBe(201)
      expect(booked.body.reservation).toMatchObject(slot)
    }

    const detail = await anon.get(`/api/rooms/${id}`)
    expect(detail.body.room.status).toBe('occupied')
    expect(detail.body.room.current_reservation.end_time).toBe(current.end_time)
    expect(detail.body.room.next_reservation.start_time).toBe(later.start_time)
    expect(detail.body.schedule.map((e: any) => [e.start_time, e.end_time])).toEqual([
      [current.start_time, current.end_time], [later.start_time, later.end_time],
    ])
    const free = detail.body.free_slots
    expect(free[0]).toEqual({ start: current.end_time, end: later.start_time })
    expect(free[1].start).toBe(later.end_time)

    // Book each advertised gap exactly: start and end touch the neighbouring bookings.
    const first = await teacher.post(`/api/rooms/${id}/reserve`, { start_time: free[0].start, end_time: free[0].end })
    expect(first.status).toBe(201)
    const second = await teacher.post(`/api/rooms/${id}/reserve`, { start_time: free[1].start, end_time: '2030-01-15T13:00:00Z' })
    expect(second.status).toBe(201)
    const stored = await db().select({ start: reservations.startTime, end: reservations.endTime }).from(reservations)
      .where(eq(reservations.id, first.body.reservation.id))
    expect(stored[0]!.start.toISOString()).toBe('2030-01-15T10:15:00.875Z')
    expect(stored[0]!.end.toISOString()).toBe('2030-01-15T11:00:00.500Z')
    const after = await anon.get(`/api/rooms/${id}`)
    expect(after.body.free_slots[0]).toEqual({ start: '2030-01-15T13:00:00Z', end: '2030-01-16T09:00:00Z' })
    await db().delete(rooms).where(eq(rooms.id, id)) // the later tests count the rooms
    await seen()
  })

  test('between whole seconds the free slots start at the next second, and booking that start is accepted', async () => {
    const created = await admin.post('/api/rooms', { name: 'Between seconds' })
    const id = created.body.room.id
    clock.set(new Date('2030-01-15T09:00:00.250Z'))
    try {
      const detail = await anon.get(`/api/rooms/${id}`)
      expect(detail.body.free_slots).toEqual([{ start: '2030-01-15T09:00:01Z', end: '2030-01-16T09:00:01Z' }])
      const booked = await student.post(`/api/rooms/${id}/reserve`, { start_time: detail.body.free_slots[0].start, end_time: '2030-01-15T10:00:00Z' })
      expect(booked.status).toBe(201)
      expect(booked.body.reservation.start_time).toBe('2030-01-15T09:00:01Z')
    } finally {
      clock.set(NOW)
      await db().delete(reservations).where(eq(reservations.roomId, id))
      await db().delete(rooms).where(eq(rooms.id, id))
      await seen()
    }
  })
})

describe('free slot computation', () => {
  const d = (s: string) => new Date(s)
  test('no reservations and no window: one slot now .. now + 24 h, to the millisecond', () => {
    expect(freeSlots([], { start: null, end: null }, d('2030-01-15T09:00:00.750Z'), 'UTC'))
      .toEqual([{ start: '2030-01-15T09:00:00.750Z', end: '2030-01-16T09:00:00.750Z' }])
  })

  test('a booking that ends with milliseconds frees the room from that exact instant', () => {
    const busy = [{ start: d('2030-01-15T08:30:00Z'), end: d('2030-01-15T10:15:00.875Z') }]
    expect(freeSlots(busy, { start: null, end: null }, d('2030-01-15T09:00:00Z'), 'UTC'))
      .toEqual([{ start: '2030-01-15T10:15:00.875Z', end: '2030-01-16T09:00:00Z' }])
  })

  test('overlapping and touching busy intervals merge; gaps between them are free', () => {
    const busy = [
      { start: d('2030-01-15T10:00:00Z'), end: d('2030-01-15T11:00:00Z') },
      { start: d('2030-01-15T10:30:00Z'), end: d('2030-01-15T12:00:00Z') },
      { start: d('2030-01-15T12:00:00Z'), end: d('2030-01-15T13:00:00Z') },
      { start: d('2030-01-16T08:00:00Z'), end: d('2030-01-16T12:00:00Z') },
    ]
    expect(freeSlots(busy, { start: null, end: null }, d('2030-01-15T09:00:00Z'), 'UTC')).toEqual([
      { start: '2030-01-15T09:00:00Z', end: '2030-01-15T10:00:00Z' },
      { start: '2030-01-15T13:00:00Z', end: '2030-01-16T08:00:00Z' },
    ])
  })

  test('window in a time zone with daylight saving time (America/New_York, spring forward)', () => {
    // 2030-03-10: clocks go from 02:00 EST to 03:00 EDT. Window 08:00-20:00 local.
    const slots = freeSlots([], { start: '08:00', end: '20:00' }, d('2030-03-09T12:00:00Z'), 'America/New_York')
    expect(slots).toEqual([
      { start: '2030-03-09T13:00:00Z', end: '2030-03-10T01:00:00Z' }, // 08:00-20:00 EST (UTC-5)
    ])
    const next = freeSlots([], { start: '08:00', end: '20:00' }, d('2030-03-10T10:00:00Z'), 'America/New_York')
    expect(next).toEqual([
      { start: '2030-03-10T12:00:00Z', end: '2030-03-11T00:00:00Z' }, // 08:00-20:00 EDT (UTC-4)
    ])
  })

  test('a window past midnight and one-sided windows', () => {
    const now = d('2030-01-15T12:00:00Z')
    expect(freeSlots([], { start: '22:00', end: '06:00' }, now, 'UTC'))
      .toEqual([{ start: '2030-01-15T22:00:00Z', end: '2030-01-16T06:00:00Z' }])
    expect(freeSlots([], { start: '10:00', end: null }, now, 'UTC'))
      .toEqual([{ start: '2030-01-15T12:00:00Z', end: '2030-01-16T00:00:00Z' }, { start: '2030-01-16T10:00:00Z', end: '2030-01-16T12:00:00Z' }])
    expect(freeSlots([], { start: null, end: '14:00' }, now, 'UTC'))
      .toEqual([{ start: '2030-01-15T12:00:00Z', end: '2030-01-15T14:00:00Z' }, { start: '2030-01-16T00:00:00Z', end: '2030-01-16T12:00:00Z' }])
  })
})

describe('POST /rooms (admin)', () => {
  test('creates a room from the deployment guide body: 201, row, audit row, QR file', async () => {
    const r = await admin.post('/api/rooms', { name: 'TestRoom', room_type: 'public' })
    expect(r.status).toBe(201)
    const room = r.body.room
    expect(room).toEqual({
      id: expect.any(Number),
      name: 'TestRoom',
      type: 'public',
      is_blocked: false,
      qr_code_url: `http://qrbook.test/static/qr/${room.id}.png`,
      status: 'available',
      current_reservation: null,
      next_reservation: null,
      booking_window: { start: null, end: null },
      requires_check_in: true,
      check_in_opens_min: 10,
      auto_release_after_min: 15,
      check_in_proof: 'poster',
      series_require_check_in: false,
      closure: null,
    })
    const [row] = await db().select().from(rooms).where(eq(rooms.id, room.id))
    expect(row).toMatchObject({ name: 'TestRoom', type: 'public', isBlocked: false, bookingStart: null, bookingEnd: null })
    const audit = await lastAudit()
    expect(audit).toMatchObject({ actorId: await userId('admin'), event: 'room.created' })
    expect(audit.data).toMatchObject({ room_id: room.id, name: 'TestRoom', type: 'public' })
    expect(audit.description).toContain('TestRoom')
    expect(existsSync(join(t.config.staticQrPath, `${room.id}.png`))).toBe(true)
    expect(existsSync(join(t.config.staticQrPath, `${room.id}.svg`))).toBe(true)
  })

  test('type, room_type synonym, default public, booking window stored as time', async () => {
    const typed = await admin.post('/api/rooms', { name: 'Svc1', type: 'service' })
    expect(typed.body.room.type).toBe('service')
    const synonym = await admin.post('/rooms', { name: 'Adm1', room_type: 'admin', booking_start: '07:30', booking_end: '21:00' })
    expect(synonym.status).toBe(201)
    expect(synonym.body.room).toMatchObject({ type: 'admin', booking_window: { start: '07:30', end: '21:00' } })
    const [row] = await db().select().from(rooms).where(eq(rooms.name, 'Adm1'))
    expect(row!.bookingStart).toBe('07:30:00')
    const plain = await admin.post('/api/rooms', { name: 'Plain1' })
    expect(plain.body.room.type).toBe('public')
    // the new room appears in the list, in name order
    const list = (await anon.get('/api/rooms')).body.rooms.map((x: any) => x.name)
    expect(list).toEqual([...list].sort())
    expect(list).toContain('Plain1')
  })

  test('duplicate name 409 `room already exists`, nothing written', async () => {
    const before = (await db().select({ id: changes.position }).from(changes)).length
    const r = await admin.post('/api/rooms', { name: 'B101' })
    expect(r.status).toBe(409)
    expect(r.body).toEqual({ msg: 'room already exists' })
    expect((await db().select({ id: changes.position }).from(changes)).length).toBe(before)
  })

  test('bad input is 400 with a message', async () => {
    const cases: [unknown, string][] = [
      [{}, 'name is required'],
      [{ name: '   ' }, 'name is required'],
      [{ name: 'X'.repeat(101) }, 'name must be at most 100 characters'],
      [{ name: 'BadType', type: 'gym' }, 'invalid type "gym": expected public, admin, service'],
      [{ name: 'BadType2', room_type: 'gym' }, 'invalid room_type "gym": expected public, admin, service'],
      [{ name: 'BadTime', booking_start: '25:00' }, 'booking_start must be a time of day "HH:MM" or null'],
      [{ name: 'BadTime2', booking_end: 'noon' }, 'booking_end must be a time of day "HH:MM" or null'],
    ]
    for (const [body, msg] of cases) {
      const r = await admin.post('/api/rooms', body)
      expect(r.status).toBe(400)
      expect(r.body.msg).toBe(msg)
    }
    const notJson = await admin.post('/api/rooms', { name: 42 })
    expect(notJson.status).toBe(400)
  })

  test('roles and CSRF: anonymous 401, student and teacher 403, cookie without CSRF 401', async () => {
    const anonymous = await anon.post('/api/rooms', { name: 'Nope1' }, { csrf: false })
    expect(anonymous.status).toBe(401)
    expect(anonymous.body.msg).toBe('missing authorization')
    for (const c of [student, teacher]) {
      const r = await c.post('/api/rooms', { name: 'Nope2' })
      expect(r.status).toBe(403)
      expect(r.body).toEqual({ msg: 'insufficient permissions' })
    }
    const noCsrf = await admin.post('/api/rooms', { name: 'Nope3' }, { csrf: false })
    expect(noCsrf.status).toBe(401)
    expect(noCsrf.body.msg).toBe('Missing CSRF token')
    const rows = await db().select().from(rooms).where(and(eq(rooms.name, 'Nope3')))
    expect(rows).toEqual([])
  })

  test('a bearer token needs no CSRF header', async () => {
    const login = await new Client(t.app).login('admin')
    const api = new Client(t.app)
    api.bearer = login.body.access_token
    const r = await api.post('/api/rooms', { name: 'ViaBearer' }, { csrf: false })
    expect(r.status).toBe(201)
  })
})

describe('listRoomViews (shared with GET /admin/rooms)', () => {
  const deps = () => ({ config: t.config, database: t.database, clock })
  const names = (views: { name: string }[]) => views.map((v) => v.name)

  test('filters: q, types, statuses, is_blocked, ids', async () => {
    const all = await listRoomViews(deps())
    expect(all.total).toBe(all.rooms.length)
    expect(names((await listRoomViews(deps(), { q: 'b10' })).rooms)).toEqual(['B101', 'B102'])
    expect(names((await listRoomViews(deps(), { q: '%' })).rooms)).toEqual([])
    expect(names((await listRoomViews(deps(), { types: ['service'] })).rooms)).toEqual(['S001', 'Svc1'])
    expect(names((await listRoomViews(deps(), { statuses: ['occupied'] })).rooms)).toEqual(['B101'])
    await db().update(rooms).set({ isBlocked: true }).where(eq(rooms.name, 'B101'))
    await seen()
    try {
      expect(names((await listRoomViews(deps(), { statuses: ['occupied'] })).rooms)).toEqual([])
      expect(names((await listRoomViews(deps(), { statuses: ['blocked', 'occupied'] })).rooms)).toEqual(['B101'])
      expect(names((await listRoomViews(deps(), { isBlocked: true })).rooms)).toEqual(['B101'])
      const available = await listRoomViews(deps(), { statuses: ['available'], types: ['public'], q: 'B1' })
      expect(names(available.rooms)).toEqual(['B102'])
    } finally {
      await db().update(rooms).set({ isBlocked: false }).where(eq(rooms.name, 'B101'))
      await seen()
    }
    expect(names((await listRoomViews(deps(), { ids: [await roomId('S001'), await roomId('A200')] })).rooms)).toEqual(['A200', 'S001'])
    expect((await listRoomViews(deps(), { ids: [] })).rooms).toEqual([])
  })

  test('pages carry the total; a page past the end is empty with the total (2 queries)', async () => {
    const all = await listRoomViews(deps())
    const first = await listRoomViews(deps(), {}, { limit: 2, offset: 0 })
    expect(first.total).toBe(all.total)
    expect(first.rooms).toEqual(all.rooms.slice(0, 2))
    const second = await listRoomViews(deps(), {}, { limit: 2, offset: 2 })
    expect(second.rooms).toEqual(all.rooms.slice(2, 4))
    queries.length = 0
    counting = true
    const past = await listRoomViews(deps(), { types: ['public'] }, { limit: 20, offset: 1000 })
    counting = false
    expect(past.rooms).toEqual([])
    expect(past.total).toBe(all.rooms.filter((r) => r.type === 'public').length)
    expect(queries.length).toBe(2)
  })

  test('getRoomView: one room or 404', async () => {
    expect((await getRoomView(deps(), await roomId('B101'))).status).toBe('occupied')
    await expect(getRoomView(deps(), 99999)).rejects.toThrow('room not found')
  })
})

describe('query count', () => {
  async function countQueries(): Promise<{ count: number; rooms: number }> {
    queries.length = 0
    counting = true
    try {
      const r = await anon.get('/api/rooms')
      expect(r.status).toBe(200)
      return { count: queries.length, rooms: r.body.rooms.length }
    } finally {
      counting = false
    }
  }

  test('GET /rooms runs the same number of queries with 5 and with 200 rooms', async () => {
    // Back to a small set: keep the seeded four plus one.
    const seeded = ['A200', 'B101', 'B102', 'S001']
    const all = await db().select({ id: rooms.id, name: rooms.name }).from(rooms)
    for (const room of all) if (!seeded.includes(room.name)) await db().delete(rooms).where(eq(rooms.id, room.id))
    await seen()
    await db().insert(rooms).values(stamped({ name: 'C000' }))
    await seen()

    const small = await countQueries()
    expect(small.rooms).toBe(5)

    // 195 more rooms, each with a current and a next reservation and a cancelled one.
    const student = await userId('student')
    const added = await db().insert(rooms)
      .values(Array.from({ length: 195 }, (_, i) => stamped({ name: `Q${String(i).padStart(3, '0')}` })))
      .returning({ id: rooms.id })
    await db().insert(reservations).values(added.flatMap(({ id }) => [
      stamped({ roomId: id, userId: student, startTime: new Date(at(-15)), endTime: new Date(at(15)) }),
      stamped({ roomId: id, userId: student, startTime: new Date(at(60)), endTime: new Date(at(90)) }),
      stamped({ roomId: id, userId: student, startTime: new Date(at(100)), endTime: new Date(at(110)), status: 'cancelled' as const }),
    ]))
    await seen()

    const large = await countQueries()
    expect(large.rooms).toBe(200)
    expect(large.count).toBe(small.count)
    // built: the list and the next closure start (when the answer changes by itself); then from
    // memory, without a query: alone on its database, the app knows the newest change (its own).
    expect(large.count).toBe(2)
    expect((await countQueries()).count).toBe(0)

    const r = await anon.get('/api/rooms')
    const q = r.body.rooms.find((x: any) => x.name === 'Q000')
    expect(q.status).toBe('occupied')
    expect(q.current_reservation.end_time).toBe(at(15))
    expect(q.next_reservation.start_time).toBe(at(60))
  })

  test.if(onPostgres)('with another instance on the database, each round of cached reads asks for the newest change (decision 027)', async () => {
    expect((await countQueries()).count).toBe(0)
    // another instance's feed: a LISTEN connection of another Database on the same database (a
    // second LISTEN of this app's own Database is the same instance, and counts for nothing:
    // test/listen-peers.test.ts)
    const otherInstance = await createDb({ kind: 'postgres', url: t.databaseUrl! })
    const other = await otherInstance.listen('qrbook_room_events', () => {})
    try {
      // counted by the app's next heartbeat (every 250 ms)
      const deadline = Date.now() + 3000
      let count = 0
      while (Date.now() < deadline && (count = (await countQueries()).count) === 0) await Bun.sleep(50)
      expect(count).toBe(1)
      expect(queries[0]).toContain('max("position")')
    } finally {
      await other.stop()
      await otherInstance.close()
    }
    // and it keeps asking for a while after the other feed went (it may be reconnecting, and writing)
    await Bun.sleep(600)
    expect((await countQueries()).count).toBe(1)
  })
})
