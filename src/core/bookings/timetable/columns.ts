/**
 * A timetable file's header and cells as a Russian college's spreadsheet writes them (issue 26):
 * the columns named in English or in Russian, cells separated by `;` (Russian Excel's CSV), `,`
 * or a tab (Excel's "Unicode text"), dates `YYYY-MM-DD` or `DD.MM.YYYY`.
 */
import { parseDate } from './terms'

/** The columns every row needs (title is optional). */
export const REQUIRED = ['room', 'teacher', 'weekday', 'start', 'end', 'from', 'until'] as const
export type Column = (typeof REQUIRED)[number] | 'title'

/** The Russian name of each column, as a college's own timetable heads it. */
const RUSSIAN_NAMES: Record<string, Column> = {
  аудитория: 'room', преподаватель: 'teacher', день: 'weekday', начало: 'start', конец: 'end', с: 'from', по: 'until', название: 'title',
}

/** A header cell as the column it names ('аудитория' is 'room'), else as its own trimmed lower-case text. */
export function columnOf(cell: string): string {
  const name = cell.trim().replace(/^"(.*)"$/, '$1').trim().toLowerCase()
  return RUSSIAN_NAMES[name] ?? name
}

const DELIMITERS = [';', ',', '\t'] as const

/**
 * The delimiter the header line uses: the one it holds most of. Sniffed rather than accepting all of
 * them at once, so that a comma inside a `;`-separated title ("Алгебра, практика") stays in it.
 */
export function delimiterOf(headerLine: string): string {
  let best: string = ','
  let most = 0
  for (const delimiter of DELIMITERS) {
    const count = headerLine.split(delimiter).length - 1
    if (count > most) [best, most] = [delimiter, count]
  }
  return best
}

/** The first line of a text (without a BOM), at most 2,000 characters of it: where the header is. */
export function headerLineOf(text: string): string {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const end = text.indexOf('\n', start)
  return text.slice(start, end < 0 ? text.length : end).replace(/\r$/, '').slice(0, 2000)
}

/** Whether a header line names every required column (in English or Russian). */
export function namesEveryColumn(headerLine: string): boolean {
  const names = new Set(headerLine.split(delimiterOf(headerLine)).map(columnOf))
  return REQUIRED.every((column) => names.has(column))
}

/** Russian Excel's date: 02.09.2030 (a day or month of one digit too). */
const DOTTED_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/

/** A date cell as "YYYY-MM-DD" if it is `YYYY-MM-DD` or `DD.MM.YYYY` and exists; else undefined. */
export function fileDate(cell: string | undefined): string | undefined {
  const value = (cell ?? '').trim()
  const dotted = DOTTED_DATE.exec(value)
  const iso = dotted ? `${dotted[3]}-${dotted[2]!.padStart(2, '0')}-${dotted[1]!.padStart(2, '0')}` : value
  try {
    return parseDate(iso, 'date')
  } catch {
    return undefined
  }
}
