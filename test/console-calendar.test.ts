/**
 * The console's calendar and My lessons (issue 27), in-process: the week grid of a room and the
 * day of a building show bookings, lessons, closures and pending approvals where they are; the
 * detail page moves and cancels through the API's core calls (an admin any booking, a teacher
 * only their own); My lessons cancels one date, shortens and cancels the rest of a teacher's
 * series. Every write is checked in the database; a post without the CSRF value changes nothing;
 * hostile names are text.
 *
 * The clock stands on Wednesday 2031-03-05 09:00 in Moscow; the data is in the week after.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { reservations, rooms, series } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'

setDefaultTimeout(60_000)
const SCRIPT = '<script>alert(1)</script>'
const ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;'
const WEEK = '2031-03-10' // Monday of the week after the clock's

let t: TestApp
let admin: Client
let teacher: Client
let student: Client
const ids: Record<string, number> = {}
let bookingId: number
let pendingId: number
let hostileBookingId: number
let seriesId: number
let lessonIds: number[]

const row = async (id: number) => (await t.database.db.select().from(reservations).where(eq(reservations.id, id)))[0]!
const statusOf = async (id: number) => (await row(id)).status
/** The one-time notice a form post left, as the page it returns to shows it. */
async function notice(client: Client, path: string): Promise<string> {
  const page = await client.get(path)
  return /<p class="flash (?:done|error)"[^>]*>([^<]*)<\/p>/.exec(page.text)?.[1] ?? ''
}

beforeAll(async () => {
  t = await testApp({ env: { APP_TIMEZONE: 'Europe/Moscow' }, clock: fixedClock('2031-03-05T06:00:00Z') })
  admin = await loggedIn(t.app, 'admin')
  teacher = await loggedIn(t.app, 'teacher')
  student = await loggedIn(t.app, 'student')
  for (const r of await t.database.db.select().from(rooms)) ids[r.name] = r.id
  // a student's booking on Tuesday 10:00-11:30 Moscow in B101
  const booked = await student.post(`/api/rooms/${ids.B101}/reserve`, { start_time: '2031-03-11T07:00:00Z', end_time: '2031-03-11T08:30:00Z' })
  expect(booked.status).toBe(201)
  bookingId = booked.body.id ?? booked.body.reservation.id
  // the teacher's lessons: Mondays and Wednesdays 12:00-13:30, six of them, in B101
  const made = await teacher.post('/api/series', {
    room_id: ids.B101, start_time: '2031-03-10T09:00:00Z', end_time: '2031-03-10T10:30:00Z', rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6', title: 'Linear algebra',
  })
  expect(made.status).toBe(201)
  seriesId = made.body.series.id
  lessonIds = made.body.created.map((r: { id: number }) => r.id)
  expect(lessonIds).toHaveLength(6)
  // a closure on Friday 09:00-18:00 of the room
  expect((await admin.post('/api/admin/closures', { room_ids: [ids.B101], kind: 'maintenance', reason: 'Painting the walls', start_time: '2031-03-14T06:00:00Z', end_time: '2031-03-14T15:00:00Z' })).status).toBe(201)
  // a booking waiting for approval in B102, Thursday 14:00-15:00
  expect((await admin.post('/api/admin/policies', { role: 'student', room_id: ids.B102, requires_approval: true })).status).toBe(201)
  const pending = await student.post(`/api/rooms/${ids.B102}/reserve`, { start_time: '2031-03-13T11:00:00Z', end_time: '2031-03-13T12:00:00Z' })
  expect(pending.status).toBe(201)
  pendingId = pending.body.id ?? pending.body.reservation.id
  expect((await row(pendingId)).approval).toBe('pending')
  // a hostile user's booking, early in the morning (06:00, before the grid's usual 07:00)
  expect((await admin.post('/api/admin/users', { name: SCRIPT, password: 'a-long-enough-password-1', role: 'student' })).status).toBe(201)
  const hostile = await loggedIn(t.app, SCRIPT, 'a-long-enough-password-1')
  const early = await hostile.post(`/api/rooms/${ids.B101}/reserve`, { start_time: '2031-03-12T03:00:00Z', end_time: '2031-03-12T04:00:00Z' })
  expect(early.status).toBe(201)
  hostileBookingId = early.body.id ?? early.body.reservation.id
})
afterAll(async () => { await t.close() })

