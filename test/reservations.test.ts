/**
 * Reservations (contract sections 3 and 4): reserve with every rule and message, mine, reschedule,
 * cancel, room history, the daily booking window in APP_TIMEZONE, and the race for one slot.
 * Clock fixed at 2030-01-15T01:00:00Z = 10:00 in Asia/Tokyo (UTC+9, no DST), the app's time zone.
 * Seeded: B101 teacher now-30m..+90m, B102 student +2h..+4h, A200 guest +6h..+8h.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { and, asc, desc, eq, gte, inArray } from 'drizzle-orm'
import { changes, reservations, rooms, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { hashPassword } from '../src/lib/passwords'
import { formatUtc, parseIsoInput } from '../src/lib/time'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { onPostgres, stamped, stampedUser } from './helpers/db'

setDefaultTimeout(30_000) // see test/setup.ts

const NOW = new Date('2030-01-15T01:00:00Z')
const clock = fixedClock(NOW)
const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString().replace('.000Z', 'Z')
const CONFLICT = 'Reservation conflicts with existing booking'

let t: TestApp
let anon: Client
let admin: Client
let teacher: Client
let student: Client
let guest: Client
const ids: Record<string, number> = {}

beforeAll(async () => {
  t = await testApp({ clock, env: { APP_TIMEZONE: 'Asia/Tokyo' } })
  anon = new Client(t.app)
  ;[admin, teacher, student, guest] = (await Promise.all(['admin', 'teacher', 'student', 'guest'].map((n) => loggedIn(t.app, n)))) as [Client, Client, Client, Client]
  for (const u of await t.database.db.select().from(users)) ids[u.name] = u.id
  for (const r of await t.database.db.select().from(rooms)) ids[r.name] = r.id
})
afterAll(() => t.close())

const db = () => t.database.db
async function lastAudit() {
  const [row] = await db().select().from(changes).orderBy(desc(changes.position)).limit(1)
  return row!
}
async function auditCount() {
  return (await db().select({ id: changes.position }).from(changes)).length
}
async function reservationRow(id: number) {
  const [row] = await db().select().from(reservations).where(eq(reservations.id, id))
  return row!
}
/** A reservation written straight to the database (for states the API cannot reach, e.g. past ones). */
async function insertReservation(room: string, user: string, start: string, end: string, status: 'active' | 'cancelled' | 'finished' | 'released' = 'active') {
  const [row] = await db().insert(reservations)
    .values(stamped({ roomId: ids[room]!, userId: ids[user]!, startTime: new Date(start), endTime: new Date(end), status }))
    .returning()
  return row!
}
const reserve = (c: Client, room: string | number, start: unknown, end: unknown, prefix = '/api') =>
  c.post(`${prefix}/rooms/${typeof room === 'number' ? room : ids[room]}/reserve`, { start_time: start, end_time: end })

describe('time input', () => {
  test('ISO 8601 with an offset is converted to UTC; without one it is UTC', () => {
    expect(formatUtc(parseIsoInput('2030-01-15T17:00:00+09:00'))).toBe('2030-01-15T08:00:00Z')
    expect(formatUtc(parseIsoInput('2030-01-15T08:00:00-0530'))).toBe('2030-01-15T13:30:00Z')
    expect(formatUtc(parseIsoInput('2030-01-15T08:00:00'))).toBe('2030-01-15T08:00:00Z')
    expect(formatUtc(parseIsoInput('2030-01-15T08:00'))).toBe('2030-01-15T08:00:00Z')
    expect(formatUtc(parseIsoInput('2030-01-15 08:00:00Z'))).toBe('2030-01-15T08:00:00Z')
    expect(formatUtc(parseIsoInput('2030-01-15T08:00:00.123456Z'))).toBe('2030-01-15T08:00:00.123Z') // milliseconds kept (decision 016)
    expect(parseIsoInput('2030-01-15T08:00:00.250Z').getUTCMilliseconds()).toBe(250)
    expect(formatUtc(parseIsoInput('2028-02-29T00:00:00Z'))).toBe('2028-02-29T00:00:00Z')
  })

  test('bad and missing values give the contract messages', () => {
    for (const bad of ['tomorrow', '2030-13-01T00:00:00Z', '2030-02-30T10:00:00Z', '2029-02-29T00:00:00Z', '2030-01-15T24:00:00Z', '2030-01-15T10:00:00+25:00', 12345, true, {}, '15/01/2030 10:00'])
      expect(() => parseIsoInput(bad)).toThrow('Invalid datetime format. Use ISO 8601.')
    for (const missing of [undefined, null, '', '   '])
      expect(() => parseIsoInput(missing)).toThrow('datetime value is required')
  })
})

