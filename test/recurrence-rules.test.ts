/**
 * Recurrence rules of series (security review): the RRULE allow-list is checked part by part and
 * stored in ical.js's canonical form, so no duplicate FREQ, no sub-daily frequency, no RDATE line
 * and no out-of-range value gets past it; and a lesson at a wall-clock time that the change to
 * summer time skips moves to the same time after the gap (RFC 5545 3.3.5, 3.3.10) instead of
 * vanishing. Unit tests of normalizeRule and expandRule, and the same rules over HTTP.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { SERIES_MSG } from '../src/core/bookings/messages'
import { expandRule, MAX_OCCURRENCES, normalizeRule, type Occurrence } from '../src/core/bookings/timetable/recurrence'
import { reservations, series } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { HttpError } from '../src/lib/errors'
import { localParts, zonedToUtc } from '../src/lib/time'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

/** The status and message normalizeRule refuses `rule` with (fails the test when it is accepted). */
function refusal(rule: unknown, until?: Date): { status: number; msg: string } {
  try {
    normalizeRule(rule, until)
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, msg: error.message }
    throw error
  }
  throw new Error(`accepted: ${JSON.stringify(rule)}`)
}

const COUNT_MSG = SERIES_MSG.rruleValue('COUNT', 'a positive whole number')
const NEWLINE_MSG = SERIES_MSG.rruleCharacter('"\\n"')

