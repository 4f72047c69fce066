import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { and, desc, eq, inArray } from 'drizzle-orm'
import { bookingPolicies, changes, closures, reservations } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { stamped } from './helpers/db'

setDefaultTimeout(30_000) // see test/setup.ts

// Seeded (relative to the clock): R1 B101 teacher 11:30-13:30 (in progress), R2 B102 student
// 14:00-16:00, R3 A200 guest 18:00-20:00. Rooms B101=1 B102=2 A200=3 S001=4; users admin=1
// teacher=2 student=3 guest=4. beforeAll adds R4 (finished by time), R5 (cancelled), R6 (stored finished).
const clock = fixedClock('2030-03-10T12:00:00Z')
let t: TestApp
let admin: Client
const R = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6 }

beforeAll(async () => {
  t = await testApp({ clock })
  admin = await loggedIn(t.app, 'admin')
  const rows = await t.database.db.insert(reservations).values([
    stamped({ roomId: 1, userId: 3, startTime: new Date('2030-03-09T09:00:00Z'), endTime: new Date('2030-03-09T10:00:00Z') }),
    stamped({ roomId: 4, userId: 4, startTime: new Date('2030-03-11T09:00:00Z'), endTime: new Date('2030-03-11T10:00:00Z'), status: 'cancelled' }),
    stamped({ roomId: 2, userId: 2, startTime: new Date('2030-03-08T09:00:00Z'), endTime: new Date('2030-03-08T10:00:00Z'), status: 'finished' }),
  ]).returning({ id: reservations.id })
  expect(rows.map((r) => r.id)).toEqual([4, 5, 6])
})
afterAll(() => t.close())

const db = () => t.database.db
const ids = (r: { body: { reservations: { id: number }[] } }) => r.body.reservations.map((x) => x.id)
async function audits(action?: string) {
  const rows = await db().select().from(changes).orderBy(desc(changes.position))
  return action ? rows.filter((r) => r.event === action) : rows
}
async function statusOf(id: number) {
  const [row] = await db().select().from(reservations).where(eq(reservations.id, id))
  return row!.status
}

describe('access', () => {
  test('anonymous 401, student and teacher 403', async () => {
    expect((await new Client(t.app).get('/api/admin/reservations')).status).toBe(401)
    for (const name of ['student', 'teacher']) {
      const c = await loggedIn(t.app, name)
      expect((await c.get('/api/admin/reservations')).status).toBe(403)
      expect((await c.patch('/api/admin/reservations/1', { status: 'cancelled' })).status).toBe(403)
      expect((await c.post('/api/admin/reservations/bulk-cancel', { reservation_ids: [1] })).status).toBe(403)
    }
    expect(await statusOf(1)).toBe('active')
  })
})

