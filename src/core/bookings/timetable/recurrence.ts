/**
 * The occurrences of a series (issue 15). A rule is checked here part by part against what a
 * series may use (the libraries are lenient: rrule-temporal takes the last of two FREQs, ical.js
 * drops what it does not know and reads nothing after a line break), then ical.js turns it into
 * the canonical form that is stored. rrule-temporal (decision 020) expands that form on the wall
 * clock of the series' time zone, and each wall-clock time becomes an instant here, so a 10:00
 * lesson stays at 10:00 local across a DST change.
 */
import ICAL from 'ical.js'
import { RRuleTemporal } from 'rrule-temporal'
import { BadRequest } from '../../../lib/errors'
import { localParts, utcMidnight, zonedToUtc } from '../../../lib/time'
import { SERIES_MSG } from '../messages'

export const MAX_OCCURRENCES = 200
const MAX_RRULE_LENGTH = 500
/** Lessons 999 days, weeks, months or years apart are as far apart as a timetable goes. */
const MAX_INTERVAL = 999
const FREQUENCIES = new Set(['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'])
const DAY_MS = 86400_000

export interface Occurrence {
  start: Date
  end: Date
}

/** `20261221T225959Z`: an instant in the RRULE's UTC form. */
export function rruleUtc(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')
}

// ---- checking and normalising a rule ----

/** Everything an RRULE value can hold: no spaces or line breaks (no RDATE or EXDATE line after it), no quotes. */
const RULE_CHARACTER = /[^A-Za-z0-9;=,+-]/
const WEEKDAY = /^(?:MO|TU|WE|TH|FR|SA|SU)$/
/** MO, 1MO, +2TU, -1FR: an optional ordinal (without a leading zero, which ical.js refuses) and a weekday. */
const BYDAY_ENTRY = /^(?:[+-]?([1-9]\d?))?(?:MO|TU|WE|TH|FR|SA|SU)$/
/** UNTIL as a UTC date-time or as a date (RFC 5545: a local date-time has no place beside a DTSTART with a zone). */
const UNTIL_VALUE = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/

/** A whole number written as digits (with a sign where `signed`) whose size lies in [min, max]. */
function wholeNumber(value: string, min: number, max: number, signed = false): boolean {
  if (!(signed ? /^[+-]?\d+$/ : /^\d+$/).test(value)) return false
  const size = Math.abs(Number(value))
  return size >= min && size <= max
}

const eachOf = (valid: (entry: string) => boolean) => (value: string) => value.split(',').every(valid)

function isByDayEntry(entry: string): boolean {
  const match = BYDAY_ENTRY.exec(entry)
  return match !== null && (match[1] === undefined || Number(match[1]) <= 53)
}

/** A date and time that exist: ical.js would quietly turn February 30 into March 2. */
function isUntil(value: string): boolean {
  const match = UNTIL_VALUE.exec(value)
  if (!match) return false
  const [year, month, day, hour, minute, second] = match.slice(1).map((field) => Number(field ?? 0)) as [number, number, number, number, number, number]
  const date = new Date(utcMidnight(year, month, day))
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour <= 23 && minute <= 59 && second <= 59
}

/** What the value of each part but FREQ must be: RFC 5545 (3.3.10), narrowed to what a series uses. */
const PART_VALUES: Record<string, { valid: (value: string) => boolean; expected: string }> = {
  INTERVAL: { valid: (value) => wholeNumber(value, 1, MAX_INTERVAL), expected: `a whole number from 1 to ${MAX_INTERVAL}` },
  COUNT: { valid: (value) => wholeNumber(value, 1, Infinity), expected: 'a positive whole number' },
  UNTIL: { valid: isUntil, expected: 'a UTC date-time YYYYMMDDTHHMMSSZ or a date YYYYMMDD' },
  BYDAY: {
    valid: eachOf(isByDayEntry),
    expected: 'weekdays MO, TU, WE, TH, FR, SA, SU, each with an optional ordinal from 1 to 53 or -53 to -1 (1MO, -1FR)',
  },
  BYMONTHDAY: { valid: eachOf((day) => wholeNumber(day, 1, 31, true)), expected: '1 to 31 or -31 to -1' },
  BYMONTH: { valid: eachOf((month) => wholeNumber(month, 1, 12)), expected: '1-12' },
  BYSETPOS: { valid: eachOf((position) => wholeNumber(position, 1, 366, true)), expected: '1 to 366 or -366 to -1' },
  WKST: { valid: (value) => WEEKDAY.test(value), expected: 'a weekday MO, TU, WE, TH, FR, SA or SU' },
}
const ALLOWED_PARTS = new Set(['FREQ', ...Object.keys(PART_VALUES)])

