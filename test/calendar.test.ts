/**
 * Issue 28, calendar feeds (docs/calendar.md): the personal feed behind a secret token, a room's
 * public feed and one booking as iCalendar. Every feed is read back with an independent parser
 * (ical.js, not the generator that wrote it), its series expanded in the window, and compared with
 * what the database holds.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { and, eq, gt, lt } from 'drizzle-orm'
import ICAL from 'ical.js'
import { reservations, rooms, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { feedWindow } from '../src/core/calendar/feeds'
import { reservationIcs } from '../src/core/calendar/ics'
import { loggedIn, type Client, type TestApp, testApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

const TZ = 'Europe/Berlin'
const clock = fixedClock('2030-03-10T12:00:00Z')
const { from: WINDOW_FROM, to: WINDOW_TO } = feedWindow(clock.now())
let t: TestApp
let admin: Client, teacher: Client, student: Client, guest: Client
const ids: Record<string, number> = {}
const roomNames = new Map<number, string>()

interface Occurrence { uid: string; start: string; end: string; summary: string; status: string | null; sequence: number; location: string }

/** Parses a calendar with ical.js: its VTIMEZONE ids, its raw VEVENTs, and every occurrence in the feed window. */
function read(text: string) {
  const calendar = new ICAL.Component(ICAL.parse(text))
  const zones = calendar.getAllSubcomponents('vtimezone')
  for (const zone of zones) ICAL.TimezoneService.register(zone)
  const vevents = calendar.getAllSubcomponents('vevent')
  const events = vevents.map((v) => new ICAL.Event(v))
  const masters = events.filter((e) => !e.isRecurrenceException())
  for (const exception of events.filter((e) => e.isRecurrenceException())) masters.find((m) => m.uid === exception.uid)!.relateException(exception)
  const occurrences: Occurrence[] = []
  const iso = (time: ICAL.Time) => time.toJSDate().toISOString()
  for (const master of masters) {
    const base = { uid: master.uid, sequence: master.sequence, status: master.component.getFirstPropertyValue('status') as string | null }
    if (!master.isRecurring()) {
      occurrences.push({ ...base, start: iso(master.startDate), end: iso(master.endDate), summary: master.summary, location: master.location })
      continue
    }
    const iterator = master.iterator()
    for (let next = iterator.next(); next; next = iterator.next()) {
      if (next.toJSDate() >= WINDOW_TO) break
      const details = master.getOccurrenceDetails(next)
      if (details.endDate.toJSDate() <= WINDOW_FROM) continue
      occurrences.push({
        ...base, start: iso(details.startDate), end: iso(details.endDate), summary: details.item.summary, location: details.item.location,
        status: details.item.component.getFirstPropertyValue('status') as string | null,
      })
    }
  }
  occurrences.sort((a, b) => a.start.localeCompare(b.start) || a.uid.localeCompare(b.uid))
  return { calendar, zones, vevents, occurrences }
}

const path = (url: string) => new URL(url).pathname
const iso = (d: Date) => d.toISOString()

/** The user's bookings overlapping the window, as the database has them. */
async function bookingsInWindow(userId: number) {
  return t.database.db.select().from(reservations)
    .where(and(eq(reservations.userId, userId), lt(reservations.startTime, WINDOW_TO), gt(reservations.endTime, WINDOW_FROM)))
}

let studentFeed: string
let teacherFeed: string
let seriesId: number
let lessons: { id: number; start_time: string }[]
let single: number