describe('GET /admin/reservations', () => {
  test('all, newest start first, with the contract shape and reported statuses', async () => {
    const r = await admin.get('/api/admin/reservations')
    expect(r.status).toBe(200)
    expect(ids(r)).toEqual([R[5], R[3], R[2], R[1], R[4], R[6]])
    expect(r.body.pagination).toEqual({ page: 1, per_page: 20, total: 6, pages: 1 })
    const r1 = r.body.reservations.find((x: any) => x.id === R[1])
    expect(r1).toEqual({
      id: R[1],
      room: { id: 1, name: 'B101' },
      user: { id: 2, name: 'teacher', role: 'teacher' },
      start_time: '2030-03-10T11:30:00Z',
      end_time: '2030-03-10T13:30:00Z',
      status: 'active',
      cancel_reason: null,
      approval: null,
      check_in_required: true,
      checked_in_at: '2030-03-10T11:30:00Z',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      updated_at: expect.stringMatching(/Z$/),
    })
    expect(r.body.reservations.find((x: any) => x.id === R[4]).status).toBe('finished')
  })

  test('status filter: computed statuses, single and repeated; bad value 400', async () => {
    expect(ids(await admin.get('/api/admin/reservations?status=active'))).toEqual([R[3], R[2], R[1]])
    expect(ids(await admin.get('/api/admin/reservations?status=finished'))).toEqual([R[4], R[6]])
    expect(ids(await admin.get('/api/admin/reservations?status=cancelled'))).toEqual([R[5]])
    expect(ids(await admin.get('/api/admin/reservations?status=cancelled&status=finished'))).toEqual([R[5], R[4], R[6]])
    const bad = await admin.get('/api/admin/reservations?status=done')
    expect(bad.status).toBe(400)
    expect(bad.body.msg).toContain('status')
  })

  test('room_id and user_id filters; bad ids 400, unknown ids match nothing', async () => {
    expect(ids(await admin.get('/api/admin/reservations?room_id=1'))).toEqual([R[1], R[4]])
    expect(ids(await admin.get('/api/admin/reservations?user_id=3'))).toEqual([R[2], R[4]])
    expect(ids(await admin.get('/api/admin/reservations?user_id=3&room_id=2'))).toEqual([R[2]])
    expect(ids(await admin.get('/api/admin/reservations?room_id=999'))).toEqual([])
    expect((await admin.get('/api/admin/reservations?room_id=abc')).status).toBe(400)
    expect((await admin.get('/api/admin/reservations?user_id=-1')).status).toBe(400)
  })

  test('q searches room and user names', async () => {
    expect(ids(await admin.get('/api/admin/reservations?q=TEACH'))).toEqual([R[1], R[6]])
    expect(ids(await admin.get('/api/admin/reservations?q=guest'))).toEqual([R[5], R[3]])
    expect(ids(await admin.get('/api/admin/reservations?q=b10'))).toEqual([R[2], R[1], R[4], R[6]])
    expect(ids(await admin.get('/api/admin/reservations?q=nothing-like-this'))).toEqual([])
  })

  test('time range filters (inclusive, offsets converted); bad time 400', async () => {
    expect(ids(await admin.get('/api/admin/reservations?start_from=2030-03-10T00:00:00Z'))).toEqual([R[5], R[3], R[2], R[1]])
    expect(ids(await admin.get('/api/admin/reservations?start_to=2030-03-10T11:30:00Z'))).toEqual([R[1], R[4], R[6]])
    expect(ids(await admin.get(`/api/admin/reservations?start_from=${encodeURIComponent('2030-03-10T15:00:00+02:00')}`))).toEqual([R[5], R[3], R[2]])
    expect(ids(await admin.get('/api/admin/reservations?end_to=2030-03-09T10:00:00Z'))).toEqual([R[4], R[6]])
    expect(ids(await admin.get('/api/admin/reservations?end_from=2030-03-10T16:00:00&end_to=2030-03-10T20:00:00Z'))).toEqual([R[3], R[2]])
    for (const q of ['start_from=yesterday', 'start_to=2030-13-01T00:00:00Z', 'end_from=10:00', 'end_to=2030-03-10T25:00:00Z']) {
      const r = await admin.get(`/api/admin/reservations?${q}`)
      expect(r.status).toBe(400)
      expect(r.body.msg).toContain('Invalid datetime format. Use ISO 8601.')
    }
  })

  test('pagination and its edges', async () => {
    const p2 = await admin.get('/api/admin/reservations?per_page=2&page=2')
    expect(ids(p2)).toEqual([R[2], R[1]])
    expect(p2.body.pagination).toEqual({ page: 2, per_page: 2, total: 6, pages: 3 })
    const past = await admin.get('/api/admin/reservations?per_page=2&page=4')
    expect(past.body.reservations).toEqual([])
    expect(past.body.pagination).toEqual({ page: 4, per_page: 2, total: 6, pages: 3 })
    expect((await admin.get('/api/admin/reservations?per_page=101')).body.pagination.per_page).toBe(100)
    expect((await admin.get('/api/admin/reservations?page=0')).status).toBe(400)
    const filtered = await admin.get('/api/admin/reservations?status=active&per_page=1&page=3')
    expect(ids(filtered)).toEqual([R[1]])
    expect(filtered.body.pagination).toEqual({ page: 3, per_page: 1, total: 3, pages: 3 })
  })

  test('legacy path', async () => {
    expect(ids(await admin.get('/admin/reservations?room_id=3'))).toEqual([R[3]])
  })
})