describe('POST /rooms/:id/reserve', () => {
  test('201 with the reservation; row and audit row written in the same transaction', async () => {
    const r = await reserve(student, 'B102', at(300), at(360))
    expect(r.status).toBe(201)
    expect(r.body).toEqual({
      reservation: {
        id: expect.any(Number), room_id: ids.B102, room_name: 'B102', start_time: at(300), end_time: at(360), status: 'active',
        cancel_reason: null, approval: null, check_in_required: true, checked_in_at: null,
      },
    })
    const row = await reservationRow(r.body.reservation.id)
    expect(row).toMatchObject({ roomId: ids.B102, userId: ids.student, status: 'active' })
    expect(row.startTime.toISOString()).toBe(new Date(at(300)).toISOString())
    const audit = await lastAudit()
    expect(audit).toMatchObject({ actorId: ids.student, event: 'reservation.created' })
    expect(audit.data).toMatchObject({ reservation_id: r.body.reservation.id, room_id: ids.B102, user_id: ids.student, start_time: at(300), end_time: at(360) })
  })

  test('times with an offset are stored and answered in UTC; the legacy path works', async () => {
    // 19:00-19:30 Tokyo = 10:00-10:30 UTC; the end has no offset, so it is UTC.
    const r = await reserve(student, 'B102', '2030-01-15T19:00:00+09:00', '2030-01-15T10:30:00', '')
    expect(r.status).toBe(201)
    expect(r.body.reservation).toMatchObject({ start_time: '2030-01-15T10:00:00Z', end_time: '2030-01-15T10:30:00Z' })
  })

  test('bad or missing times are 400 with the contract messages', async () => {
    const cases: [unknown, unknown, string][] = [
      [undefined, at(60), 'datetime value is required'],
      [at(60), undefined, 'datetime value is required'],
      ['', at(60), 'datetime value is required'],
      ['tomorrow', at(60), 'Invalid datetime format. Use ISO 8601.'],
      [at(30), 1234567890, 'Invalid datetime format. Use ISO 8601.'],
      ['2030-02-30T10:00:00Z', '2030-02-30T11:00:00Z', 'Invalid datetime format. Use ISO 8601.'],
      [at(600), at(600), 'Invalid time range: start must be before end'],
      [at(660), at(600), 'Invalid time range: start must be before end'],
      [at(-120), at(-60), 'Cannot create reservation in the past'],
      [at(-5), at(30), 'Cannot create reservation in the past'],
    ]
    const before = await auditCount()
    for (const [start, end, msg] of cases) {
      const r = await reserve(student, 'B102', start, end)
      expect({ status: r.status, body: r.body }).toEqual({ status: 400, body: { msg } })
    }
    expect(await auditCount()).toBe(before)
  })

  test('a start a few seconds ago ("book from now") is accepted', async () => {
    const start = new Date(NOW.getTime() - 20_000).toISOString()
    const r = await reserve(teacher, 'B102', start, at(45))
    expect(r.status).toBe(201)
    await teacher.delete(`/api/reservations/${r.body.reservation.id}`)
  })

  test('unknown room 404, non-public rooms 403, blocked room 409', async () => {
    const missing = await reserve(student, 99999, at(600), at(660))
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ msg: 'room not found' })
    for (const room of ['A200', 'S001']) {
      for (const c of [student, admin]) {
        const r = await reserve(c, room, at(600), at(660))
        expect(r.status).toBe(403)
        expect(r.body).toEqual({ msg: 'room is not available for booking' })
      }
    }
    await db().update(rooms).set({ isBlocked: true }).where(eq(rooms.id, ids.B102!))
    try {
      const r = await reserve(student, 'B102', at(600), at(660))
      expect(r.status).toBe(409)
      expect(r.body).toEqual({ msg: 'room is temporarily unavailable' })
    } finally {
      await db().update(rooms).set({ isBlocked: false }).where(eq(rooms.id, ids.B102!))
    }
    const bad = await student.post('/api/rooms/abc/reserve', { start_time: at(600), end_time: at(660) })
    expect(bad.status).toBe(400)
  })

  test('overlaps with an active reservation are 409; touching intervals are fine', async () => {
    // B102 is booked +2h..+4h by the student (seed).
    for (const [s, e] of [[120, 240], [100, 130], [230, 250], [150, 160], [60, 300]]) {
      const r = await reserve(guest, 'B102', at(s!), at(e!))
      expect(r.status).toBe(409)
      // the contract's message, and who holds the slot (issue 16)
      expect(r.body).toEqual({ msg: CONFLICT, held_by: [expect.objectContaining({ user_name: expect.any(String) })] })
    }
    const before = await reserve(guest, 'B102', at(90), at(120))
    expect(before.status).toBe(201)
    const after = await reserve(guest, 'B102', at(240), at(270))
    expect(after.status).toBe(201)
  })

  test('a cancelled reservation never blocks: cancel, then book the identical slot again', async () => {
    const first = await reserve(student, 'B101', at(700), at(760))
    expect(first.status).toBe(201)
    expect((await reserve(guest, 'B101', at(700), at(760))).status).toBe(409)
    expect((await student.delete(`/api/reservations/${first.body.reservation.id}`)).status).toBe(200)
    const again = await reserve(guest, 'B101', at(700), at(760))
    expect(again.status).toBe(201)
    const rows = await db().select().from(reservations)
      .where(and(eq(reservations.roomId, ids.B101!), eq(reservations.startTime, new Date(at(700)))))
    expect(rows.map((r) => r.status).sort()).toEqual(['active', 'cancelled'])
  })

  test('anonymous 401; a cookie request without the CSRF header 401', async () => {
    const r = await anon.post(`/api/rooms/${ids.B102}/reserve`, { start_time: at(800), end_time: at(860) }, { csrf: false })
    expect(r.status).toBe(401)
    expect(r.body.msg).toBe('missing authorization')
    const noCsrf = await student.post(`/api/rooms/${ids.B102}/reserve`, { start_time: at(800), end_time: at(860) }, { csrf: false })
    expect(noCsrf.status).toBe(401)
    expect(noCsrf.body.msg).toBe('Missing CSRF token')
  })
})

