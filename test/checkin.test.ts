/**
 * Issue 7 with a fake clock: check-in window edges, keys (wrong, missing, old after generate-qr),
 * ownership, release exactly at start + auto_release_after_min and not before, a released slot
 * bookable at once, checked-in bookings never released, bookings made before the room required
 * check-in never released, check-out freeing the rest of the slot, walk-up booking, the scan view's
 * actions, the policy fields in the admin routes, and the new statuses in filters and stats.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { and, desc, eq } from 'drizzle-orm'
import jsQR from 'jsqr'
import { PNG } from 'pngjs'
import { changes, reservations, rooms } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { scanKey } from '../src/core/bookings/checkin/keys'
import { sweepOnce } from '../src/core/bookings/checkin/sweeper'
import { Client, loggedIn, TEST_ENV, testApp, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

/** Instants of this file, moved into TEST_CLOCK_YEAR when CI sets it (test/helpers/clock.ts). */
const shifted = timeShifter('2030-03-10T12:00:00Z')
const clock = fixedClock(shifted('2030-03-10T12:00:00Z'))
let t: TestApp
let anon: Client
const ids: Record<string, number> = {}

beforeAll(async () => {
  t = await testApp({ clock })
  anon = new Client(t.app)
  for (const row of await t.database.db.select().from(rooms)) ids[row.name] = row.id
  // A public room of our own, so the seeded bookings never get in the way.
  clock.set(shifted('2030-03-10T12:00:00Z'))
  const admin = await loggedIn(t.app, 'admin')
  const created = await admin.post('/api/admin/rooms', { name: 'C1' })
  expect(created.status).toBe(201)
  ids.C1 = created.body.room.id
})
afterAll(() => t.close())

const MIN = 60_000
/** An instant on 2030-03-(10 + day) at HH:MM (UTC), plus ms. */
const on = (day: number, hhmm: string, ms = 0) => new Date(Date.parse(shifted(`2030-03-${10 + day}T${hhmm}:00Z`)) + ms)
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')
const key = (room: string, version = 1) => scanKey(TEST_ENV.SECRET_KEY, ids[room]!, version)
const db = () => t.database.db
const sweep = () => sweepOnce({ database: t.database, clock })

/** Logs in at the clock's current time (tokens follow the fake clock, so log in after moving it). */
const as = (name: string) => loggedIn(t.app, name)

async function book(name: string, room: string, start: Date, end: Date): Promise<number> {
  const r = await (await as(name)).post(`/api/rooms/${ids[room]}/reserve`, { start_time: iso(start), end_time: iso(end) })
  expect(r.status).toBe(201)
  return r.body.reservation.id
}

async function checkIn(name: string, id: number, k: string | undefined) {
  return (await as(name)).post(`/api/reservations/${id}/check-in`, k === undefined ? {} : { k })
}

async function row(id: number) {
  const [r] = await db().select().from(reservations).where(eq(reservations.id, id))
  return r!
}

async function auditsFor(event: 'reservation.checked_in' | 'reservation.checked_out' | 'reservation.released', id: number) {
  const rows = await db().select().from(changes).where(eq(changes.event, event)).orderBy(desc(changes.position))
  return rows.filter((a) => (a.data as { reservation_id?: number }).reservation_id === id)
}

describe('fresh start', () => {
  test('a fresh start shows the seeded B101 booking occupied and checked in', async () => {
    clock.set(shifted('2030-03-10T12:00:00Z'))
    expect((await sweep()).released).toEqual([])
    const r = await anon.get(`/api/scan/${ids.B101}?k=${key('B101')}`)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ action: 'login', key_status: 'valid', reservation: null, free_until: null })
    expect(r.body.room).toMatchObject({ name: 'B101', status: 'occupied', current_reservation: { user_name: 'teacher', checked_in_at: shifted('2030-03-10T11:30:00Z') } })
    expect(r.body.today.map((e: any) => e.user_name)).toEqual(['teacher'])
    const teacher = await as('teacher')
    const own = await teacher.get(`/api/scan/${ids.B101}?k=${key('B101')}`)
    expect(own.body).toMatchObject({ action: 'view', reason: 'checked_in', reservation: { checked_in_at: shifted('2030-03-10T11:30:00Z') } })
    expect(own.body.today[0].mine).toBe(true)
  })
})