describe('PATCH /admin/reservations/:id', () => {
  test('moves a reservation (room rules ignored for an admin room); audited', async () => {
    const before = (await audits()).length
    const r = await admin.patch(`/api/admin/reservations/${R[3]}`, {
      start_time: '2030-03-10T19:00:00Z', end_time: '2030-03-10T23:00:00+02:00',
    })
    expect(r.status).toBe(200)
    expect(r.body.reservation).toMatchObject({
      id: R[3], room: { id: 3, name: 'A200' }, user: { id: 4, name: 'guest', role: 'student' },
      start_time: '2030-03-10T19:00:00Z', end_time: '2030-03-10T21:00:00Z', status: 'active',
    })
    const [row] = await db().select().from(reservations).where(eq(reservations.id, R[3]))
    expect(row!.startTime.toISOString()).toBe('2030-03-10T19:00:00.000Z')
    const all = await audits()
    expect(all.length).toBe(before + 1)
    expect(all[0]!.event).toBe('reservation.updated')
    expect(all[0]!.data).toMatchObject({ reservation_id: R[3], to: { start_time: '2030-03-10T19:00:00Z', end_time: '2030-03-10T21:00:00Z' } })
  })

  test('time errors: pair, format, range, past', async () => {
    const path = `/api/admin/reservations/${R[2]}`
    const expectations: [unknown, string][] = [
      [{ start_time: '2030-03-10T15:00:00Z' }, 'start_time and end_time must be sent together'],
      [{ start_time: 'soon', end_time: '2030-03-10T16:00:00Z' }, 'Invalid datetime format. Use ISO 8601.'],
      [{ start_time: 5, end_time: '2030-03-10T16:00:00Z' }, 'Invalid datetime format. Use ISO 8601.'],
      [{ start_time: '2030-03-10T16:00:00Z', end_time: '2030-03-10T15:00:00Z' }, 'Invalid time range: start must be before end'],
      [{ start_time: '2030-03-10T09:00:00Z', end_time: '2030-03-10T15:00:00Z' }, 'Cannot create reservation in the past'],
    ]
    for (const [body, msg] of expectations) {
      const r = await admin.patch(path, body)
      expect(r.status).toBe(400)
      expect(r.body.msg).toBe(msg)
    }
    const [row] = await db().select().from(reservations).where(eq(reservations.id, R[2]))
    expect(row!.startTime.toISOString()).toBe('2030-03-10T14:00:00.000Z')
  })

  test('overlap with another active reservation is 409; touching is fine', async () => {
    const other = await admin.post('/api/admin/rooms/2/reserve', { user_id: 2, start_time: '2030-03-10T17:00:00Z', end_time: '2030-03-10T18:00:00Z' })
    expect(other.status).toBe(201)
    const clash = await admin.patch(`/api/admin/reservations/${R[2]}`, { start_time: '2030-03-10T16:30:00Z', end_time: '2030-03-10T17:30:00Z' })
    expect(clash.status).toBe(409)
    // answered as a new booking is (issue 25): who holds the slot, found under the room's lock
    expect(clash.body).toEqual({ msg: 'Reservation conflicts with existing booking', held_by: [expect.objectContaining({ id: other.body.reservation_id, user_name: 'teacher' })] })
    const touch = await admin.patch(`/api/admin/reservations/${R[2]}`, { start_time: '2030-03-10T16:00:00Z', end_time: '2030-03-10T17:00:00Z' })
    expect(touch.status).toBe(200)
  })

  test('gives a reservation to another user; unknown user 404', async () => {
    const r = await admin.patch(`/api/admin/reservations/${R[2]}`, { user_id: 4 })
    expect(r.status).toBe(200)
    expect(r.body.reservation.user).toEqual({ id: 4, name: 'guest', role: 'student' })
    const [audit] = await audits()
    expect(audit!.event).toBe('reservation.updated')
    expect(audit!.data).toEqual({ reservation_id: R[2], room_id: 2, changes: { user_id: { from: 3, to: 4 } }, fair_use: 'admin_override' })
    expect(audit).toMatchObject({ roomIds: [2], userIds: [3, 4] })
    const missing = await admin.patch(`/api/admin/reservations/${R[2]}`, { user_id: 99999 })
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ msg: 'user not found' })
  })

  test('status: cancel (idempotent), no moving a cancelled one, reactivation 409 when the slot is taken', async () => {
    const r = await admin.patch(`/api/admin/reservations/${R[2]}`, { status: 'cancelled' })
    expect(r.status).toBe(200)
    expect(r.body.reservation.status).toBe('cancelled')
    expect((await audits())[0]!.event).toBe('reservation.cancelled')
    const count = (await audits()).length
    expect((await admin.patch(`/api/admin/reservations/${R[2]}`, { status: 'cancelled' })).status).toBe(200)
    expect((await audits()).length).toBe(count)

    const move = await admin.patch(`/api/admin/reservations/${R[2]}`, { start_time: '2030-03-11T10:00:00Z', end_time: '2030-03-11T11:00:00Z' })
    expect(move.status).toBe(400)
    expect(move.body.msg).toBe('Only active reservations can be changed')

    // Someone books the freed slot; R2 cannot come back there, but can with new times.
    const taken = await admin.post('/api/admin/rooms/2/reserve', { user_id: 3, start_time: '2030-03-10T16:00:00Z', end_time: '2030-03-10T17:00:00Z' })
    expect(taken.status).toBe(201)
    const back = await admin.patch(`/api/admin/reservations/${R[2]}`, { status: 'active' })
    expect(back.status).toBe(409)
    expect(await statusOf(R[2])).toBe('cancelled')
    const moved = await admin.patch(`/api/admin/reservations/${R[2]}`, {
      status: 'active', start_time: '2030-03-11T10:00:00Z', end_time: '2030-03-11T11:00:00Z',
    })
    expect(moved.status).toBe(200)
    expect(moved.body.reservation).toMatchObject({ status: 'active', start_time: '2030-03-11T10:00:00Z' })
    expect((await audits())[0]!.data).toMatchObject({ reservation_id: R[2], status: 'active' })
  })

  test('an admin may set any status, from any status (as the original); same status is no change', async () => {
    // Two reservations of their own: F in the future, P over (stored active, reported finished).
    const [f, p] = await db().insert(reservations).values([
      stamped({ roomId: 4, userId: 3, startTime: new Date('2030-03-12T09:00:00Z'), endTime: new Date('2030-03-12T10:00:00Z') }),
      stamped({ roomId: 4, userId: 3, startTime: new Date('2030-03-07T09:00:00Z'), endTime: new Date('2030-03-07T10:00:00Z') }),
    ]).returning({ id: reservations.id })
    const set = async (id: number, status: string) => {
      const r = await admin.patch(`/api/admin/reservations/${id}`, { status })
      expect({ id, status, code: r.status }).toEqual({ id, status, code: 200 })
      return r.body.reservation
    }
    const F = f!.id
    const P = p!.id
    expect(await set(F, 'finished')).toMatchObject({ status: 'finished', cancel_reason: null })
    expect(await statusOf(F)).toBe('finished')
    expect(await set(F, 'cancelled')).toMatchObject({ status: 'cancelled', cancel_reason: null }) // finished -> cancelled
    expect((await audits())[0]).toMatchObject({ event: 'reservation.cancelled', data: { reservation_id: F } })
    expect(await set(F, 'finished')).toMatchObject({ status: 'finished' }) // cancelled -> finished
    expect(await set(F, 'active')).toMatchObject({ status: 'active' }) // finished -> active
    expect(await set(F, 'cancelled')).toMatchObject({ status: 'cancelled' })
    expect(await set(F, 'active')).toMatchObject({ status: 'active' }) // cancelled -> active
    expect((await audits())[0]).toMatchObject({ event: 'reservation.updated', data: { changes: { status: { from: 'cancelled', to: 'active' } } } })

    // P is over: cancelling it is allowed for an admin (a user's DELETE still is not)
    expect(await set(P, 'cancelled')).toMatchObject({ status: 'cancelled' })
    expect(await statusOf(P)).toBe('cancelled')
    // back to active: its end has passed, so it is reported finished
    expect(await set(P, 'active')).toMatchObject({ status: 'finished' })
    const count = (await audits()).length
    expect(await set(P, 'finished')).toMatchObject({ status: 'finished' }) // the status it has: no change
    expect((await audits()).length).toBe(count)
    await db().delete(reservations).where(inArray(reservations.id, [F, P]))
  })

  test('bad status 400, unknown reservation 404, other errors', async () => {
    for (const status of ['paused', 'released', '', 5]) {
      const r = await admin.patch(`/api/admin/reservations/${R[1]}`, { status })
      expect({ status, code: r.status }).toEqual({ status, code: 400 })
    }
    expect((await admin.patch(`/api/admin/reservations/${R[1]}`, { status: 'paused' })).body.msg).toBe("invalid status 'paused': expected active, finished, cancelled")
    expect(await statusOf(R[1])).toBe('active')
    expect((await admin.patch(`/api/admin/reservations/${R[1]}`, {})).status).toBe(400)
    expect((await admin.patch(`/api/admin/reservations/${R[1]}`, { user_id: 'x' })).status).toBe(400)
    const missing = await admin.patch('/api/admin/reservations/99999', { status: 'cancelled' })
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ msg: 'reservation not found' })
    expect((await admin.patch('/api/admin/reservations/99999', { status: 'finished' })).status).toBe(404)
    expect((await admin.patch('/api/admin/reservations/abc', { status: 'cancelled' })).status).toBe(400)
  })

  test('legacy path', async () => {
    const r = await admin.patch(`/admin/reservations/${R[1]}`, { user_id: 2 })
    expect(r.status).toBe(200)
  })
})

