/**
 * Security review: a room's schedule must not say why someone else's booking ended. The anonymous
 * room detail (served from memory, the same bytes for everyone) and the room history list a
 * released no-show, a bumped booking and a rejected one as `cancelled` with cancel_reason and
 * approval null, with every field of the original contract still there; a pending booking keeps
 * `approval: pending` (it holds its slot). The owner (GET /reservations/mine) and the admins
 * (GET /admin/reservations) still read the reason. The scan view's `today` lists active bookings
 * only, without reasons.
 *
 * PUBLIC_USER_NAMES (decision 029): `full` (default) keeps every name in the public room views, as
 * the original did; `private` replaces a student's `user_name` by "booked" there (teachers' and
 * admins' names stay), applied when the cached views are built.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { sweepOnce } from '../src/core/bookings/checkin/sweeper'
import { fixedClock } from '../src/lib/clock'
import { ConfigError, loadConfig } from '../src/config'
import { SseReader } from './helpers/sse'
import { Client, loggedIn, TEST_ENV, testApp, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

/** Instants of this file, moved into TEST_CLOCK_YEAR when CI sets it (test/helpers/clock.ts). */
const shifted = timeShifter('2030-05-06T08:00:00Z')
const clock = fixedClock(shifted('2030-05-06T08:00:00Z'))
/** An instant of the test's day (UTC, the default APP_TIMEZONE). */
const at = (hhmm: string) => shifted(`2030-05-06T${hhmm}:00Z`)

/** The fields and types every schedule entry has in the original contract. */
const CONTRACT_FIELDS = ['approval', 'cancel_reason', 'check_in_required', 'checked_in_at', 'end_time', 'id', 'start_time', 'status', 'user_id', 'user_name']
const HIDDEN = { status: 'cancelled', cancel_reason: null, approval: null }

let t: TestApp
let anon: Client
/** the room with a no-show and a bumped booking */
let roomId: number
/** the room whose student bookings need an admin's approval */
let approvalRoomId: number
const booking: Record<'noShow' | 'bumped' | 'lesson' | 'rejected' | 'pending', number> = { noShow: 0, bumped: 0, lesson: 0, rejected: 0, pending: 0 }

/** Logs in at the clock's current time (tokens follow the fake clock). */
const as = (name: string) => loggedIn(t.app, name)

async function reserve(client: Client, room: number, start: string, end: string, extra: Record<string, unknown> = {}): Promise<number> {
  const r = await client.post(`/api/rooms/${room}/reserve`, { start_time: start, end_time: end, ...extra })
  expect(r.status, r.text).toBe(201)
  return r.body.reservation.id
}

const byId = (list: { id: number }[], id: number) => list.find((entry) => entry.id === id)

beforeAll(async () => {
  t = await testApp({ clock })
  anon = new Client(t.app)
  const [admin, teacher, student] = [await as('admin'), await as('teacher'), await as('student')]
  roomId = (await admin.post('/api/admin/rooms', { name: 'PRIV1' })).body.room.id
  approvalRoomId = (await admin.post('/api/admin/rooms', { name: 'PRIV2', requires_check_in: false })).body.room.id
  expect((await admin.post('/api/admin/policies', { role: 'student', room_id: approvalRoomId, requires_approval: true })).status).toBe(201)

  // A no-show (released at start + 15 min), and a booking a teacher's lesson bumps.
  booking.noShow = await reserve(student, roomId, at('10:00'), at('11:00'))
  booking.bumped = await reserve(student, roomId, at('12:00'), at('13:00'))
  booking.lesson = await reserve(teacher, roomId, at('12:00'), at('13:00'), { bump: true })
  // In the approval room: one rejected, one still pending.
  booking.rejected = await reserve(student, approvalRoomId, at('14:00'), at('15:00'))
  booking.pending = await reserve(student, approvalRoomId, at('15:00'), at('16:00'))
  expect((await admin.post(`/api/admin/approvals/${booking.rejected}`, { decision: 'reject', reason: 'exam preparation' })).status).toBe(200)

  clock.set(at('10:15'))
  // (the seed's own no-show may go too)
  expect((await sweepOnce({ database: t.database, clock })).released.map((r) => r.id)).toContain(booking.noShow)
})
afterAll(() => t.close())