describe('daily booking window in APP_TIMEZONE (Asia/Tokyo)', () => {
  let roomId: number
  beforeAll(async () => {
    // 09:00-18:00 Tokyo = 00:00-09:00 UTC
    const r = await admin.post('/api/rooms', { name: 'Tokyo', booking_start: '09:00', booking_end: '18:00' })
    expect(r.status).toBe(201)
    roomId = r.body.room.id
  })

  test('free slots are clipped to the window on each local day', async () => {
    const r = await anon.get(`/api/rooms/${roomId}`)
    expect(r.body.room.booking_window).toEqual({ start: '09:00', end: '18:00' })
    // now = 10:00 Tokyo: until 18:00 today, then 09:00-10:00 tomorrow
    expect(r.body.free_slots).toEqual([
      { start: '2030-01-15T01:00:00Z', end: '2030-01-15T09:00:00Z' },
      { start: '2030-01-16T00:00:00Z', end: '2030-01-16T01:00:00Z' },
    ])
  })

  test('inside the window (local time) is accepted, bounds included', async () => {
    const inside = await reserve(student, roomId, '2030-01-15T11:00:00+09:00', '2030-01-15T12:00:00+09:00')
    expect(inside.status).toBe(201)
    expect(inside.body.reservation.start_time).toBe('2030-01-15T02:00:00Z')
    const wholeDay = await reserve(student, roomId, '2030-01-16T00:00:00Z', '2030-01-16T09:00:00Z')
    expect(wholeDay.status).toBe(201)
  })

  test('outside the window is 400 with the contract messages', async () => {
    const cases: [string, string, string][] = [
      ['2030-01-17T08:00:00+09:00', '2030-01-17T09:30:00+09:00', 'Reservation starts before allowed time'],
      ['2030-01-16T23:00:00Z', '2030-01-17T00:30:00Z', 'Reservation starts before allowed time'], // 08:00-09:30 Tokyo
      ['2030-01-17T17:00:00+09:00', '2030-01-17T18:30:00+09:00', 'Reservation ends after allowed time'],
      ['2030-01-17T18:00:00+09:00', '2030-01-17T19:00:00+09:00', 'Reservation ends after allowed time'],
      // 10:00-11:00 UTC would fit a 09:00-18:00 window in UTC, but it is 19:00-20:00 in Tokyo
      ['2030-01-17T10:00:00Z', '2030-01-17T11:00:00Z', 'Reservation ends after allowed time'],
      // spans two days, each end inside the window
      ['2030-01-17T10:00:00+09:00', '2030-01-18T11:00:00+09:00', 'Reservation ends after allowed time'],
    ]
    for (const [start, end, msg] of cases) {
      // a teacher: the 25-hour case would otherwise be refused first as too long for a student
      const r = await reserve(teacher, roomId, start, end)
      expect({ status: r.status, body: r.body }).toEqual({ status: 400, body: { msg } })
    }
  })

  test('rescheduling keeps to the window too', async () => {
    const r = await reserve(student, roomId, '2030-01-17T10:00:00+09:00', '2030-01-17T11:00:00+09:00')
    expect(r.status).toBe(201)
    const moved = await teacher.patch(`/api/reservations/${r.body.reservation.id}`, {
      start_time: '2030-01-17T17:30:00+09:00', end_time: '2030-01-17T18:30:00+09:00',
    })
    expect(moved.status).toBe(400)
    expect(moved.body).toEqual({ msg: 'Reservation ends after allowed time' })
  })
})

