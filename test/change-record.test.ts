/**
 * Issue 25: one record of every change. Each kind of state change, made as its user makes it
 * (through the API, or the sweeper), writes exactly one change record in its own transaction
 * (a bump two: the bumped booking and the lesson), with its precise event, actor, rooms and users,
 * in commit order. The audit log reads the same rows. Across processes on PostgreSQL:
 * test/system/room-view-cache-processes.test.ts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { asc, desc, eq, gt } from 'drizzle-orm'
import { sweepOnce } from '../src/core/bookings/checkin/sweeper'
import { changes, reservations, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

const shifted = timeShifter('2030-05-06T08:00:00Z')
const MIN = 60_000
const at = (iso: string) => shifted(iso)

let t: TestApp
const clock = fixedClock(shifted('2030-05-06T08:00:00Z'))
let admin: Client, student: Client, teacher: Client
let ids: { student: number; teacher: number; admin: number; room: number; checkRoom: number }
let seen = 0

beforeAll(async () => {
  t = await testApp({ clock })
  ;[admin, student, teacher] = await Promise.all(['admin', 'student', 'teacher'].map((n) => loggedIn(t.app, n))) as [Client, Client, Client]
  const userId = async (name: string) => (await t.database.db.select({ id: users.id }).from(users).where(eq(users.name, name)))[0]!.id
  const room = await admin.post('/api/admin/rooms', { name: 'CR1', requires_check_in: false })
  const checkRoom = await admin.post('/api/admin/rooms', { name: 'CR2', requires_check_in: true, check_in_proof: 'none', auto_release_after_min: 15 })
  ids = { student: await userId('student'), teacher: await userId('teacher'), admin: await userId('admin'), room: room.body.room.id, checkRoom: checkRoom.body.room.id }
  seen = await newest()
})
afterAll(() => t.close())

async function newest(): Promise<number> {
  const [row] = await t.database.db.select({ position: changes.position }).from(changes).orderBy(desc(changes.position)).limit(1)
  return row?.position ?? 0
}

/** The changes recorded since the last call, oldest first. */
async function recorded() {
  const rows = await t.database.db.select().from(changes).where(gt(changes.position, seen)).orderBy(asc(changes.position))
  if (rows.length) seen = rows.at(-1)!.position
  return rows
}

/** Makes the change, then expects exactly these events recorded by it, in order; the rows. */
async function expectChanges(events: string[], act: () => Promise<unknown>) {
  await recorded()
  await act()
  const rows = await recorded()
  expect(rows.map((r) => r.event)).toEqual(events)
  for (let i = 1; i < rows.length; i++) expect(rows[i]!.position).toBeGreaterThan(rows[i - 1]!.position)
  return rows
}

const slot = (from: string, minutes: number) => ({ start_time: at(from), end_time: new Date(Date.parse(at(from)) + minutes * MIN).toISOString() })

