/**
 * Issue 16, fair use: booking policies and their limits (each one, the strictest rule winning,
 * scopes, admins exempt, reschedules and series counting), the parallel max_active test, a weekly
 * limit across a week boundary in a non-UTC zone, approval of bookings (pending holds the slot;
 * approved, rejected, expired) and no-show suspensions.
 * On both databases (CI runs every file on PGlite and PostgreSQL), on a fake clock moved into
 * TEST_CLOCK_YEAR by whole weeks (weekdays stay; August stays summer time in Berlin).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { and, eq, gt } from 'drizzle-orm'
import { sweepOnce } from '../src/core/bookings/checkin/sweeper'
import { changes, bookingPolicies, reservations, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { zonedToUtc } from '../src/lib/time'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(60_000) // see test/setup.ts

const TZ = 'Europe/Berlin'
const shifted = timeShifter('2030-08-14T08:00:00Z')
const START = shifted('2030-08-14T08:00:00Z') // a Wednesday, 10:00 in Berlin (UTC+2)
const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

/** Local wall-clock `hh:mm` on `date` (as written for 2030, moved with the clock) in Berlin, as ISO UTC. */
function local(date: string, hhmm: string): string {
  const day = new Date(shifted(`${date}T12:00:00Z`))
  const [h, m] = hhmm.split(':').map(Number) as [number, number]
  return zonedToUtc(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), h * 3600 + m * 60, TZ).toISOString().replace('.000Z', 'Z')
}
const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z')

interface World {
  t: TestApp
  clock: ReturnType<typeof fixedClock>
  ids: Record<string, number>
  /** a client logged in now (tokens follow the fake clock) */
  as(name: string): Promise<Client>
  close(): Promise<void>
}

async function world(env: Record<string, string> = {}): Promise<World> {
  const clock = fixedClock(START)
  const t = await testApp({ clock, env: { APP_TIMEZONE: TZ, ...env } })
  const admin = await loggedIn(t.app, 'admin')
  const ids: Record<string, number> = {}
  for (const name of ['F1', 'F2', 'F3', 'F4']) {
    const created = await admin.post('/api/admin/rooms', { name, requires_check_in: false })
    expect(created.status).toBe(201)
    ids[name] = created.body.room.id
  }
  for (const name of ['student2']) {
    const created = await admin.post('/api/admin/users', { name, password: 'student2-password-1234', role: 'student' })
    expect(created.status).toBe(201)
  }
  for (const u of await t.database.db.select().from(users)) ids[u.name] = u.id
  return {
    t, clock, ids,
    as: (name) => loggedIn(t.app, name, name === 'student2' ? 'student2-password-1234' : undefined),
    close: () => t.close(),
  }
}

const book = (c: Client, roomId: number, start: string, end: string) => c.post(`/api/rooms/${roomId}/reserve`, { start_time: start, end_time: end })
/** Active bookings of a user starting at or after `from` (what a refused write must not have added). */
const activeOf = async (w: World, name: string) => (await w.t.database.db.select().from(reservations)
  .where(and(eq(reservations.userId, w.ids[name]!), eq(reservations.status, 'active'), gt(reservations.endTime, w.clock.now())))).length