describe('GET /reservations/mine', () => {
  test("the caller's reservations, newest start first, with room names and computed status", async () => {
    const past = await insertReservation('B101', 'student', at(-300), at(-240)) // active but over: finished
    const noShow = await insertReservation('B101', 'student', at(-200), at(-140), 'released') // a released no-show
    const r = await student.get('/api/reservations/mine')
    expect(r.status).toBe(200)
    const list = r.body.reservations
    const own = await db().select().from(reservations).where(eq(reservations.userId, ids.student!))
    expect(list.map((x: any) => x.id).sort()).toEqual(own.map((x) => x.id).sort())
    const starts = list.map((x: any) => x.start_time)
    expect(starts).toEqual([...starts].sort().reverse())
    expect(Object.keys(list[0]).sort()).toEqual(['approval', 'cancel_reason', 'check_in_required', 'checked_in_at', 'end_time', 'id', 'room_id', 'room_name', 'start_time', 'status'])
    const finished = list.find((x: any) => x.id === past.id)
    expect(finished).toEqual({
      id: past.id, room_id: ids.B101, room_name: 'B101', start_time: at(-300), end_time: at(-240), status: 'finished',
      cancel_reason: null, approval: null, check_in_required: false, checked_in_at: null,
    })
    // the original's vocabulary only: a released no-show is cancelled, with the reason beside it
    expect(list.find((x: any) => x.id === noShow.id)).toMatchObject({ status: 'cancelled', cancel_reason: 'no_show' })
    for (const x of list) {
      expect(['active', 'finished', 'cancelled']).toContain(x.status)
      expect(x.cancel_reason).toBe(x.id === noShow.id ? 'no_show' : null)
    }
    expect(list.some((x: any) => x.status === 'cancelled')).toBe(true)
    const legacy = await student.get('/reservations/mine')
    expect(legacy.body).toEqual(r.body)
  })

  test('someone without reservations gets an empty list; anonymous 401', async () => {
    const fresh = await admin.post('/api/auth/register', { name: 'nobody', password: 'nobody1234' })
    expect(fresh.status).toBe(201)
    const c = await loggedIn(t.app, 'nobody')
    expect((await c.get('/api/reservations/mine')).body).toEqual({ reservations: [] })
    const r = await anon.get('/api/reservations/mine')
    expect(r.status).toBe(401)
  })
})