describe('check-in window (opens 10 min before the start, closes at +15 min)', () => {
  test('opens exactly at -10 min and not a millisecond before', async () => {
    clock.set(on(1, '08:00'))
    const id = await book('student', 'C1', on(1, '10:00'), on(1, '11:00'))
    clock.set(on(1, '09:50', -1))
    const early = await checkIn('student', id, key('C1'))
    expect(early.status).toBe(409)
    expect(early.body.msg).toBe(`check-in is not open yet: it opens 10 minutes before the start, at ${shifted('2030-03-11T09:50:00Z')}`)
    expect(early.body.check_in_opens_at).toBe(shifted('2030-03-11T09:50:00Z'))
    expect((await row(id)).checkedInAt).toBeNull()

    clock.set(on(1, '09:50'))
    const ok = await checkIn('student', id, key('C1'))
    expect(ok.status).toBe(200)
    expect(ok.body.reservation).toEqual({
      id, room_id: ids.C1, room_name: 'C1', start_time: shifted('2030-03-11T10:00:00Z'), end_time: shifted('2030-03-11T11:00:00Z'), status: 'active',
      cancel_reason: null, approval: null, check_in_required: true, checked_in_at: shifted('2030-03-11T09:50:00Z'),
      check_in_opens_at: shifted('2030-03-11T09:50:00Z'), check_in_closes_at: shifted('2030-03-11T10:15:00Z'),
    })
    expect((await row(id)).checkedInAt?.toISOString()).toBe(shifted('2030-03-11T09:50:00.000Z'))
    const [audit] = await auditsFor('reservation.checked_in', id)
    expect(audit).toMatchObject({ event: 'reservation.checked_in', actorId: 3 })
    expect(audit!.data).toMatchObject({ reservation_id: id, room_id: ids.C1, checked_in_at: shifted('2030-03-11T09:50:00Z') })
    // the journal reports it under the original's action for a change of a reservation
    const [log] = (await (await as('admin')).get('/api/admin/audit/logs?event=reservation.checked_in')).body.logs
    expect(log).toMatchObject({ action: 'update_reservation', event: 'reservation.checked_in', payload: { reservation_id: id } })

    // Checking in again changes nothing and writes no second audit row.
    clock.set(on(1, '10:05'))
    const again = await checkIn('student', id, key('C1'))
    expect(again.status).toBe(200)
    expect(again.body.reservation.checked_in_at).toBe(shifted('2030-03-11T09:50:00Z'))
    expect(await auditsFor('reservation.checked_in', id)).toHaveLength(1)
  })

  test('still open at +15 min - 1 ms, closed at exactly +15 min', async () => {
    clock.set(on(2, '08:00'))
    const late = await book('student', 'C1', on(2, '10:00'), on(2, '11:00'))
    const tooLate = await book('student', 'C1', on(2, '12:00'), on(2, '13:00'))
    clock.set(on(2, '10:15', -1))
    expect((await checkIn('student', late, key('C1'))).status).toBe(200)

    clock.set(on(2, '12:15'))
    const closed = await checkIn('student', tooLate, key('C1'))
    expect(closed.status).toBe(409)
    expect(closed.body.msg).toBe(`check-in has closed at ${shifted('2030-03-12T12:15:00Z')}`)
    expect(closed.body.check_in_closes_at).toBe(shifted('2030-03-12T12:15:00Z'))
  })

  test('a booking that does not need a check-in can be checked in until its end', async () => {
    clock.set(on(3, '08:00'))
    const admin = await as('admin')
    const created = await admin.post('/api/admin/rooms', { name: 'NoCheck', requires_check_in: false })
    expect(created.body.room.requires_check_in).toBe(false)
    ids.NoCheck = created.body.room.id
    const id = await book('student', 'NoCheck', on(3, '10:00'), on(3, '11:00'))
    expect((await row(id)).checkInRequired).toBe(false)
    clock.set(on(3, '10:59'))
    const r = await checkIn('student', id, key('NoCheck'))
    expect(r.status).toBe(200)
    expect(r.body.reservation.check_in_closes_at).toBe(shifted('2030-03-13T11:00:00Z'))
  })
})

describe('check-in refusals, each with its own message', () => {
  let id: number
  beforeAll(async () => {
    clock.set(on(4, '08:00'))
    id = await book('student', 'C1', on(4, '10:00'), on(4, '11:00'))
    clock.set(on(4, '10:01'))
  })

  test('missing key 400, wrong key 403, key of another room 403', async () => {
    const missing = await checkIn('student', id, undefined)
    expect(missing.status).toBe(400)
    expect(missing.body.msg).toBe('k is required: scan the QR code on the room door')
    for (const wrong of ['AAAAAAAAAAAA', 'short', key('B101'), `${key('C1')}x`]) {
      const r = await checkIn('student', id, wrong)
      expect({ wrong, status: r.status, msg: r.body.msg }).toEqual({ wrong, status: 403, msg: 'this QR code is not valid for this room: scan the code on the room door' })
    }
    expect((await row(id)).checkedInAt).toBeNull()
  })

  test("another user's booking is refused, whatever their role", async () => {
    for (const name of ['guest', 'teacher', 'admin']) {
      const r = await checkIn(name, id, key('C1'))
      expect(r.status).toBe(403)
      expect(r.body.msg).toBe('only the person who booked can check in')
    }
  })

  test('unknown reservation 404; anonymous 401; cookie session without CSRF 401', async () => {
    const r = await checkIn('student', 999999, key('C1'))
    expect(r.status).toBe(404)
    expect(r.body.msg).toBe('reservation not found')
    expect((await anon.post(`/api/reservations/${id}/check-in`, { k: key('C1') }, { csrf: false })).status).toBe(401)
    const student = await as('student')
    const noCsrf = await student.post(`/api/reservations/${id}/check-in`, { k: key('C1') }, { csrf: false })
    expect(noCsrf.status).toBe(401)
    expect(noCsrf.body.msg).toBe('Missing CSRF token')
  })

  test('cancelled and ended bookings are refused', async () => {
    clock.set(on(4, '08:00'))
    const cancelled = await book('student', 'C1', on(4, '12:00'), on(4, '13:00'))
    const student = await as('student')
    expect((await student.delete(`/api/reservations/${cancelled}`)).status).toBe(200)
    clock.set(on(4, '12:00'))
    const c = await checkIn('student', cancelled, key('C1'))
    expect(c.status).toBe(409)
    expect(c.body.msg).toBe('reservation is cancelled')
    clock.set(on(4, '11:00'))
    const ended = await checkIn('student', id, key('C1'))
    expect(ended.status).toBe(409)
    expect(ended.body.msg).toBe('reservation has already ended')
  })

  test('the legacy path without /api works too', async () => {
    clock.set(on(4, '08:00'))
    const other = await book('student', 'C1', on(4, '14:00'), on(4, '15:00'))
    clock.set(on(4, '14:00'))
    const r = await (await as('student')).post(`/reservations/${other}/check-in`, { k: key('C1') })
    expect(r.status).toBe(200)
  })
})