/** The NAME=VALUE parts of a rule, each once and from the allow-list. Empty parts (a trailing semicolon) are skipped. */
function ruleParts(rule: string): Map<string, string> {
  const parts = new Map<string, string>()
  for (const part of rule.split(';').filter(Boolean)) {
    const match = /^([^=]+)=(.+)$/.exec(part)
    if (!match) throw new BadRequest(SERIES_MSG.rrulePartForm(part.slice(0, 40)))
    const [, name, value] = match as unknown as [string, string, string]
    if (!ALLOWED_PARTS.has(name)) throw new BadRequest(SERIES_MSG.rruleUnknownPart(name.slice(0, 40)))
    if (parts.has(name)) throw new BadRequest(SERIES_MSG.rruleRepeated(name))
    parts.set(name, value)
  }
  return parts
}

/** Each value in its grammar and range; returns FREQ. */
function checkValues(parts: Map<string, string>): string {
  const freq = parts.get('FREQ')
  if (freq === undefined || !FREQUENCIES.has(freq)) throw new BadRequest(SERIES_MSG.rruleFreq)
  for (const [name, value] of parts) {
    const rule = PART_VALUES[name]
    if (rule && !rule.valid(value)) throw new BadRequest(SERIES_MSG.rruleValue(name, rule.expected))
  }
  return freq
}

/** The combinations RFC 5545 forbids, which the libraries would expand in their own way. */
function checkCombinations(parts: Map<string, string>, freq: string): void {
  const hasOrdinal = parts.get('BYDAY')?.split(',').some((entry) => !WEEKDAY.test(entry))
  if (hasOrdinal && freq !== 'MONTHLY' && freq !== 'YEARLY') throw new BadRequest(SERIES_MSG.rruleNotWith('BYDAY ordinals such as 1MO or -1FR', `FREQ=${freq}`))
  if (freq === 'WEEKLY' && parts.has('BYMONTHDAY')) throw new BadRequest(SERIES_MSG.rruleNotWith('BYMONTHDAY', 'FREQ=WEEKLY'))
  if (parts.has('BYSETPOS') && !['BYDAY', 'BYMONTHDAY', 'BYMONTH'].some((name) => parts.has(name))) throw new BadRequest(SERIES_MSG.rruleSetPosAlone)
}

/** Exactly one end: COUNT (at most MAX_OCCURRENCES), UNTIL, or `until` (a term's end), added as UNTIL. */
function setEnd(parts: Map<string, string>, until: Date | undefined): void {
  const hasCount = parts.has('COUNT')
  const hasUntil = parts.has('UNTIL')
  if ((hasCount && hasUntil) || (until && (hasCount || hasUntil))) throw new BadRequest(SERIES_MSG.rruleBothEnds)
  if (until) parts.set('UNTIL', rruleUtc(until))
  else if (!hasCount && !hasUntil) throw new BadRequest(SERIES_MSG.rruleNoEnd)
  if (Number(parts.get('COUNT')) > MAX_OCCURRENCES) throw new BadRequest(SERIES_MSG.tooMany(MAX_OCCURRENCES))
}

/** ical.js's canonical form of a checked rule (FREQ first, numbers without signs or leading zeros, defaults left out). */
function canonical(parts: Map<string, string>): string {
  try {
    return ICAL.Recur.fromString([...parts].map(([name, value]) => `${name}=${value}`).join(';')).toString()
  } catch (error) {
    throw new BadRequest(SERIES_MSG.rruleInvalid(String((error as Error).message).slice(0, 200)))
  }
}

/**
 * The rule as it will be stored: checked part by part (in any case, with or without a leading
 * `RRULE:`), with an end (COUNT or UNTIL, or `until` from a term, added as UNTIL), in ical.js's
 * canonical form. 400 naming the problem otherwise.
 */
export function normalizeRule(raw: unknown, until?: Date): string {
  if (typeof raw !== 'string' || !raw.trim()) throw new BadRequest(SERIES_MSG.rruleRequired)
  if (raw.length > MAX_RRULE_LENGTH) throw new BadRequest(SERIES_MSG.rruleInvalid(`longer than ${MAX_RRULE_LENGTH} characters`))
  const rule = raw.trim().replace(/^RRULE:/i, '')
  // Checked before upper-casing, which turns some other letters into ASCII ones (ı into I).
  const stray = RULE_CHARACTER.exec(rule)?.[0]
  if (stray !== undefined) throw new BadRequest(SERIES_MSG.rruleCharacter(JSON.stringify(stray)))
  const parts = ruleParts(rule.toUpperCase())
  checkCombinations(parts, checkValues(parts))
  setEnd(parts, until)
  return canonical(parts)
}

