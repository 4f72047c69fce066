/**
 * /console/policies and /console/approvals (issue 27), in-process on a fixed clock: the rules in
 * words, the recommended set, create / edit / delete through the forms (with the database after
 * each), refused input, the CSRF check, what a rule (on its own page: the list replays nothing) and
 * a draft would have refused last week against bookings placed in that week, and approving and rejecting pending bookings singly and in bulk.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { bookingPolicies, reservations, rooms, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { zonedToUtc } from '../src/lib/time'
import { lastWeek } from '../src/core/console/policies'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(60_000)

const TZ = 'Europe/Berlin'
const SCRIPT = '<script>alert(1)</script>'
const ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;'
const shifted = timeShifter('2030-08-14T08:00:00Z')
const START = shifted('2030-08-14T08:00:00Z') // a Wednesday, 10:00 in Berlin
const DAY = 86400_000

/** Local `hh:mm` in Berlin on the day `offset` days from Monday 2030-08-05 (last week's Monday, moved with the clock). */
function at(offset: number, hhmm: string): Date {
  const monday = new Date(Date.parse(shifted('2030-08-05T12:00:00Z')) + offset * DAY)
  const [h, m] = hhmm.split(':').map(Number) as [number, number]
  return zonedToUtc(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate(), h * 3600 + m * 60, TZ)
}

/** The figure of the replay in a page's HTML, after the element with `id` (a policy's card on its replay page, or the draft). */
function figure(html: string, after: string): { refused: number; considered: number } {
  const from = html.indexOf(after)
  expect(from, after).toBeGreaterThan(-1)
  const m = /data-refused="(\d+)" data-considered="(\d+)"/.exec(html.slice(from))!
  return { refused: Number(m[1]), considered: Number(m[2]) }
}

/** The page without its attribute values (where a form shows a value, escaped as an attribute). */
const outsideAttributes = (html: string) => html.replace(/="[^"]*"/g, '=""')
const flashOf = (c: Client) => c.cookies.get('qrbook_console_flash')

