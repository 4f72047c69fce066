/**
 * Time helpers shared by rooms, reservations and admin.
 * - Input instants: ISO 8601; with an offset converted to UTC, without one taken as UTC.
 * - Output instants: the stored instant, ISO 8601 UTC with a trailing Z; milliseconds only when it
 *   has any (2026-11-26T10:00:00Z, 2026-11-26T10:00:00.250Z). Never rounded: a client that books
 *   at a returned instant must get exactly that instant.
 * - Daily booking windows: times of day ("HH:MM") in APP_TIMEZONE, turned into UTC intervals.
 */
import { BadRequest } from './errors'

export const TIME_MSG = { invalid: 'Invalid datetime format. Use ISO 8601.', required: 'datetime value is required' } as const
const INVALID_DATETIME = TIME_MSG.invalid
const DATETIME_REQUIRED = TIME_MSG.required

// date [T|space time[.fraction]] [Z | ±HH[:MM[:SS]] | ±HHMM]
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?)?$/i

/** Why a request's date-time cannot be read: the contract's messages. */
export type TimeProblem = (typeof TIME_MSG)[keyof typeof TIME_MSG]

/**
 * Reads an ISO 8601 date-time from a request: the instant, or the contract's message saying why
 * not (missing, null or blank: required; anything else that is not such a date-time: invalid).
 * The one reader of request instants: the request schemas decode with it (lib/instant-input.ts).
 */
export function readIsoInput(value: unknown): Date | TimeProblem {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return DATETIME_REQUIRED
  if (typeof value !== 'string') return INVALID_DATETIME
  const m = ISO.exec(value.trim())
  if (!m) return INVALID_DATETIME
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m
  const year = Number(y), month = Number(mo), day = Number(d)
  const hour = Number(h), minute = Number(mi), second = Number(s)
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
    return INVALID_DATETIME
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0
  let utc = Date.UTC(year, month - 1, day, hour, minute, second, ms)
  if (year < 100) utc = new Date(utc).setUTCFullYear(year)
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1
    const digits = zone.slice(1).replace(/:/g, '')
    const oh = Number(digits.slice(0, 2)), om = Number(digits.slice(2, 4) || '0'), os = Number(digits.slice(4, 6) || '0')
    if (oh > 23 || om > 59 || os > 59) return INVALID_DATETIME
    utc -= sign * ((oh * 60 + om) * 60 + os) * 1000
  }
  const date = new Date(utc)
  if (Number.isNaN(date.getTime())) return INVALID_DATETIME
  return date
}

/** readIsoInput, throwing 400 with the contract's message. */
export function parseIsoInput(value: unknown): Date {
  const read = readIsoInput(value)
  if (read instanceof Date) return read
  throw new BadRequest(read)
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28
  return [4, 6, 9, 11].includes(month) ? 30 : 31
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

/** ISO 8601 in UTC with a trailing Z, exact to the millisecond: 2026-11-26T10:00:00Z, 2026-11-26T10:00:00.250Z. */
export function formatUtc(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z')
}

/** Like formatUtc for nullable values. */
export function formatUtcOrNull(date: Date | null | undefined): string | null {
  return date ? formatUtc(date) : null
}

// ---- times of day (booking windows) ----

const TIME_OF_DAY = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/

/**
 * A booking-window bound from a request: "HH:MM" (or "HH:MM:SS"), null or "" for none.
 * Returns the database form "HH:MM:SS" or null; undefined stays undefined (field not sent).
 */
export function parseTimeOfDay(value: unknown, field: string): string | null | undefined {
  if (value === undefined) return undefined
  if (value === null || (typeof value === 'string' && value.trim() === '')) return null
  const m = typeof value === 'string' ? TIME_OF_DAY.exec(value.trim()) : null
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59)
    throw new BadRequest(`${field} must be a time of day "HH:MM" or null`)
  return `${m[1]!.padStart(2, '0')}:${m[2]}:${m[3] ?? '00'}`
}

/** The database's "HH:MM:SS" as the contract's "HH:MM" (seconds kept only when not zero). */
export function formatTimeOfDay(value: string | null | undefined): string | null {
  if (!value) return null
  const m = TIME_OF_DAY.exec(value.trim())
  if (!m) return value
  const hhmm = `${m[1]!.padStart(2, '0')}:${m[2]}`
  return m[3] && m[3] !== '00' ? `${hhmm}:${m[3]}` : hhmm
}

/** "HH:MM[:SS]" as seconds since midnight. */
export function secondsOfDay(value: string): number {
  const m = TIME_OF_DAY.exec(value.trim())
  if (!m) throw new Error(`not a time of day: ${value}`)
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0)
}

// ---- time zones ----

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    })
    formatters.set(timeZone, f)
  }
  return f
}

export interface LocalParts { year: number; month: number; day: number; hour: number; minute: number; second: number }

/** Wall-clock fields of an instant in a time zone. */
export function localParts(date: Date, timeZone: string): LocalParts {
  const parts: Record<string, number> = {}
  for (const p of formatter(timeZone).formatToParts(date)) if (p.type !== 'literal') parts[p.type] = Number(p.value)
  return {
    year: parts.year!, month: parts.month!, day: parts.day!,
    hour: parts.hour! % 24, minute: parts.minute!, second: parts.second!,
  }
}

/** Seconds since local midnight of an instant in a time zone. */
export function localSecondsOfDay(date: Date, timeZone: string): number {
  const p = localParts(date, timeZone)
  return p.hour * 3600 + p.minute * 60 + p.second
}