describe('automatic release', () => {
  test('released at exactly +15 min and not before; one audit row; statuses everywhere', async () => {
    clock.set(on(5, '08:00'))
    await sweep() // older no-shows out of the way
    const id = await book('guest', 'C1', on(5, '10:00'), on(5, '11:00'))
    clock.set(on(5, '10:15', -1))
    expect((await sweep()).released).toEqual([])
    expect((await row(id)).status).toBe('active')

    clock.set(on(5, '10:15'))
    const result = await sweep()
    expect(result.skipped).toBe(false)
    expect(result.released.map((r) => r.id)).toEqual([id])
    expect((await row(id)).status).toBe('released')
    const audits = await auditsFor('reservation.released', id)
    expect(audits).toHaveLength(1)
    expect(audits[0]).toMatchObject({ actorId: null, event: 'reservation.released' })
    expect(audits[0]!.data).toMatchObject({ reservation_id: id, room_id: ids.C1, user_id: 4, auto_release_after_min: 15, released_at: shifted('2030-03-15T10:15:00Z') })
    expect(audits[0]!.description).toContain('not checked in within 15 minutes of its start')
    expect((await sweep()).released).toEqual([]) // idempotent
    expect(await auditsFor('reservation.released', id)).toHaveLength(1)

    // Every route of the original contract reports it in the original's vocabulary: cancelled,
    // with cancel_reason no_show (issue 11). The owner sees that; check-in is refused with the
    // finer reason; cancelling is a no-op.
    const noShow = { status: 'cancelled', cancel_reason: 'no_show', check_in_required: true, checked_in_at: null }
    const guest = await as('guest')
    const mine = (await guest.get('/api/reservations/mine')).body.reservations.find((r: any) => r.id === id)
    expect(mine).toMatchObject(noShow)
    const refused = await guest.post(`/api/reservations/${id}/check-in`, { k: key('C1') })
    expect(refused.status).toBe(409)
    expect(refused.body.msg).toBe('reservation was released: it was not checked in in time')
    expect((await guest.delete(`/api/reservations/${id}`)).body).toEqual({ status: 'cancelled' })
    expect((await row(id)).status).toBe('released')

    // The room's schedule and its history show it cancelled without the reason (why someone else's
    // booking ended is nobody else's business: test/schedule-privacy.test.ts); the admin views show
    // it with the reason, and it can be filtered on.
    const cancelledInSchedule = { ...noShow, cancel_reason: null, approval: null }
    const detail = await anon.get(`/api/rooms/${ids.C1}`)
    expect(detail.body.schedule.find((r: any) => r.id === id)).toMatchObject(cancelledInSchedule)
    expect(detail.body.room.status).toBe('available')
    const admin = await as('admin')
    const history = (await admin.get(`/api/reservations/room/${ids.C1}/history`)).body.reservations
    expect(history.find((r: any) => r.id === id)).toMatchObject(cancelledInSchedule)
    for (const r of [...history, ...detail.body.schedule]) expect(['active', 'finished', 'cancelled']).toContain(r.status)
    const cancelled = await admin.get(`/api/admin/reservations?status=cancelled&room_id=${ids.C1}&per_page=100`)
    expect(cancelled.body.reservations.find((r: any) => r.id === id)).toMatchObject(noShow)
    const listed = await admin.get(`/api/admin/reservations?status=released&room_id=${ids.C1}`)
    expect(listed.status).toBe(200)
    expect(listed.body.reservations.map((r: any) => r.id)).toContain(id)
    expect(listed.body.reservations.every((r: any) => r.status === 'cancelled' && r.cancel_reason === 'no_show')).toBe(true)
    const stats = (await admin.get('/api/admin/stats')).body.stats.reservations
    expect(Object.keys(stats.by_status).sort()).toEqual(['active', 'cancelled', 'finished'])
    expect(stats.no_shows).toBeGreaterThanOrEqual(1)
    expect(stats.by_status.cancelled).toBeGreaterThanOrEqual(stats.no_shows)
    // The journal: the original's action for a cancellation, the precise event beside it.
    const [log] = (await admin.get('/api/admin/audit/logs?event=reservation.released')).body.logs
    expect(log).toMatchObject({ action: 'cancel_reservation', event: 'reservation.released', actor_id: null, payload: { reservation_id: id } })
    const bad = await admin.get('/api/admin/reservations?status=gone')
    expect(bad.status).toBe(400)
    expect(bad.body.msg).toBe("invalid status 'gone': expected active, finished, cancelled, released")
  })

  test('a released slot is bookable at once, even before the sweeper runs', async () => {
    clock.set(on(6, '08:00'))
    const noShow = await book('guest', 'C1', on(6, '10:00'), on(6, '11:00'))
    clock.set(on(6, '10:14'))
    const early = await (await as('student')).post(`/api/rooms/${ids.C1}/reserve`, { start_time: iso(on(6, '10:14')), end_time: iso(on(6, '10:45')) })
    expect(early.status).toBe(409)
    expect(early.body.msg).toBe('Reservation conflicts with existing booking')

    clock.set(on(6, '10:15'))
    // No sweep has run: the booking itself releases the due no-show first.
    const taken = await (await as('student')).post(`/api/rooms/${ids.C1}/reserve`, { start_time: iso(on(6, '10:15')), end_time: iso(on(6, '10:45')) })
    expect(taken.status).toBe(201)
    expect((await row(noShow)).status).toBe('released')
    expect(await auditsFor('reservation.released', noShow)).toHaveLength(1)
    expect((await sweep()).released).toEqual([])
  })

  test('the scan view sees the slot free at +15 min without waiting for the sweeper', async () => {
    clock.set(on(7, '08:00'))
    const noShow = await book('guest', 'C1', on(7, '10:00'), on(7, '11:00'))
    clock.set(on(7, '10:15'))
    const scan = await (await as('student')).get(`/api/scan/${ids.C1}?k=${key('C1')}`)
    expect(scan.body.action).toBe('book_now')
    expect(scan.body.room.status).toBe('available')
    expect((await row(noShow)).status).toBe('released')
  })

  test('a checked-in booking is never released; it is finished after its end', async () => {
    clock.set(on(8, '08:00'))
    await sweep() // older no-shows out of the way
    const id = await book('student', 'C1', on(8, '10:00'), on(8, '11:00'))
    clock.set(on(8, '10:14'))
    expect((await checkIn('student', id, key('C1'))).status).toBe(200)
    for (const time of ['10:15', '10:30', '10:59']) {
      clock.set(on(8, time))
      expect((await sweep()).released).toEqual([])
      expect((await row(id)).status).toBe('active')
    }
    clock.set(on(8, '11:00'))
    const result = await sweep()
    expect(result.released).toEqual([])
    expect(result.finished).toBeGreaterThanOrEqual(1)
    expect((await row(id)).status).toBe('finished')
    expect(await auditsFor('reservation.released', id)).toHaveLength(0)
  })

  test('a booking made before its room required check-in is never released', async () => {
    clock.set(on(9, '08:00'))
    await sweep() // older no-shows out of the way
    const admin = await as('admin')
    expect((await admin.patch(`/api/admin/rooms/${ids.C1}`, { requires_check_in: false })).status).toBe(200)
    const before = await book('student', 'C1', on(9, '10:00'), on(9, '11:00'))
    expect((await row(before)).checkInRequired).toBe(false)
    expect((await (await as('admin')).patch(`/api/admin/rooms/${ids.C1}`, { requires_check_in: true })).status).toBe(200)
    const after = await book('guest', 'C1', on(9, '12:00'), on(9, '13:00'))
    expect((await row(after)).checkInRequired).toBe(true)

    clock.set(on(9, '10:30'))
    expect((await sweep()).released).toEqual([])
    expect((await row(before)).status).toBe('active')
    clock.set(on(9, '12:15'))
    expect((await sweep()).released.map((r) => r.id)).toEqual([after])
  })

  test('a short booking without check-in is released at its end, not marked finished', async () => {
    clock.set(on(10, '08:00'))
    await sweep() // older no-shows out of the way
    const id = await book('guest', 'C1', on(10, '10:00'), on(10, '10:10'))
    clock.set(on(10, '10:10'))
    expect((await sweep()).released.map((r) => r.id)).toEqual([id])
    const [audit] = await auditsFor('reservation.released', id)
    expect(audit!.description).toContain('not checked in before its end')
  })

  test('auto_release_after_min follows the room policy', async () => {
    clock.set(on(11, '08:00'))
    await sweep() // older no-shows out of the way
    const admin = await as('admin')
    const patched = await admin.patch(`/api/admin/rooms/${ids.C1}`, { auto_release_after_min: 5, check_in_opens_min: 0 })
    expect(patched.status).toBe(200)
    expect(patched.body.room).toMatchObject({ auto_release_after_min: 5, check_in_opens_min: 0, requires_check_in: true })
    const id = await book('guest', 'C1', on(11, '10:00'), on(11, '11:00'))
    clock.set(on(11, '10:00', -1))
    const early = await checkIn('guest', id, key('C1'))
    expect(early.body.msg).toContain('it opens 0 minutes before the start')
    clock.set(on(11, '10:05', -1))
    expect((await sweep()).released).toEqual([])
    clock.set(on(11, '10:05'))
    expect((await sweep()).released.map((r) => r.id)).toEqual([id])
    await (await as('admin')).patch(`/api/admin/rooms/${ids.C1}`, { auto_release_after_min: 15, check_in_opens_min: 10 })
  })

  test('an admin who brings a released booking back keeps it from being released again', async () => {
    clock.set(on(12, '08:00'))
    await sweep() // older no-shows out of the way
    const id = await book('guest', 'C1', on(12, '10:00'), on(12, '11:00'))
    clock.set(on(12, '10:20'))
    await sweep()
    expect((await row(id)).status).toBe('released')
    const admin = await as('admin')
    const r = await admin.patch(`/api/admin/reservations/${id}`, { status: 'active' })
    expect(r.status).toBe(200)
    expect(r.body.reservation).toMatchObject({ status: 'active', check_in_required: false })
    expect((await sweep()).released).toEqual([])
    const refused = await admin.patch(`/api/admin/reservations/${id}`, { status: 'released' })
    expect(refused.status).toBe(400)
    expect(refused.body.msg).toBe("invalid status 'released': expected active, finished, cancelled")
    // setting cancelled on a released one is no change: it is reported cancelled already
    const id2 = await book('guest', 'C1', on(12, '12:00'), on(12, '13:00'))
    clock.set(on(12, '12:20'))
    await sweep()
    const same = await (await as('admin')).patch(`/api/admin/reservations/${id2}`, { status: 'cancelled' })
    expect(same.body.reservation).toMatchObject({ status: 'cancelled', cancel_reason: 'no_show' })
    expect((await row(id2)).status).toBe('released')
  })
})

