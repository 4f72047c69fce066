/**
 * A timetable import's plan (timetable-import.ts), the CPU part of it: the CSV read, each row
 * checked and expanded into its lessons by the same code as POST /series (series.ts:
 * parseSeriesRequest, checkedOccurrences, conflictOf), and each lesson's conflict with the bookings
 * and closures of its room and with the file's earlier rows. No database: it runs in a worker
 * thread (timetable-plan.worker.ts), so expanding 5,000 rows (85,000 lessons, seconds of CPU)
 * never holds the event loop every request shares (issue 24).
 */
import { parse } from 'csv-parse/sync'
import type { Room, UserRole } from '../../../db/schema'
import { HttpError } from '../../../lib/errors'
import { formatUtc, parseTimeOfDay, secondsOfDay, zonedToUtc } from '../../../lib/time'
import { IMPORT_MSG } from '../messages'
import { rruleUtc, type Occurrence } from './recurrence'
import type { ActingUser, ReservationDeps } from '../reservations/writes'
import { checkedOccurrences, conflictOf, parseSeriesRequest, type RoomHolders, type SeriesConflict } from './series'
import { parseDate } from './terms'

const MAX_ROWS = 5000
const REQUIRED = ['room', 'teacher', 'weekday', 'start', 'end', 'from', 'until'] as const
const BYDAY = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const
const WEEKDAYS: Record<string, number> = {}
for (const [i, names] of [
  ['1', 'mon', 'monday', 'mo', 'пн', 'понедельник'], ['2', 'tue', 'tuesday', 'tu', 'вт', 'вторник'], ['3', 'wed', 'wednesday', 'we', 'ср', 'среда'],
  ['4', 'thu', 'thursday', 'th', 'чт', 'четверг'], ['5', 'fri', 'friday', 'fr', 'пт', 'пятница'], ['6', 'sat', 'saturday', 'sa', 'сб', 'суббота'],
  ['7', 'sun', 'sunday', 'su', 'вс', 'воскресенье'],
].entries()) for (const name of names) WEEKDAYS[name] = i + 1

type Row = Partial<Record<(typeof REQUIRED)[number] | 'title', string>>

interface ImportRowReport {
  line: number
  room: string
  teacher: string
  weekday: string
  start: string
  end: string
  from: string
  until: string
  title: string | null
  rrule: string | null
  series_id: number | null
  occurrences: number
  created: number
  conflicts: ({ start_time: string; end_time: string } & ImportConflict)[]
  errors: string[]
}

export interface ImportReport {
  dry_run: boolean
  skip_conflicts: boolean
  totals: { rows: number; series: number; occurrences: number; created: number; conflicts: number; errors: number }
  rows: ImportRowReport[]
}

/** A lesson's conflict in the report: a booking or closure of its room, or an earlier row of the file. */
type ImportConflict = SeriesConflict | { kind: 'row'; id: null; line: number; msg: string }

/**
 * Whether the file's first line can be the header at all (it names every required column): a
 * cheap look before a worker thread is started for the file. The parser decides the rest.
 */
export function mayHaveHeader(text: string): boolean {
  const firstLine = text.slice(0, Math.max(0, text.indexOf('\n')) || text.length).slice(0, 2000).toLowerCase()
  return REQUIRED.every((column) => firstLine.includes(column))
}

/** The file's rows with their line numbers. */
function readCsv(text: string): { line: number; row: Row }[] {
  let records: { record: Row; info: { lines: number } }[]
  try {
    records = parse(text, {
      columns: (header: string[]) => {
        const names = header.map((c) => c.trim().toLowerCase())
        if (REQUIRED.some((c) => !names.includes(c))) throw new HttpError(400, IMPORT_MSG.header)
        return names
      },
      delimiter: [',', ';'], bom: true, trim: true, skip_empty_lines: true, info: true, relax_column_count: true,
    })
  } catch (error) {
    if (error instanceof HttpError) throw error
    throw new HttpError(400, IMPORT_MSG.badCsv(String((error as Error).message).slice(0, 200)))
  }
  if (records.length > MAX_ROWS) throw new HttpError(400, IMPORT_MSG.tooManyRows(MAX_ROWS))
  return records.map((r) => ({ line: r.info.lines, row: r.record }))
}

