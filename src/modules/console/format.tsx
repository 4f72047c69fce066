/** Instants as a person in the rooms' zone reads them, in the viewer's language (decision 029). */
import type { Lang } from '../../lib/i18n'
import type { PageEnv } from './kit'

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