describe('a room schedule does not say why a booking ended', () => {
  test('anonymous GET /rooms/:id: the no-show and the bumped booking are cancelled with cancel_reason null', async () => {
    const detail = await anon.get(`/api/rooms/${roomId}`)
    expect(detail.status).toBe(200)
    expect(byId(detail.body.schedule, booking.noShow)).toMatchObject(HIDDEN)
    expect(byId(detail.body.schedule, booking.bumped)).toMatchObject(HIDDEN)
    expect(byId(detail.body.schedule, booking.lesson)).toMatchObject({ status: 'active', cancel_reason: null, approval: null })
    // Not in the bytes at all (they are the same for everyone).
    expect(detail.text).not.toContain('no_show')
    expect(detail.text).not.toContain('bumped')
  })

  test('the entries keep every field of the original contract, with its types', async () => {
    const { schedule } = (await anon.get(`/api/rooms/${roomId}`)).body
    expect(schedule.length).toBeGreaterThanOrEqual(3)
    for (const entry of schedule) {
      expect(Object.keys(entry).sort()).toEqual(CONTRACT_FIELDS)
      expect(entry).toMatchObject({
        id: expect.any(Number), user_id: expect.any(Number), user_name: expect.any(String),
        start_time: expect.any(String), end_time: expect.any(String), status: expect.any(String), check_in_required: expect.any(Boolean),
      })
    }
  })

  test('GET /reservations/room/:id/history says the same', async () => {
    const history = await (await as('teacher')).get(`/api/reservations/room/${roomId}/history`)
    expect(history.status).toBe(200)
    expect(byId(history.body.reservations, booking.noShow)).toMatchObject(HIDDEN)
    expect(byId(history.body.reservations, booking.bumped)).toMatchObject(HIDDEN)
    expect(history.text).not.toContain('no_show')
    expect(history.text).not.toContain('bumped')
  })

  test('a rejected booking has approval null; a pending one keeps approval pending (it holds its slot)', async () => {
    const detail = await anon.get(`/api/rooms/${approvalRoomId}`)
    expect(byId(detail.body.schedule, booking.rejected)).toMatchObject(HIDDEN)
    expect(byId(detail.body.schedule, booking.pending)).toMatchObject({ status: 'active', cancel_reason: null, approval: 'pending' })
    expect(detail.text).not.toContain('rejected')
    const history = await (await as('admin')).get(`/api/reservations/room/${approvalRoomId}/history`)
    expect(byId(history.body.reservations, booking.rejected)).toMatchObject(HIDDEN)
  })

  test('the scan view lists active bookings only, without reasons', async () => {
    const scan = await anon.get(`/api/scan/${roomId}`)
    expect(scan.status).toBe(200)
    expect(scan.body.today.map((e: { id: number }) => e.id)).toEqual([booking.lesson])
    expect(scan.text).not.toContain('cancel_reason')
  })
})

describe('the owner and the admins still read the reason', () => {
  test('GET /reservations/mine', async () => {
    const mine = (await (await as('student')).get('/api/reservations/mine')).body.reservations
    expect(byId(mine, booking.noShow)).toMatchObject({ status: 'cancelled', cancel_reason: 'no_show' })
    expect(byId(mine, booking.bumped)).toMatchObject({ status: 'cancelled', cancel_reason: 'bumped' })
    expect(byId(mine, booking.rejected)).toMatchObject({ status: 'cancelled', cancel_reason: 'rejected', approval: 'rejected' })
  })

  test('GET /admin/reservations', async () => {
    const admin = await as('admin')
    const listed = (await admin.get(`/api/admin/reservations?room_id=${roomId}&per_page=100`)).body.reservations
    expect(byId(listed, booking.noShow)).toMatchObject({ status: 'cancelled', cancel_reason: 'no_show' })
    expect(byId(listed, booking.bumped)).toMatchObject({ status: 'cancelled', cancel_reason: 'bumped' })
    const approvals = (await admin.get(`/api/admin/reservations?room_id=${approvalRoomId}&per_page=100`)).body.reservations
    expect(byId(approvals, booking.rejected)).toMatchObject({ status: 'cancelled', cancel_reason: 'rejected', approval: 'rejected' })
  })
})