describe('POST /admin/reservations/bulk-cancel', () => {
  // As the original (issue 11, decision 012): unknown ids are ignored, `cancelled` counts what changed.
  test('unknown ids are ignored and listed', async () => {
    const before = (await audits()).length
    const r = await admin.post('/api/admin/reservations/bulk-cancel', { reservation_ids: [99998, 99999] })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ cancelled: 0, missing_ids: [99998, 99999] })
    expect((await audits()).length).toBe(before)
  })

  test('a body of the wrong shape is 400 naming the field, and changes nothing', async () => {
    const before = (await audits()).length
    for (const body of [{}, { reservation_ids: [] }, { reservation_ids: ['a'] }, { reservation_ids: ['1'] }, { reservation_ids: [0] },
      { reservation_ids: [1.5] }, { reservation_ids: 3 }, { reservation_ids: '1' }, { reservation_ids: '1,2' }, { reservation_ids: null }]) {
      const r = await admin.post('/api/admin/reservations/bulk-cancel', body)
      expect({ body, status: r.status }).toEqual({ body, status: 400 })
      expect(r.body.msg).toStartWith('reservation_ids must be ')
    }
    expect(await statusOf(R[1])).toBe('active')
    expect((await audits()).length).toBe(before)
  })

  test('cancels every one not cancelled yet, finished included; one audit row each; slot bookable again', async () => {
    const before = (await audits('reservation.cancelled')).length
    const r = await admin.post('/api/admin/reservations/bulk-cancel', { reservation_ids: [R[1], R[3], R[3], R[5], R[4], R[6], 99999] })
    expect(r.status).toBe(200)
    // R5 was cancelled already; R4 (over) and R6 (stored finished) are cancelled too, as the original did
    expect(r.body).toEqual({ cancelled: 4, missing_ids: [99999] })
    const rows = await db().select().from(reservations).where(inArray(reservations.id, [R[1], R[3], R[4], R[5], R[6]]))
    expect(Object.fromEntries(rows.map((x) => [x.id, x.status]))).toEqual({
      [R[1]]: 'cancelled', [R[3]]: 'cancelled', [R[4]]: 'cancelled', [R[5]]: 'cancelled', [R[6]]: 'cancelled',
    })
    const cancels = await audits('reservation.cancelled')
    expect(cancels.length).toBe(before + 4)
    expect(cancels.slice(0, 4).map((a) => a.data.reservation_id).sort()).toEqual([R[1], R[3], R[4], R[6]].sort())

    const again = await admin.post('/api/admin/rooms/3/reserve', { user_id: 4, start_time: '2030-03-10T19:00:00Z', end_time: '2030-03-10T21:00:00Z' })
    expect(again.status).toBe(201)
  })

  test('legacy path; repeating is harmless', async () => {
    const r = await admin.post('/admin/reservations/bulk-cancel', { reservation_ids: [R[1]] })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ cancelled: 0, missing_ids: [] })
    const active = await db().select().from(reservations).where(and(eq(reservations.id, R[1]), eq(reservations.status, 'active')))
    expect(active).toEqual([])
  })
})