describe('normalizeRule refuses what the review got past it, with a 400 naming the problem', () => {
  const cases: [string, unknown, string][] = [
    ['a second FREQ (the library took the last one)', 'FREQ=DAILY;FREQ=MINUTELY;COUNT=20', 'rrule: part FREQ appears twice'],
    ['FREQ=MINUTELY', 'FREQ=MINUTELY;COUNT=20', SERIES_MSG.rruleFreq],
    ['FREQ=SECONDLY', 'FREQ=SECONDLY;COUNT=20', SERIES_MSG.rruleFreq],
    ['FREQ=HOURLY', 'FREQ=HOURLY;COUNT=2', SERIES_MSG.rruleFreq],
    ['no FREQ', 'COUNT=2;BYDAY=MO', SERIES_MSG.rruleFreq],
    ['an RDATE line after a newline', 'FREQ=WEEKLY;COUNT=2\nRDATE:20270101T100000Z', NEWLINE_MSG],
    ['an EXDATE line after CRLF', 'FREQ=WEEKLY;COUNT=2\r\nEXDATE:20270101T100000Z', SERIES_MSG.rruleCharacter('"\\r"')],
    ['RDATE as a part', 'FREQ=WEEKLY;COUNT=2;RDATE=20270101T100000Z', SERIES_MSG.rruleUnknownPart('RDATE')],
    ['an X- part (ical.js drops it)', 'FREQ=WEEKLY;COUNT=2;X-EVIL=1', SERIES_MSG.rruleUnknownPart('X-EVIL')],
    ['BYHOUR (not for series)', 'FREQ=DAILY;COUNT=2;BYHOUR=1,2,3', SERIES_MSG.rruleUnknownPart('BYHOUR')],
    ['a space', 'FREQ=WEEKLY; COUNT=2', SERIES_MSG.rruleCharacter('" "')],
    ['a letter upper case would make ASCII', 'FREQ=DAıLY;COUNT=2', SERIES_MSG.rruleCharacter('"ı"')],
    ['COUNT=-1', 'FREQ=DAILY;COUNT=-1', COUNT_MSG],
    ['COUNT=0', 'FREQ=DAILY;COUNT=0', COUNT_MSG],
    ['COUNT=2.5 (ical.js makes it 2)', 'FREQ=DAILY;COUNT=2.5', SERIES_MSG.rruleCharacter('"."')],
    ['COUNT=+2', 'FREQ=DAILY;COUNT=+2', COUNT_MSG],
    ['COUNT twice', 'FREQ=DAILY;COUNT=2;COUNT=3', 'rrule: part COUNT appears twice'],
    ['COUNT above the cap', 'FREQ=DAILY;COUNT=201', SERIES_MSG.tooMany(MAX_OCCURRENCES)],
    ['INTERVAL=0 (ical.js drops it)', 'FREQ=DAILY;INTERVAL=0;COUNT=2', SERIES_MSG.rruleValue('INTERVAL', 'a whole number from 1 to 999')],
    ['INTERVAL=1000', 'FREQ=DAILY;INTERVAL=1000;COUNT=2', SERIES_MSG.rruleValue('INTERVAL', 'a whole number from 1 to 999')],
    ['BYMONTH=13', 'FREQ=YEARLY;BYMONTH=13;COUNT=2', 'rrule: BYMONTH must be 1-12'],
    ['BYMONTH=0', 'FREQ=YEARLY;BYMONTH=0;COUNT=2', 'rrule: BYMONTH must be 1-12'],
    ['BYMONTH with 13 in a list', 'FREQ=YEARLY;BYMONTH=3,13;COUNT=2', 'rrule: BYMONTH must be 1-12'],
    ['BYMONTHDAY=0', 'FREQ=MONTHLY;BYMONTHDAY=0;COUNT=2', 'rrule: BYMONTHDAY must be 1 to 31 or -31 to -1'],
    ['BYMONTHDAY=32', 'FREQ=MONTHLY;BYMONTHDAY=32;COUNT=2', 'rrule: BYMONTHDAY must be 1 to 31 or -31 to -1'],
    ['BYMONTHDAY=-32', 'FREQ=MONTHLY;BYMONTHDAY=-32;COUNT=2', 'rrule: BYMONTHDAY must be 1 to 31 or -31 to -1'],
    ['BYMONTHDAY with an empty entry', 'FREQ=MONTHLY;BYMONTHDAY=1,,2;COUNT=2', 'rrule: BYMONTHDAY must be 1 to 31 or -31 to -1'],
    ['BYSETPOS=0', 'FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0;COUNT=2', 'rrule: BYSETPOS must be 1 to 366 or -366 to -1'],
    ['BYSETPOS=367', 'FREQ=MONTHLY;BYDAY=MO;BYSETPOS=367;COUNT=2', 'rrule: BYSETPOS must be 1 to 366 or -366 to -1'],
    ['BYSETPOS with nothing to pick from', 'FREQ=MONTHLY;BYSETPOS=1;COUNT=2', SERIES_MSG.rruleSetPosAlone],
    ['BYDAY=XX', 'FREQ=WEEKLY;BYDAY=XX;COUNT=2', SERIES_MSG.rruleValue('BYDAY', 'weekdays MO, TU, WE, TH, FR, SA, SU, each with an optional ordinal from 1 to 53 or -53 to -1 (1MO, -1FR)')],
    ['BYDAY=0MO', 'FREQ=MONTHLY;BYDAY=0MO;COUNT=2', SERIES_MSG.rruleValue('BYDAY', 'weekdays MO, TU, WE, TH, FR, SA, SU, each with an optional ordinal from 1 to 53 or -53 to -1 (1MO, -1FR)')],
    ['BYDAY=54MO', 'FREQ=YEARLY;BYDAY=54MO;COUNT=2', SERIES_MSG.rruleValue('BYDAY', 'weekdays MO, TU, WE, TH, FR, SA, SU, each with an optional ordinal from 1 to 53 or -53 to -1 (1MO, -1FR)')],
    ['a BYDAY ordinal with WEEKLY', 'FREQ=WEEKLY;BYDAY=1MO;COUNT=2', 'rrule: BYDAY ordinals such as 1MO or -1FR cannot be used with FREQ=WEEKLY'],
    ['a BYDAY ordinal with DAILY', 'FREQ=DAILY;BYDAY=-1FR;COUNT=2', 'rrule: BYDAY ordinals such as 1MO or -1FR cannot be used with FREQ=DAILY'],
    ['BYMONTHDAY with WEEKLY', 'FREQ=WEEKLY;BYMONTHDAY=1;COUNT=2', 'rrule: BYMONTHDAY cannot be used with FREQ=WEEKLY'],
    ['WKST=XX', 'FREQ=WEEKLY;WKST=XX;COUNT=2', 'rrule: WKST must be a weekday MO, TU, WE, TH, FR, SA or SU'],
    ['UNTIL on February 30', 'FREQ=WEEKLY;UNTIL=20270230T000000Z', SERIES_MSG.rruleValue('UNTIL', 'a UTC date-time YYYYMMDDTHHMMSSZ or a date YYYYMMDD')],
    ['UNTIL at 25:00', 'FREQ=WEEKLY;UNTIL=20270101T250000Z', SERIES_MSG.rruleValue('UNTIL', 'a UTC date-time YYYYMMDDTHHMMSSZ or a date YYYYMMDD')],
    ['UNTIL as a local time', 'FREQ=WEEKLY;UNTIL=20270101T100000', SERIES_MSG.rruleValue('UNTIL', 'a UTC date-time YYYYMMDDTHHMMSSZ or a date YYYYMMDD')],
    ['UNTIL in ISO form', 'FREQ=WEEKLY;UNTIL=2027-01-01', SERIES_MSG.rruleValue('UNTIL', 'a UTC date-time YYYYMMDDTHHMMSSZ or a date YYYYMMDD')],
    ['a part without a value', 'FREQ=WEEKLY;COUNT', SERIES_MSG.rrulePartForm('COUNT')],
    ['an empty value', 'FREQ=WEEKLY;COUNT=', SERIES_MSG.rrulePartForm('COUNT=')],
    ['COUNT and UNTIL', 'FREQ=WEEKLY;COUNT=2;UNTIL=20270101T000000Z', SERIES_MSG.rruleBothEnds],
    ['no end', 'FREQ=WEEKLY;BYDAY=MO', SERIES_MSG.rruleNoEnd],
    ['nothing', '  ', SERIES_MSG.rruleRequired],
    ['not a string', 42, SERIES_MSG.rruleRequired],
    ['too long', `FREQ=WEEKLY;COUNT=2;BYMONTHDAY=${'1,'.repeat(250)}1`, SERIES_MSG.rruleInvalid('longer than 500 characters')],
  ]
  for (const [what, rule, msg] of cases) {
    test(what, () => {
      expect(refusal(rule)).toEqual({ status: 400, msg })
    })
  }

  test('an end from a term is refused beside COUNT or UNTIL', () => {
    const termEnd = new Date('2027-06-30T21:59:59Z')
    expect(refusal('FREQ=WEEKLY;COUNT=3', termEnd)).toEqual({ status: 400, msg: SERIES_MSG.rruleBothEnds })
    expect(refusal('FREQ=WEEKLY;UNTIL=20270101', termEnd)).toEqual({ status: 400, msg: SERIES_MSG.rruleBothEnds })
  })
})