/** A date plus days, as "YYYY-MM-DD" parts. */
function addDays(date: string, days: number): { y: number; m: number; d: number; weekday: number } {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const t = new Date(Date.UTC(y, m - 1, d) + days * 24 * 3600_000)
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), weekday: ((t.getUTCDay() + 6) % 7) + 1 }
}

/** The rooms and users a file may name, as read from the database (timetable-import.ts). */
export interface LookupRows {
  rooms: Room[]
  users: { id: number; name: string; role: UserRole; teacherPending: boolean }[]
}

interface Lookup {
  rooms: Map<string, Room>
  users: Map<string, LookupRows['users'][number]>
}

/** Exact names first; a case-insensitive match only where it is unambiguous. */
function byName<T extends { name: string }>(list: T[]): Map<string, T> {
  const map = new Map<string, T>()
  const folded = new Map<string, T | null>()
  for (const item of list) {
    map.set(item.name, item)
    const key = item.name.toLowerCase()
    folded.set(key, folded.has(key) ? null : item)
  }
  for (const [key, item] of folded) if (item && !map.has(key)) map.set(key, item)
  return map
}

const find = <T>(map: Map<string, T>, name: string) => map.get(name) ?? map.get(name.toLowerCase())

/** The longest title a lesson may have (the column's length, in characters). */
const MAX_TITLE = 200

/** One row as a series request, or its errors. */
function seriesRequest(row: Row, lookup: Lookup, timeZone: string) {
  const errors: string[] = []
  const room = row.room ? find(lookup.rooms, row.room) : undefined
  if (room === undefined) errors.push(IMPORT_MSG.unknownRoom(row.room ?? ''))
  const teacher = row.teacher ? find(lookup.users, row.teacher) : undefined
  if (!teacher) errors.push(IMPORT_MSG.unknownTeacher(row.teacher ?? ''))
  else if (teacher.role === 'student') errors.push(IMPORT_MSG.notTeacher(teacher.name))
  // A teacher account not yet approved is a student's until an admin says otherwise (decision 021).
  else if (teacher.role === 'teacher' && teacher.teacherPending) errors.push(IMPORT_MSG.pendingTeacher(teacher.name))
  if (row.title && [...row.title].length > MAX_TITLE) errors.push(IMPORT_MSG.titleTooLong(MAX_TITLE))
  const weekday = WEEKDAYS[(row.weekday ?? '').trim().toLowerCase()]
  if (weekday === undefined) errors.push(IMPORT_MSG.badWeekday(row.weekday ?? ''))
  const time = (value: string | undefined, field: string) => {
    try {
      const parsed = parseTimeOfDay(value, field)
      if (parsed) return secondsOfDay(parsed)
    } catch {}
    errors.push(IMPORT_MSG.badTime(field))
    return undefined
  }
  const start = time(row.start, 'start')
  const end = time(row.end, 'end')
  const date = (value: string | undefined, field: string) => {
    try {
      return parseDate(value, field)
    } catch (error) {
      errors.push((error as Error).message)
      return undefined
    }
  }
  const from = date(row.from, 'from')
  const until = date(row.until, 'until')
  if (errors.length) return { errors }
  // The first lesson: the first `weekday` on or after `from`.
  const first = addDays(from!, (weekday! - addDays(from!, 0).weekday + 7) % 7)
  const last = addDays(until!, 1)
  const firstStart = zonedToUtc(first.y, first.m, first.d, start!, timeZone)
  const firstEnd = zonedToUtc(first.y, first.m, first.d, end!, timeZone)
  const untilInstant = new Date(zonedToUtc(last.y, last.m, last.d, 0, timeZone).getTime() - 1000)
  if (firstStart > untilInstant) return { errors: [IMPORT_MSG.noLesson] }
  return {
    errors,
    room: room!,
    owner: { id: teacher!.id, name: teacher!.name },
    request: {
      start_time: firstStart.toISOString(), end_time: firstEnd.toISOString(),
      rrule: `FREQ=WEEKLY;BYDAY=${BYDAY[weekday! - 1]};UNTIL=${rruleUtc(untilInstant)}`,
    },
    title: row.title?.trim() || null,
  }
}