describe('check-out', () => {
  test('ends the booking now and frees the rest of the slot', async () => {
    clock.set(on(13, '08:00'))
    const id = await book('student', 'C1', on(13, '10:00'), on(13, '12:00'))
    clock.set(on(13, '10:05'))
    expect((await checkIn('student', id, key('C1'))).status).toBe(200)
    clock.set(on(13, '10:40'))
    const taken = await (await as('guest')).post(`/api/rooms/${ids.C1}/reserve`, { start_time: iso(on(13, '10:40')), end_time: iso(on(13, '11:40')) })
    expect(taken.status).toBe(409)

    const other = await (await as('guest')).post(`/api/reservations/${id}/check-out`)
    expect(other.status).toBe(403)
    expect(other.body.msg).toBe('only the person who booked can check out')

    const r = await (await as('student')).post(`/api/reservations/${id}/check-out`)
    expect(r.status).toBe(200)
    expect(r.body.reservation).toMatchObject({ id, status: 'finished', start_time: shifted('2030-03-23T10:00:00Z'), end_time: shifted('2030-03-23T10:40:00Z'), checked_in_at: shifted('2030-03-23T10:05:00Z') })
    const stored = await row(id)
    expect(stored.status).toBe('finished')
    expect(stored.endTime.toISOString()).toBe(shifted('2030-03-23T10:40:00.000Z'))
    const [audit] = await auditsFor('reservation.checked_out', id)
    expect(audit!.data).toMatchObject({ end_time: shifted('2030-03-23T10:40:00Z'), booked_end_time: shifted('2030-03-23T12:00:00Z') })
    const [log] = (await (await as('admin')).get('/api/admin/audit/logs?event=reservation.checked_out&per_page=1')).body.logs
    expect(log).toMatchObject({ action: 'update_reservation', event: 'reservation.checked_out', payload: { reservation_id: id } })

    const detail = await anon.get(`/api/rooms/${ids.C1}`)
    expect(detail.body.room.status).toBe('available')
    expect(detail.body.free_slots[0]).toEqual({ start: shifted('2030-03-23T10:40:00Z'), end: expect.any(String) })
    const now = await (await as('guest')).post(`/api/rooms/${ids.C1}/reserve`, { start_time: iso(on(13, '10:40')), end_time: iso(on(13, '11:40')) })
    expect(now.status).toBe(201)

    const twice = await (await as('student')).post(`/api/reservations/${id}/check-out`)
    expect(twice.status).toBe(409)
    expect(twice.body.msg).toBe('reservation has already ended')
  })

  test('before the start it is refused: cancel instead', async () => {
    clock.set(on(14, '08:00'))
    const id = await book('student', 'C1', on(14, '10:00'), on(14, '11:00'))
    clock.set(on(14, '09:55'))
    expect((await checkIn('student', id, key('C1'))).status).toBe(200)
    const r = await (await as('student')).post(`/api/reservations/${id}/check-out`)
    expect(r.status).toBe(409)
    expect(r.body.msg).toBe('reservation has not started yet: cancel it instead')
  })
})

