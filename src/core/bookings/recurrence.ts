/**
 * The occurrences of a series (issue 15). rrule-temporal (decision 020) expands the RFC 5545
 * RRULE from the first occurrence's wall-clock time in the series' time zone, so a 10:00 lesson
 * stays at 10:00 local across a DST change. Here we only decide which parts a series may use,
 * that the rule ends, and how many occurrences it may have.
 */
import { RRuleTemporal } from 'rrule-temporal'
import { BadRequest } from '../../lib/errors'
import { localParts } from '../../lib/time'
import { SERIES_MSG } from './messages'

export const MAX_OCCURRENCES = 200
const MAX_RRULE_LENGTH = 500
const ALLOWED_PARTS = new Set(['FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'BYMONTHDAY', 'BYMONTH', 'BYSETPOS', 'WKST'])
const FREQUENCIES = new Set(['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'])

export interface Occurrence {
  start: Date
  end: Date
}

/** `20261221T225959Z`: an instant in the RRULE's UTC form. */
export function rruleUtc(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')
}

/** `20260907T100000`: the wall-clock time of an instant in a zone, as DTSTART;TZID= wants it. */
function localStamp(date: Date, timeZone: string): string {
  const local = localParts(date, timeZone)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  return `${pad(local.year, 4)}${pad(local.month)}${pad(local.day)}T${pad(local.hour)}${pad(local.minute)}${pad(local.second)}`
}

/**
 * The rule as it will be stored: upper case, without a leading `RRULE:`, only known parts, with an
 * end (COUNT or UNTIL, or `until` from a term, added as UNTIL). 400 naming the problem otherwise.
 */
export function normalizeRule(raw: unknown, until?: Date): string {
  if (typeof raw !== 'string' || !raw.trim()) throw new BadRequest(SERIES_MSG.rruleRequired)
  if (raw.length > MAX_RRULE_LENGTH) throw new BadRequest(SERIES_MSG.rruleInvalid(`longer than ${MAX_RRULE_LENGTH} characters`))
  const rule = raw.trim().replace(/^RRULE:/i, '').toUpperCase()
  const names = rule.split(';').filter(Boolean).map((part) => part.split('=')[0]!)
  const unknown = names.find((name) => !ALLOWED_PARTS.has(name))
  if (unknown !== undefined) throw new BadRequest(SERIES_MSG.rruleUnknownPart(unknown.slice(0, 40)))
  const freq = /(?:^|;)FREQ=([A-Z]+)/.exec(rule)?.[1]
  if (!freq || !FREQUENCIES.has(freq)) throw new BadRequest(SERIES_MSG.rruleFreq)
  const hasCount = names.includes('COUNT')
  const hasUntil = names.includes('UNTIL')
  if ((hasCount && hasUntil) || (until && (hasCount || hasUntil))) throw new BadRequest(SERIES_MSG.rruleBothEnds)
  if (until) return `${rule};UNTIL=${rruleUtc(until)}`
  if (!hasCount && !hasUntil) throw new BadRequest(SERIES_MSG.rruleNoEnd)
  return rule
}

/**
 * Every occurrence of `rule` (normalized) from the first one (`first`, whose length each
 * occurrence keeps), in `timeZone`. At most MAX_OCCURRENCES, else 400.
 */
export function expandRule(rule: string, first: Occurrence, timeZone: string): Occurrence[] {
  let starts: { epochMilliseconds: number }[]
  try {
    const recurrence = new RRuleTemporal({ rruleString: `DTSTART;TZID=${timeZone}:${localStamp(first.start, timeZone)}\nRRULE:${rule}` })
    starts = recurrence.all((_, i) => i <= MAX_OCCURRENCES)
  } catch (error) {
    throw new BadRequest(SERIES_MSG.rruleInvalid(String((error as Error).message).slice(0, 200)))
  }
  if (starts.length > MAX_OCCURRENCES) throw new BadRequest(SERIES_MSG.tooMany(MAX_OCCURRENCES))
  if (starts.length === 0) throw new BadRequest(SERIES_MSG.none)
  const length = first.end.getTime() - first.start.getTime()
  return starts.map((s) => ({ start: new Date(s.epochMilliseconds), end: new Date(s.epochMilliseconds + length) }))
}
