/**
 * Issue 12, booking horizon and length (docs/decisions/015-booking-limits-and-names.md): by default
 * a booking must end within 180 days (BOOKING_HORIZON_DAYS) and a student's may last at most 12
 * hours (STUDENT_MAX_BOOKING_HOURS); teachers only have the horizon, admins neither, on every path.
 * Checked on create (POST /rooms/:id/reserve), reschedule (PATCH /reservations/:id) and book-now at
 * the door (POST /scan/:id/book). Each of these was accepted before (9999-12-31 booked for 201).
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { reservations, rooms, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { scanKey } from '../src/core/bookings/checkin/keys'
import { checkBookingLimits } from '../src/core/bookings/reservations/writes'
import { loggedIn, TEST_ENV, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

/** Instants of this file, moved into TEST_CLOCK_YEAR when CI sets it (test/helpers/clock.ts). */
const shifted = timeShifter('2030-01-15T09:00:00Z')
const NOW = new Date(shifted('2030-01-15T09:00:00Z'))
const clock = fixedClock(NOW)
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
/** NOW + ms, as ISO 8601 UTC */
const after = (ms: number) => new Date(NOW.getTime() + ms).toISOString()
const FAR_START = '9999-12-31T10:00:00Z'
const FAR_END = '9999-12-31T11:00:00Z'
const TOO_FAR = 'Reservation ends too far ahead: it must end within 180 days from now'
const TOO_LONG = 'Reservation is too long: at most 12 hours'

let t: TestApp
let admin: Client, teacher: Client, student: Client
const ids: Record<string, number> = {}

beforeAll(async () => {
  t = await testApp({ clock })
  ;[admin, teacher, student] = (await Promise.all(['admin', 'teacher', 'student'].map((n) => loggedIn(t.app, n)))) as [Client, Client, Client]
  for (const u of await t.database.db.select().from(users)) ids[u.name] = u.id
  for (const r of await t.database.db.select().from(rooms)) ids[r.name] = r.id
  // A public room of our own: the seeded bookings never get in the way.
  const created = await admin.post('/api/admin/rooms', { name: 'LIMITS' })
  expect(created.status).toBe(201)
  ids.LIMITS = created.body.room.id
}, 120_000) // seeding and logging in hash passwords (argon2id): slow on a busy machine
afterAll(() => t.close())

const reserve = (c: Client, start: string, end: string, room = ids.LIMITS) =>
  c.post(`/api/rooms/${room}/reserve`, { start_time: start, end_time: end })
const refused = (msg: string) => ({ status: 400, body: { msg } })
const answer = (r: { status: number; body: unknown }) => ({ status: r.status, body: r.body })

describe('the rule (one function, the injected clock)', () => {
  const limits = { bookingHorizonDays: 180, studentMaxBookingHours: 12 }
  test('students: horizon and length; bounds included', () => {
    expect(() => checkBookingLimits(limits, 'student', new Date(NOW.getTime() + 180 * DAY - HOUR), new Date(NOW.getTime() + 180 * DAY), NOW)).not.toThrow()
    expect(() => checkBookingLimits(limits, 'student', new Date(NOW.getTime() + 180 * DAY - HOUR), new Date(NOW.getTime() + 180 * DAY + 1), NOW)).toThrow(TOO_FAR)
    expect(() => checkBookingLimits(limits, 'student', NOW, new Date(NOW.getTime() + 12 * HOUR), NOW)).not.toThrow()
    expect(() => checkBookingLimits(limits, 'student', NOW, new Date(NOW.getTime() + 12 * HOUR + 1), NOW)).toThrow(TOO_LONG)
    expect(() => checkBookingLimits(limits, undefined, NOW, new Date(NOW.getTime() + 13 * HOUR), NOW)).toThrow(TOO_LONG)
  })
  test('teachers: the horizon only; admins: neither', () => {
    expect(() => checkBookingLimits(limits, 'teacher', NOW, new Date(NOW.getTime() + 100 * DAY), NOW)).not.toThrow()
    expect(() => checkBookingLimits(limits, 'teacher', NOW, new Date(NOW.getTime() + 181 * DAY), NOW)).toThrow(TOO_FAR)
    expect(() => checkBookingLimits(limits, 'admin', NOW, new Date(FAR_END), NOW)).not.toThrow()
  })
  test('the horizon moves with the clock it is given', () => {
    const end = new Date(NOW.getTime() + 200 * DAY)
    expect(() => checkBookingLimits(limits, 'teacher', new Date(end.getTime() - HOUR), end, NOW)).toThrow(TOO_FAR)
    expect(() => checkBookingLimits(limits, 'teacher', new Date(end.getTime() - HOUR), end, new Date(NOW.getTime() + 30 * DAY))).not.toThrow()
  })
})