beforeAll(async () => {
  t = await testApp({ clock, env: { APP_TIMEZONE: TZ } })
  ;[admin, teacher, student, guest] = await Promise.all(['admin', 'teacher', 'student', 'guest'].map((n) => loggedIn(t.app, n))) as [Client, Client, Client, Client]
  for (const row of await t.database.db.select().from(rooms)) {
    ids[row.name] = row.id
    roomNames.set(row.id, row.name)
  }
  for (const row of await t.database.db.select().from(users)) ids[row.name] = row.id

  // The student: two bookings ahead, one 10 days ago (in the window), one 60 days ago (not).
  for (const [start, end] of [['2030-03-12T09:00:00Z', '2030-03-12T10:00:00Z'], ['2030-03-13T09:00:00Z', '2030-03-13T10:00:00Z']]) {
    const r = await student.post(`/api/rooms/${ids.B101}/reserve`, { start_time: start, end_time: end })
    expect(r.status).toBe(201)
  }
  const now = clock.now()
  await t.database.db.insert(reservations).values([
    { roomId: ids.B101!, userId: ids.student!, startTime: new Date('2030-02-28T09:00:00Z'), endTime: new Date('2030-02-28T10:00:00Z'), status: 'finished', createdAt: now, updatedAt: now },
    { roomId: ids.B101!, userId: ids.student!, startTime: new Date('2030-01-09T09:00:00Z'), endTime: new Date('2030-01-09T10:00:00Z'), status: 'finished', createdAt: now, updatedAt: now },
  ])
  // Someone else's booking: in no feed of the student's.
  expect((await guest.post(`/api/rooms/${ids.B101}/reserve`, { start_time: '2030-03-12T11:00:00Z', end_time: '2030-03-12T12:00:00Z' })).status).toBe(201)
  // The teacher: a single booking in B101 and a weekly lesson in B102, Mondays 10:00-11:30 Berlin
  // time, across the change to summer time (March 31): 09:00Z before it, 08:00Z after.
  const own = await teacher.post(`/api/rooms/${ids.B101}/reserve`, { start_time: '2030-03-14T13:00:00Z', end_time: '2030-03-14T14:00:00Z' })
  expect(own.status).toBe(201)
  single = own.body.reservation.id
  const created = await teacher.post('/api/series', {
    room_id: ids.B102, start_time: '2030-03-11T09:00:00Z', end_time: '2030-03-11T10:30:00Z', rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=6', title: 'Optics',
  })
  expect(created.status).toBe(201)
  seriesId = created.body.series.id
  lessons = created.body.created
  expect(lessons.map((l) => l.start_time)).toEqual(['2030-03-11T09:00:00Z', '2030-03-18T09:00:00Z', '2030-03-25T09:00:00Z', '2030-04-01T08:00:00Z', '2030-04-08T08:00:00Z', '2030-04-15T08:00:00Z'])
  clock.advance(60_000)
  // The second lesson is cancelled, the third moved to Tuesday 12:00 Berlin time.
  expect((await teacher.delete(`/api/reservations/${lessons[1]!.id}`)).status).toBe(200)
  expect((await teacher.patch(`/api/reservations/${lessons[2]!.id}`, { start_time: '2030-03-26T11:00:00Z', end_time: '2030-03-26T12:30:00Z' })).status).toBe(200)
}, 120_000)
afterAll(() => t.close())