describe('PUBLIC_USER_NAMES (decision 029)', () => {
  test('full by default; full or private, anything else refused', () => {
    expect(loadConfig(TEST_ENV).publicUserNames).toBe('full')
    expect(loadConfig({ ...TEST_ENV, PUBLIC_USER_NAMES: 'private' }).publicUserNames).toBe('private')
    expect(loadConfig({ ...TEST_ENV, PUBLIC_USER_NAMES: 'FULL' }).publicUserNames).toBe('full')
    expect(() => loadConfig({ ...TEST_ENV, PUBLIC_USER_NAMES: 'none' })).toThrow(ConfigError)
  })

  /**
   * A world at 09:00 (seed.ts): B101 the teacher's booking now (08:30-10:30), B102 the student's
   * next (11:00-13:00); and the student books B101 at 12:00-13:00.
   */
  async function world(env: Record<string, string> = {}) {
    const clock = fixedClock(shifted('2030-05-06T09:00:00Z'))
    const app = await testApp({ clock, env })
    const student = await loggedIn(app.app, 'student')
    const rooms = (await new Client(app.app).get('/api/rooms')).body.rooms as { id: number; name: string }[]
    const id = (name: string) => rooms.find((r) => r.name === name)!.id
    const r = await student.post(`/api/rooms/${id('B101')}/reserve`, { start_time: shifted('2030-05-06T12:00:00Z'), end_time: shifted('2030-05-06T13:00:00Z') })
    expect(r.status, r.text).toBe(201)
    const studentId = (await student.get('/api/auth/me')).body.id as number
    return { app, student, b101: id('B101'), b102: id('B102'), studentId }
  }

  const roomIn = (body: { rooms: { id: number }[] }, id: number) => body.rooms.find((r) => r.id === id) as any

  test('full (default): the room list, the detail and the streams name the student, as the original did', async () => {
    const w = await world()
    try {
      const anonymous = new Client(w.app.app)
      const list = await anonymous.get('/api/rooms')
      expect(roomIn(list.body, w.b102).next_reservation).toMatchObject({ user_name: 'student' })
      expect(roomIn(list.body, w.b101).current_reservation).toMatchObject({ user_name: 'teacher' })
      const detail = await anonymous.get(`/api/rooms/${w.b101}`)
      expect(detail.body.schedule.map((e: any) => e.user_name)).toEqual(['teacher', 'student'])
    } finally {
      await w.app.close()
    }
  })

  test("private: a student's name is \"booked\" in GET /rooms, /rooms/:id, the history, the scan view and the stream; staff keep theirs", async () => {
    const w = await world({ PUBLIC_USER_NAMES: 'private' })
    const readers: SseReader[] = []
    try {
      const anonymous = new Client(w.app.app)
      for (let i = 0; i < 2; i++) { // built, then served from memory: the same
        const list = await anonymous.get('/api/rooms')
        expect(list.status).toBe(200)
        expect(roomIn(list.body, w.b102).next_reservation).toMatchObject({ user_name: 'booked', id: expect.any(Number) })
        expect(roomIn(list.body, w.b101).current_reservation).toMatchObject({ user_name: 'teacher' })
        expect(list.text).not.toContain('"student"')
      }
      const detail = await anonymous.get(`/api/rooms/${w.b101}`)
      expect(detail.status).toBe(200)
      expect(detail.body.schedule.map((e: any) => [e.user_name, e.user_id === w.studentId])).toEqual([['teacher', false], ['booked', true]])
      expect(detail.text).not.toContain('"student"')
      // Still the contract's fields and types.
      for (const entry of detail.body.schedule) expect(Object.keys(entry).sort()).toEqual(CONTRACT_FIELDS)
      const b102 = await anonymous.get(`/api/rooms/${w.b102}`)
      expect(b102.body.room.next_reservation.user_name).toBe('booked')
      expect(b102.body.schedule[0].user_name).toBe('booked')

      const history = await (await loggedIn(w.app.app, 'teacher')).get(`/api/reservations/room/${w.b101}/history`)
      expect(history.body.reservations.map((e: any) => e.user_name)).toEqual(['teacher', 'booked'])

      // The scan view: hidden from others, the owner's own booking with the name.
      const scan = await anonymous.get(`/api/scan/${w.b101}`)
      expect(scan.body.today.map((e: any) => e.user_name)).toEqual(['teacher', 'booked'])
      expect(Object.keys(scan.body.today[0]).sort()).toEqual(['check_in_required', 'checked_in_at', 'end_time', 'id', 'mine', 'start_time', 'user_name'])
      const own = await w.student.get(`/api/scan/${w.b101}`)
      expect(own.body.today.map((e: any) => [e.user_name, e.mine])).toEqual([['teacher', false], ['student', true]])

      const response = await w.app.app.handle(new Request(`http://localhost/api/rooms/${w.b101}/events`))
      const stream = new SseReader(response)
      readers.push(stream)
      const snapshot = (await stream.next((e) => e.event === 'snapshot')).data
      expect(snapshot.upcoming.map((b: any) => b.user_name)).toEqual(['teacher', 'booked'])
      expect(JSON.stringify(snapshot)).not.toContain('"student"')
    } finally {
      for (const reader of readers) await reader.close()
      await w.app.close()
    }
  })
})