describe('PATCH /reservations/:id', () => {
  test('a teacher moves an active reservation: 200, row and audit row updated', async () => {
    const created = await reserve(student, 'B102', at(900), at(960))
    const id = created.body.reservation.id
    const r = await teacher.patch(`/api/reservations/${id}`, { start_time: at(1000), end_time: at(1060) })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ reservation: { id, start_time: at(1000), end_time: at(1060), status: 'active', cancel_reason: null, approval: null, check_in_required: true, checked_in_at: null } })
    const row = await reservationRow(id)
    expect(formatUtc(row.startTime)).toBe(at(1000))
    expect(formatUtc(row.endTime)).toBe(at(1060))
    expect(row.userId).toBe(ids.student!)
    const audit = await lastAudit()
    expect(audit).toMatchObject({ actorId: ids.teacher, event: 'reservation.updated' })
    expect(audit.data).toMatchObject({
      reservation_id: id,
      from: { start_time: at(900), end_time: at(960) },
      to: { start_time: at(1000), end_time: at(1060) },
    })
  })

  test('overlapping its own old times is fine; overlapping another active one is 409 naming who holds it, as for a new booking', async () => {
    const mine = await reserve(student, 'B102', at(1200), at(1260))
    const other = await reserve(guest, 'B102', at(1300), at(1360))
    const id = mine.body.reservation.id
    const shifted = await admin.patch(`/reservations/${id}`, { start_time: at(1230), end_time: at(1290) })
    expect(shifted.status).toBe(200)
    const clash = await teacher.patch(`/api/reservations/${id}`, { start_time: at(1280), end_time: at(1320) })
    expect(clash.status).toBe(409)
    expect(clash.body).toEqual({
      msg: CONFLICT,
      held_by: [{ id: other.body.reservation.id, user_name: 'guest', start_time: at(1300), end_time: at(1360) }],
    })
    expect(formatUtc((await reservationRow(id)).startTime)).toBe(at(1230))
    expect((await reservationRow(other.body.reservation.id)).status).toBe('active')
  })

  test('an ongoing reservation can be extended without moving its start', async () => {
    const [seeded] = await db().select().from(reservations)
      .where(and(eq(reservations.roomId, ids.B101!), eq(reservations.startTime, new Date(at(-30)))))
    const r = await teacher.patch(`/api/reservations/${seeded!.id}`, { start_time: at(-30), end_time: at(100) })
    expect(r.status).toBe(200)
    expect(r.body.reservation.end_time).toBe(at(100))
    const moved = await teacher.patch(`/api/reservations/${seeded!.id}`, { start_time: at(-20), end_time: at(100) })
    expect(moved.body).toEqual({ msg: 'Cannot create reservation in the past' })
  })

  test('only active reservations: cancelled and finished are 400', async () => {
    const cancelled = await insertReservation('B102', 'student', at(2000), at(2060), 'cancelled')
    const finished = await insertReservation('B102', 'student', at(-600), at(-540))
    for (const row of [cancelled, finished]) {
      const r = await teacher.patch(`/api/reservations/${row.id}`, { start_time: at(2100), end_time: at(2160) })
      expect(r.status).toBe(400)
      expect(r.body).toEqual({ msg: 'Only active reservations can be changed' })
    }
  })

  test('same checks as reserve: times, range, past; 404; roles', async () => {
    const created = await reserve(student, 'B102', at(2300), at(2360))
    const id = created.body.reservation.id
    const cases: [unknown, unknown, string][] = [
      [undefined, at(2400), 'datetime value is required'],
      ['soon', at(2400), 'Invalid datetime format. Use ISO 8601.'],
      [at(2400), at(2400), 'Invalid time range: start must be before end'],
      [at(-100), at(-50), 'Cannot create reservation in the past'],
    ]
    for (const [start, end, msg] of cases) {
      const r = await teacher.patch(`/api/reservations/${id}`, { start_time: start, end_time: end })
      expect({ status: r.status, body: r.body }).toEqual({ status: 400, body: { msg } })
    }
    const missing = await teacher.patch('/api/reservations/999999', { start_time: at(2400), end_time: at(2460) })
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ msg: 'reservation not found' })
    const asStudent = await student.patch(`/api/reservations/${id}`, { start_time: at(2400), end_time: at(2460) })
    expect(asStudent.status).toBe(403)
    expect(asStudent.body).toEqual({ msg: 'insufficient permissions' })
    const asAnon = await anon.patch(`/api/reservations/${id}`, { start_time: at(2400), end_time: at(2460) }, { csrf: false })
    expect(asAnon.status).toBe(401)
    expect(formatUtc((await reservationRow(id)).startTime)).toBe(at(2300))
  })
})