describe('personal feed', () => {
  test('a token gives {url, webcal_url} under SERVER_EXTERNAL_BASE; the feed is text/calendar with the room zone', async () => {
    const issued = await student.post('/api/calendar/token')
    expect(issued.status).toBe(200)
    expect(issued.body.url).toMatch(/^http:\/\/qrbook\.test\/api\/calendar\/[A-Za-z0-9_-]{43}\.ics$/)
    expect(issued.body.webcal_url).toBe(issued.body.url.replace('http://', 'webcal://'))
    const feed = await student.get(path(issued.body.url))
    expect(feed.status).toBe(200)
    expect(feed.headers.get('content-type')).toBe('text/calendar; charset=utf-8')
    studentFeed = issued.body.url
    const { zones, vevents } = read(feed.text)
    expect(zones.map((z) => z.getFirstPropertyValue('tzid'))).toEqual([TZ])
    // Berlin's offsets, as written in the VTIMEZONE: summer time from 2030-03-31.
    expect(feed.text).toContain('DTSTART:20300331T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200')
    expect(feed.text).toContain('X-WR-TIMEZONE:Europe/Berlin')
    for (const v of vevents) expect(v.getFirstProperty('dtstart')!.getParameter('tzid')).toBe(TZ)
    // also without a session: the URL is the secret
    expect((await t.app.handle(new Request(`http://localhost${path(issued.body.url)}`))).status).toBe(200)
  })

  test("exactly the user's bookings of the window, nobody else's", async () => {
    const feed = await student.get(path(studentFeed))
    const { occurrences } = read(feed.text)
    const expected = (await bookingsInWindow(ids.student!)).sort((a, b) => +a.startTime - +b.startTime)
    // the one 10 days back is in, the one 60 days back is not (the seed's demo bookings are there too)
    expect(expected.map((r) => iso(r.startTime))).toContain('2030-02-28T09:00:00.000Z')
    expect(expected.map((r) => iso(r.startTime))).not.toContain('2030-01-09T09:00:00.000Z')
    expect(occurrences.map((o) => [o.uid, o.start, o.end, o.location, o.summary])).toEqual(
      expected.map((r) => [`reservation-${r.id}@qrbook.test`, iso(r.startTime), iso(r.endTime), roomNames.get(r.roomId)!, roomNames.get(r.roomId)!]),
    )
  })

  test("a teacher's series is one recurring event: RRULE, EXDATE for the cancelled lesson, RECURRENCE-ID for the moved one", async () => {
    const issued = await teacher.post('/api/calendar/token')
    teacherFeed = issued.body.url
    const feed = await teacher.get(path(teacherFeed))
    expect(feed.status).toBe(200)
    const { vevents, occurrences } = read(feed.text)
    const ofSeries = vevents.filter((v) => v.getFirstPropertyValue('uid') === `series-${seriesId}@qrbook.test`)
    expect(ofSeries).toHaveLength(2) // the master and one override
    const master = ofSeries.find((v) => !v.hasProperty('recurrence-id'))!
    expect(String(master.getFirstPropertyValue('rrule'))).toBe('FREQ=WEEKLY;COUNT=6;BYDAY=MO')
    expect(feed.text).toContain('EXDATE;TZID=Europe/Berlin:20300318T100000')
    expect(feed.text).toContain('RECURRENCE-ID;TZID=Europe/Berlin:20300325T100000')
    expect(feed.text).toContain('DTSTART;TZID=Europe/Berlin:20300311T100000')

    // Expanded by ical.js: exactly the teacher's held bookings of the window, the moved one where it went.
    const held = (await bookingsInWindow(ids.teacher!)).filter((r) => r.status === 'active').sort((a, b) => +a.startTime - +b.startTime)
    expect(occurrences.map((o) => [o.start, o.end])).toEqual(held.map((r) => [iso(r.startTime), iso(r.endTime)]))
    expect(occurrences.filter((o) => o.uid.startsWith('series-')).map((o) => o.start)).toEqual([
      '2030-03-11T09:00:00.000Z', '2030-03-26T11:00:00.000Z', '2030-04-01T08:00:00.000Z', '2030-04-08T08:00:00.000Z', '2030-04-15T08:00:00.000Z',
    ])
    expect(occurrences.filter((o) => o.uid.startsWith('series-')).map((o) => [o.summary, o.location])).toEqual(Array(5).fill(['Optics', 'B102']))
    expect(occurrences.find((o) => o.uid === `reservation-${single}@qrbook.test`)).toBeDefined()
  })

  test('a lesson moved next to one never made (a conflict skipped) is placed by the change record', async () => {
    // Wednesdays 10:00 Berlin time in B101; the second is taken by the guest, so skipped.
    expect((await guest.post(`/api/rooms/${ids.B101}/reserve`, { start_time: '2030-03-20T12:00:00Z', end_time: '2030-03-20T13:00:00Z' })).status).toBe(201)
    const created = await teacher.post('/api/series', {
      room_id: ids.B101, start_time: '2030-03-13T12:00:00Z', end_time: '2030-03-13T13:00:00Z', rrule: 'FREQ=WEEKLY;BYDAY=WE;COUNT=4', title: 'Seminar', skip_conflicts: true,
    })
    expect(created.status).toBe(201)
    expect(created.body.skipped.map((s: { start_time: string }) => s.start_time)).toEqual(['2030-03-20T12:00:00Z'])
    const third = created.body.created.find((l: { start_time: string }) => l.start_time === '2030-03-27T12:00:00Z')
    clock.advance(60_000)
    expect((await teacher.patch(`/api/reservations/${third.id}`, { start_time: '2030-03-28T12:00:00Z', end_time: '2030-03-28T13:00:00Z' })).status).toBe(200)

    const feed = await teacher.get(path(teacherFeed))
    const uid = `series-${created.body.series.id}@qrbook.test`
    const block = feed.text.split('BEGIN:VEVENT').filter((v) => v.includes(`UID:${uid}`))
    expect(block).toHaveLength(2)
    expect(block.join('')).toContain('EXDATE;TZID=Europe/Berlin:20300320T130000')
    expect(block.join('')).toContain('RECURRENCE-ID;TZID=Europe/Berlin:20300327T130000')
    expect(read(feed.text).occurrences.filter((o) => o.uid === uid).map((o) => o.start))
      .toEqual(['2030-03-13T12:00:00.000Z', '2030-03-28T12:00:00.000Z', '2030-04-03T11:00:00.000Z'])
  })

  test('a cancelled booking turns STATUS:CANCELLED with a higher SEQUENCE; the ETag changes with it', async () => {
    const before = await student.get(path(studentFeed))
    const etag = before.headers.get('etag')!
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/)
    const notModified = await student.get(path(studentFeed), { headers: { 'if-none-match': etag } })
    expect(notModified.status).toBe(304)
    expect(notModified.text).toBe('')

    const [first] = (await bookingsInWindow(ids.student!)).filter((r) => r.status === 'active').sort((a, b) => +a.startTime - +b.startTime)
    const uid = `reservation-${first!.id}@qrbook.test`
    const was = read(before.text).occurrences.find((o) => o.uid === uid)!
    expect(was.status).toBe('CONFIRMED')
    clock.advance(5 * 60_000)
    expect((await student.delete(`/api/reservations/${first!.id}`)).status).toBe(200)

    const after = await student.get(path(studentFeed), { headers: { 'if-none-match': etag } })
    expect(after.status).toBe(200)
    expect(after.headers.get('etag')).not.toBe(etag)
    const now = read(after.text).occurrences.find((o) => o.uid === uid)!
    expect(now.status).toBe('CANCELLED')
    expect(now.sequence).toBeGreaterThan(was.sequence)
  })

  test("rotating the token: the old URL answers 404, the new one 200; DELETE makes it 404", async () => {
    const old = path(studentFeed)
    const rotated = await student.post('/api/calendar/token')
    expect(rotated.status).toBe(200)
    expect(rotated.body.url).not.toBe(studentFeed)
    const gone = await student.get(old)
    expect(gone.status).toBe(404)
    expect(gone.body.msg).toBe('calendar feed not found')
    expect((await student.get(path(rotated.body.url))).status).toBe(200)
    // the legacy mount serves it too
    expect((await student.get(path(rotated.body.url).replace(/^\/api/, ''))).status).toBe(200)

    const revoked = await student.delete('/api/calendar/token')
    expect(revoked.status).toBe(200)
    expect(revoked.body).toEqual({ revoked: true })
    expect((await student.get(path(rotated.body.url))).status).toBe(404)
    expect((await student.delete('/api/calendar/token')).body).toEqual({ revoked: false })
    // nonsense is 404 too
    expect((await student.get('/api/calendar/not-a-token.ics')).status).toBe(404)
    expect((await student.get('/api/calendar/anything')).status).toBe(404)
  })

  test('issuing needs a session and, with cookies, the CSRF header', async () => {
    expect((await student.post('/api/calendar/token', undefined, { csrf: false })).status).toBe(401)
    const anonymous = await t.app.handle(new Request('http://localhost/api/calendar/token', { method: 'POST' }))
    expect(anonymous.status).toBe(401)
  })
})