describe('normalizeRule stores the canonical form of ical.js', () => {
  const cases: [unknown, string][] = [
    ['FREQ=WEEKLY;BYDAY=MO;COUNT=3', 'FREQ=WEEKLY;COUNT=3;BYDAY=MO'],
    ['freq=weekly;byday=mo;count=3', 'FREQ=WEEKLY;COUNT=3;BYDAY=MO'],
    ['RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3', 'FREQ=WEEKLY;COUNT=3;BYDAY=MO'],
    ['  rrule:Freq=Weekly;ByDay=Mo;Count=3;  ', 'FREQ=WEEKLY;COUNT=3;BYDAY=MO'],
    ['FREQ=WEEKLY;INTERVAL=1;WKST=MO;COUNT=03', 'FREQ=WEEKLY;COUNT=3'],
    ['FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU,TH;UNTIL=20271220T230000Z', 'FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20271220T230000Z;WKST=SU'],
    ['FREQ=MONTHLY;BYDAY=1MO,-1FR;COUNT=4', 'FREQ=MONTHLY;COUNT=4;BYDAY=1MO,-1FR'],
    ['FREQ=MONTHLY;BYSETPOS=+1,-1;BYDAY=MO,TU,WE,TH,FR;COUNT=6', 'FREQ=MONTHLY;COUNT=6;BYSETPOS=1,-1;BYDAY=MO,TU,WE,TH,FR'],
    ['FREQ=YEARLY;BYMONTH=03;BYMONTHDAY=-1;UNTIL=20300101', 'FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=-1;UNTIL=20300101'],
    ['FREQ=DAILY;COUNT=200', 'FREQ=DAILY;COUNT=200'],
  ]
  for (const [rule, canonical] of cases) {
    test(`${JSON.stringify(rule)} -> ${canonical}`, () => {
      expect(normalizeRule(rule)).toBe(canonical)
      // The stored form is itself a valid rule that normalises to itself.
      expect(normalizeRule(canonical)).toBe(canonical)
    })
  }

  test("a term's end is added as UNTIL", () => {
    expect(normalizeRule('freq=weekly;byday=fr', new Date('2027-06-30T21:59:59Z'))).toBe('FREQ=WEEKLY;BYDAY=FR;UNTIL=20270630T215959Z')
  })
})