describe('DELETE /reservations/:id', () => {
  test('the owner cancels: 200 {status: cancelled}, row and audit row; again is a no-op 200', async () => {
    const created = await reserve(student, 'B102', at(2500), at(2560))
    const id = created.body.reservation.id
    const r = await student.delete(`/api/reservations/${id}`)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ status: 'cancelled' })
    expect((await reservationRow(id)).status).toBe('cancelled')
    const audit = await lastAudit()
    expect(audit).toMatchObject({ actorId: ids.student, event: 'reservation.cancelled' })
    expect(audit.data).toMatchObject({ reservation_id: id, room_id: ids.B102, user_id: ids.student })
    const count = await auditCount()
    const again = await student.delete(`/reservations/${id}`)
    expect(again.status).toBe(200)
    expect(again.body).toEqual({ status: 'cancelled' })
    expect(await auditCount()).toBe(count)
  })

  test('another student 403; a teacher and an admin may cancel anyone', async () => {
    const a = await reserve(student, 'B102', at(2600), at(2660))
    const b = await reserve(student, 'B102', at(2700), at(2760))
    const denied = await guest.delete(`/api/reservations/${a.body.reservation.id}`)
    expect(denied.status).toBe(403)
    expect(denied.body).toEqual({ msg: 'insufficient permissions' })
    expect((await reservationRow(a.body.reservation.id)).status).toBe('active')
    expect((await teacher.delete(`/api/reservations/${a.body.reservation.id}`)).status).toBe(200)
    expect((await admin.delete(`/api/reservations/${b.body.reservation.id}`)).status).toBe(200)
    expect((await reservationRow(b.body.reservation.id)).status).toBe('cancelled')
    expect((await lastAudit()).actorId).toBe(ids.admin!)
  })

  test('404, finished 400, anonymous 401, missing CSRF 401', async () => {
    const missing = await student.delete('/api/reservations/999999')
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ msg: 'reservation not found' })
    const over = await insertReservation('B102', 'student', at(-900), at(-840))
    const finished = await student.delete(`/api/reservations/${over.id}`)
    expect(finished.status).toBe(400)
    expect(finished.body).toEqual({ msg: 'Finished reservations cannot be cancelled' })
    const created = await reserve(student, 'B102', at(2800), at(2860))
    expect((await anon.delete(`/api/reservations/${created.body.reservation.id}`, { csrf: false })).status).toBe(401)
    const noCsrf = await student.delete(`/api/reservations/${created.body.reservation.id}`, { csrf: false })
    expect(noCsrf.status).toBe(401)
    expect(noCsrf.body.msg).toBe('Missing CSRF token')
    expect((await reservationRow(created.body.reservation.id)).status).toBe('active')
  })
})