describe('one change record per state change', () => {
  test('booking, reschedule, cancel: one record each, with the room, the booker and the instant', async () => {
    let id = 0
    const [created] = await expectChanges(['reservation.created'], async () => {
      const r = await teacher.post(`/api/rooms/${ids.room}/reserve`, slot('2030-05-06T10:00:00Z', 60))
      expect(r.status).toBe(201)
      id = r.body.reservation.id
    })
    expect(created).toMatchObject({ actorId: ids.teacher, roomIds: [ids.room], userIds: [ids.teacher], allRooms: false, at: clock.now() })
    expect(created!.data).toMatchObject({ reservation_id: id, room_id: ids.room })
    await expectChanges(['reservation.updated'], async () => {
      expect((await teacher.patch(`/api/reservations/${id}`, slot('2030-05-06T11:00:00Z', 60))).status).toBe(200)
    })
    await expectChanges(['reservation.cancelled'], async () => {
      expect((await teacher.delete(`/api/reservations/${id}`)).status).toBe(200)
    })
    // cancelling it again changes nothing, and records nothing
    await expectChanges([], () => teacher.delete(`/api/reservations/${id}`))
  })

  test('check-in, release by the sweeper, release by the scan page', async () => {
    let id = 0
    await expectChanges(['reservation.created'], async () => {
      const r = await student.post(`/api/rooms/${ids.checkRoom}/reserve`, slot('2030-05-06T08:05:00Z', 60))
      expect(r.status).toBe(201)
      id = r.body.reservation.id
    })
    await expectChanges(['reservation.checked_in'], async () => {
      const r = await student.post(`/api/reservations/${id}/check-in`, {})
      expect(r.status).toBe(200)
    })
    // two no-shows: the sweeper releases one, the scan page the other
    const book = async (from: string) => {
      const r = await student.post(`/api/rooms/${ids.checkRoom}/reserve`, slot(from, 30))
      expect(r.status).toBe(201)
      return r.body.reservation.id as number
    }
    const first = await book('2030-05-06T12:00:00Z')
    const second = await book('2030-05-06T14:00:00Z')
    await recorded()
    // the sweeper on its own clock; the app's moves only for the scan page (the clients' tokens stay valid)
    const sweep = await sweepOnce({ database: t.database, clock: fixedClock(at('2030-05-06T12:16:00Z')) })
    const bySweeper = await recorded()
    // one change per booking released (the seeded data has no-shows of its own), ours among them
    expect(sweep.released.map((r) => r.id)).toContain(first)
    expect(bySweeper.map((c) => [c.event, c.data.reservation_id])).toEqual(sweep.released.map((r) => ['reservation.released', r.id]))
    expect(bySweeper.find((c) => c.data.reservation_id === first)).toMatchObject({ actorId: null, roomIds: [ids.checkRoom], userIds: [ids.student] })
    clock.set(at('2030-05-06T14:16:00Z'))
    const [byScan] = await expectChanges(['reservation.released'], async () => {
      try {
        expect((await new Client(t.app).get(`/api/scan/${ids.checkRoom}`)).status).toBe(200)
      } finally {
        clock.set(at('2030-05-06T08:00:00Z'))
      }
    })
    expect(byScan!.data).toMatchObject({ reservation_id: second })
    expect((await t.database.db.select({ status: reservations.status }).from(reservations).where(eq(reservations.id, second)))[0]!.status).toBe('released')
  })

  test('series, closure, policy, approval, bump, strike lift, user update', async () => {
    const [series] = await expectChanges(['series.created'], async () => {
      const r = await teacher.post('/api/series', { room_id: ids.room, ...slot('2030-05-13T10:00:00Z', 90), rrule: 'FREQ=WEEKLY;COUNT=3' })
      expect(r.status).toBe(201)
    })
    expect(series).toMatchObject({ actorId: ids.teacher, roomIds: [ids.room] })
    const [closure] = await expectChanges(['closure.created'], async () => {
      const r = await admin.post('/api/admin/closures', { all_rooms: true, kind: 'holiday', reason: 'May Day', ...slot('2030-06-01T00:00:00Z', 24 * 60) })
      expect(r.status).toBe(201)
    })
    expect(closure).toMatchObject({ allRooms: true, roomIds: [] })
    let policyId = 0
    await expectChanges(['policy.created'], async () => {
      const r = await admin.post('/api/admin/policies', { role: 'student', room_id: ids.room, requires_approval: true })
      expect(r.status).toBe(201)
      policyId = r.body.policy.id
    })
    let pending = 0
    await expectChanges(['reservation.created'], async () => {
      const r = await student.post(`/api/rooms/${ids.room}/reserve`, slot('2030-05-07T10:00:00Z', 60))
      expect(r.status).toBe(201)
      pending = r.body.reservation.id
    })
    await expectChanges(['reservation.approved'], async () => {
      expect((await admin.post(`/api/admin/approvals/${pending}`, { decision: 'approve' })).status).toBe(200)
    })
    await expectChanges(['policy.deleted'], async () => {
      expect((await admin.delete(`/api/admin/policies/${policyId}`)).status).toBe(200)
    })
    const [bumped, lesson] = await expectChanges(['reservation.bumped', 'reservation.created'], async () => {
      const r = await teacher.post(`/api/rooms/${ids.room}/reserve`, { ...slot('2030-05-07T10:00:00Z', 60), bump: true })
      expect(r.status).toBe(201)
    })
    expect(bumped).toMatchObject({ actorId: ids.teacher, roomIds: [ids.room], userIds: [ids.student] })
    expect(lesson).toMatchObject({ actorId: ids.teacher, userIds: [ids.teacher] })
    await expectChanges(['user.suspension_lifted'], async () => {
      expect((await admin.delete(`/api/admin/users/${ids.student}/suspension`)).status).toBe(200)
    })
    const [renamed] = await expectChanges(['user.updated'], async () => {
      expect((await admin.patch(`/api/admin/users/${ids.teacher}`, { name: 'teacher-renamed' })).status).toBe(200)
    })
    // a new name shows in every room view that names the user's bookings
    expect(renamed).toMatchObject({ allRooms: true, userIds: [ids.teacher] })
    await admin.patch(`/api/admin/users/${ids.teacher}`, { name: 'teacher' })
  })

  test('the audit log is the same record, newest first, in the original vocabulary', async () => {
    const logs = (await admin.get('/api/admin/audit/logs?per_page=5')).body.logs
    const rows = await t.database.db.select().from(changes).orderBy(desc(changes.at), desc(changes.position)).limit(5)
    const newestFive = rows
    expect(logs.map((l: any) => [l.id, l.event])).toEqual(newestFive.map((r) => [r.position, r.event]))
    expect(logs.map((l: any) => l.event)).toContain('user.updated')
  })
})