describe('walk-up booking (book now)', () => {
  test('from now for 30 minutes, checked in at once; capped at the next booking', async () => {
    clock.set(on(15, '08:00'))
    await book('guest', 'C1', on(15, '10:00'), on(15, '11:00'))
    clock.set(on(15, '09:15'))
    const student = await as('student')
    const scan = await student.get(`/api/scan/${ids.C1}?k=${key('C1')}`)
    expect(scan.body).toMatchObject({
      action: 'book_now', key_status: 'valid', reason: null, reservation: null, free_until: shifted('2030-03-25T10:00:00Z'),
      book_now: [{ minutes: 30, end_time: shifted('2030-03-25T09:45:00Z') }, { minutes: 60, end_time: shifted('2030-03-25T10:00:00Z') }],
    })
    const r = await student.post(`/api/scan/${ids.C1}/book`, { k: key('C1'), minutes: 30 })
    expect(r.status).toBe(201)
    expect(r.body.reservation).toMatchObject({
      room_id: ids.C1, start_time: shifted('2030-03-25T09:15:00Z'), end_time: shifted('2030-03-25T09:45:00Z'), status: 'active',
      check_in_required: true, checked_in_at: shifted('2030-03-25T09:15:00Z'),
    })
    const [audit] = await db().select().from(changes).where(eq(changes.event, 'reservation.created')).orderBy(desc(changes.position)).limit(1)
    expect(audit!.data).toMatchObject({ reservation_id: r.body.reservation.id, walk_up: true, checked_in: true })

    // 90 minutes asked at 09:45 is capped at the 10:00 booking.
    clock.set(on(15, '09:45'))
    const capped = await (await as('teacher')).post(`/api/scan/${ids.C1}/book`, { k: key('C1'), minutes: 90 })
    expect(capped.status).toBe(201)
    expect(capped.body.reservation.end_time).toBe(shifted('2030-03-25T10:00:00Z'))
  })

  test('refusals: bad length, wrong key, occupied, too short, outside the daily window, blocked', async () => {
    clock.set(on(16, '08:00'))
    const guestBooking = await book('guest', 'C1', on(16, '10:00'), on(16, '11:00'))
    clock.set(on(16, '09:57'))
    const short = await (await as('student')).post(`/api/scan/${ids.C1}/book`, { k: key('C1'), minutes: 30 })
    expect(short.status).toBe(409)
    expect(short.body.msg).toBe('room is free for less than 5 minutes')
    const shortScan = await (await as('student')).get(`/api/scan/${ids.C1}?k=${key('C1')}`)
    expect(shortScan.body).toMatchObject({ action: 'view', reason: 'too_short', book_now: [] })

    clock.set(on(16, '10:00'))
    expect((await checkIn('guest', guestBooking, key('C1'))).status).toBe(200)
    clock.set(on(16, '10:30'))
    const student = await as('student')
    const post = (body: object, room = 'C1') => student.post(`/api/scan/${ids[room]}/book`, body)
    expect((await post({ k: key('C1'), minutes: 45 })).body.msg).toBe('minutes must be one of 30, 60, 90')
    expect((await post({ k: 'AAAAAAAAAAAA', minutes: 30 })).status).toBe(403)
    const occupied = await post({ k: key('C1'), minutes: 30 })
    expect(occupied.status).toBe(409)
    expect(occupied.body.msg).toBe('room is occupied now')
    expect((await student.get(`/api/scan/${ids.C1}?k=${key('C1')}`)).body).toMatchObject({ action: 'view', reason: 'occupied' })

    const admin = await as('admin')
    const windowed = await admin.patch(`/api/admin/rooms/${ids.NoCheck}`, { booking_start: '08:00', booking_end: '09:00' })
    expect(windowed.body).toMatchObject({ room: { booking_window: { start: '08:00', end: '09:00' } } })
    const outside = await (await as('student')).post(`/api/scan/${ids.NoCheck}/book`, { k: key('NoCheck'), minutes: 30 })
    expect(outside.status).toBe(400)
    expect(outside.body.msg).toBe('room cannot be booked at this time of day')
    expect((await (await as('student')).get(`/api/scan/${ids.NoCheck}?k=${key('NoCheck')}`)).body).toMatchObject({ action: 'view', reason: 'outside_hours' })
    // Capped at the window's end too.
    clock.set(on(16, '08:45'))
    const capped = await (await as('student')).post(`/api/scan/${ids.NoCheck}/book`, { k: key('NoCheck'), minutes: 60 })
    expect(capped.status).toBe(201)
    expect(capped.body.reservation.end_time).toBe(shifted('2030-03-26T09:00:00Z'))
    await (await as('admin')).patch(`/api/admin/rooms/${ids.NoCheck}`, { booking_start: null, booking_end: null, is_blocked: true })
    const blocked = await (await as('student')).post(`/api/scan/${ids.NoCheck}/book`, { k: key('NoCheck'), minutes: 30 })
    expect(blocked.status).toBe(409)
    expect(blocked.body.msg).toBe('room is temporarily unavailable')
    const adminRoom = await (await as('student')).post(`/api/scan/${ids.A200}/book`, { k: key('A200'), minutes: 30 })
    expect(adminRoom.status).toBe(403)
    expect(adminRoom.body.msg).toBe('room is not available for booking')
  })
})