describe('/console/policies', () => {
  let t: TestApp
  let admin: Client
  let ids: Record<string, number>

  beforeAll(async () => {
    t = await testApp({ clock: fixedClock(START), env: { APP_TIMEZONE: TZ } })
    admin = await loggedIn(t.app, 'admin')
    expect((await admin.post('/api/admin/users', { name: SCRIPT, password: 'a-long-enough-password-1', role: 'student' })).status).toBe(201)
    ids = {}
    for (const u of await t.database.db.select().from(users)) ids[u.name] = u.id
    for (const r of await t.database.db.select().from(rooms)) ids[r.name] = r.id
    // Last week's bookings (Berlin), as they were made (created_at) and are now.
    const row = (user: string, start: Date, end: Date, createdAt: Date, extra: Partial<typeof reservations.$inferInsert> = {}) =>
      ({ roomId: ids.B101!, userId: ids[user]!, startTime: start, endTime: end, status: 'finished' as const, createdAt, updatedAt: createdAt, ...extra })
    await t.database.db.insert(reservations).values([
      // 5 hours: over the recommended 4 per booking
      row('student', at(1, '10:00'), at(1, '15:00'), at(0, '09:00')),
      // made 18 days ahead: over the recommended 14
      row('student', at(2, '13:00'), at(2, '15:00'), new Date(at(2, '13:00').getTime() - 18 * DAY)),
      // cancelled before it began (before the next was made): counts nothing
      row('student', at(0, '16:00'), at(0, '20:00'), at(-1, '09:00'), { status: 'cancelled', cancelledAt: at(-1, '10:00') }),
      // 4 h + 4 h, then 3 h more in the week: the third is over the 10 hours
      row('student', at(3, '08:00'), at(3, '12:00'), at(2, '08:00')),
      row('student', at(4, '08:00'), at(4, '12:00'), at(3, '13:00')),
      row('student', at(5, '10:00'), at(5, '13:00'), at(4, '13:00')),
      // booked for the student by an admin: exempt, not considered
      row('student', at(6, '08:00'), at(6, '16:00'), at(5, '08:00'), { setByOwner: false }),
      // a walk-up (starts when made, off the grid) and a booking made ahead off a 30-minute grid
      row(SCRIPT, at(1, '10:07'), at(1, '11:07'), at(1, '10:07'), { roomId: ids.B102! }),
      row(SCRIPT, at(2, '10:15'), at(2, '11:15'), at(1, '09:00'), { roomId: ids.B102! }),
    ])
  })
  afterAll(async () => { await t?.close() })

  test('last week is the whole week before this one, Monday to Monday in the rooms\' zone', () => {
    const week = lastWeek(new Date(START), TZ)
    expect(week.start).toEqual(at(0, '00:00'))
    expect(week.end).toEqual(at(7, '00:00'))
  })

  test('no rules at first; the recommended set, in words, each with a link to what it would have refused last week', async () => {
    const empty = await admin.get('/console/policies')
    expect(empty.status).toBe(200)
    expect(empty.text).toContain('<h1>Policies</h1>')
    expect(empty.text).toContain('No rules for students')
    const applied = await admin.form('/console/policies/recommended', {})
    expect(applied.status).toBe(303)
    expect(applied.headers.get('location')).toBe('/console/policies')
    const rows = await t.database.db.select().from(bookingPolicies)
    expect(rows.map((r) => [r.role, r.maxDurationMin, r.maxAdvanceDays, r.maxActive, r.maxMinutesPerWeek]).sort()).toEqual([
      ['student', 240, 14, 3, 600], ['teacher', 480, 180, null, null],
    ])
    const student = rows.find((r) => r.role === 'student')!
    const res = await admin.get('/console/policies')
    expect(res.text).toContain('Recommended rules added: 2.')
    expect(res.text).toContain('Students, in every room: at most 10 hours a week; each booking at most 4 hours; at most 3 bookings not yet over at once; at most 14 days ahead')
    expect(res.text).toContain('Teachers, in every room: each booking at most 8 hours; at most 180 days ahead')
    // the list replays nothing (it reads the rules and the rooms only): a link per rule
    expect(res.text).not.toContain('data-refused')
    for (const r of rows) expect(res.text).toContain(`<a href="/console/policies/${r.id}/replay">What would it have refused last week?</a>`)

    const replay = await admin.get(`/console/policies/${student.id}/replay`)
    expect(replay.status).toBe(200)
    expect(replay.text).toContain(`<h1>Rule #${student.id}: last week</h1>`)
    expect(replay.text).toContain('Students, in every room: at most 10 hours a week')
    expect(replay.text).toContain('href="/console/policies"')
    // the 5-hour booking, the one made 18 days ahead, and the 3 hours over the 10 of the week;
    // of 8 bookings the students made themselves (not the admin's booking for one of them)
    expect(figure(replay.text, `id="policy-${student.id}"`)).toEqual({ refused: 3, considered: 8 })
    const card = replay.text.slice(replay.text.indexOf(`id="policy-${student.id}"`))
    // by limit, in the order they were refused (the order the bookings were made)
    expect(card).toContain('(too far ahead: 1, too long: 1, over the weekly hours: 1)')
    expect(card).toContain('booking too long: 5 h, the limit is 4 h per booking')
    expect(card).toContain('too far ahead: bookings may start at most 14 days from now')
    expect(card).toContain('weekly limit reached: 8 of 10 hours used, this booking needs 3')
    expect(card).toContain('Not estimated: too many at once')
    // the teachers' rule binds none of last week's bookings (no teacher booked)
    const teacherRule = rows.find((r) => r.role === 'teacher')!
    const none = await admin.get(`/console/policies/${teacherRule.id}/replay`)
    expect(figure(none.text, `id="policy-${teacherRule.id}"`)).toEqual({ refused: 0, considered: 0 })
    expect(none.text).toContain('It would have refused none of the 0 bookings it binds.')
    // applied twice: nothing more
    await admin.form('/console/policies/recommended', {})
    expect(await t.database.db.select().from(bookingPolicies)).toHaveLength(2)
    expect((await admin.get('/console/policies')).text).toContain('The recommended rules are all there already.')
  })

  test('in Russian', async () => {
    const ru = { headers: { 'accept-language': 'ru-RU,ru;q=0.9' } }
    const res = await admin.get('/console/policies', ru)
    expect(res.text).toContain('<h1>Правила</h1>')
    expect(res.text).toContain('Студенты, во всех аудиториях: не больше 10 часов в неделю; одно бронирование не дольше 4 часов')
    expect(res.text).toContain('Что оно отклонило бы на прошлой неделе?')
    const [student] = await t.database.db.select().from(bookingPolicies).where(eq(bookingPolicies.role, 'student'))
    const replay = await admin.get(`/console/policies/${student!.id}/replay`, ru)
    expect(replay.text).toContain(`<h1>Правило №${student!.id}: прошлая неделя</h1>`)
    expect(replay.text).toContain('Оно отклонило бы 3 из 8 бронирований')
    expect(replay.text).not.toContain('booking too long')
  })

  test('the replay page: an unknown rule is a 404 page; a teacher may not see it, a visitor signs in first', async () => {
    for (const path of ['/console/policies/999999/replay', '/console/policies/abc/replay', '/console/policies/0/replay']) {
      const res = await admin.get(path)
      expect(res.status, path).toBe(404)
      expect(res.text).toContain('There is no rule with this number.')
      expect(res.text).toContain('<h1>Page not found</h1>')
    }
    const [one] = await t.database.db.select().from(bookingPolicies)
    const teacher = await loggedIn(t.app, 'teacher')
    expect((await teacher.get(`/console/policies/${one!.id}/replay`)).status).toBe(403)
    const anonymous = await t.app.handle(new Request(`http://localhost/console/policies/${one!.id}/replay`))
    expect(anonymous.status).toBe(303)
    expect(anonymous.headers.get('location')).toStartWith('/console/login')
  })

  test('a draft shows what it would have refused, saving nothing; the hostile name is text', async () => {
    const before = await t.database.db.select().from(bookingPolicies)
    const res = await admin.form('/console/policies/preview', { role: 'student', scope: 'all', slot_granularity_min: '30', min_notice_min: '60' })
    expect(res.status).toBe(200)
    expect(res.text).toContain('Draft, not saved')
    expect(res.text).toContain('Students, in every room: booked at least 1 hour before it starts; starts and ends on a 30-minute grid')
    // the booking at 10:15, not the walk-up at 10:07 (no notice or grid at the door)
    expect(figure(res.text, 'id="draft-title"')).toEqual({ refused: 1, considered: 8 })
    expect(res.text).toContain(ESCAPED)
    expect(res.text).not.toContain(SCRIPT)
    expect(res.text).toContain('bookings start and end on a 30-minute grid')
    expect(await t.database.db.select().from(bookingPolicies)).toEqual(before)
    // in one room only: B102 has the two bookings of that user
    const room = await admin.form('/console/policies/preview', { role: 'student', scope: `room:${ids.B102}`, max_duration_min: '30' })
    expect(figure(room.text, 'id="draft-title"')).toEqual({ refused: 2, considered: 2 })
    expect(room.text).toContain('Students, in room B102: each booking at most 30 minutes')
  })

  test('create, edit and delete through the forms; bad input is refused with a message, changing nothing', async () => {
    const created = await admin.form('/console/policies/create', { role: 'student', scope: 'type:public', max_duration_min: '90', note: SCRIPT })
    expect(created.status).toBe(303)
    const [rule] = await t.database.db.select().from(bookingPolicies).where(eq(bookingPolicies.maxDurationMin, 90))
    expect(rule).toMatchObject({ role: 'student', roomType: 'public', roomId: null, maxDurationMin: 90, note: SCRIPT, requiresApproval: false })
    const listed = await admin.get('/console/policies')
    expect(listed.text).toContain('Students, in public rooms: each booking at most 1 h 30 min')
    expect(listed.text).toContain(ESCAPED)
    expect(outsideAttributes(listed.text)).not.toContain(SCRIPT)
    // its replay page, the note escaped: B101 and B102 are public rooms, so it binds all 8 and refuses
    // every one over 90 minutes (5, 2, 4 (the cancelled one), 4, 4 and 3 hours), not the two of an hour
    const replayed = await admin.get(`/console/policies/${rule!.id}/replay`)
    expect(figure(replayed.text, `id="policy-${rule!.id}"`)).toEqual({ refused: 6, considered: 8 })
    expect(replayed.text).toContain(`Note: ${ESCAPED}`)
    expect(replayed.text).not.toContain(SCRIPT)

    const edited = await admin.form(`/console/policies/${rule!.id}/update`, { role: 'teacher', scope: `room:${ids.A200}`, weekly_hours: '2.5', requires_approval: '1', note: '' })
    expect(edited.status).toBe(303)
    const [after] = await t.database.db.select().from(bookingPolicies).where(eq(bookingPolicies.id, rule!.id))
    // every field of the form; the role stays (a rule for another role is a new rule)
    expect(after).toMatchObject({ role: 'student', roomType: null, roomId: ids.A200, maxDurationMin: null, maxMinutesPerWeek: 150, requiresApproval: true, note: null })
    expect((await admin.get('/console/policies')).text).toContain("Students, in room A200: at most 2 h 30 min a week; needs an administrator&#x27;s approval")

    for (const [fields, message] of [
      [{ role: 'student', max_duration_min: 'abc' }, 'Longest booking (minutes): a whole number from 1 to 527040, or empty'],
      [{ role: 'student', max_active: '-1' }, 'Bookings not yet over at once: a whole number from 0 to 10000, or empty'],
      [{ role: 'student', weekly_hours: '200' }, 'Hours a week at most: a number of hours from 0 to 168, or empty'],
      [{ role: 'admin', max_active: '1' }, 'Whose bookings: students or teachers'],
      [{ role: 'student', scope: 'room:x', max_active: '1' }, 'Where: choose every room, a type of room or one room'],
      [{ role: 'student' }, 'a policy needs at least one limit, or requires_approval: true'],
      [{ role: 'student', scope: 'room:99999', max_active: '1' }, 'room not found'],
    ] as const) {
      const count = (await t.database.db.select().from(bookingPolicies)).length
      const res = await admin.form('/console/policies/create', fields)
      expect(res.status).toBe(303)
      expect(flashOf(admin)).toBeDefined()
      const shown = await admin.get('/console/policies')
      expect(shown.text, message).toContain(message)
      expect((await t.database.db.select().from(bookingPolicies)).length).toBe(count)
    }
    // in Russian, the core's refusal comes translated
    await admin.form('/console/policies/create', { role: 'student' }, { headers: { 'accept-language': 'ru' } })
    expect((await admin.get('/console/policies', { headers: { 'accept-language': 'ru' } })).text).not.toContain('a policy needs at least one limit')

    expect((await admin.form('/console/policies/999999/update', { role: 'student', max_active: '1' })).status).toBe(303)
    expect((await admin.get('/console/policies')).text).toContain('policy not found')

    const removed = await admin.form(`/console/policies/${rule!.id}/delete`, {})
    expect(removed.status).toBe(303)
    expect(await t.database.db.select().from(bookingPolicies).where(eq(bookingPolicies.id, rule!.id))).toEqual([])
    expect((await admin.get('/console/policies')).text).toContain('Rule deleted.')
  })

  test('without the CSRF value nothing changes; a teacher or student may not post', async () => {
    const before = await t.database.db.select().from(bookingPolicies)
    const [one] = before
    expect((await admin.form('/console/policies/create', { role: 'student', max_active: '1' }, { csrfToken: false })).status).toBe(403)
    expect((await admin.form(`/console/policies/${one!.id}/delete`, {}, { csrfToken: false })).status).toBe(403)
    expect((await admin.form(`/console/policies/${one!.id}/update`, { role: 'student', max_active: '1' }, { csrfToken: 'forged' })).status).toBe(403)
    expect((await admin.form('/console/policies/recommended', {}, { csrfToken: false })).status).toBe(403)
    const teacher = await loggedIn(t.app, 'teacher')
    expect((await teacher.get('/console/policies')).status).toBe(403)
    expect((await teacher.form(`/console/policies/${one!.id}/delete`, {})).status).toBe(403)
    expect(await t.database.db.select().from(bookingPolicies)).toEqual(before)
  })

  test('a teacher awaiting approval counts as a student in the replay, as in enforceFairUse', async () => {
    const draft = (role: string) => admin.form('/console/policies/preview', { role, scope: 'all', max_duration_min: '30' })
    await t.database.db.insert(reservations).values({
      roomId: ids.B102!, userId: ids.teacher!, startTime: at(3, '14:00'), endTime: at(3, '15:00'), status: 'finished', createdAt: at(2, '09:00'), updatedAt: at(2, '09:00'),
    })
    expect(figure((await draft('teacher')).text, 'id="draft-title"')).toEqual({ refused: 1, considered: 1 })
    expect(figure((await draft('student')).text, 'id="draft-title"')).toEqual({ refused: 8, considered: 8 })
    await t.database.db.update(users).set({ teacherPending: true }).where(eq(users.id, ids.teacher!))
    expect(figure((await draft('teacher')).text, 'id="draft-title"')).toEqual({ refused: 0, considered: 0 })
    expect(figure((await draft('student')).text, 'id="draft-title"')).toEqual({ refused: 9, considered: 9 })
    await t.database.db.update(users).set({ teacherPending: false }).where(eq(users.id, ids.teacher!))
  })
})

