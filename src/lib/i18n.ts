/**
 * The languages people read QRBOOK in: Russian and English (issue 26, decision 030).
 *
 * Which one a request gets is decided once, from its Accept-Language header; English when it
 * names neither, so a client that sends no header (the original frontend, the contract suite)
 * reads exactly the original's English.
 *
 * The code throws its messages in English, as the original did and as the API document lists
 * them (route `errors:`); the answer is translated at the edge (plugins/errors.ts). The catalogue
 * (catalogue.ts) pairs each English message, written as a pattern with its variable parts named
 * (`weekly limit reached: {used, number} of {max, number} hours used`), with its Russian ICU
 * MessageFormat (intl-messageformat: plural forms by Intl.PluralRules, 1 час / 2 часа / 5 часов).
 * The pattern finds the message and its values; a value's kind says how it is read back
 * (a number, a duration in minutes as "1 h 30 min", an instant in UTC) and shown in Russian (an
 * instant in the rooms' time zone). A throw site may add values the English text does not show
 * (HttpError.params), such as the hour a booking window ends.
 */
import { IntlMessageFormat } from 'intl-messageformat'
import { CATALOGUE } from './catalogue'

export type Lang = 'en' | 'ru'

/** The best of en/ru for an Accept-Language header (q-values honoured, ties to the first named); English by default. */
export function pickLanguage(header: string | null | undefined): Lang {
  let best: { lang: Lang; q: number } | undefined
  for (const part of (header ?? '').split(',')) {
    const [tag, ...params] = part.trim().toLowerCase().split(';')
    const lang = tag?.startsWith('ru') ? 'ru' : tag?.startsWith('en') ? 'en' : undefined
    if (!lang) continue
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const q = qParam ? Number(qParam.slice(2)) : 1
    if (!Number.isFinite(q) || q <= 0) continue
    if (!best || q > best.q) best = { lang, q }
  }
  return best?.lang ?? 'en'
}

/** The language a request asks for (its Accept-Language header). */
export const requestLanguage = (request: Request): Lang => pickLanguage(request.headers.get('accept-language'))

/** The language a request names (Russian or English), or undefined when its Accept-Language names neither. */
export function explicitLanguage(request: Request): Lang | undefined {
  const header = request.headers.get('accept-language')
  return header && /(^|,)\s*(ru|en)\b/i.test(header) ? pickLanguage(header) : undefined
}

/** How a variable part of an English message is recognised, and what value it stands for. */
const KINDS = {
  text: { pattern: '(.+?)', read: (s: string) => s },
  number: { pattern: '(-?\\d+(?:\\.\\d+)?|<[^>]+>)', read: (s: string) => (s.startsWith('<') ? s : Number(s)) },
  // minutesInWords (bookings/messages.ts): "4 h", "1 h 30 min", "45 min"
  duration: {
    pattern: '(\\d+ h \\d+ min|\\d+ h|\\d+ min|<[^>]+>)',
    read: (s: string) => {
      if (s.startsWith('<')) return s
      const h = /(\d+) h/.exec(s)
      const m = /(\d+) min/.exec(s)
      return { minutes: Number(h?.[1] ?? 0) * 60 + Number(m?.[1] ?? 0) }
    },
  },
  instant: { pattern: '(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d(?::\\d\\d)?Z|<[^>]+>)', read: (s: string) => (s.startsWith('<') ? s : new Date(s)) },
} as const
type Kind = keyof typeof KINDS

interface Compiled {
  /** the English pattern it was compiled from */
  en: string
  regex: RegExp
  names: { name: string; kind: Kind }[]
  ru: IntlMessageFormat
  /** every argument the Russian pattern names (one a throw site did not give is 'none': a select's generic branch) */
  ruArguments: string[]
  /** literal characters: the most specific pattern wins when two match */
  weight: number
}

const PLACEHOLDER = /\{(\w+)(?:, (\w+))?\}/g
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function compile(en: string, ru: string): Compiled {
  const names: Compiled['names'] = []
  let source = ''
  let last = 0
  let weight = 0
  for (const match of en.matchAll(PLACEHOLDER)) {
    const literal = en.slice(last, match.index)
    source += escapeRegex(literal)
    weight += literal.length
    const kind = (match[2] ?? 'text') as Kind
    if (!(kind in KINDS)) throw new Error(`catalogue: unknown kind ${kind} in "${en}"`)
    names.push({ name: match[1]!, kind })
    source += KINDS[kind].pattern
    last = match.index! + match[0].length
  }
  source += escapeRegex(en.slice(last))
  weight += en.length - last
  const format = new IntlMessageFormat(ru, 'ru')
  return { en, regex: new RegExp(`^${source}$`, 's'), names, ru: format, ruArguments: [...argumentsOf(format.getAst())], weight }
}