// ---- expansion on the wall clock ----

const BERLIN = 'Europe/Berlin'
const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z')
const starts = (occurrences: Occurrence[]) => occurrences.map((o) => iso(o.start))
const localClock = (date: Date, timeZone: string) => {
  const p = localParts(date, timeZone)
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')} ${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`
}
/** A lesson of `minutes` at the local wall-clock time `hhmm` of `date` in `timeZone`. */
function lesson(date: string, hhmm: string, minutes: number, timeZone = BERLIN): Occurrence {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const [h, mi] = hhmm.split(':').map(Number) as [number, number]
  const start = zonedToUtc(y, m, d, h * 3600 + mi * 60, timeZone)
  return { start, end: new Date(start.getTime() + minutes * 60_000) }
}

describe('expandRule keeps the wall-clock time, and moves a time the DST change skips past the gap', () => {
  // Berlin moves from 02:00 CET to 03:00 CEST on Sunday 2027-03-28 (01:00Z): 02:30 does not exist that night.
  test('a weekly 02:30 lesson across the last Sunday of March 2027: 03:30 local on Mar 28, 02:30 on the others', () => {
    const occurrences = expandRule('FREQ=WEEKLY;COUNT=3', lesson('2027-03-21', '02:30', 45), BERLIN)
    expect(starts(occurrences)).toEqual(['2027-03-21T01:30:00Z', '2027-03-28T01:30:00Z', '2027-04-04T00:30:00Z'])
    expect(occurrences.map((o) => localClock(o.start, BERLIN))).toEqual(['2027-03-21 02:30', '2027-03-28 03:30', '2027-04-04 02:30'])
    // Every occurrence keeps the first one's length, the moved one too.
    expect(occurrences.map((o) => (o.end.getTime() - o.start.getTime()) / 60_000)).toEqual([45, 45, 45])
  })

  test('a daily 02:30 lesson likewise: one on Mar 28, at 03:30 local', () => {
    const occurrences = expandRule('FREQ=DAILY;COUNT=5', lesson('2027-03-26', '02:30', 60), BERLIN)
    expect(starts(occurrences)).toEqual(['2027-03-26T01:30:00Z', '2027-03-27T01:30:00Z', '2027-03-28T01:30:00Z', '2027-03-29T00:30:00Z', '2027-03-30T00:30:00Z'])
    expect(occurrences.map((o) => localClock(o.start, BERLIN).slice(11))).toEqual(['02:30', '02:30', '03:30', '02:30', '02:30'])
  })

  test('a 10:00 lesson stays at 10:00 local across both DST changes', () => {
    const occurrences = expandRule('FREQ=WEEKLY;BYDAY=MO;COUNT=40', lesson('2027-03-01', '10:00', 90), BERLIN)
    expect(new Set(occurrences.map((o) => localClock(o.start, BERLIN).slice(11)))).toEqual(new Set(['10:00']))
    expect(new Set(occurrences.map((o) => o.start.getUTCHours()))).toEqual(new Set([8, 9]))
    expect(new Set(occurrences.map((o) => o.end.getTime() - o.start.getTime()))).toEqual(new Set([90 * 60_000]))
  })

  test('UNTIL is inclusive and exact: an occurrence at the UNTIL instant is kept, one a second after it is not', () => {
    const first = lesson('2027-03-21', '02:30', 45)
    expect(starts(expandRule('FREQ=WEEKLY;UNTIL=20270404T003000Z', first, BERLIN))).toEqual(['2027-03-21T01:30:00Z', '2027-03-28T01:30:00Z', '2027-04-04T00:30:00Z'])
    expect(starts(expandRule('FREQ=WEEKLY;UNTIL=20270404T002959Z', first, BERLIN))).toEqual(['2027-03-21T01:30:00Z', '2027-03-28T01:30:00Z'])
    // The moved occurrence is at 01:30Z: UNTIL at that instant keeps it, a second before does not.
    expect(starts(expandRule('FREQ=WEEKLY;UNTIL=20270328T013000Z', first, BERLIN))).toHaveLength(2)
    expect(starts(expandRule('FREQ=WEEKLY;UNTIL=20270328T012959Z', first, BERLIN))).toHaveLength(1)
  })

  test('UNTIL is exact where the wall clock and the instants disagree (02:30 happens twice on 2027-10-31)', () => {
    // 02:30 CEST on Oct 24 is 00:30Z; on Oct 31 the wall clock reads 02:00-03:00 twice, and the
    // lesson is at the second 02:30 (CET, 01:30Z), as zonedToUtc reads a repeated time.
    const first = lesson('2027-10-24', '02:30', 45)
    expect(starts(expandRule('FREQ=WEEKLY;COUNT=2', first, BERLIN))).toEqual(['2027-10-24T00:30:00Z', '2027-10-31T01:30:00Z'])
    // UNTIL 00:45Z is 02:45 CEST: after 02:30 on the wall clock, but before the lesson's instant.
    expect(starts(expandRule('FREQ=WEEKLY;UNTIL=20271031T004500Z', first, BERLIN))).toEqual(['2027-10-24T00:30:00Z'])
    expect(starts(expandRule('FREQ=WEEKLY;UNTIL=20271031T013000Z', first, BERLIN))).toEqual(['2027-10-24T00:30:00Z', '2027-10-31T01:30:00Z'])
  })

  test('an UNTIL date covers that whole local day', () => {
    const lateEvening = lesson('2027-03-21', '23:30', 30)
    expect(starts(expandRule('FREQ=WEEKLY;UNTIL=20270404', lateEvening, BERLIN))).toEqual(['2027-03-21T22:30:00Z', '2027-03-28T21:30:00Z', '2027-04-04T21:30:00Z'])
  })

  test('the first occurrence is the instant asked for, milliseconds and all', () => {
    const first = { start: new Date('2027-05-03T08:00:00.250Z'), end: new Date('2027-05-03T09:00:00.250Z') }
    const occurrences = expandRule('FREQ=WEEKLY;COUNT=2', first, BERLIN)
    expect(occurrences.map((o) => o.start.toISOString())).toEqual(['2027-05-03T08:00:00.250Z', '2027-05-10T08:00:00.250Z'])
  })

  test('too many occurrences, or none, is a 400', () => {
    const first = lesson('2027-03-01', '10:00', 60)
    const refused = (rule: string) => {
      try {
        expandRule(rule, first, BERLIN)
      } catch (error) {
        return error instanceof HttpError ? [error.status, error.message] : error
      }
      return 'accepted'
    }
    expect(refused('FREQ=DAILY;UNTIL=20280101T000000Z')).toEqual([400, SERIES_MSG.tooMany(MAX_OCCURRENCES)])
    expect(refused('FREQ=DAILY;UNTIL=20270201T000000Z')).toEqual([400, SERIES_MSG.none])
    // A rule that never matches (February 30) ends in the library's iteration cap: 400, not 500.
    const never = refused('FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=2') as [number, string]
    expect(never[0]).toBe(400)
    expect(never[1]).toStartWith('rrule: ')
  })
})