describe('a released no-show (stored `released`)', () => {
  test('is reported cancelled with cancel_reason no_show; the cancelled filter includes it; released alone lists it', async () => {
    const [row] = await db().insert(reservations).values(stamped({
      roomId: 2, userId: 3, startTime: new Date('2030-03-10T10:00:00Z'), endTime: new Date('2030-03-10T11:00:00Z'),
      status: 'released', checkInRequired: true,
    })).returning({ id: reservations.id })
    const id = row!.id
    const listed = (await admin.get('/api/admin/reservations?room_id=2&per_page=100')).body.reservations.find((x: any) => x.id === id)
    expect(listed).toMatchObject({ id, status: 'cancelled', cancel_reason: 'no_show', check_in_required: true, checked_in_at: null })
    expect(ids(await admin.get('/api/admin/reservations?status=cancelled&room_id=2'))).toContain(id)
    expect(ids(await admin.get('/api/admin/reservations?status=released'))).toEqual([id])
    expect(ids(await admin.get('/api/admin/reservations?status=finished&status=active&room_id=2'))).not.toContain(id)
    // every other reservation has cancel_reason null
    for (const r of (await admin.get('/api/admin/reservations?per_page=100')).body.reservations)
      expect(r.cancel_reason).toBe(r.id === id ? 'no_show' : null)

    // setting cancelled is no change (it is cancelled already); active brings it back
    const count = (await audits()).length
    const same = await admin.patch(`/api/admin/reservations/${id}`, { status: 'cancelled' })
    expect(same.body.reservation).toMatchObject({ status: 'cancelled', cancel_reason: 'no_show' })
    expect((await audits()).length).toBe(count)
    expect(await statusOf(id)).toBe('released')
    const back = await admin.patch(`/api/admin/reservations/${id}`, { status: 'active', start_time: '2030-03-12T10:00:00Z', end_time: '2030-03-12T11:00:00Z' })
    expect(back.status).toBe(200)
    expect(back.body.reservation).toMatchObject({ status: 'active', cancel_reason: null, check_in_required: false })
  })
})