describe('the week of a room', () => {
  test('shows its bookings, lessons and closures, each as a block over its rows, owners named for an admin', async () => {
    const page = await admin.get(`/console/calendar?room=${ids.B101}&week=2031-03-12`)
    expect(page.status).toBe(200)
    const html = page.text
    expect(html).toContain('B101: week of 10/03/2031–16/03/2031')
    // Monday to Sunday
    for (const day of ['Mon 10/03', 'Tue 11/03', 'Wed 12/03', 'Sun 16/03']) expect(html).toContain(day)
    // the student's booking: 10:00-11:30 is three half-hour rows, and links to its page
    expect(html).toMatch(new RegExp(`<td rowspan="3" class="ev booking"><a class="ev-body" href="/console/calendar/reservation/${bookingId}"><span class="ev-time">10:00–11:30</span><span class="ev-main">student</span>`))
    // the lessons (three this week: Monday, Wednesday; the third is next week), with their teacher
    expect(html.match(/class="ev lesson"/g)!.length).toBe(4) // twice: grid and list
    expect(html).toContain('<span class="ev-main">Linear algebra</span><span class="ev-sub">teacher</span>')
    // the closure: 09:00-18:00 is 18 rows, not a link
    expect(html).toMatch(/<td rowspan="18" class="ev closure"><div class="ev-body"><span class="ev-time">09:00–18:00<\/span><span class="ev-main">Painting the walls<\/span>/)
    // the grid widens to 06:00 for the early booking, and still ends at 22:00
    expect(html).toContain('<th scope="row" class="cal-time">06:00</th>')
    expect(html).not.toContain('<th scope="row" class="cal-time">05:30</th>')
    expect(html).toContain('<th scope="row" class="cal-time">21:30</th>')
    expect(html).not.toContain('<th scope="row" class="cal-time">22:00</th>')
    // the hostile name is text
    expect(html).not.toContain(SCRIPT)
    expect(html).toContain(ESCAPED)
    // the week's navigation
    expect(html).toContain(`href="/console/calendar?room=${ids.B101}&week=2031-03-03"`)
    expect(html).toContain(`href="/console/calendar?room=${ids.B101}&week=2031-03-17"`)
  })

  test('without a room it shows the first; an unknown room or a bad week is not an error', async () => {
    const first = await admin.get('/console/calendar')
    expect(first.status).toBe(200)
    expect(first.text).toContain('A200: week of 03/03/2031–09/03/2031')
    const unknown = await admin.get('/console/calendar?room=99999')
    expect(unknown.status).toBe(200)
    expect(unknown.text).toContain('There is no such room.')
    const badWeek = await admin.get(`/console/calendar?room=${ids.B101}&week=2031-02-30`)
    expect(badWeek.status).toBe(200)
    expect(badWeek.text).toContain('B101: week of 03/03/2031–09/03/2031')
  })

  test('a building is a day of its rooms side by side; a pending booking is marked', async () => {
    const page = await admin.get('/console/calendar?building=B&day=2031-03-13')
    expect(page.status).toBe(200)
    expect(page.text).toContain('Building B: 13/03/2031')
    expect(page.text).toMatch(/<th scope="col" colspan="1">B101<\/th><th scope="col" colspan="1">B102<\/th>/)
    expect(page.text).toContain('class="ev booking pending"')
    expect(page.text).toContain('awaiting approval')
    expect(page.text).not.toContain('<th scope="col" colspan="1">A200</th>')
    // the days of the week as tabs, the chosen one current
    expect(page.text).toContain('href="/console/calendar?building=B&week=2031-03-10&day=2031-03-13" aria-current="page"')
    const none = await admin.get('/console/calendar?building=Nowhere')
    expect(none.text).toContain('There is no building with this name.')
  })

  test('a teacher sees the same week, with the names the API shows teachers', async () => {
    const page = await teacher.get(`/console/calendar?room=${ids.B101}&week=${WEEK}`)
    expect(page.status).toBe(200)
    expect(page.text).toContain('<span class="ev-main">Linear algebra</span><span class="ev-sub">teacher</span>')
    expect(page.text).toContain(`href="/console/calendar/reservation/${bookingId}"><span class="ev-time">10:00–11:30</span><span class="ev-main">student</span>`)
    expect((await student.get(`/console/calendar?room=${ids.B101}`)).status).toBe(403)
  })

  test('in Russian', async () => {
    const page = await admin.request('GET', `/console/calendar?room=${ids.B101}&week=${WEEK}`, { headers: { 'accept-language': 'ru' } })
    expect(page.text).toContain('<h1>Календарь</h1>')
    expect(page.text).toContain('B101: неделя 10.03.2031–16.03.2031')
    expect(page.text).toContain('Следующая неделя →')
  })
})

