/**
 * Importing holidays from an iCalendar file (POST /api/admin/closures/import), after a security
 * review: every event is read inside the error handling (ical.js parses a value only when it is
 * read), so a malformed value is a 400 naming the event and the problem, never a 500; dates
 * outside the years 1900-9999 (before or after conversion to an instant) and dates that do not
 * exist are refused; and a file with one refused event writes nothing.
 */
import { eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { changes, closures, reservations, rooms, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

const shifted = timeShifter('2030-08-19T08:00:00Z')
const NOW = new Date(shifted('2030-08-19T08:00:00Z'))
// Moscow: all-day dates are local midnights (UTC+3; in 1900 its mean time, UTC+2:30:17).
const TZ = 'Europe/Moscow'

/** An iCalendar file with these events (each a list of its property lines). */
const calendar = (...events: string[][]) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//qrbook test//holidays//EN',
  ...events.flatMap((lines) => ['BEGIN:VEVENT', ...lines, 'END:VEVENT']), 'END:VCALENDAR'].join('\r\n')

describe('POST /api/admin/closures/import', () => {
  let t: TestApp
  let admin: Client
  beforeAll(async () => {
    t = await testApp({ clock: fixedClock(NOW), env: { APP_TIMEZONE: TZ } })
    admin = await loggedIn(t.app, 'admin')
  }, 120_000)
  afterAll(() => t.close())

  const send = (text: string, query = '') => admin.request('POST', `/api/admin/closures/import${query}`, { body: text, headers: { 'content-type': 'text/calendar' }, csrf: true })
  const storedUids = async () => (await t.database.db.select().from(closures)).map((c) => c.uid).sort()
  /** The answer to a file of one event, which must be refused: status and message. */
  const refuse = async (...lines: string[]) => {
    const before = await storedUids()
    const reply = await send(calendar(lines))
    expect(await storedUids()).toEqual(before)
    return { status: reply.status, msg: reply.body.msg as string }
  }

  test('a malformed DTSTART (ical.js throws when it is read) is 400 naming the event, not 500', async () => {
    const reply = await refuse('UID:bad-date@test', 'DTSTART:2040XX05T100000Z', 'SUMMARY:Broken')
    expect(reply.status).toBe(400)
    expect(reply.msg).toStartWith('not an iCalendar file: event 1 (UID bad-date@test) has an invalid DTSTART: ')
  })

  test('a DURATION far past year 9999 (a RangeError before) is 400 naming the event', async () => {
    expect(await refuse('UID:long@test', 'DTSTART:20400105T100000Z', 'DURATION:P99999999W'))
      .toEqual({ status: 400, msg: 'not an iCalendar file: event 1 (UID long@test) ends outside the years 1900-9999' })
  })

  test('years outside 1900-9999 are refused, before or after the conversion to an instant', async () => {
    const outside = (uid: string, edge = 'starts') => ({ status: 400, msg: `not an iCalendar file: event 1 (UID ${uid}) ${edge} outside the years 1900-9999` })
    expect(await refuse('UID:y1800@test', 'DTSTART;VALUE=DATE:18000101', 'SUMMARY:Old')).toEqual(outside('y1800@test'))
    expect(await refuse('UID:y1800t@test', 'DTSTART:18000101T100000Z', 'DTEND:18000101T120000Z')).toEqual(outside('y1800t@test'))
    // Year 1 was stored as 1900-12-31 (Date.UTC reads the years 0-99 as 1900-1999).
    expect(await refuse('UID:y0001@test', 'DTSTART;VALUE=DATE:00010101', 'SUMMARY:Ancient')).toEqual(outside('y0001@test'))
    expect(await refuse('UID:y0001t@test', 'DTSTART:00010101T100000Z', 'DTEND:00010101T120000Z')).toEqual(outside('y0001t@test'))
    // In the year 1900 on the calendar, but Moscow's midnight of 1900-01-01 is 1899-12-31T21:29:43Z.
    expect(await refuse('UID:y1900@test', 'DTSTART;VALUE=DATE:19000101')).toEqual(outside('y1900@test'))
    expect(await refuse('UID:y10000@test', 'DTSTART;VALUE=DATE:99991231', 'DURATION:P2D')).toEqual(outside('y10000@test', 'ends'))
  })

  test('dates that do not exist, ends not after starts, and missing parts are refused, each naming the event', async () => {
    const invalid = (uid: string, name: string) => ({ status: 400, msg: `not an iCalendar file: event 1 (UID ${uid}) has an invalid ${name}: not a date or date-time that exists` })
    // ical.js would read these as March 1 and as 01:00 of the next day.
    expect(await refuse('UID:feb30@test', 'DTSTART;VALUE=DATE:20400230')).toEqual(invalid('feb30@test', 'DTSTART'))
    expect(await refuse('UID:h25@test', 'DTSTART:20400101T100000Z', 'DTEND:20400101T250000Z')).toEqual(invalid('h25@test', 'DTEND'))
    expect(await refuse('UID:m13@test', 'DTSTART;VALUE=DATE:20401301')).toEqual(invalid('m13@test', 'DTSTART'))
    expect(await refuse('UID:backwards@test', 'DTSTART:20400101T100000Z', 'DTEND:20400101T090000Z'))
      .toEqual({ status: 400, msg: 'not an iCalendar file: event 1 (UID backwards@test) does not end after it starts' })
    expect(await refuse('UID:instant@test', 'DTSTART:20400101T100000Z'))
      .toEqual({ status: 400, msg: 'not an iCalendar file: event 1 (UID instant@test) does not end after it starts' })
    expect(await refuse('UID:negative@test', 'DTSTART:20400101T100000Z', 'DURATION:-P1D'))
      .toEqual({ status: 400, msg: 'not an iCalendar file: event 1 (UID negative@test) does not end after it starts' })
    expect(await refuse('DTSTART;VALUE=DATE:20400101')).toEqual({ status: 400, msg: 'not an iCalendar file: event 1 has no UID' })
    expect(await refuse('UID:nostart@test', 'SUMMARY:When?')).toEqual({ status: 400, msg: 'not an iCalendar file: event 1 (UID nostart@test) has no DTSTART' })
    const period = await refuse('UID:period@test', 'DTSTART:20400101T100000Z', 'DTEND;VALUE=PERIOD:20400101T100000Z/PT1H')
    expect(period.status).toBe(400)
    expect(period.msg).toStartWith('not an iCalendar file: event 1 (UID period@test) ')
    const badDuration = await refuse('UID:dur@test', 'DTSTART:20400101T100000Z', 'DURATION:PXW')
    expect(badDuration.status).toBe(400)
    expect(badDuration.msg).toStartWith('not an iCalendar file: event 1 (UID dur@test) ')
  })

  test('a valid file is imported once per UID; a file with one refused event writes nothing', async () => {
    const y = new Date(shifted('2030-12-30T12:00:00Z')).getUTCFullYear() + 1
    const newYear = [`UID:new-year-${y}@holidays`, `DTSTART;VALUE=DATE:${y}0101`, `DTEND;VALUE=DATE:${y}0103`, 'SUMMARY:New Year']
    const xmas = [`UID:xmas-${y}@holidays`, `DTSTART;VALUE=DATE:${y}0107`, 'SUMMARY:Christmas']
    const before = await storedUids()

    // The second event is refused: the first is not stored either.
    const mixed = await send(calendar(newYear, [`UID:broken-${y}@holidays`, 'DTSTART:2040XX05T100000Z'], xmas))
    expect(mixed.status).toBe(400)
    expect(mixed.body.msg).toStartWith(`not an iCalendar file: event 2 (UID broken-${y}@holidays) has an invalid DTSTART`)
    expect(await storedUids()).toEqual(before)
    const listed = await admin.get(`/api/closures?from=${encodeURIComponent(`${y}-01-01T00:00:00Z`)}`)
    expect(listed.status).toBe(200)
    expect(listed.body.closures).toEqual([])

    const first = await send(calendar(newYear, xmas))
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ created: 2, updated: 0, unchanged: 0 })
    const again = await send(calendar(newYear, xmas))
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ created: 0, updated: 0, unchanged: 2 })
    expect(await storedUids()).toEqual([...before, `new-year-${y}@holidays`, `xmas-${y}@holidays`].sort())

    // All-day dates are local midnights in Moscow (UTC+3); an all-day event without DTEND lasts a day.
    const after = await admin.get(`/api/closures?from=${encodeURIComponent(`${y}-01-01T00:00:00Z`)}`)
    expect(after.body.closures.map((c: { reason: string; start_time: string; end_time: string }) => [c.reason, c.start_time, c.end_time])).toEqual([
      ['New Year', `${y - 1}-12-31T21:00:00Z`, `${y}-01-02T21:00:00Z`],
      ['Christmas', `${y}-01-06T21:00:00Z`, `${y}-01-07T21:00:00Z`],
    ])
  })

  test('dry_run=1 reads, checks and classifies the file but writes nothing; the import then does what it said', async () => {
    const y = new Date(shifted('2030-12-30T12:00:00Z')).getUTCFullYear() + 3
    const db = t.database.db
    // A booking inside the first holiday, and a file of two new events; then one of them changed.
    const [room] = await db.select().from(rooms).limit(1)
    const [user] = await db.select().from(users).limit(1)
    const [booking] = await db.insert(reservations).values({ roomId: room!.id, userId: user!.id, startTime: new Date(`${y}-03-02T07:00:00Z`), endTime: new Date(`${y}-03-02T08:00:00Z`), createdAt: NOW, updatedAt: NOW }).returning()
    const spring = [`UID:spring-${y}@dry`, `DTSTART;VALUE=DATE:${y}0302`, `DTEND;VALUE=DATE:${y}0303`, 'SUMMARY:Spring day']
    const summer = [`UID:summer-${y}@dry`, `DTSTART;VALUE=DATE:${y}0612`, 'SUMMARY:Summer day']
    const snapshot = async () => ({ closures: await db.select().from(closures), changes: (await db.select({ position: changes.position }).from(changes)).length })
    const before = await snapshot()

    const dry = await send(calendar(spring, summer), '?dry_run=1')
    expect(dry.status).toBe(200)
    expect(dry.body).toMatchObject({ dry_run: true, created: 2, updated: 0, unchanged: 0, closures: [] })
    expect(dry.body.events).toEqual([
      { uid: `spring-${y}@dry`, reason: 'Spring day', start_time: `${y}-03-01T21:00:00Z`, end_time: `${y}-03-02T21:00:00Z`, action: 'create', closure_id: null, bookings: 1, lessons: 0 },
      { uid: `summer-${y}@dry`, reason: 'Summer day', start_time: `${y}-06-11T21:00:00Z`, end_time: `${y}-06-12T21:00:00Z`, action: 'create', closure_id: null, bookings: 0, lessons: 0 },
    ])
    expect(await snapshot()).toEqual(before)

    const real = await send(calendar(spring, summer))
    expect(real.status).toBe(201)
    expect(real.body).toMatchObject({ dry_run: false, created: dry.body.created, updated: dry.body.updated, unchanged: dry.body.unchanged })
    const made = await db.select().from(closures).where(inArray(closures.uid, [`spring-${y}@dry`, `summer-${y}@dry`]))
    expect(made).toHaveLength(2)
    expect(real.body.events.map((e: { closure_id: number }) => ({ ...e, closure_id: null }))).toEqual(dry.body.events)
    expect(real.body.events.map((e: { closure_id: number }) => e.closure_id).sort()).toEqual(made.map((c) => c.id).sort())
    expect((await snapshot()).changes).toBe(before.changes + 1)

    // A changed file: the dry run says update and unchanged, names the stored closures, and still writes nothing.
    const moved = [`UID:summer-${y}@dry`, `DTSTART;VALUE=DATE:${y}0613`, 'SUMMARY:Summer day']
    const stored = await snapshot()
    const dryAgain = await send(calendar(spring, moved), '?dry_run=1')
    expect(dryAgain.status).toBe(200)
    expect(dryAgain.body).toMatchObject({ dry_run: true, created: 0, updated: 1, unchanged: 1 })
    expect(dryAgain.body.events.map((e: { action: string }) => e.action)).toEqual(['unchanged', 'update'])
    expect(dryAgain.body.closures.map((c: { uid: string }) => c.uid)).toEqual([`spring-${y}@dry`, `summer-${y}@dry`])
    expect(await snapshot()).toEqual(stored)
    const realAgain = await send(calendar(spring, moved))
    expect(realAgain.status).toBe(200)
    expect(realAgain.body).toMatchObject({ created: 0, updated: 1, unchanged: 1 })

    // A refused file is refused by the dry run too.
    expect((await send(calendar([`UID:broken-${y}@dry`, 'DTSTART:2040XX05T100000Z']), '?dry_run=1')).status).toBe(400)
    await db.delete(reservations).where(eq(reservations.id, booking!.id))
  })

  test('a date-time in UTC, in a time zone of its own and floating are each read as before', async () => {
    const zone = ['BEGIN:VTIMEZONE', 'TZID:Europe/Berlin', 'BEGIN:STANDARD', 'DTSTART:19701025T030000', 'TZOFFSETFROM:+0200', 'TZOFFSETTO:+0100', 'END:STANDARD', 'END:VTIMEZONE']
    const text = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//qrbook test//holidays//EN', ...zone,
      'BEGIN:VEVENT', 'UID:utc@times', 'DTSTART:20410110T080000Z', 'DTEND:20410110T100000Z', 'SUMMARY:UTC', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:berlin@times', 'DTSTART;TZID=Europe/Berlin:20410111T080000', 'DTEND;TZID=Europe/Berlin:20410111T100000', 'SUMMARY:Berlin', 'END:VEVENT',
      'BEGIN:VEVENT', 'UID:floating@times', 'DTSTART:20410112T080000', 'DURATION:PT2H', 'SUMMARY:Floating', 'END:VEVENT',
      'END:VCALENDAR'].join('\r\n')
    const reply = await send(text)
    expect(reply.status).toBe(201)
    expect(reply.body.closures.map((c: { reason: string; start_time: string; end_time: string }) => [c.reason, c.start_time, c.end_time])).toEqual([
      ['UTC', '2041-01-10T08:00:00Z', '2041-01-10T10:00:00Z'],
      ['Berlin', '2041-01-11T07:00:00Z', '2041-01-11T09:00:00Z'],
      ['Floating', '2041-01-12T05:00:00Z', '2041-01-12T07:00:00Z'],
    ])
  })
})
