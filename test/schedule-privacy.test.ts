/**
 * Security review: a room's schedule must not say why someone else's booking ended. The anonymous
 * room detail (served from memory, the same bytes for everyone) and the room history list a
 * released no-show, a bumped booking and a rejected one as `cancelled` with cancel_reason and
 * approval null, with every field of the original contract still there; a pending booking keeps
 * `approval: pending` (it holds its slot). The owner (GET /reservations/mine) and the admins
 * (GET /admin/reservations) still read the reason. The scan view's `today` lists active bookings
 * only, without reasons.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { sweepOnce } from '../src/core/bookings/checkin/sweeper'
import { fixedClock } from '../src/lib/clock'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
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