describe('the scan view: one action for the viewer', () => {
  test('check_in for your booking inside the window; view with the reason otherwise', async () => {
    clock.set(on(17, '08:00'))
    const id = await book('student', 'C1', on(17, '10:00'), on(17, '11:00'))
    clock.set(on(17, '09:49'))
    // Before its check-in window the room is simply free until the booking, for its owner too.
    const before = await (await as('student')).get(`/api/scan/${ids.C1}?k=${key('C1')}`)
    expect(before.body).toMatchObject({ action: 'book_now', reservation: null, free_until: shifted('2030-03-27T10:00:00Z'), book_now: [{ minutes: 30, end_time: shifted('2030-03-27T10:00:00Z') }] })
    clock.set(on(17, '09:55'))
    const student = await as('student')
    const open = await student.get(`/api/scan/${ids.C1}?k=${key('C1')}`)
    expect(open.body).toMatchObject({
      action: 'check_in', reason: null,
      reservation: { id, check_in_opens_at: shifted('2030-03-27T09:50:00Z'), check_in_closes_at: shifted('2030-03-27T10:15:00Z'), checked_in_at: null },
    })
    expect((await student.get(`/api/scan/${ids.C1}`)).body).toMatchObject({ action: 'view', reason: 'key_missing', key_status: 'missing' })
    expect((await student.get(`/api/scan/${ids.C1}?k=AAAAAAAAAAAA`)).body).toMatchObject({ action: 'view', reason: 'key_invalid' })
    // Someone else: the room is free now (the booking starts at 10:00), so book_now until then.
    const guest = await (await as('guest')).get(`/api/scan/${ids.C1}?k=${key('C1')}`)
    expect(guest.body).toMatchObject({ action: 'book_now', free_until: shifted('2030-03-27T10:00:00Z') })
    expect((await anon.get('/api/scan/999999')).status).toBe(404)
    // A token that no longer works is refused as everywhere (the frontend refreshes it).
    const expired = await as('guest')
    clock.set(on(17, '12:00'))
    expect((await expired.get(`/api/scan/${ids.C1}`)).status).toBe(401)
  })

  test('blocked and non-public rooms are view only', async () => {
    clock.set(shifted('2030-03-10T12:00:00Z'))
    const student = await as('student')
    expect((await student.get(`/api/scan/${ids.NoCheck}?k=${key('NoCheck')}`)).body).toMatchObject({ action: 'view', reason: 'blocked' })
    expect((await student.get(`/api/scan/${ids.S001}?k=${key('S001')}`)).body).toMatchObject({ action: 'view', reason: 'not_bookable' })
  })
})