interface PlannedLesson extends Occurrence {
  conflict: ImportConflict | null
}

interface PlannedRow {
  entry: ImportRowReport
  plan?: { room: Room; owner: { id: number; name: string }; rule: string; title: string | null; lessons: PlannedLesson[] }
}

/** Every row checked and expanded (its errors in its entry). */
function planRows(deps: PlanDeps, actor: ActingUser, rows: { line: number; row: Row }[], lookup: Lookup): PlannedRow[] {
  return rows.map(({ line, row }) => {
    const entry: ImportRowReport = {
      line, room: row.room ?? '', teacher: row.teacher ?? '', weekday: row.weekday ?? '', start: row.start ?? '', end: row.end ?? '',
      from: row.from ?? '', until: row.until ?? '', title: row.title || null, rrule: null, series_id: null,
      occurrences: 0, created: 0, conflicts: [], errors: [],
    }
    const request = seriesRequest(row, lookup, deps.config.appTimezone)
    entry.errors.push(...request.errors)
    if (!request.request) return { entry }
    try {
      const { start, end, rule } = parseSeriesRequest(request.request)
      entry.rrule = rule
      const lessons = checkedOccurrences(deps as ReservationDeps, actor, request.room, { start, end }, rule)
      return { entry, plan: { room: request.room, owner: request.owner, rule, title: request.title, lessons: lessons.map((o) => ({ ...o, conflict: null })) } }
    } catch (error) {
      if (!(error instanceof HttpError)) throw error
      entry.errors.push(error.message)
      return { entry }
    }
  })
}

/** The first interval of a start-sorted list of disjoint intervals that overlaps [start, end), by binary search. */
function overlapping<T extends { start: Date; end: Date }>(sorted: T[], start: Date, end: Date): T | undefined {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]!.end <= start) lo = mid + 1
    else hi = mid
  }
  const candidate = sorted[lo]
  return candidate && candidate.start < end ? candidate : undefined
}

/**
 * Each lesson's conflict, in the file's order: a closure or booking of its room (conflictOf, as
 * for POST /series), else a lesson of an earlier row that is created. Rewritten on every call.
 */
function assignConflicts(planned: PlannedRow[], holders: Map<number, RoomHolders>): void {
  const accepted = new Map<number, { start: Date; end: Date; line: number }[]>()
  for (const { entry, plan } of planned) {
    if (!plan) continue
    const room = holders.get(plan.room.id) ?? { booked: [], closed: [] }
    const taken = accepted.get(plan.room.id) ?? []
    accepted.set(plan.room.id, taken)
    for (const o of plan.lessons) {
      // As for POST /series (conflictOf: a closure first, then a booking); of the room's bookings,
      // only the one a binary search finds overlapping is handed over, not the whole term's.
      const booking = overlapping(room.booked, o.start, o.end)
      const existing: ImportConflict | null = conflictOf(o, { booked: booking ? [booking] : [], closed: room.closed })
      const earlier = existing ? undefined : overlapping(taken, o.start, o.end)
      o.conflict = existing ?? (earlier ? { kind: 'row', id: null, line: earlier.line, msg: IMPORT_MSG.earlierRow(earlier.line) } : null)
      if (!o.conflict) taken.splice(insertionIndex(taken, o.start), 0, { start: o.start, end: o.end, line: entry.line })
    }
  }
}

function insertionIndex(sorted: { start: Date }[], start: Date): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]!.start < start) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The report's numbers from the plans and their conflicts as they stand. */
function fillReport(report: ImportReport, planned: PlannedRow[]): void {
  report.rows = planned.map((p) => p.entry)
  report.totals = { rows: planned.length, series: 0, occurrences: 0, created: 0, conflicts: 0, errors: 0 }
  for (const { entry, plan } of planned) {
    if (plan) {
      const conflicting = plan.lessons.filter((o) => o.conflict)
      entry.occurrences = plan.lessons.length
      entry.created = plan.lessons.length - conflicting.length
      entry.conflicts = conflicting.map((o) => ({ start_time: formatUtc(o.start), end_time: formatUtc(o.end), ...o.conflict! }))
      report.totals.series++
    }
    report.totals.occurrences += entry.occurrences
    report.totals.created += entry.created
    report.totals.conflicts += entry.conflicts.length
    report.totals.errors += entry.errors.length
  }
}

