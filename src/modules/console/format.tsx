/** Instants as a person in the rooms' zone reads them, in the viewer's language (decision 029). */
import type { Lang } from '../../lib/i18n'
import { localParts, zonedToUtc } from '../../lib/time'
import type { PageEnv } from './env'

const formats = new Map<string, Intl.DateTimeFormat>()
function formatter(lang: Lang, timeZone: string, kind: 'datetime' | 'date' | 'time' | 'weekday'): Intl.DateTimeFormat {
  const key = `${lang}|${timeZone}|${kind}`
  let f = formats.get(key)
  if (!f) {
    const options: Intl.DateTimeFormatOptions = kind === 'datetime' ? { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : kind === 'date' ? { day: '2-digit', month: '2-digit', year: 'numeric' }
      : kind === 'time' ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
      : { weekday: 'short', day: '2-digit', month: '2-digit' }
    formats.set(key, (f = new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { timeZone, ...options })))
  }
  return f
}

export function formatInstant(date: Date, env: Pick<PageEnv, 'lang' | 'timeZone'>, kind: 'datetime' | 'date' | 'time' | 'weekday' = 'datetime'): string {
  return formatter(env.lang, env.timeZone, kind).format(date)
}

/** A <time> whose text is the local time and whose datetime is the exact instant. */
export function When(props: { date: Date | null | undefined; env: Pick<PageEnv, 'lang' | 'timeZone'>; kind?: 'datetime' | 'date' | 'time' | 'weekday' }) {
  if (!props.date) return <span>—</span>
  return <time datetime={props.date.toISOString()} safe>{formatInstant(props.date, props.env, props.kind)}</time>
}

/** "14:00–15:30" (or with dates where they differ). */
export function span(start: Date, end: Date, env: Pick<PageEnv, 'lang' | 'timeZone'>): string {
  const sameDay = formatInstant(start, env, 'date') === formatInstant(end, env, 'date')
  return `${formatInstant(start, env)}–${formatInstant(end, env, sameDay ? 'time' : 'datetime')}`
}

/**
 * The instant a `<input type="datetime-local">` value ("2026-12-07T09:30") means in the rooms'
 * zone, or null when it is not such a value. (`type="date"` values, "2026-12-07", are midnight.)
 */
export function parseLocalInput(value: unknown, timeZone: string): Date | null {
  if (typeof value !== 'string') return null
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/.exec(value.trim())
  if (!m) return null
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0'].map(Number) as [number, number, number, number, number]
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return null
  return zonedToUtc(year, month, day, hour * 3600 + minute * 60, timeZone)
}

/** The value for a `<input type="datetime-local">` showing the instant in the zone. */
export function localInputValue(date: Date, timeZone: string): string {
  const p = localParts(date, timeZone)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}`
}