describe('policies and their limits', () => {
  let w: World
  let admin: Client, student: Client, teacher: Client
  beforeAll(async () => {
    w = await world()
    ;[admin, student, teacher] = await Promise.all(['admin', 'student', 'teacher'].map((n) => w.as(n))) as [Client, Client, Client]
  }, 120_000)
  afterAll(() => w.close())
  beforeEach(async () => {
    // every test starts from a fresh installation's state: no rules, no future bookings
    await w.t.database.db.delete(bookingPolicies)
    await w.t.database.db.update(reservations).set({ status: 'cancelled' }).where(eq(reservations.status, 'active'))
  })
  const policy = async (body: Record<string, unknown>) => {
    const r = await admin.post('/api/admin/policies', body)
    expect(r.status).toBe(201)
    return r.body.policy
  }

  test('a fresh installation has no rules: nothing is limited beyond the original', async () => {
    expect((await admin.get('/api/admin/policies')).body).toEqual({ policies: [] })
    const me = await student.get('/api/policies/me')
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({
      role: 'student', exempt: false, rules: [],
      limits: { max_duration_min: null, min_notice_min: null, max_advance_days: null, max_active: null, max_minutes_per_week: null, slot_granularity_min: null, requires_approval: false },
      no_shows: { count: 0, threshold: 0, suspended_until: null },
    })
    expect((await book(student, w.ids.F1!, local('2030-08-15', '08:00'), local('2030-08-15', '18:00'))).status).toBe(201)
  })

  test('the recommended set: one admin call, idempotent, visible in /policies/me', async () => {
    expect((await admin.post('/api/admin/policies/recommended', {})).status).toBe(400)
    const applied = await admin.post('/api/admin/policies/recommended', { set: 'college' })
    expect(applied.status).toBe(200)
    expect(applied.body.added).toHaveLength(2)
    expect((await admin.post('/api/admin/policies/recommended', { set: 'college' })).body.added).toEqual([])
    expect((await admin.get('/api/admin/policies')).body.policies).toHaveLength(2)
    expect((await student.get('/api/policies/me')).body.limits).toMatchObject({ max_duration_min: 240, max_advance_days: 14, max_active: 3, max_minutes_per_week: 600 })
    expect((await teacher.get('/api/policies/me')).body.limits).toMatchObject({ max_duration_min: 480, max_advance_days: 180, max_active: null })
    expect((await admin.get('/api/policies/me')).body).toMatchObject({ role: 'admin', exempt: true, rules: [] })
    const audit = await w.t.database.db.select().from(changes).where(eq(changes.event, 'policy.created'))
    expect(audit.length).toBeGreaterThanOrEqual(2)
  })

  test('max_duration_min: 403 naming the limit and the rule; nothing written', async () => {
    const rule = await policy({ role: 'student', max_duration_min: 240 })
    const r = await book(student, w.ids.F1!, local('2030-08-15', '10:00'), local('2030-08-15', '15:00'))
    expect(r.status).toBe(403)
    expect(r.body).toEqual({ msg: 'booking too long: 5 h, the limit is 4 h per booking', rule: { ...rule, limit: 'max_duration_min' } })
    expect(await activeOf(w, 'student')).toBe(0)
    expect((await book(student, w.ids.F1!, local('2030-08-15', '10:00'), local('2030-08-15', '14:00'))).status).toBe(201)
  })

  test('min_notice_min, max_advance_days and slot_granularity_min (local time)', async () => {
    await policy({ role: 'student', min_notice_min: 60, max_advance_days: 14, slot_granularity_min: 30 })
    const now = w.clock.now().getTime()
    const soon = await book(student, w.ids.F1!, iso(new Date(now + 30 * MIN)), iso(new Date(now + 90 * MIN)))
    expect(soon.status).toBe(403)
    expect(soon.body.msg).toBe('too short notice: bookings must start at least 1 h from now')
    expect(soon.body.rule.limit).toBe('min_notice_min')
    const far = await book(student, w.ids.F1!, local('2030-08-29', '10:00'), local('2030-08-29', '11:00'))
    expect(far.status).toBe(403)
    expect(far.body.msg).toBe('too far ahead: bookings may start at most 14 days from now')
    const offGrid = await book(student, w.ids.F1!, local('2030-08-15', '10:15'), local('2030-08-15', '11:00'))
    expect(offGrid.status).toBe(403)
    expect(offGrid.body.msg).toBe('bookings start and end on a 30-minute grid')
    expect((await book(student, w.ids.F1!, local('2030-08-27', '10:30'), local('2030-08-27', '11:30'))).status).toBe(201)
  })

  test('the strictest rule wins; a rule for one room binds only there; admins and other roles are exempt', async () => {
    await policy({ role: 'student', max_duration_min: 240 })
    const strict = await policy({ role: 'student', max_duration_min: 120 })
    await policy({ role: 'student', room_id: w.ids.F2, max_duration_min: 60 })
    const three = await book(student, w.ids.F1!, local('2030-08-15', '10:00'), local('2030-08-15', '13:00'))
    expect(three.status).toBe(403)
    expect(three.body.rule.id).toBe(strict.id)
    expect((await student.get('/api/policies/me')).body.limits.max_duration_min).toBe(120)
    expect((await book(student, w.ids.F1!, local('2030-08-15', '10:00'), local('2030-08-15', '12:00'))).status).toBe(201)
    const inF2 = await book(student, w.ids.F2!, local('2030-08-15', '10:00'), local('2030-08-15', '12:00'))
    expect(inF2.status).toBe(403)
    expect(inF2.body.msg).toBe('booking too long: 2 h, the limit is 1 h per booking')
    expect((await book(teacher, w.ids.F2!, local('2030-08-16', '08:00'), local('2030-08-16', '18:00'))).status).toBe(201)
    expect((await book(admin, w.ids.F3!, local('2030-08-16', '08:00'), local('2030-08-16', '18:00'))).status).toBe(201)
  })

  test("reschedules count: a teacher moving a student's booking keeps to the student's rules; the moved booking does not count against itself", async () => {
    await policy({ role: 'student', max_duration_min: 120, max_active: 1 })
    const made = await book(student, w.ids.F1!, local('2030-08-15', '10:00'), local('2030-08-15', '11:00'))
    expect(made.status).toBe(201)
    const id = made.body.reservation.id
    const moved = await teacher.patch(`/api/reservations/${id}`, { start_time: local('2030-08-16', '10:00'), end_time: local('2030-08-16', '12:00') })
    expect(moved.status).toBe(200)
    const tooLong = await teacher.patch(`/api/reservations/${id}`, { start_time: local('2030-08-16', '10:00'), end_time: local('2030-08-16', '13:00') })
    expect(tooLong.status).toBe(403)
    expect(tooLong.body.rule.limit).toBe('max_duration_min')
    const [row] = await w.t.database.db.select().from(reservations).where(eq(reservations.id, id))
    expect(iso(row!.endTime)).toBe(local('2030-08-16', '12:00'))
  })

  test('series occurrences count: each is a booking of the teacher', async () => {
    await policy({ role: 'teacher', max_active: 3 })
    const r = await teacher.post('/api/series', {
      room_id: w.ids.F4, start_time: local('2030-08-19', '10:00'), end_time: local('2030-08-19', '11:00'), rrule: 'FREQ=WEEKLY;COUNT=5',
    })
    expect(r.status).toBe(403)
    expect(r.body.msg).toBe('active booking limit reached: 0 of 3 bookings, this series would add 5')
    expect(await activeOf(w, 'teacher')).toBe(0)
    const ok = await teacher.post('/api/series', {
      room_id: w.ids.F4, start_time: local('2030-08-19', '10:00'), end_time: local('2030-08-19', '11:00'), rrule: 'FREQ=WEEKLY;COUNT=3',
    })
    expect(ok.status).toBe(201)
  })

  test('max_active under 20 parallel bookings by one user: exactly two succeed', async () => {
    await policy({ role: 'student', max_active: 2 })
    const attempts = await Promise.all(Array.from({ length: 20 }, (_, i) => {
      const room = w.ids[`F${(i % 4) + 1}`]!
      const day = 15 + Math.floor(i / 4)
      return book(student, room, local(`2030-08-${day}`, '10:00'), local(`2030-08-${day}`, '11:00'))
    }))
    const statuses = attempts.map((r) => r.status).sort()
    expect(statuses.filter((s) => s === 201)).toHaveLength(2)
    expect(statuses.filter((s) => s === 403)).toHaveLength(18)
    expect(attempts.find((r) => r.status === 403)!.body.msg).toBe('active booking limit reached: 2 of 2 bookings')
    expect(await activeOf(w, 'student')).toBe(2)
    const me = (await student.get('/api/policies/me')).body
    expect(me.usage.active).toBe(2)
  })

  test('max_minutes_per_week counts Monday 00:00 to Monday 00:00 in APP_TIMEZONE, across the boundary', async () => {
    // Berlin is UTC+2 in August: its week starts on Sunday 22:00 UTC. 3 hours a week.
    await policy({ role: 'student', max_minutes_per_week: 180 })
    // Sunday 21:00-23:30 local: 2.5 h of week A
    expect((await book(student, w.ids.F1!, local('2030-08-18', '21:00'), local('2030-08-18', '23:30'))).status).toBe(201)
    // Sunday 23:30 - Monday 01:00 local: 0.5 h of week A (now full) and 1 h of week B. With UTC weeks
    // (Monday 00:00 UTC = 02:00 local) all 1.5 h would fall in week A, over its limit.
    expect((await book(student, w.ids.F2!, local('2030-08-18', '23:30'), local('2030-08-19', '01:00'))).status).toBe(201)
    // Monday 01:00-03:00 local: 2 h more of week B (now full)
    expect((await book(student, w.ids.F3!, local('2030-08-19', '01:00'), local('2030-08-19', '03:00'))).status).toBe(201)
    const weekA = await book(student, w.ids.F1!, local('2030-08-17', '10:00'), local('2030-08-17', '10:30'))
    expect(weekA.status).toBe(403)
    expect(weekA.body).toMatchObject({ msg: 'weekly limit reached: 3 of 3 hours used', rule: { limit: 'max_minutes_per_week' } })
    const weekB = await book(student, w.ids.F1!, local('2030-08-22', '10:00'), local('2030-08-22', '10:30'))
    expect(weekB.status).toBe(403)
    expect(weekB.body.msg).toBe('weekly limit reached: 3 of 3 hours used')
    // the week after is free again
    expect((await book(student, w.ids.F1!, local('2030-08-26', '10:00'), local('2030-08-26', '12:00'))).status).toBe(201)
    const over = await book(student, w.ids.F1!, local('2030-08-27', '10:00'), local('2030-08-27', '11:30'))
    expect(over.status).toBe(403)
    expect(over.body.msg).toBe('weekly limit reached: 2 of 3 hours used, this booking needs 1.5')
  })

  test('admin CRUD: validation, 404, PATCH removes a limit with null, DELETE; all audited', async () => {
    expect((await admin.post('/api/admin/policies', { role: 'student' })).body.msg).toBe('a policy needs at least one limit, or requires_approval: true')
    expect((await admin.post('/api/admin/policies', { role: 'student', room_type: 'public', room_id: w.ids.F1, max_active: 1 })).status).toBe(400)
    expect((await admin.post('/api/admin/policies', { role: 'student', max_active: -1 })).status).toBe(400)
    expect((await admin.post('/api/admin/policies', { role: 'student', room_id: 999999, max_active: 1 })).status).toBe(404)
    expect((await student.post('/api/admin/policies', { role: 'student', max_active: 1 })).status).toBe(403)
    const rule = await policy({ role: 'student', max_active: 1, max_duration_min: 60 })
    const patched = await admin.patch(`/api/admin/policies/${rule.id}`, { max_active: null })
    expect(patched.status).toBe(200)
    expect(patched.body.policy).toMatchObject({ max_active: null, max_duration_min: 60 })
    expect((await admin.patch(`/api/admin/policies/${rule.id}`, { max_duration_min: null })).status).toBe(400)
    expect((await admin.delete(`/api/admin/policies/${rule.id}`)).body).toEqual({ status: 'deleted' })
    expect((await admin.delete(`/api/admin/policies/${rule.id}`)).status).toBe(404)
    const kinds = (await w.t.database.db.select().from(changes)).map((a) => a.event)
    for (const kind of ['policy.created', 'policy.updated', 'policy.deleted'] as const) expect(kinds).toContain(kind)
  })
})