describe('zonedToUtc is exact for every year', () => {
  test('years 0-99 are not read as 1900-1999', () => {
    for (const year of [0, 1, 50, 99, 100, 1899, 1900, 2027, 9999]) {
      const at = zonedToUtc(year, 6, 15, 12 * 3600, BERLIN)
      expect(at.getUTCFullYear()).toBe(year)
      expect(localParts(at, BERLIN)).toMatchObject({ month: 6, day: 15, hour: 12, minute: 0, second: 0 })
    }
    expect(zonedToUtc(1, 1, 1, 0, 'UTC').toISOString()).toBe('0001-01-01T00:00:00.000Z')
    // New Year's midnight in a zone ahead of UTC is still the day before in UTC.
    expect(zonedToUtc(50, 1, 1, 0, 'Asia/Tokyo').toISOString()).toBe('0049-12-31T14:41:01.000Z')
  })
})

// ---- over HTTP ----

const shifted = timeShifter('2030-08-19T08:00:00Z')
const NOW = new Date(shifted('2030-08-19T08:00:00Z')) // a Monday

describe('POST /api/series with these rules', () => {
  let t: TestApp
  let teacher: Client
  let roomId: number
  beforeAll(async () => {
    t = await testApp({ clock: fixedClock(NOW), env: { APP_TIMEZONE: BERLIN } })
    const admin = await loggedIn(t.app, 'admin')
    teacher = await loggedIn(t.app, 'teacher')
    const room = await admin.post('/api/admin/rooms', { name: 'RR1', requires_check_in: false })
    expect(room.status).toBe(201)
    roomId = room.body.room.id
  }, 120_000)
  afterAll(() => t.close())

  const body = (rrule: string) => ({
    room_id: roomId, start_time: shifted('2030-09-02T08:00:00Z'), end_time: shifted('2030-09-02T09:00:00Z'), rrule,
  })
  const stored = async () => ({
    series: (await t.database.db.select().from(series)).length,
    bookings: (await t.database.db.select().from(reservations).where(eq(reservations.roomId, roomId))).length,
  })

  test('FREQ=DAILY;FREQ=MINUTELY;COUNT=20 is 400 and creates nothing; so are the other bypasses', async () => {
    const before = await stored()
    const refused = await teacher.post('/api/series', body('FREQ=DAILY;FREQ=MINUTELY;COUNT=20'))
    expect(refused.status).toBe(400)
    expect(refused.body.msg).toBe('rrule: part FREQ appears twice')
    for (const [rrule, msg] of [
      ['FREQ=SECONDLY;COUNT=20', SERIES_MSG.rruleFreq],
      ['FREQ=WEEKLY;COUNT=2\nRDATE:20300903T080000Z', NEWLINE_MSG],
      ['FREQ=DAILY;COUNT=-1', COUNT_MSG],
      ['FREQ=YEARLY;BYMONTH=13;COUNT=2', 'rrule: BYMONTH must be 1-12'],
      ['FREQ=MONTHLY;BYMONTHDAY=0;COUNT=2', 'rrule: BYMONTHDAY must be 1 to 31 or -31 to -1'],
    ] as const) {
      const reply = await teacher.post('/api/series', body(rrule))
      expect([reply.status, reply.body.msg]).toEqual([400, msg])
      const precheck = await teacher.post('/api/series/precheck', body(rrule))
      expect([precheck.status, precheck.body.msg]).toEqual([400, msg])
    }
    expect(await stored()).toEqual(before)
  })

  test('a valid series stores the normalised rule', async () => {
    const created = await teacher.post('/api/series', body('rrule:freq=weekly;byday=mo;count=3'))
    expect(created.status).toBe(201)
    expect(created.body.created).toHaveLength(3)
    expect(created.body.series.rrule).toBe('FREQ=WEEKLY;COUNT=3;BYDAY=MO')
    const detail = await teacher.get(`/api/series/${created.body.series.id}`)
    expect(detail.status).toBe(200)
    expect(detail.body.series.rrule).toBe('FREQ=WEEKLY;COUNT=3;BYDAY=MO')
    const [row] = await t.database.db.select().from(series).where(eq(series.id, created.body.series.id))
    expect(row!.rrule).toBe('FREQ=WEEKLY;COUNT=3;BYDAY=MO')
  })
})