describe('GET /reservations/room/:room_id/history', () => {
  test('teacher and admin get the schedule entries of every status, ascending by start (as the original)', async () => {
    const r = await teacher.get(`/api/reservations/room/${ids.A200}/history`)
    expect(r.status).toBe(200)
    expect(r.body).toEqual({
      reservations: [{
        id: expect.any(Number), user_id: ids.guest, user_name: 'guest', start_time: at(360), end_time: at(480), status: 'active',
        cancel_reason: null, approval: null, check_in_required: false, checked_in_at: null,
      }],
    })
    // out of order on purpose: the history sorts by start, not by id
    const late = await insertReservation('B102', 'guest', at(5000), at(5060), 'cancelled')
    const early = await insertReservation('B102', 'guest', at(-1000), at(-940), 'released')
    const b102 = await admin.get(`/reservations/room/${ids.B102}/history`)
    expect(b102.status).toBe(200)
    const list = b102.body.reservations
    const starts = list.map((x: any) => x.start_time)
    expect(starts.length).toBeGreaterThan(3)
    expect(starts).toEqual([...starts].sort())
    expect(list[0].id).toBe(early.id)
    expect(list.at(-1).id).toBe(late.id)
    expect(new Set(list.map((x: any) => x.status))).toEqual(new Set(['active', 'cancelled', 'finished']))
    // a released no-show is cancelled, without the reason (test/schedule-privacy.test.ts)
    expect(list[0]).toMatchObject({ status: 'cancelled', cancel_reason: null })
    expect(list.at(-1)).toMatchObject({ status: 'cancelled', cancel_reason: null })
    // the room page's schedule says the same
    const schedule = (await anon.get(`/api/rooms/${ids.B102}`)).body.schedule
    expect(schedule.find((x: any) => x.id === early.id)).toMatchObject({ status: 'cancelled', cancel_reason: null })
    await db().delete(reservations).where(inArray(reservations.id, [late.id, early.id]))
  })

  test('student 403, anonymous 401, unknown room 404', async () => {
    const s = await student.get(`/api/reservations/room/${ids.B102}/history`)
    expect(s.status).toBe(403)
    expect((await anon.get(`/api/reservations/room/${ids.B102}/history`)).status).toBe(401)
    const missing = await teacher.get('/api/reservations/room/99999/history')
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ msg: 'room not found' })
  })
})

describe('race for one slot', () => {
  const N = onPostgres ? 50 : 20

  test(`${N} users book overlapping slots of one room at once: exactly one 201, the rest 409`, async () => {
    const hash = await hashPassword('racer-password', t.config.passwordHashCost)
    const created = await db().insert(users)
      .values(Array.from({ length: N }, (_, i) => stampedUser({ name: `racer${i}`, passwordHash: hash, role: 'student' as const })))
      .returning({ name: users.name })
    const clients = await Promise.all(created.map((u) => loggedIn(t.app, u.name, 'racer-password')))
    // every request overlaps every other: starts within N minutes, each an hour long
    const base = 3000
    const replies = await Promise.all(clients.map((c, i) => reserve(c, 'B101', at(base + i), at(base + 60 + i))))
    const statuses = replies.map((r) => r.status)
    expect(statuses.filter((s) => s === 201).length).toBe(1)
    expect(statuses.filter((s) => s === 409).length).toBe(N - 1)
    for (const r of replies) if (r.status === 409) expect(r.body).toMatchObject({ msg: CONFLICT })
    const rows = await db().select().from(reservations)
      .where(and(eq(reservations.roomId, ids.B101!), gte(reservations.startTime, new Date(at(base))), eq(reservations.status, 'active')))
      .orderBy(asc(reservations.id))
    expect(rows.length).toBe(1)
    const audits = await db().select().from(changes)
      .where(and(eq(changes.event, 'reservation.created'), inArray(changes.actorId, rows.map((r) => r.userId))))
    expect(audits.length).toBe(1)
  })
})
