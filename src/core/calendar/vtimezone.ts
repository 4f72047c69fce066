/**
 * A VTIMEZONE (RFC 5545 3.6.5) for an IANA zone, written from the runtime's own zone data (Intl):
 * ical-generator has no zone database and asks for a generator (its README names
 * @touch4it/ical-timezones, which is not a dependency here). Each offset change in the years the
 * calendar spans is one observance with its own DTSTART (no RRULE), preceded by the offset in force
 * when that span starts; so a zone without DST (Europe/Moscow) is a single STANDARD observance.
 */
import { localParts, utcMidnight } from '../../lib/time'

const DAY_MS = 86_400_000

/** The zone's offset from UTC at an instant, in milliseconds (local = utc + offset). */
function offsetAt(ms: number, timeZone: string): number {
  const at = Math.floor(ms / 1000) * 1000
  const p = localParts(new Date(at), timeZone)
  return utcMidnight(p.year, p.month, p.day) + ((p.hour * 60 + p.minute) * 60 + p.second) * 1000 - at
}

/** The first instant (to the second) in (from, to] whose offset differs from the one at `from`. */
function transitionIn(from: number, to: number, timeZone: string): number {
  const before = offsetAt(from, timeZone)
  let low = from
  let high = to
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000
    if (offsetAt(middle, timeZone) === before) low = middle
    else high = middle
  }
  return high
}

/** `+0300`, `-0430` */
function offsetText(offsetMs: number): string {
  const minutes = Math.round(Math.abs(offsetMs) / 60_000)
  return `${offsetMs < 0 ? '-' : '+'}${String(Math.floor(minutes / 60)).padStart(2, '0')}${String(minutes % 60).padStart(2, '0')}`
}

/** The local date-time of an instant at an offset, as an iCalendar DATE-TIME without zone. */
function localText(ms: number, offsetMs: number): string {
  return new Date(ms + offsetMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '')
}

/** Daylight time: the larger of a year's two offsets where its January and July differ. */
function isDaylight(ms: number, offset: number, timeZone: string): boolean {
  const year = new Date(ms).getUTCFullYear()
  const winter = offsetAt(utcMidnight(year, 1, 1), timeZone)
  const summer = offsetAt(utcMidnight(year, 7, 1), timeZone)
  return winter !== summer && offset === Math.max(winter, summer)
}

function observance(ms: number, from: number, to: number, timeZone: string): string {
  const kind = isDaylight(ms + 1000, to, timeZone) ? 'DAYLIGHT' : 'STANDARD'
  return [`BEGIN:${kind}`, `DTSTART:${localText(ms, from)}`, `TZOFFSETFROM:${offsetText(from)}`, `TZOFFSETTO:${offsetText(to)}`, `END:${kind}`].join('\r\n')
}

const cache = new Map<string, string>()

/**
 * The VTIMEZONE of `timeZone` with every offset change from January 1 of `fromYear` to the end of
 * `toYear`, cached by those three.
 */
export function vtimezone(timeZone: string, fromYear: number, toYear: number): string {
  const key = `${timeZone}|${fromYear}|${toYear}`
  const cached = cache.get(key)
  if (cached !== undefined) return cached
  const start = utcMidnight(fromYear, 1, 1)
  const end = utcMidnight(toYear + 1, 1, 1)
  const first = offsetAt(start, timeZone)
  const parts = [observance(start, first, first, timeZone)]
  let previous = first
  for (let day = start; day < end; day += DAY_MS) {
    const next = offsetAt(day + DAY_MS, timeZone)
    if (next === previous) continue
    const at = transitionIn(day, day + DAY_MS, timeZone)
    parts.push(observance(at, previous, next, timeZone))
    previous = next
  }
  const text = ['BEGIN:VTIMEZONE', `TZID:${timeZone}`, ...parts, 'END:VTIMEZONE'].join('\r\n')
  if (cache.size > 200) cache.clear()
  cache.set(key, text)
  return text
}