describe('PATCH /admin/reservations/:id takes the booking path: slot, closures, fair use (issue 25)', () => {
  // Room S001 (4) on a day of its own; every test removes what it adds.
  const at = (hhmm: string) => new Date(`2030-03-15T${hhmm}:00Z`)
  const book = async (userId: number, from: string, to: string, status: 'active' | 'cancelled' = 'active') => {
    const [row] = await db().insert(reservations).values(stamped({ roomId: 4, userId, startTime: at(from), endTime: at(to), status }))
      .returning({ id: reservations.id })
    return row!.id
  }
  const rowOf = async (id: number) => (await db().select().from(reservations).where(eq(reservations.id, id)))[0]!
  const closeRoom = async (from: string, to: string, reason: string) => {
    const [row] = await db().insert(closures).values(stamped({ roomIds: [4], kind: 'maintenance' as const, reason, startTime: at(from), endTime: at(to) }))
      .returning({ id: closures.id })
    return row!.id
  }
  const cleanUp = async (ids: number[], closureIds: number[] = []) => {
    await db().delete(reservations).where(inArray(reservations.id, ids))
    if (closureIds.length) await db().delete(closures).where(inArray(closures.id, closureIds))
  }

  test('reactivating a cancelled booking whose slot someone else now holds: 409 naming them, nothing changes', async () => {
    const mine = await book(3, '09:00', '10:00', 'cancelled')
    const theirs = await book(2, '09:30', '10:30')
    const before = await rowOf(mine)
    const changesBefore = (await audits()).length
    for (const body of [{ status: 'active' }, { status: 'active', user_id: 4 }]) {
      const r = await admin.patch(`/api/admin/reservations/${mine}`, body)
      expect(r.status).toBe(409)
      expect(r.body).toEqual({
        msg: 'Reservation conflicts with existing booking',
        held_by: [{ id: theirs, user_name: 'teacher', start_time: '2030-03-15T09:30:00Z', end_time: '2030-03-15T10:30:00Z' }],
      })
    }
    // moved onto their slot while reactivated: the same answer
    const moved = await admin.patch(`/api/admin/reservations/${mine}`, { status: 'active', start_time: '2030-03-15T10:00:00Z', end_time: '2030-03-15T11:00:00Z' })
    expect(moved.status).toBe(409)
    expect(moved.body.held_by.map((h: { id: number }) => h.id)).toEqual([theirs])
    expect(await rowOf(mine)).toEqual(before)
    expect((await rowOf(theirs)).status).toBe('active')
    expect((await audits()).length).toBe(changesBefore)
    // once the slot is free again, it comes back
    await db().update(reservations).set({ status: 'cancelled' }).where(eq(reservations.id, theirs))
    const back = await admin.patch(`/api/admin/reservations/${mine}`, { status: 'active' })
    expect(back.status).toBe(200)
    expect((await rowOf(mine)).status).toBe('active')
    await cleanUp([mine, theirs])
  })

  test('into a closure: 409 room is closed; with override_closure: true it is done and the change records the override', async () => {
    const closure = await closeRoom('12:00', '14:00', 'Painting')
    const cancelled = await book(3, '12:30', '13:30', 'cancelled')
    const active = await book(4, '15:00', '16:00')
    const [c0, a0] = [await rowOf(cancelled), await rowOf(active)]
    const changesBefore = (await audits()).length

    const refused = [
      await admin.patch(`/api/admin/reservations/${cancelled}`, { status: 'active' }),
      await admin.patch(`/api/admin/reservations/${cancelled}`, { status: 'active', override_closure: false }),
      await admin.patch(`/api/admin/reservations/${active}`, { start_time: '2030-03-15T13:00:00Z', end_time: '2030-03-15T14:00:00Z' }),
    ]
    for (const r of refused) {
      expect(r.status).toBe(409)
      expect(r.body).toMatchObject({ msg: 'room is closed: Painting', closure: { id: closure, reason: 'Painting', kind: 'maintenance' } })
    }
    expect(await rowOf(cancelled)).toEqual(c0)
    expect(await rowOf(active)).toEqual(a0)
    expect((await audits()).length).toBe(changesBefore)

    const reactivated = await admin.patch(`/api/admin/reservations/${cancelled}`, { status: 'active', override_closure: true })
    expect(reactivated.status).toBe(200)
    expect(reactivated.body.reservation).toMatchObject({ id: cancelled, status: 'active' })
    expect((await rowOf(cancelled)).status).toBe('active')
    const [change] = await audits()
    expect(change).toMatchObject({
      event: 'reservation.updated', roomIds: [4], userIds: [3],
      description: `admin changed reservation #${cancelled}: status (closure overridden: Painting)`,
      data: {
        reservation_id: cancelled, changes: { status: { from: 'cancelled', to: 'active' } },
        override: 'closure', closure: { id: closure, reason: 'Painting' }, fair_use: 'admin_override',
      },
    })

    const moved = await admin.patch(`/api/admin/reservations/${active}`, {
      start_time: '2030-03-15T13:30:00Z', end_time: '2030-03-15T14:30:00Z', override_closure: true,
    })
    expect(moved.status).toBe(200)
    expect((await rowOf(active)).startTime.toISOString()).toBe('2030-03-15T13:30:00.000Z')
    const [move] = await audits()
    expect(move!.description).toEndWith('(closure overridden: Painting)')
    expect(move!.data).toMatchObject({ reservation_id: active, override: 'closure', closure: { id: closure }, fair_use: 'admin_override' })

    // the override is recorded only when a closure was overridden
    const plain = await admin.patch(`/api/admin/reservations/${active}`, { start_time: '2030-03-15T16:00:00Z', end_time: '2030-03-15T17:00:00Z', override_closure: true })
    expect(plain.status).toBe(200)
    expect((await audits())[0]!.data).not.toHaveProperty('override')
    await cleanUp([cancelled, active], [closure])
  })

  test('booking on behalf into a closure: 409 room is closed, nothing written; with override_closure: true booked and recorded', async () => {
    const closure = await closeRoom('20:00', '22:00', 'Exam')
    const slot = { user_id: 3, start_time: '2030-03-15T20:30:00Z', end_time: '2030-03-15T21:30:00Z' }
    const changesBefore = (await audits()).length
    for (const body of [slot, { ...slot, override_closure: false }]) {
      const r = await admin.post('/api/admin/rooms/4/reserve', body)
      expect(r.status).toBe(409)
      expect(r.body).toMatchObject({ msg: 'room is closed: Exam', closure: { id: closure } })
    }
    expect((await audits()).length).toBe(changesBefore)

    const booked = await admin.post('/api/admin/rooms/4/reserve', { ...slot, override_closure: true })
    expect(booked.status).toBe(201)
    const id = booked.body.reservation_id
    expect(await rowOf(id)).toMatchObject({ userId: 3, status: 'active', setByOwner: false })
    const [change] = await audits()
    expect(change).toMatchObject({ event: 'reservation.created', userIds: [3] })
    expect(change!.description).toEndWith('for user #3 (closure overridden: Exam)')
    expect(change!.data).toMatchObject({ reservation_id: id, on_behalf: true, override: 'closure', closure: { id: closure, reason: 'Exam' }, fair_use: 'admin_override' })
    await cleanUp([id], [closure])
  })

  test('giving a booking to another user: the change concerns both owners and the room', async () => {
    const id = await book(3, '18:00', '19:00')
    const r = await admin.patch(`/api/admin/reservations/${id}`, { user_id: 2 })
    expect(r.status).toBe(200)
    expect(r.body.reservation.user).toEqual({ id: 2, name: 'teacher', role: 'teacher' })
    const row = await rowOf(id)
    expect({ userId: row.userId, status: row.status, setByOwner: row.setByOwner }).toEqual({ userId: 2, status: 'active', setByOwner: false })
    const [change] = await audits()
    expect(change).toMatchObject({ event: 'reservation.updated', roomIds: [4], userIds: [3, 2], data: { changes: { user_id: { from: 3, to: 2 } } } })

    // given away while moved: the same
    const moved = await admin.patch(`/api/admin/reservations/${id}`, { user_id: 4, start_time: '2030-03-15T19:00:00Z', end_time: '2030-03-15T20:00:00Z' })
    expect(moved.status).toBe(200)
    expect((await rowOf(id)).userId).toBe(4)
    expect((await audits())[0]).toMatchObject({ event: 'reservation.updated', roomIds: [4], userIds: [2, 4] })
    await cleanUp([id])
  })

  test("fair use: the admin overrides the owner's limits by decision, and the change says so", async () => {
    // the student may hold no booking at all in S001
    const [rule] = await db().insert(bookingPolicies).values(stamped({ role: 'student' as const, roomId: 4, maxActive: 0 })).returning({ id: bookingPolicies.id })
    const id = await book(3, '20:00', '21:00', 'cancelled')
    const r = await admin.patch(`/api/admin/reservations/${id}`, { status: 'active' })
    expect(r.status).toBe(200)
    expect((await rowOf(id)).status).toBe('active')
    expect((await audits())[0]!.data).toMatchObject({ reservation_id: id, fair_use: 'admin_override' })
    // a cancel leaves nothing to override
    expect((await admin.patch(`/api/admin/reservations/${id}`, { status: 'cancelled' })).status).toBe(200)
    expect((await audits())[0]!.data).not.toHaveProperty('fair_use')
    await db().delete(bookingPolicies).where(eq(bookingPolicies.id, rule!.id))
    await cleanUp([id])
  })
})