describe('a booking\'s page', () => {
  test('an admin sees who booked it and may move or cancel it; a teacher only looks at a student\'s booking', async () => {
    const asAdmin = await admin.get(`/console/calendar/reservation/${bookingId}`)
    expect(asAdmin.status).toBe(200)
    expect(asAdmin.text).toContain(`<h1>Booking #${bookingId}</h1>`)
    expect(asAdmin.text).toContain('<dd>student</dd>')
    expect(asAdmin.text).toContain('value="2031-03-11T10:00"')
    expect(asAdmin.text).toContain(`action="/console/calendar/reservation/${bookingId}/cancel" data-confirm="Cancel this booking?"`)
    const asTeacher = await teacher.get(`/console/calendar/reservation/${bookingId}`)
    expect(asTeacher.status).toBe(200)
    expect(asTeacher.text).toContain('You can change only your own bookings and lessons.')
    expect(asTeacher.text).not.toContain('/move"')
    expect((await admin.get('/console/calendar/reservation/999999')).status).toBe(404)
    expect((await admin.get('/console/calendar/reservation/abc')).status).toBe(404)
    const hostile = await admin.get(`/console/calendar/reservation/${hostileBookingId}`)
    expect(hostile.text).not.toContain(SCRIPT)
    expect(hostile.text).toContain(`<dd>${ESCAPED}</dd>`)
  })

  test('a teacher cannot move or cancel a student\'s booking through the console', async () => {
    const before = await row(bookingId)
    const moved = await teacher.form(`/console/calendar/reservation/${bookingId}/move`, { start: '2031-03-11T15:00', end: '2031-03-11T16:00' })
    expect(moved.status).toBe(303)
    expect(await notice(teacher, `/console/calendar/reservation/${bookingId}`)).toBe('insufficient permissions')
    const cancelled = await teacher.form(`/console/calendar/reservation/${bookingId}/cancel`, {})
    expect(cancelled.status).toBe(303)
    expect(await row(bookingId)).toEqual(before)
  })

  test('a post without the CSRF value changes nothing', async () => {
    const before = await row(bookingId)
    const res = await admin.form(`/console/calendar/reservation/${bookingId}/cancel`, {}, { csrfToken: false })
    expect(res.status).toBe(403)
    const moved = await admin.form(`/console/calendar/reservation/${bookingId}/move`, { start: '2031-03-11T15:00', end: '2031-03-11T16:00' }, { csrfToken: false })
    expect(moved.status).toBe(403)
    expect(await row(bookingId)).toEqual(before)
  })

  test('an admin moves it (times in the rooms\' zone); bad times are refused with a message', async () => {
    const bad = await admin.form(`/console/calendar/reservation/${bookingId}/move`, { start: 'tomorrow', end: '2031-03-11T16:00' })
    expect(bad.status).toBe(303)
    expect(await notice(admin, `/console/calendar/reservation/${bookingId}`)).toBe('Give the new start and end as a date and a time.')
    const res = await admin.form(`/console/calendar/reservation/${bookingId}/move`, { start: '2031-03-11T15:00', end: '2031-03-11T16:30' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`/console/calendar/reservation/${bookingId}`)
    expect(await notice(admin, `/console/calendar/reservation/${bookingId}`)).toBe('Moved to 11/03/2031, 15:00–16:30.')
    const moved = await row(bookingId)
    expect(moved.startTime.toISOString()).toBe('2031-03-11T12:00:00.000Z')
    expect(moved.endTime.toISOString()).toBe('2031-03-11T13:30:00.000Z')
    // into the closure: refused (409 room is closed), unless the admin says so
    await admin.form(`/console/calendar/reservation/${bookingId}/move`, { start: '2031-03-14T10:00', end: '2031-03-14T11:00' })
    expect(await notice(admin, `/console/calendar/reservation/${bookingId}`)).toBe('room is closed: Painting the walls')
    expect((await row(bookingId)).startTime.toISOString()).toBe('2031-03-11T12:00:00.000Z')
    // onto a lesson: the slot is held
    await admin.form(`/console/calendar/reservation/${bookingId}/move`, { start: '2031-03-10T12:00', end: '2031-03-10T13:00' })
    expect(await notice(admin, `/console/calendar/reservation/${bookingId}`)).toBe('Reservation conflicts with existing booking')
  })

  test('an admin cancels it', async () => {
    const res = await admin.form(`/console/calendar/reservation/${bookingId}/cancel`, {})
    expect(res.status).toBe(303)
    expect(await notice(admin, `/console/calendar/reservation/${bookingId}`)).toBe('Cancelled.')
    expect(await statusOf(bookingId)).toBe('cancelled')
    const page = await admin.get(`/console/calendar/reservation/${bookingId}`)
    expect(page.text).toContain('This booking is over or cancelled: nothing to change.')
    // and it is gone from the grid
    expect((await admin.get(`/console/calendar?room=${ids.B101}&week=${WEEK}`)).text).not.toContain(`reservation/${bookingId}"`)
  })

  test('a teacher moves their own lesson (the reschedule rules of PATCH /api/reservations/:id) and cancels the rest of its series from a date', async () => {
    const lesson = lessonIds[1]! // Wednesday 12 March 12:00
    const page = await teacher.get(`/console/calendar/reservation/${lesson}`)
    expect(page.text).toContain(`<h1>Lesson #${lesson}</h1>`)
    expect(page.text).toContain('Cancel this and every later date of the series')
    await teacher.form(`/console/calendar/reservation/${lesson}/move`, { start: '2031-03-12T14:00', end: '2031-03-12T15:30' })
    expect(await notice(teacher, `/console/calendar/reservation/${lesson}`)).toBe('Moved to 12/03/2031, 14:00–15:30.')
    const moved = await row(lesson)
    expect(moved.startTime.toISOString()).toBe('2031-03-12T11:00:00.000Z')
    expect(moved.seriesException).toBe(true)
    // the rest from the fifth lesson (Monday 17 March): the fifth and sixth go, the others stay
    const fifth = lessonIds[4]!
    await teacher.form(`/console/calendar/reservation/${fifth}/cancel-rest`, {})
    expect(await notice(teacher, `/console/calendar/reservation/${fifth}`)).toBe('2 lessons cancelled.')
    expect(await Promise.all(lessonIds.map(statusOf))).toEqual(['active', 'active', 'active', 'active', 'cancelled', 'cancelled'])
  })
})

describe('My lessons', () => {
  let other: Client
  let otherSeries: number
  let otherLessons: number[]

  beforeAll(async () => {
    expect((await admin.post('/api/admin/users', { name: 'petrova', password: 'a-long-enough-password-2', role: 'teacher' })).status).toBe(201)
    other = await loggedIn(t.app, 'petrova', 'a-long-enough-password-2')
    const made = await other.post('/api/series', {
      room_id: ids.B102, start_time: '2031-03-11T06:00:00Z', end_time: '2031-03-11T07:30:00Z', rrule: 'FREQ=WEEKLY;COUNT=5', title: SCRIPT,
    })
    expect(made.status).toBe(201)
    otherSeries = made.body.series.id
    otherLessons = made.body.created.map((r: { id: number }) => r.id)
  })

  test('lists the teacher\'s own series with their coming dates and only theirs', async () => {
    const page = await teacher.get('/console/lessons')
    expect(page.status).toBe(200)
    expect(page.text).toContain('>Linear algebra</h2>')
    expect(page.text).toContain('every Mon, Wed, 12:00–13:30')
    expect(page.text).toContain('10/03/2031–26/03/2031')
    expect(page.text).toContain('<dt>Lessons to come</dt><dd>4</dd>')
    expect(page.text).toContain(`<option value="${lessonIds[2]}">Mon 17/03 12:00</option>`)
    expect(page.text).not.toContain(ESCAPED)
    const theirs = await other.get('/console/lessons')
    expect(theirs.text).toContain(`>${ESCAPED}</h2>`)
    expect(theirs.text).not.toContain(SCRIPT)
    expect(theirs.text).toContain('every Tue, 09:00–10:30')
  })

  test('cancels exactly one date', async () => {
    const res = await other.form(`/console/lessons/${otherSeries}/cancel-date`, { reservation_id: String(otherLessons[2]) })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/console/lessons')
    expect(await notice(other, '/console/lessons')).toBe('The lesson of 25/03/2031 09:00 is cancelled.')
    expect(await Promise.all(otherLessons.map(statusOf))).toEqual(['active', 'active', 'cancelled', 'active', 'active'])
    expect((await row(otherLessons[2]!)).seriesException).toBe(true)
  })

  test('another teacher\'s series and lessons are refused; a lesson of another series too', async () => {
    const before = await Promise.all(otherLessons.map(statusOf))
    await teacher.form(`/console/lessons/${otherSeries}/cancel-date`, { reservation_id: String(otherLessons[0]) })
    expect(await notice(teacher, '/console/lessons')).toBe('only the owner of the series or an admin can change it')
    await teacher.form(`/console/lessons/${otherSeries}/cancel-rest`, {})
    expect(await notice(teacher, '/console/lessons')).toBe('only the owner of the series or an admin can change it')
    await teacher.form(`/console/lessons/${otherSeries}/shorten`, { until: '2031-03-12' })
    expect(await notice(teacher, '/console/lessons')).toBe('only the owner of the series or an admin can change it')
    await other.form(`/console/lessons/${otherSeries}/cancel-date`, { reservation_id: String(lessonIds[0]) })
    expect(await notice(other, '/console/lessons')).toBe('reservation not found')
    await other.form(`/console/lessons/${otherSeries}/cancel-date`, { reservation_id: 'x' })
    expect(await notice(other, '/console/lessons')).toBe('Choose a date from the list.')
    await other.form(`/console/lessons/${otherSeries}/cancel-date`, { reservation_id: String(otherLessons[0]) }, { csrfToken: false })
    expect(await Promise.all(otherLessons.map(statusOf))).toEqual(before)
  })

  test('shortens a series: the lessons after the new last day are cancelled', async () => {
    await other.form(`/console/lessons/${otherSeries}/shorten`, { until: '2031-03-01' })
    expect(await notice(other, '/console/lessons')).toBe('The new last day cannot be before today.')
    const res = await other.form(`/console/lessons/${otherSeries}/shorten`, { until: '2031-03-18' })
    expect(res.status).toBe(303)
    expect(await notice(other, '/console/lessons')).toBe('The series now ends on 18/03/2031; 2 lessons cancelled.')
    expect(await Promise.all(otherLessons.map(statusOf))).toEqual(['active', 'active', 'cancelled', 'cancelled', 'cancelled'])
    const [s] = await t.database.db.select().from(series).where(eq(series.id, otherSeries))
    expect(s!.rrule).toContain('UNTIL=20310318T205959Z')
  })

  test('cancels the rest of a series', async () => {
    const res = await other.form(`/console/lessons/${otherSeries}/cancel-rest`, {})
    expect(res.status).toBe(303)
    expect(await notice(other, '/console/lessons')).toBe('2 lessons cancelled.')
    const active = await t.database.db.select().from(reservations).where(and(eq(reservations.seriesId, otherSeries), eq(reservations.status, 'active')))
    expect(active).toHaveLength(0)
    expect((await other.get('/console/lessons')).text).toContain('none: the series is over')
  })

  test('in Russian', async () => {
    const page = await teacher.request('GET', '/console/lessons', { headers: { 'accept-language': 'ru' } })
    expect(page.text).toContain('<h1>Мои занятия</h1>')
    expect(page.text).toContain('каждую неделю: пн, ср, 12:00–13:30')
    expect(page.text).toContain('Отменить все оставшиеся занятия')
  })
})