describe('QR codes: the public one has no key, the poster has; generate-qr retires the old poster key', () => {
  function decode(png: Uint8Array): string | undefined {
    const image = PNG.sync.read(Buffer.from(png))
    return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data
  }
  const png = async (url: string) => {
    const res = await t.app.handle(new Request(`http://localhost${new URL(url).pathname}`))
    expect(res.status).toBe(200)
    return { bytes: new Uint8Array(await res.arrayBuffer()), etag: res.headers.get('etag')!, cache: res.headers.get('cache-control') }
  }

  // Premise changed by decision 013: qr_code_url used to decode to r/<id>?k=<key>, and its image
  // changed at generate-qr. Now it decodes to r/<id> (it proves nothing, so it never changes);
  // the poster key is only in the admin's poster.
  test('qr_code_url decodes to the scan URL without a key; after generate-qr the old poster key is refused and the new one works', async () => {
    clock.set(on(18, '08:00'))
    const id = await book('student', 'C1', on(18, '10:00'), on(18, '11:00'))
    const room = (await anon.get(`/api/rooms/${ids.C1}`)).body.room
    const first = await png(room.qr_code_url)
    expect(decode(first.bytes)).toBe(`http://qrbook.test/r/${ids.C1}`)
    expect(first.cache).toBe('public, max-age=0, must-revalidate')
    const notModified = await t.app.handle(new Request(`http://localhost/static/qr/${ids.C1}.png`, { headers: { 'if-none-match': first.etag } }))
    expect(notModified.status).toBe(304)
    const admin = await as('admin')
    const poster = await admin.get(`/api/admin/rooms/${ids.C1}/poster.svg`)
    expect(poster.text).toContain(`qrbook.test/r/${ids.C1}?k=${key('C1', 1)}`)
    const oldKey = key('C1', 1)

    const regenerated = await admin.post(`/api/admin/rooms/${ids.C1}/generate-qr`)
    expect(regenerated.status).toBe(200)
    expect(regenerated.body).toEqual({ qr_code_url: room.qr_code_url })
    const [stored] = await db().select().from(rooms).where(eq(rooms.id, ids.C1!))
    expect(stored!.qrVersion).toBe(2)
    const [audit] = await db().select().from(changes).where(and(eq(changes.event, 'room.qr_regenerated'))).orderBy(desc(changes.position)).limit(1)
    expect(audit!.data).toMatchObject({ room_id: ids.C1, qr_version: 2 })

    const second = await png(room.qr_code_url)
    expect(decode(second.bytes)).toBe(`http://qrbook.test/r/${ids.C1}`)
    expect((await (await as('admin')).get(`/api/admin/rooms/${ids.C1}/poster.svg`)).text).toContain(`?k=${key('C1', 2)}`)
    const svg = await (await t.app.handle(new Request(`http://localhost/static/qr/${ids.C1}.svg`))).text()
    expect(svg).toContain('<svg')

    clock.set(on(18, '10:00'))
    const old = await checkIn('student', id, oldKey)
    expect(old.status).toBe(403)
    expect(old.body.msg).toBe('this QR code has been replaced: scan the current code on the room door')
    const scanOld = await (await as('student')).get(`/api/scan/${ids.C1}?k=${oldKey}`)
    expect(scanOld.body).toMatchObject({ action: 'view', key_status: 'outdated', reason: 'key_outdated' })
    // The old poster still opens the room page.
    const page = await t.app.handle(new Request(`http://localhost/r/${ids.C1}?k=${oldKey}`))
    expect(page.status).toBe(200)
    const ok = await checkIn('student', id, key('C1', 2))
    expect(ok.status).toBe(200)
  })
})