// ---- expanding a rule ----

/** The wall-clock time of an instant in a zone, held in the UTC fields of a Date: a clock without DST changes. */
function wallClock(instant: Date, timeZone: string): Date {
  const local = localParts(instant, timeZone)
  const seconds = (local.hour * 60 + local.minute) * 60 + local.second
  return new Date(utcMidnight(local.year, local.month, local.day) + seconds * 1000 + instant.getUTCMilliseconds())
}

/**
 * The instant of a wall-clock time (as wallClock holds it) in a zone. A time that the change to
 * summer time skips is read with the offset before the gap (RFC 5545 3.3.5 and 3.3.10), as
 * zonedToUtc does: 02:30 on that night is 03:30.
 */
function instantOf(wall: Date, timeZone: string): Date {
  const seconds = (wall.getUTCHours() * 60 + wall.getUTCMinutes()) * 60 + wall.getUTCSeconds()
  const start = zonedToUtc(wall.getUTCFullYear(), wall.getUTCMonth() + 1, wall.getUTCDate(), seconds, timeZone)
  return new Date(start.getTime() + wall.getUTCMilliseconds())
}

/** The instant of a rule's UNTIL in the UTC form; undefined for none or a date (a date is a wall-clock day already). */
function untilInstant(rule: string): Date | undefined {
  const match = /(?:^|;)UNTIL=(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?=;|$)/.exec(rule)
  if (!match) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number]
  return new Date(utcMidnight(year, month, day) + ((hour * 60 + minute) * 60 + second) * 1000)
}

/**
 * The rule to expand on the wall clock: a UTC UNTIL becomes the wall-clock time of its instant,
 * a day later, because a DST change can put an occurrence before UNTIL at a wall-clock time after
 * UNTIL's; expandRule then cuts at the instant itself.
 */
function onWallClock(rule: string, until: Date | undefined, timeZone: string): string {
  if (!until) return rule
  const wallUntil = new Date(wallClock(until, timeZone).getTime() + DAY_MS)
  return rule.replace(/(^|;)UNTIL=[0-9TZ]+/, `$1UNTIL=${rruleUtc(wallUntil)}`)
}

/** The wall-clock times of the occurrences (at most MAX_OCCURRENCES + 1, to tell that there are too many). */
function wallClockTimes(rule: string, firstWall: Date): Date[] {
  try {
    // rrule-temporal expands from DTSTART in the zone it is given; UTC has no DST change, so no
    // wall-clock time is skipped (in a zone with one it drops an occurrence that falls in the gap).
    const recurrence = new RRuleTemporal({ rruleString: `DTSTART:${rruleUtc(firstWall)}\nRRULE:${rule}` })
    const starts = recurrence.all((_, i) => i <= MAX_OCCURRENCES)
    return starts.map((start) => new Date(start.epochMilliseconds + firstWall.getUTCMilliseconds()))
  } catch (error) {
    throw new BadRequest(SERIES_MSG.rruleInvalid(String((error as Error).message).slice(0, 200)))
  }
}

/**
 * Every occurrence of `rule` (normalized) from the first one (`first`, whose length each
 * occurrence keeps), in `timeZone`: the same wall-clock time each time, an UNTIL in UTC kept
 * exactly (an occurrence at it is in, one after it is out). At most MAX_OCCURRENCES, else 400.
 */
export function expandRule(rule: string, first: Occurrence, timeZone: string): Occurrence[] {
  const firstWall = wallClock(first.start, timeZone)
  const until = untilInstant(rule)
  const starts = wallClockTimes(onWallClock(rule, until, timeZone), firstWall)
    // The first occurrence is the instant asked for, even at a wall-clock time that happens twice.
    .map((wall) => (wall.getTime() === firstWall.getTime() ? first.start : instantOf(wall, timeZone)))
    .filter((start) => !until || start <= until)
  if (starts.length > MAX_OCCURRENCES) throw new BadRequest(SERIES_MSG.tooMany(MAX_OCCURRENCES))
  if (starts.length === 0) throw new BadRequest(SERIES_MSG.none)
  const length = first.end.getTime() - first.start.getTime()
  return starts.map((start) => ({ start, end: new Date(start.getTime() + length) }))
}