/** The argument names of a parsed ICU message, nested ones (inside select and plural) included. */
function argumentsOf(elements: ReturnType<IntlMessageFormat['getAst']>, into = new Set<string>()): Set<string> {
  for (const element of elements) {
    if ('value' in element && typeof element.value === 'string' && element.type !== 0 /* literal */) into.add(element.value)
    if ('options' in element) for (const option of Object.values(element.options)) argumentsOf((option as { value: typeof elements }).value, into)
  }
  return into
}

let compiled: { exact: Map<string, Compiled>; patterns: Compiled[] } | undefined
function catalogue() {
  if (compiled) return compiled
  const exact = new Map<string, Compiled>()
  const patterns: Compiled[] = []
  for (const [en, ru] of Object.entries(CATALOGUE)) {
    const entry = compile(en, ru)
    if (entry.names.length === 0) exact.set(en, entry)
    else patterns.push(entry)
  }
  patterns.sort((a, b) => b.weight - a.weight)
  return (compiled = { exact, patterns })
}

/** The catalogue entry of an English message and the values it carries, or undefined. */
function lookup(message: string): { entry: Compiled; values: Record<string, unknown> } | undefined {
  const { exact, patterns } = catalogue()
  const found = exact.get(message)
  if (found) return { entry: found, values: {} }
  for (const entry of patterns) {
    const match = entry.regex.exec(message)
    if (!match) continue
    const values: Record<string, unknown> = {}
    entry.names.forEach(({ name, kind }, i) => { values[name] = KINDS[kind].read(match[i + 1]!) })
    return { entry, values }
  }
  return undefined
}

/** The catalogue's English pattern that an English message is translated by, if any (the catalogue test asks it of every documented message). */
export const catalogueEntryOf = (message: string): string | undefined => lookup(message)?.entry.en

/** "4 ч", "1 ч 30 мин", "45 мин" */
function durationRu(minutes: number): string {
  const h = Math.floor(minutes / 60)
  const m = Math.round(minutes % 60)
  if (h === 0) return `${m} мин`
  return m === 0 ? `${h} ч` : `${h} ч ${m} мин`
}

/** An instant as a person in the rooms' zone reads it: "19:00" today, "10.12 19:00" another day. */
function instantRu(at: Date, timeZone: string, now: Date): string {
  const day = (d: Date) => new Intl.DateTimeFormat('ru-RU', { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' }).format(d)
  const time = new Intl.DateTimeFormat('ru-RU', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at)
  if (day(at) === day(now)) return time
  const date = new Intl.DateTimeFormat('ru-RU', { timeZone, day: '2-digit', month: '2-digit' }).format(at)
  return `${date} ${time}`
}

export interface TranslateOptions {
  /** the rooms' time zone (APP_TIMEZONE): instants are shown in it */
  timeZone: string
  /** now, from the injected clock: an instant today is shown without its date */
  now: Date
  /** values the throw site adds beyond those in the English text */
  params?: Record<string, unknown>
}

/**
 * The message in `lang`: English as it is; Russian from the catalogue, or the English text when
 * the catalogue does not know it (the catalogue test keeps that from happening to any message
 * the API documents).
 */
export function translate(message: string, lang: Lang, options: TranslateOptions): string {
  if (lang === 'en') return message
  const found = lookup(message)
  if (!found) return message
  const values: Record<string, unknown> = { ...Object.fromEntries(found.entry.ruArguments.map((name) => [name, 'none'])), ...found.values, ...options.params }
  const from = values.from
  for (const [name, value] of Object.entries(values)) {
    // the end of a range (`to`) is shown without its date when it is the day of its start: "05.09 10:00–11:30"
    if (value instanceof Date) values[name] = instantRu(value, options.timeZone, name === 'to' && from instanceof Date ? from : options.now)
    else if (value && typeof value === 'object' && 'minutes' in value) values[name] = durationRu((value as { minutes: number }).minutes)
  }
  try {
    return String(found.entry.ru.format(values as Record<string, string | number>))
  } catch {
    // a value the Russian pattern cannot take (a placeholder such as "<n>" where a plural needs a number)
    return message
  }
}