/** Date.UTC of a date's midnight, exact for every year: Date.UTC reads the years 0-99 as 1900-1999. */
export function utcMidnight(year: number, month: number, day: number): number {
  return new Date(0).setUTCFullYear(year, month - 1, day)
}

/** Offset of the zone from UTC at an instant, in milliseconds (local = utc + offset). */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const utc = new Date(Math.floor(utcMs / 1000) * 1000)
  const p = localParts(utc, timeZone)
  // The local date is the UTC date or a day next to it, so its year is the UTC year, or the one
  // after or before it at New Year. Intl's own year is no use before year 1 (it writes "1 BC").
  const monthStep = p.month - 1 - utc.getUTCMonth()
  const year = utc.getUTCFullYear() + (monthStep === -11 ? 1 : monthStep === 11 ? -1 : 0)
  const asUtc = utcMidnight(year, p.month, p.day) + ((p.hour * 60 + p.minute) * 60 + p.second) * 1000
  return asUtc - utc.getTime()
}

/**
 * The UTC instant of a local wall-clock time (`seconds` after midnight of the local date
 * year-month-day, may be 86400 for the next midnight), for every year. In a DST gap the later
 * offset is used.
 */
export function zonedToUtc(year: number, month: number, day: number, seconds: number, timeZone: string): Date {
  const wall = utcMidnight(year, month, day) + seconds * 1000
  let guess = wall - zoneOffsetMs(wall, timeZone)
  const second = wall - zoneOffsetMs(guess, timeZone)
  if (second !== guess) guess = Math.max(guess, second)
  return new Date(guess)
}

export interface Interval { start: Date; end: Date }

/** A room's daily booking window: bounds as "HH:MM[:SS]" local times, null = open on that side. */
export interface DailyWindow { start: string | null; end: string | null }

/** True when the window restricts nothing (no bounds, or it covers the whole day). */
function isUnrestricted(window: DailyWindow): boolean {
  const s = window.start === null ? 0 : secondsOfDay(window.start)
  const e = window.end === null ? 86400 : secondsOfDay(window.end)
  return (s === 0 && (e === 86400 || e === 0)) || (window.start !== null && window.end !== null && s === e)
}

/**
 * The allowed intervals (UTC) of a daily window that touch [from, to): one per local day, from
 * start (default midnight) to end (default the next midnight); an end at or before the start
 * means the window runs past midnight. Touching intervals are merged.
 */
export function windowIntervals(window: DailyWindow, from: Date, to: Date, timeZone: string): Interval[] {
  if (isUnrestricted(window)) return [{ start: from, end: to }]
  const s = window.start === null ? 0 : secondsOfDay(window.start)
  let e = window.end === null ? 86400 : secondsOfDay(window.end)
  if (e <= s) e += 86400
  // Walk local dates from the day before `from` (an overnight window may have started then).
  const first = localParts(from, timeZone)
  let cursor = Date.UTC(first.year, first.month - 1, first.day) - 86400_000
  const out: Interval[] = []
  for (let guard = 0; guard < 4000; guard++) {
    const d = new Date(cursor)
    const y = d.getUTCFullYear(), m = d.getUTCMonth() + 1, day = d.getUTCDate()
    const start = zonedToUtc(y, m, day, s, timeZone)
    if (start >= to) break
    const end = zonedToUtc(y, m, day, e, timeZone)
    if (end > from && end > start) {
      const last = out[out.length - 1]
      if (last && last.end.getTime() >= start.getTime()) { if (end > last.end) last.end = end }
      else out.push({ start, end })
    }
    cursor += 86400_000
  }
  return out
}

/** The parts of `intervals` that also lie in `allowed` (both sorted, non-overlapping). */
export function intersectIntervals(intervals: Interval[], allowed: Interval[]): Interval[] {
  const out: Interval[] = []
  for (const a of intervals) {
    for (const b of allowed) {
      const start = a.start > b.start ? a.start : b.start
      const end = a.end < b.end ? a.end : b.end
      if (start < end) out.push({ start, end })
    }
  }
  return out
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>()

/**
 * The zone's offset at that instant, as printed beside every time on the door pages: "UTC",
 * "UTC+3", "UTC-4", "UTC+5:30". An offset is unambiguous where abbreviations are not (IST, BST),
 * and it says at once how far the page is from the reader's phone.
 */
/** Whether the runtime knows this IANA time zone (APP_TIMEZONE, and the one an admin sets). */
export function isTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0) return false
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value })
    return true
  } catch {
    return false
  }
}

export function zoneLabel(date: Date, timeZone: string): string {
  let f = offsetFormatters.get(timeZone)
  if (!f) offsetFormatters.set(timeZone, (f = new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'shortOffset' })))
  const name = f.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT'
  // Engines differ for a zero offset ("GMT", "GMT+0"): both are plain UTC.
  return name.replace(/^GMT(\+0)?$/, 'UTC').replace(/^GMT/, 'UTC')
}

/** "HH:MM" of an instant in the zone. */
export function clockTime(date: Date, timeZone: string): string {
  const p = localParts(date, timeZone)
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`
}

/** "HH:MM UTC+3": a time a person reads, with its zone. */
export function labelledTime(date: Date, timeZone: string): string {
  return `${clockTime(date, timeZone)} ${zoneLabel(date, timeZone)}`
}