describe('room policy in the admin routes', () => {
  test('defaults by type, validation, audit', async () => {
    clock.set(shifted('2030-03-10T12:00:00Z'))
    const admin = await as('admin')
    const svc = await admin.post('/api/admin/rooms', { name: 'Svc9', type: 'service' })
    expect(svc.body.room).toMatchObject({ requires_check_in: false, check_in_opens_min: 10, auto_release_after_min: 15 })
    const pub = await admin.post('/api/rooms', { name: 'Pub9', room_type: 'public', check_in_opens_min: 5, auto_release_after_min: '20' })
    expect(pub.status).toBe(201)
    expect(pub.body.room).toMatchObject({ requires_check_in: true, check_in_opens_min: 5, auto_release_after_min: 20 })

    for (const [body, msg] of [
      [{ requires_check_in: 'yes' }, 'requires_check_in must be true or false'],
      [{ requires_check_in: 2 }, 'requires_check_in must be true or false'],
      [{ requires_check_in: null }, 'requires_check_in must be true or false'],
      [{ check_in_opens_min: -1 }, 'check_in_opens_min must be a whole number of minutes from 0 to 1440'],
      [{ check_in_opens_min: 1.5 }, 'check_in_opens_min must be a whole number of minutes from 0 to 1440'],
      [{ auto_release_after_min: 0 }, 'auto_release_after_min must be a whole number of minutes from 1 to 1440'],
      [{ auto_release_after_min: 1441 }, 'auto_release_after_min must be a whole number of minutes from 1 to 1440'],
    ] as const) {
      const r = await admin.patch(`/api/admin/rooms/${svc.body.room.id}`, body)
      expect({ body, status: r.status, msg: r.body.msg }).toEqual({ body, status: 400, msg })
    }
    // requires_check_in is bool-ish, as every boolean the frontend sends
    for (const [value, expected] of [['1', true], [0, false], ['true', true], ['0', false], [1, true], ['false', false]] as const) {
      const b = await admin.patch(`/api/admin/rooms/${svc.body.room.id}`, { requires_check_in: value })
      expect({ value, status: b.status, requires: b.body.room?.requires_check_in }).toEqual({ value, status: 200, requires: expected })
    }
    const created = await admin.post('/api/admin/rooms', { name: 'Pub10', requires_check_in: '0' })
    expect(created.body.room).toMatchObject({ type: 'public', requires_check_in: false })
    expect((await admin.patch(`/api/admin/rooms/${svc.body.room.id}`, { requires_check_in: false })).status).toBe(200)
    const r = await admin.patch(`/api/admin/rooms/${svc.body.room.id}`, { requires_check_in: true, auto_release_after_min: 30 })
    expect(r.body.room).toMatchObject({ requires_check_in: true, auto_release_after_min: 30 })
    const [audit] = await db().select().from(changes).where(eq(changes.event, 'room.updated')).orderBy(desc(changes.position)).limit(1)
    expect(audit!.data).toMatchObject({
      changes: { requires_check_in: { from: false, to: true }, auto_release_after_min: { from: 15, to: 30 } },
    })
  })

  test('filters and stats know the check-in state', async () => {
    const admin = await as('admin')
    const checked = await admin.get('/api/admin/reservations?checked_in=true&per_page=100')
    expect(checked.body.reservations.length).toBeGreaterThan(3)
    expect(checked.body.reservations.every((r: any) => r.checked_in_at !== null)).toBe(true)
    const notChecked = await admin.get('/api/admin/reservations?checked_in=false&per_page=100')
    expect(notChecked.body.reservations.every((r: any) => r.checked_in_at === null)).toBe(true)
    expect(checked.body.pagination.total + notChecked.body.pagination.total).toBe((await admin.get('/api/admin/reservations')).body.pagination.total)
    expect((await admin.get('/api/admin/reservations?checked_in=maybe')).status).toBe(400)
    // bool-ish here too
    expect((await admin.get('/api/admin/reservations?checked_in=1&per_page=100')).body.pagination.total).toBe(checked.body.pagination.total)
    expect((await admin.get('/api/admin/reservations?checked_in=0&per_page=100')).body.pagination.total).toBe(notChecked.body.pagination.total)
    const stats = (await admin.get('/api/admin/stats')).body.stats.reservations
    expect(stats.checked_in).toBe(checked.body.pagination.total)
    expect(typeof stats.awaiting_check_in).toBe('number')
  })
})

describe('API documentation', () => {
  test('the check-in routes are in the OpenAPI document with their messages', async () => {
    const doc: any = await (await t.app.handle(new Request('http://localhost/swagger/json'))).json()
    const checkInOp = doc.paths['/api/reservations/{id}/check-in'].post
    expect(checkInOp['x-required-role']).toBe('student')
    expect(checkInOp.responses['403'].description).toContain('only the person who booked can check in')
    expect(checkInOp.responses['409'].description).toContain('reservation was released')
    expect(doc.paths['/api/reservations/{id}/check-out'].post.responses['409'].description).toContain('cancel it instead')
    expect(doc.paths['/api/scan/{id}/book'].post.responses['409'].description).toContain('room is occupied now')
    expect(doc.paths['/api/scan/{id}'].get.security).toEqual([])
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/api/r/') || p.startsWith('/r/'))).toBe(false)
  })
})