describe('POST /rooms/:id/reserve', () => {
  test('9999-12-31 is 400 naming the limit, for students and teachers; nothing is written', async () => {
    const before = (await t.database.db.select().from(reservations)).length
    expect(answer(await reserve(student, FAR_START, FAR_END))).toEqual(refused(TOO_FAR))
    expect(answer(await reserve(teacher, FAR_START, FAR_END))).toEqual(refused(TOO_FAR))
    expect(answer(await reserve(student, after(181 * DAY), after(181 * DAY + HOUR), ids.B101!))).toEqual(refused(TOO_FAR))
    expect((await t.database.db.select().from(reservations)).length).toBe(before)
  })

  test('up to the horizon is fine: ending exactly 180 days from now is accepted', async () => {
    const r = await reserve(student, after(180 * DAY - HOUR), after(180 * DAY))
    expect(r.status).toBe(201)
    expect(answer(await reserve(student, after(180 * DAY), after(180 * DAY + MIN)))).toEqual(refused(TOO_FAR))
  })

  test('students: at most 12 hours; teachers: longer', async () => {
    expect(answer(await reserve(student, after(2 * DAY), after(2 * DAY + 12 * HOUR + MIN)))).toEqual(refused(TOO_LONG))
    expect((await reserve(student, after(2 * DAY), after(2 * DAY + 12 * HOUR))).status).toBe(201)
    expect((await reserve(teacher, after(3 * DAY), after(3 * DAY + 30 * HOUR))).status).toBe(201)
  })

  test('admins are exempt: their own booking and "reserve on behalf" of a student', async () => {
    const own = await reserve(admin, FAR_START, FAR_END)
    expect(own.status).toBe(201)
    expect(own.body.reservation.start_time).toBe(FAR_START)
    const onBehalf = await admin.post(`/api/admin/rooms/${ids.LIMITS}/reserve`, {
      user_id: ids.student, start_time: after(10 * DAY), end_time: after(12 * DAY),
    })
    expect(onBehalf.status).toBe(201)
    const far = await admin.post(`/api/admin/rooms/${ids.LIMITS}/reserve`, {
      user_id: ids.student, start_time: '9999-12-30T10:00:00Z', end_time: '9999-12-30T11:00:00Z',
    })
    expect(far.status).toBe(201)
  })
})