describe('/console/approvals', () => {
  let t: TestApp
  let admin: Client
  let student: Client
  let ids: Record<string, number>
  const booked: number[] = []

  beforeAll(async () => {
    t = await testApp({ clock: fixedClock(START), env: { APP_TIMEZONE: TZ } })
    admin = await loggedIn(t.app, 'admin')
    expect((await admin.post('/api/admin/users', { name: SCRIPT, password: 'a-long-enough-password-1', role: 'student' })).status).toBe(201)
    ids = {}
    for (const u of await t.database.db.select().from(users)) ids[u.name] = u.id
    for (const r of await t.database.db.select().from(rooms)) ids[r.name] = r.id
    // students' bookings of B102 wait for approval (a rule made through the console)
    expect((await admin.form('/console/policies/create', { role: 'student', scope: `room:${ids.B102}`, requires_approval: '1' })).status).toBe(303)
    student = await loggedIn(t.app, 'student')
    const hostile = await loggedIn(t.app, SCRIPT, 'a-long-enough-password-1')
    for (const [who, day] of [[student, 1], [student, 2], [hostile, 3], [student, 4]] as const) {
      const start = at(9 + day, '10:00')
      const res = await who.post(`/api/rooms/${ids.B102}/reserve`, { start_time: start.toISOString(), end_time: new Date(start.getTime() + 3600_000).toISOString() })
      expect(res.status).toBe(201)
      expect(res.body.reservation.approval).toBe('pending')
      booked.push(res.body.reservation.id)
    }
  })
  afterAll(async () => { await t?.close() })

  const stateOf = async (id: number) => {
    const [row] = await t.database.db.select({ status: reservations.status, approval: reservations.approval, cancelReason: reservations.cancelReason })
      .from(reservations).where(eq(reservations.id, id))
    return row
  }

  test('the pending bookings, soonest first, with room, user, local time and the rule that holds them', async () => {
    const res = await admin.get('/console/approvals')
    expect(res.status).toBe(200)
    expect(res.text).toContain('<h1>Approvals</h1>')
    expect(res.text).toContain('4 waiting')
    for (const id of booked) expect(res.text).toContain(`id="approval-${id}"`)
    expect(res.text.indexOf(`approval-${booked[0]}`)).toBeLessThan(res.text.indexOf(`approval-${booked[1]}`))
    expect(res.text).toContain('Students, in room B102: needs an administrator&#x27;s approval')
    // 10:00 in Berlin, not UTC
    const day = new Intl.DateTimeFormat('en-GB', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric' }).format(at(10, '10:00'))
    expect(res.text).toContain(`${day}, 10:00–11:00`)
    expect(res.text).toContain(ESCAPED)
    expect(res.text).not.toContain(SCRIPT)
    expect(res.text).toContain('data-select-all="ids"')
    const ru = await admin.get('/console/approvals', { headers: { 'accept-language': 'ru' } })
    expect(ru.text).toContain('<h1>Заявки</h1>')
    expect(ru.text).toContain('Студенты, в аудитории B102: нужно одобрение администратора')
  })

  test('approve one, reject one with a reason; a decision no longer possible shows the core\'s message', async () => {
    const [first, second] = booked as [number, number]
    const approved = await admin.form(`/console/approvals/${first}/decide`, { decision: 'approve', reason: '' })
    expect(approved.status).toBe(303)
    expect(await stateOf(first)).toEqual({ status: 'active', approval: 'approved', cancelReason: null })
    expect((await admin.get('/console/approvals')).text).toContain(`Booking #${first} approved.`)

    const rejected = await admin.form(`/console/approvals/${second}/decide`, { decision: 'reject', reason: 'exam week' })
    expect(rejected.status).toBe(303)
    expect(await stateOf(second)).toEqual({ status: 'cancelled', approval: 'rejected', cancelReason: 'rejected' })
    const page = await admin.get('/console/approvals')
    expect(page.text).toContain(`Booking #${second} rejected.`)
    expect(page.text).not.toContain(`id="approval-${second}"`)

    // again: no longer pending
    await admin.form(`/console/approvals/${first}/decide`, { decision: 'reject', reason: 'late' })
    expect(await stateOf(first)).toEqual({ status: 'active', approval: 'approved', cancelReason: null })
    expect((await admin.get('/console/approvals')).text).toContain('booking is not awaiting approval')
    await admin.form(`/console/approvals/${first}/decide`, { decision: 'reject' }, { headers: { 'accept-language': 'ru' } })
    expect((await admin.get('/console/approvals', { headers: { 'accept-language': 'ru' } })).text).not.toContain('booking is not awaiting approval')
    // bad input
    await admin.form(`/console/approvals/${booked[2]}/decide`, { decision: 'maybe' })
    expect((await admin.get('/console/approvals')).text).toContain('Choose approve or reject.')
    await admin.form(`/console/approvals/${booked[2]}/decide`, { decision: 'approve', reason: 'x'.repeat(301) })
    expect((await admin.get('/console/approvals')).text).toContain('The reason is at most 300 characters.')
    expect((await stateOf(booked[2]!))?.approval).toBe('pending')
    // the audit record carries the reason
    expect((await admin.get(`/api/admin/audit/logs`)).text).toContain('exam week')
  })

  test('in bulk: the selected, one reason; one that is no longer pending is named, the others are done', async () => {
    const [first, , third, fourth] = booked as [number, number, number, number]
    expect((await admin.form('/console/approvals/bulk', { decision: 'reject', reason: 'x' })).status).toBe(303)
    expect((await admin.get('/console/approvals')).text).toContain('Select at least one booking.')
    const res = await admin.form('/console/approvals/bulk', { ids: [String(third), String(first)], decision: 'reject', reason: 'room closed for painting' })
    expect(res.status).toBe(303)
    expect(await stateOf(third)).toEqual({ status: 'cancelled', approval: 'rejected', cancelReason: 'rejected' })
    expect(await stateOf(first)).toEqual({ status: 'active', approval: 'approved', cancelReason: null })
    expect((await admin.get('/console/approvals')).text).toContain(`1 of 2 done. Not done: #${first}: booking is not awaiting approval`)
    expect((await admin.form('/console/approvals/bulk', { ids: String(fourth), decision: 'approve' })).status).toBe(303)
    expect(await stateOf(fourth)).toEqual({ status: 'active', approval: 'approved', cancelReason: null })
    const empty = await admin.get('/console/approvals')
    expect(empty.text).toContain('Approved: 1.')
    expect(empty.text).toContain('No booking is waiting for approval.')
  })

  test('without the CSRF value nothing is decided; a student may not', async () => {
    const start = at(20, '10:00')
    const res = await student.post(`/api/rooms/${ids.B102}/reserve`, { start_time: start.toISOString(), end_time: new Date(start.getTime() + 3600_000).toISOString() })
    const id = res.body.reservation.id as number
    expect((await admin.form(`/console/approvals/${id}/decide`, { decision: 'approve' }, { csrfToken: false })).status).toBe(403)
    expect((await admin.form('/console/approvals/bulk', { ids: String(id), decision: 'reject' }, { csrfToken: false })).status).toBe(403)
    expect((await student.form(`/console/approvals/${id}/decide`, { decision: 'approve' })).status).toBe(403)
    expect((await student.get('/console/approvals')).status).toBe(403)
    expect((await stateOf(id))?.approval).toBe('pending')
    expect(await t.database.db.select().from(reservations).where(and(eq(reservations.id, id), eq(reservations.status, 'active')))).toHaveLength(1)
  })
})