describe('concurrent admin edits of one room (issue 25)', () => {
  // Two bookings of one room whose slots overlap (only one of them can be active), edited by 20
  // requests at once that cross each other: reactivate, cancel, move onto the other's slot, give
  // away, bulk cancel in both orders. Every edit takes the room's lock first, then the
  // reservations, so they queue: each answer is 200 or the slot's 409, never a deadlock (which
  // PostgreSQL would detect after a second and the API answer `409 try again`), a 500 or a 503.
  // On PGlite (one connection) they run one after the other; on PostgreSQL in parallel.
  test('20 crossing PATCHes and bulk cancels: only 200 or the slot 409, fast, no overlapping active bookings', async () => {
    const day = '2030-03-14'
    const at = (hhmm: string) => `${day}T${hhmm}:00Z`
    for (const round of [0, 1]) {
      const [x, y] = await db().insert(reservations).values([
        stamped({ roomId: 4, userId: 3, startTime: new Date(at(`0${round * 3 + 1}:00`)), endTime: new Date(at(`0${round * 3 + 2}:00`)) }),
        stamped({ roomId: 4, userId: 2, startTime: new Date(at(`0${round * 3 + 1}:30`)), endTime: new Date(at(`0${round * 3 + 2}:30`)), status: 'cancelled' }),
      ]).returning({ id: reservations.id, startTime: reservations.startTime, endTime: reservations.endTime })
      const X = x!.id
      const Y = y!.id
      const slot = (r: typeof x) => ({ start_time: r!.startTime.toISOString(), end_time: r!.endTime.toISOString() })
      const patch = (id: number, body: Record<string, unknown>) => () => admin.patch(`/api/admin/reservations/${id}`, body)
      const bulk = (list: number[]) => () => admin.post('/api/admin/reservations/bulk-cancel', { reservation_ids: list })
      const ops = [
        patch(X, { status: 'cancelled' }), patch(Y, { status: 'active' }),
        patch(Y, { status: 'active', ...slot(x) }), patch(X, { status: 'active', ...slot(y) }),
        bulk([X, Y]), patch(X, { status: 'active' }),
        patch(Y, { user_id: 4, status: 'active' }), bulk([Y, X]),
        patch(X, { user_id: 4 }), patch(Y, { status: 'cancelled' }),
        patch(X, { status: 'active', ...slot(x) }), patch(Y, { status: 'active', ...slot(y) }),
        bulk([Y]), patch(X, { status: 'finished' }),
        patch(Y, { status: 'active' }), patch(X, { status: 'active', user_id: 3 }),
        bulk([X]), patch(Y, { status: 'active', ...slot(x) }),
        patch(X, { status: 'cancelled', user_id: 2 }), patch(X, { status: 'active' }),
      ]
      expect(ops.length).toBe(20)
      const began = performance.now()
      const replies = await Promise.all((round === 0 ? ops : [...ops].reverse()).map((op) => op()))
      const took = performance.now() - began
      const answers = replies.map((r) => `${r.status} ${r.status === 200 ? '' : r.body.msg}`.trim())
      for (const answer of answers) expect(['200', '409 Reservation conflicts with existing booking']).toContain(answer)
      expect(took).toBeLessThan(1500)
      // Consistent: at most one of the two is active (their slots overlap), whatever the order was.
      const rows = await db().select().from(reservations).where(inArray(reservations.id, [X, Y]))
      const active = rows.filter((r) => r.status === 'active')
      for (const a of active) for (const b of active)
        if (a.id !== b.id) expect(a.startTime < b.endTime && b.startTime < a.endTime).toBe(false)
      const overlapping = await db().select().from(reservations)
        .where(and(eq(reservations.roomId, 4), eq(reservations.status, 'active')))
      for (const a of overlapping) for (const b of overlapping)
        if (a.id < b.id) expect({ a: a.id, b: b.id, overlap: a.startTime < b.endTime && b.startTime < a.endTime }).toEqual({ a: a.id, b: b.id, overlap: false })
      await db().delete(reservations).where(inArray(reservations.id, [X, Y]))
    }
  })
})