describe('approval of bookings', () => {
  let w: World
  let admin: Client, student: Client, student2: Client
  beforeAll(async () => {
    w = await world()
    ;[admin, student, student2] = await Promise.all(['admin', 'student', 'student2'].map((n) => w.as(n))) as [Client, Client, Client]
    // F1 needs approval for students, and a check-in with no proof (so check-in itself would be possible)
    expect((await admin.patch(`/api/admin/rooms/${w.ids.F1}`, { requires_check_in: true, check_in_proof: 'none' })).status).toBe(200)
    expect((await admin.post('/api/admin/policies', { role: 'student', room_id: w.ids.F1, requires_approval: true })).status).toBe(201)
  }, 120_000)
  afterAll(() => w.close())

  test('pending holds the slot, is not the room\'s next booking, cannot be checked in; approved it is', async () => {
    const now = w.clock.now().getTime()
    const start = iso(new Date(now + 5 * MIN))
    const end = iso(new Date(now + 65 * MIN))
    const r = await book(student, w.ids.F1!, start, end)
    expect(r.status).toBe(201)
    expect(r.body.reservation).toMatchObject({ status: 'active', approval: 'pending' })
    const id = r.body.reservation.id
    expect((await book(student2, w.ids.F1!, start, end)).status).toBe(409)
    const room = (await student.get(`/api/rooms/${w.ids.F1}`)).body
    expect(room.room.next_reservation).toBeNull()
    expect(room.schedule.find((e: { id: number }) => e.id === id)).toMatchObject({ status: 'active', approval: 'pending' })
    const checkIn = await student.post(`/api/reservations/${id}/check-in`, {})
    expect(checkIn.status).toBe(409)
    expect(checkIn.body.msg).toBe("booking awaits an admin's approval: check-in opens once it is approved")
    // a walk-up booking cannot wait for an admin
    expect((await student2.post(`/api/scan/${w.ids.F1}/book`, { minutes: 30 })).body.msg).toBe("bookings of this room need an admin's approval: book it ahead")

    const list = (await admin.get('/api/admin/approvals')).body.approvals
    expect(list.map((a: { id: number }) => a.id)).toEqual([id])
    expect(list[0]).toMatchObject({ user_name: 'student', room_id: w.ids.F1, approval: 'pending' })
    const approved = await admin.post(`/api/admin/approvals/${id}`, { decision: 'approve' })
    expect(approved.status).toBe(200)
    expect(approved.body.reservation).toMatchObject({ id, approval: 'approved', status: 'active' })
    expect((await admin.post(`/api/admin/approvals/${id}`, { decision: 'reject' })).status).toBe(409)
    expect((await student.get(`/api/rooms/${w.ids.F1}`)).body.room.next_reservation).toMatchObject({ id })
    expect((await student.post(`/api/reservations/${id}/check-in`, {})).status).toBe(200)
    const audit = await w.t.database.db.select().from(changes).where(eq(changes.event, 'reservation.approved'))
    expect(audit.map((a) => a.data.reservation_id)).toContain(id)
  })

  test('rejected: cancelled with cancel_reason rejected, the slot is free again', async () => {
    const r = await book(student, w.ids.F1!, local('2030-08-20', '10:00'), local('2030-08-20', '11:00'))
    const id = r.body.reservation.id
    const rejected = await admin.post(`/api/admin/approvals/${id}`, { decision: 'reject', reason: 'exam preparation' })
    expect(rejected.status).toBe(200)
    expect(rejected.body).toMatchObject({ reservation: { status: 'cancelled', cancel_reason: 'rejected', approval: 'rejected' }, reason: 'exam preparation' })
    const mine = (await student.get('/api/reservations/mine')).body.reservations
    expect(mine.find((x: { id: number }) => x.id === id)).toMatchObject({ status: 'cancelled', cancel_reason: 'rejected' })
    expect((await book(admin, w.ids.F1!, local('2030-08-20', '10:00'), local('2030-08-20', '11:00'))).status).toBe(201)
    const [row] = await w.t.database.db.select().from(changes).where(eq(changes.event, 'reservation.rejected'))
    expect(row!.description).toContain('exam preparation')
  })

  test('not decided before its start: released by the sweeper, approval rejected, cancel_reason not_approved', async () => {
    const r = await book(student, w.ids.F1!, local('2030-08-21', '10:00'), local('2030-08-21', '11:00'))
    const id = r.body.reservation.id
    w.clock.set(local('2030-08-21', '10:00'))
    try {
      const sweep = await sweepOnce({ database: w.t.database, clock: w.clock })
      expect(sweep.skipped).toBe(false)
      const [row] = await w.t.database.db.select().from(reservations).where(eq(reservations.id, id))
      expect(row).toMatchObject({ status: 'cancelled', approval: 'rejected', cancelReason: 'not_approved' })
      const late = await (await w.as('admin')).post(`/api/admin/approvals/${id}`, { decision: 'approve' })
      expect(late.status).toBe(409)
      const audit = await w.t.database.db.select().from(changes).where(eq(changes.event, 'reservation.rejected'))
      expect(audit.find((a) => a.data.reservation_id === id)).toMatchObject({ actorId: null })
    } finally {
      w.clock.set(START)
    }
  })
})