describe('room feed', () => {
  test("a student's booking is Occupied, staff are named, the lesson has its title; 404 for no room", async () => {
    const feed = await guest.get(`/api/rooms/${ids.B101}/calendar.ics`)
    expect(feed.status).toBe(200)
    expect(feed.headers.get('content-type')).toBe('text/calendar; charset=utf-8')
    expect(feed.text).not.toContain('student')
    expect(feed.text).not.toContain('guest')
    const { occurrences } = read(feed.text)
    const held = (await t.database.db.select().from(reservations).where(and(eq(reservations.roomId, ids.B101!), lt(reservations.startTime, WINDOW_TO), gt(reservations.endTime, WINDOW_FROM))))
      .filter((r) => r.status === 'active' || r.status === 'finished').sort((a, b) => +a.startTime - +b.startTime)
    expect(occurrences.map((o) => [o.start, o.summary])).toEqual(held.map((r) => [iso(r.startTime), r.userId !== ids.teacher ? 'Occupied' : r.title ? `${r.title} · teacher` : 'teacher']))

    const lessonsFeed = read((await guest.get(`/api/rooms/${ids.B102}/calendar.ics`)).text)
    expect(lessonsFeed.occurrences.map((o) => o.summary)).toEqual(Array(5).fill('Optics · teacher'))

    const etag = feed.headers.get('etag')!
    expect((await guest.get(`/api/rooms/${ids.B101}/calendar.ics`, { headers: { 'if-none-match': etag } })).status).toBe(304)
    expect((await guest.get('/api/rooms/999999/calendar.ics')).status).toBe(404)
  })
})

describe('one booking as iCalendar', () => {
  test('its owner and an admin get it; another student is refused; an unknown one is 404', async () => {
    const [row] = (await bookingsInWindow(ids.student!)).filter((r) => r.status === 'active')
    const mine = await student.get(`/api/reservations/${row!.id}/ics`)
    expect(mine.status).toBe(200)
    expect(mine.headers.get('content-type')).toBe('text/calendar; charset=utf-8')
    expect(mine.text).toContain('METHOD:PUBLISH')
    const { occurrences } = read(mine.text)
    expect(occurrences.map((o) => [o.uid, o.start, o.status])).toEqual([[`reservation-${row!.id}@qrbook.test`, iso(row!.startTime), 'CONFIRMED']])
    expect((await admin.get(`/api/reservations/${row!.id}/ics`)).status).toBe(200)
    const refused = await guest.get(`/api/reservations/${row!.id}/ics`)
    expect(refused.status).toBe(403)
    expect(refused.body.msg).toBe('insufficient permissions')
    expect((await student.get('/api/reservations/999999/ics')).status).toBe(404)
  })

  test("reservationIcs (the e-mail attachment): a cancelled booking's current state; null for none", async () => {
    const [cancelled] = (await bookingsInWindow(ids.student!)).filter((r) => r.status === 'cancelled')
    const text = (await reservationIcs(t.ctx, cancelled!.id))!
    expect(read(text).occurrences.map((o) => [o.uid, o.status])).toEqual([[`reservation-${cancelled!.id}@qrbook.test`, 'CANCELLED']])
    expect(await reservationIcs(t.ctx, 999999)).toBeNull()
  })
})