describe('PATCH /reservations/:id (teachers reschedule)', () => {
  test('moving past the horizon is 400; a long booking is fine for a teacher; admins are exempt on their PATCH', async () => {
    const booked = await reserve(student, after(20 * DAY), after(20 * DAY + HOUR))
    expect(booked.status).toBe(201)
    const id = booked.body.reservation.id
    expect(answer(await teacher.patch(`/api/reservations/${id}`, { start_time: FAR_START, end_time: FAR_END }))).toEqual(refused(TOO_FAR))
    expect(answer(await teacher.patch(`/api/reservations/${id}`, { start_time: after(200 * DAY), end_time: after(200 * DAY + HOUR) }))).toEqual(refused(TOO_FAR))
    // the length cap is the student's: a teacher who makes it longer decides so
    const longer = await teacher.patch(`/api/reservations/${id}`, { start_time: after(20 * DAY), end_time: after(20 * DAY + 20 * HOUR) })
    expect(longer.status).toBe(200)
    const [row] = await t.database.db.select().from(reservations).where(eq(reservations.id, id))
    expect(row!.endTime.toISOString()).toBe(after(20 * DAY + 20 * HOUR))

    const byAdmin = await admin.patch(`/api/admin/reservations/${id}`, { start_time: '9999-12-29T10:00:00Z', end_time: '9999-12-29T20:00:00Z' })
    expect(byAdmin.status).toBe(200)
    expect(byAdmin.body.reservation.start_time).toBe('9999-12-29T10:00:00Z')
    // the user-level PATCH as an admin is exempt too
    expect((await admin.patch(`/api/reservations/${id}`, { start_time: '9999-12-28T10:00:00Z', end_time: '9999-12-28T11:00:00Z' })).status).toBe(200)
  })
})

describe('configured limits, and book-now at the door', () => {
  let small: TestApp
  beforeAll(async () => {
    small = await testApp({ clock, env: { BOOKING_HORIZON_DAYS: '7', STUDENT_MAX_BOOKING_HOURS: '1' } })
  }, 120_000)
  afterAll(() => small.close())

  test('BOOKING_HORIZON_DAYS and STUDENT_MAX_BOOKING_HOURS apply, and the messages name them', async () => {
    const [s, tc] = await Promise.all([loggedIn(small.app, 'student'), loggedIn(small.app, 'teacher')])
    const room = (await small.database.db.select().from(rooms).where(eq(rooms.name, 'B101')))[0]!.id
    expect(answer(await reserve(s, after(2 * DAY), after(2 * DAY + 90 * MIN), room)))
      .toEqual(refused('Reservation is too long: at most 1 hour'))
    expect(answer(await reserve(tc, after(7 * DAY), after(7 * DAY + HOUR), room)))
      .toEqual(refused('Reservation ends too far ahead: it must end within 7 days from now'))
    expect((await reserve(tc, after(2 * DAY), after(2 * DAY + 90 * MIN), room)).status).toBe(201)
  })

  test('book-now: a student asking for 90 minutes over a 1-hour cap is 400; 30 minutes and a teacher are fine', async () => {
    const admin2 = await loggedIn(small.app, 'admin')
    const created = await admin2.post('/api/admin/rooms', { name: 'DOOR' })
    expect(created.status).toBe(201)
    const room = created.body.room.id
    const k = scanKey(TEST_ENV.SECRET_KEY, room, 1)
    const s = await loggedIn(small.app, 'student')
    const long = await s.post(`/api/scan/${room}/book`, { k, minutes: 90 })
    expect(answer(long)).toEqual(refused('Reservation is too long: at most 1 hour'))
    const ok = await s.post(`/api/scan/${room}/book`, { k, minutes: 30 })
    expect(ok.status).toBe(201)
    clock.set(new Date(NOW.getTime() + 2 * HOUR))
    try {
      const tc = await loggedIn(small.app, 'teacher')
      expect((await tc.post(`/api/scan/${room}/book`, { k, minutes: 90 })).status).toBe(201)
    } finally {
      clock.set(NOW)
    }
  })
})

describe('the contract suite\'s bookings stay accepted', () => {
  test('one-hour slots a few hours to a couple of days ahead, by a student', async () => {
    const anchor = Math.ceil(NOW.getTime() / HOUR) * HOUR + HOUR
    for (const k of [0, 13, 37]) {
      const r = await reserve(student, new Date(anchor + k * HOUR).toISOString(), new Date(anchor + (k + 1) * HOUR).toISOString())
      expect(r.status).toBe(201)
    }
  })
})