/** What the plan needs of the app: its time zone, booking limits and "now" (the worker's clock is the request's). */
type PlanDeps = Pick<ReservationDeps, 'clock'> & { config: Pick<ReservationDeps['config'], 'appTimezone' | 'bookingHorizonDays' | 'studentMaxBookingHours'> }

/** What the planner is given, once (structured-cloned into the worker). */
export interface PlanInput {
  text: string
  lookup: LookupRows
  config: PlanDeps['config']
  now: Date
  actor: ActingUser
  dryRun: boolean
  skipConflicts: boolean
}

/** The rooms and the time the file's lessons cover: what to read their bookings and closures for. */
export interface PlanSpan {
  roomIds: number[]
  from: Date
  to: Date
}

/**
 * A row's series as the writer needs it: lessons as [start, end] epoch milliseconds (a transferable
 * array: 85,000 of them cost the event loop nothing to receive) and which of them conflict.
 */
export interface WritableRow {
  line: number
  roomId: number
  owner: { id: number; name: string }
  rule: string
  title: string | null
  lessons: Float64Array
  conflicting: Uint8Array
}

/** One file's plan: read and expanded once, its conflicts assigned against the holders given each time. */
export class TimetablePlanner {
  private readonly planned: PlannedRow[]
  private readonly report: ImportReport

  constructor(input: PlanInput) {
    const deps: PlanDeps = { config: input.config, clock: { now: () => input.now } }
    const lookup: Lookup = { rooms: byName(input.lookup.rooms), users: byName(input.lookup.users) }
    const rows = readCsv(input.text)
    this.planned = planRows(deps, input.actor, rows, lookup)
    this.report = {
      dry_run: input.dryRun, skip_conflicts: input.skipConflicts,
      totals: { rows: rows.length, series: 0, occurrences: 0, created: 0, conflicts: 0, errors: 0 }, rows: [],
    }
  }

  span(): PlanSpan | null {
    const plans = this.planned.flatMap((p) => (p.plan ? [p.plan] : []))
    if (plans.length === 0) return null
    return {
      roomIds: [...new Set(plans.map((p) => p.room.id))].sort((a, b) => a - b),
      from: new Date(Math.min(...plans.map((p) => p.lessons[0]!.start.getTime()))),
      to: new Date(Math.max(...plans.map((p) => p.lessons[p.lessons.length - 1]!.end.getTime()))),
    }
  }

  /** The conflicts these holders give: the report's totals and, to write them, the writable rows. */
  assign(holders: Map<number, RoomHolders>, writable: boolean): { totals: ImportReport['totals']; rows: WritableRow[] } {
    assignConflicts(this.planned, holders)
    fillReport(this.report, this.planned)
    const rows = this.planned.flatMap(({ entry, plan }): WritableRow[] => {
      if (!plan || !writable) return []
      const lessons = new Float64Array(plan.lessons.length * 2)
      const conflicting = new Uint8Array(plan.lessons.length)
      plan.lessons.forEach((o, i) => {
        lessons[2 * i] = o.start.getTime()
        lessons[2 * i + 1] = o.end.getTime()
        conflicting[i] = o.conflict ? 1 : 0
      })
      return [{ line: entry.line, roomId: plan.room.id, owner: plan.owner, rule: plan.rule, title: plan.title, lessons, conflicting }]
    })
    return { totals: this.report.totals, rows }
  }

  /**
   * The report as JSON, with the series written for each line: serialized here, in the worker
   * (5,000 rows are over a megabyte, tens of milliseconds that the event loop would otherwise spend).
   */
  reportJson(seriesIds: [line: number, seriesId: number][] = []): string {
    const byLine = new Map(seriesIds)
    for (const entry of this.report.rows) entry.series_id = byLine.get(entry.line) ?? null
    return JSON.stringify(this.report)
  }
}