describe('no-shows have consequences', () => {
  let w: World
  beforeAll(async () => {
    // NO_SHOW_STRIKES empty: the defaults (3 no-shows in 30 days suspend booking for 7 days)
    w = await world({ NO_SHOW_STRIKES: '' })
    // the seed's demo bookings are not this test's no-shows
    await w.t.database.db.update(reservations).set({ status: 'cancelled' }).where(eq(reservations.status, 'active'))
    const admin = await w.as('admin')
    expect((await admin.patch(`/api/admin/rooms/${w.ids.F1}`, { requires_check_in: true, check_in_proof: 'none' })).status).toBe(200)
  }, 120_000)
  afterAll(() => w.close())

  /** A booking of the student at `day` 10:00 that is not checked in and released at 10:15. */
  async function noShow(day: string): Promise<void> {
    w.clock.set(local(day, '08:00'))
    const r = await book(await w.as('student'), w.ids.F1!, local(day, '10:00'), local(day, '11:00'))
    expect(r.status).toBe(201)
    w.clock.set(local(day, '10:20'))
    const sweep = await sweepOnce({ database: w.t.database, clock: w.clock })
    expect(sweep.released.map((x) => x.id)).toContain(r.body.reservation.id)
  }

  test('the third no-show in 30 days suspends booking for 7 days; /policies/me shows it; an admin lifts it', async () => {
    await noShow('2030-08-14')
    await noShow('2030-08-20')
    let student = await w.as('student')
    expect((await student.get('/api/policies/me')).body.no_shows).toMatchObject({ count: 2, threshold: 3, window_days: 30, suspension_days: 7, suspended_until: null })
    await noShow('2030-08-26')
    student = await w.as('student')
    const until = iso(new Date(Date.parse(local('2030-08-26', '10:00')) + 7 * DAY))
    const refused = await book(student, w.ids.F2!, local('2030-08-28', '10:00'), local('2030-08-28', '11:00'))
    expect(refused.status).toBe(403)
    expect(refused.body.msg).toBe(`booking suspended until ${until}: 3 no-shows in 30 days`)
    expect((await student.get('/api/policies/me')).body.no_shows).toMatchObject({ count: 3, suspended_until: until })
    // a series or a walk-up booking is refused the same way; other users are not affected
    expect((await book(await w.as('student2'), w.ids.F2!, local('2030-08-28', '10:00'), local('2030-08-28', '11:00'))).status).toBe(201)

    // it ends by itself after 7 days...
    w.clock.set(new Date(Date.parse(until) + MIN))
    student = await w.as('student')
    expect((await book(student, w.ids.F2!, local('2030-09-03', '12:00'), local('2030-09-03', '13:00'))).status).toBe(201)
    // ...or an admin lifts it at once
    w.clock.set(new Date(Date.parse(until) - DAY))
    student = await w.as('student')
    expect((await book(student, w.ids.F2!, local('2030-09-04', '12:00'), local('2030-09-04', '13:00'))).status).toBe(403)
    const lifted = await (await w.as('admin')).delete(`/api/admin/users/${w.ids.student}/suspension`)
    expect(lifted.status).toBe(200)
    expect(lifted.body).toMatchObject({ user_id: w.ids.student, lifted: true })
    expect((await book(student, w.ids.F2!, local('2030-09-04', '12:00'), local('2030-09-04', '13:00'))).status).toBe(201)
    expect((await student.get('/api/policies/me')).body.no_shows).toMatchObject({ count: 0, suspended_until: null })
    const audit = await w.t.database.db.select().from(changes).where(eq(changes.event, 'user.suspension_lifted'))
    expect(audit).toHaveLength(1)
  })
})
