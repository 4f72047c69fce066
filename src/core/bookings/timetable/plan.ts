/**
 * A timetable import's plan (import.ts), the CPU part of it: the file decoded (encoding.ts) and
 * read as CSV (columns.ts), each row checked and expanded into its lessons from now on by the same
 * code as POST /series (series.ts: parseSeriesRequest, checkedOccurrences), matched with the series
 * an earlier import of the row made (by the row's slot, importKey), and each lesson's fate decided:
 * created, kept, updated, skipped for a closure, or in conflict with a booking of its room or a
 * lesson of an earlier row. No database: it runs in a worker thread (plan.worker.ts), so expanding
 * 5,000 rows (85,000 lessons, seconds of CPU) never holds the event loop every request shares
 * (issue 24).
 */
import { parse } from 'csv-parse/sync'
import type { Room, UserRole } from '../../../db/schema'
import { HttpError } from '../../../lib/errors'
import { formatUtc, localParts, parseTimeOfDay, secondsOfDay, zonedToUtc } from '../../../lib/time'
import { BOOKING_MSG, CLOSURE_MSG, IMPORT_MSG } from '../messages'
import { expandRule, rruleUtc, type Occurrence } from './recurrence'
import type { ActingUser, ReservationDeps } from '../reservations/writes'
import { checkedOccurrences, parseSeriesRequest, type RoomHolders, type SeriesConflict } from './series'
import { columnOf, delimiterOf, fileDate, headerLineOf, namesEveryColumn, REQUIRED, type Column } from './columns'
import { decodeFile, mayReadAsTimetable, type FileEncoding } from './encoding'

const MAX_ROWS = 5000
const BYDAY = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const
const WEEKDAYS: Record<string, number> = {}
for (const [i, names] of [
  ['1', 'mon', 'monday', 'mo', 'пн', 'понедельник'], ['2', 'tue', 'tuesday', 'tu', 'вт', 'вторник'], ['3', 'wed', 'wednesday', 'we', 'ср', 'среда'],
  ['4', 'thu', 'thursday', 'th', 'чт', 'четверг'], ['5', 'fri', 'friday', 'fr', 'пт', 'пятница'], ['6', 'sat', 'saturday', 'sa', 'сб', 'суббота'],
  ['7', 'sun', 'sunday', 'su', 'вс', 'воскресенье'],
].entries()) for (const name of names) WEEKDAYS[name] = i + 1

const DAY_MS = 24 * 3600_000

type Row = Partial<Record<Column, string>>

/** A lesson's conflict in the report: a booking of its room, or a lesson of an earlier row of the file. */
type ImportConflict = SeriesConflict | { kind: 'row'; id: null; line: number; msg: string }

/** A lesson left out because its room is closed then (a holiday): not a conflict, it is what the closure is for. */
interface SkippedClosure {
  start_time: string
  end_time: string
  closure_id: number
  msg: string
}

/** What the import does, or would do, with each kind of lesson; the report names them by whether it was written. */
interface Counts {
  create: number
  update: number
  cancel: number
  unchanged: number
}

interface RowEntry extends Counts {
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
  skipped_past: number
  skipped_closures: SkippedClosure[]
  conflicts: ({ start_time: string; end_time: string } & ImportConflict)[]
  errors: string[]
}

/** The report's totals, as the writer needs them (whether to refuse, what to say). */
export interface ImportTotals extends Counts {
  rows: number
  series: number
  occurrences: number
  skipped_past: number
  skipped_closures: number
  conflicts: number
  errors: number
}

/** The report of an import: what it did (`created`...), or, in a dry run or a refused import, would do (`would_create`...). */
interface ImportReport {
  dry_run: boolean
  skip_conflicts: boolean
  encoding: FileEncoding
  delimiter: string
  totals: ImportTotals
  rows: RowEntry[]
}

/** Whether a decoded text starts with a timetable's header. */
const readsAsTimetable = (text: string) => namesEveryColumn(headerLineOf(text))

/**
 * Whether the file's first line can be the header at all (it names every required column, in one
 * of the encodings the file may be in): a cheap look before a worker thread is started for it.
 */
export function mayHaveHeader(bytes: Uint8Array): boolean {
  return mayReadAsTimetable(bytes, readsAsTimetable)
}

/** The file's rows with their line numbers. */
function readCsv(text: string, delimiter: string): { line: number; row: Row }[] {
  let records: { record: Row; info: { lines: number } }[]
  try {
    records = parse(text, {
      columns: (header: string[]) => {
        const names = header.map(columnOf)
        if (REQUIRED.some((c) => !names.includes(c))) throw new HttpError(400, IMPORT_MSG.headerNames)
        return names
      },
      delimiter, bom: true, trim: true, skip_empty_lines: true, info: true, relax_column_count: true,
    })
  } catch (error) {
    if (error instanceof HttpError) throw error
    throw new HttpError(400, IMPORT_MSG.badCsv(String((error as Error).message).slice(0, 200)))
  }
  if (records.length > MAX_ROWS) throw new HttpError(400, IMPORT_MSG.tooManyRows(MAX_ROWS))
  return records.map((r) => ({ line: r.info.lines, row: r.record }))
}

interface LocalDate { y: number; m: number; d: number }

/** A date plus days. */
function addDays(date: LocalDate, days: number): LocalDate & { weekday: number } {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d) + days * DAY_MS)
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), weekday: ((t.getUTCDay() + 6) % 7) + 1 }
}

const dateOf = (iso: string): LocalDate => {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number]
  return { y, m, d }
}
const daysBetween = (from: LocalDate, to: LocalDate) => Math.round((Date.UTC(to.y, to.m - 1, to.d) - Date.UTC(from.y, from.m - 1, from.d)) / DAY_MS)

/** The rooms and users a file may name, as read from the database (import.ts). */
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

/**
 * A row's slot, by which a later import of the row finds the series this one makes: its room, day,
 * start time and first date. No two rows of a file that imports share it (their lessons would
 * overlap), and what a timetable changes in a row (the teacher, the title, the end, the last date)
 * is not part of it (decision 028).
 */
function importKey(roomId: number, weekday: number, startSeconds: number, from: string): string {
  const hhmm = `${String(Math.floor(startSeconds / 3600)).padStart(2, '0')}:${String(Math.floor(startSeconds / 60) % 60).padStart(2, '0')}`
  return `${roomId}/${BYDAY[weekday - 1]}/${hhmm}/${from}`
}

/** A row's cells checked: its room, teacher, day, times and dates, or its errors. */
function checkedCells(row: Row, lookup: Lookup) {
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
    const parsed = fileDate(value)
    if (parsed === undefined) errors.push(IMPORT_MSG.badDate(field))
    return parsed
  }
  const from = date(row.from, 'from')
  const until = date(row.until, 'until')
  if (errors.length) return { valid: false as const, errors }
  return { valid: true as const, errors, room: room!, teacher: teacher!, weekday: weekday!, start: start!, end: end!, from: from!, until: until! }
}

/**
 * Today and the zone's wall-clock times, worked out once for a file: its rows repeat a few days
 * and times, and each zonedToUtc asks Intl twice (a third of a plan's CPU before this).
 */
interface FileTime {
  today: ReturnType<typeof localParts>
  zoned: typeof zonedToUtc
}

function fileTime(now: Date, timeZone: string): FileTime {
  const known = new Map<string, number>()
  return {
    today: localParts(now, timeZone),
    zoned: (y, m, d, seconds, zone) => {
      const key = `${y}-${m}-${d}-${seconds}-${zone}`
      let at = known.get(key)
      if (at === undefined) known.set(key, (at = zonedToUtc(y, m, d, seconds, zone).getTime()))
      return new Date(at)
    },
  }
}

/**
 * One row as a series request from now on, or its errors. A term already running is imported from
 * today: its first lesson is the first one that has not started yet, and the weeks before it are
 * counted (skippedPast) instead of refusing the row for lying in the past. A row whose every lesson
 * is past has no request (nothing to create; a series an earlier import made for it keeps its past).
 */
function seriesRequest(row: Row, lookup: Lookup, timeZone: string, now: Date, time: FileTime) {
  const cells = checkedCells(row, lookup)
  if (!cells.valid) return { errors: cells.errors }
  const { room, teacher, weekday, start, end, from, until } = cells
  const first = addDays(dateOf(from), (weekday - addDays(dateOf(from), 0).weekday + 7) % 7)
  const lessonDays = daysBetween(first, dateOf(until))
  if (lessonDays < 0) return { errors: [IMPORT_MSG.noLesson] }
  const lessons = Math.floor(lessonDays / 7) + 1
  const { today, zoned } = time
  let weeksPast = Math.max(0, Math.ceil(daysBetween(first, { y: today.year, m: today.month, d: today.day }) / 7))
  let day = addDays(first, weeksPast * 7)
  // Today's lesson is past once it has started.
  if (weeksPast < lessons && zoned(day.y, day.m, day.d, start, timeZone) < now) day = addDays(first, ++weeksPast * 7)
  const base = {
    errors: [] as string[], room, owner: { id: teacher.id, name: teacher.name }, title: row.title?.trim() || null,
    key: importKey(room.id, weekday, start, from), skippedPast: Math.min(weeksPast, lessons),
  }
  if (weeksPast >= lessons) return { ...base, request: null }
  const last = addDays(dateOf(until), 1)
  const untilInstant = new Date(zoned(last.y, last.m, last.d, 0, timeZone).getTime() - 1000)
  return {
    ...base,
    request: {
      start_time: zoned(day.y, day.m, day.d, start, timeZone), end_time: zoned(day.y, day.m, day.d, end, timeZone),
      rrule: `FREQ=WEEKLY;BYDAY=${BYDAY[weekday - 1]};UNTIL=${rruleUtc(untilInstant)}`,
    },
  }
}

/**
 * What happens to a lesson: `create` it; `keep` the one its series has (as it is, or `update` its
 * teacher, title or end); `leave` it out where its series has none (cancelled or moved on its own,
 * or skipped when the series was made: an import puts back no lesson someone took away); `closed`
 * (a closure then: skipped); `conflict` (refused, or skipped with skip_conflicts).
 */
type LessonFate = 'create' | 'keep' | 'update' | 'leave' | 'closed' | 'conflict'

interface PlannedLesson extends Occurrence {
  fate: LessonFate
  /** the lesson the series already has at this start (keep, update; conflict: left as it is) */
  existingId: number | null
  conflict: ImportConflict | null
  closure: SkippedClosure | null
}

interface RowPlan {
  room: Room
  owner: { id: number; name: string }
  key: string
  rule: string | null
  title: string | null
  lessons: PlannedLesson[]
}

interface PlannedRow {
  entry: RowEntry
  plan?: RowPlan
  /** the existing series' lessons the file no longer has (its until moved earlier): cancelled */
  cancelIds: number[]
}

/**
 * expandRule remembered for one file: a timetable repeats a few slots (weekday, times, term dates)
 * in every room, and expanding a rule is most of a plan's CPU (rrule-temporal, and Intl for the
 * zone's offset of every lesson: 1,200 rows took ~1 s, with 30 distinct slots ~0.1 s). The result
 * depends on nothing but its arguments; a refusal (an error thrown) is not remembered, so each row
 * gets its own. The dates are shared between rows and never changed.
 */
function rememberedExpansion(): typeof expandRule {
  const known = new Map<string, Occurrence[]>()
  return (rule, first, timeZone) => {
    const key = `${rule}|${first.start.getTime()}|${first.end.getTime()}|${timeZone}`
    let expanded = known.get(key)
    if (!expanded) known.set(key, (expanded = expandRule(rule, first, timeZone)))
    return expanded
  }
}

/** Every row checked and expanded (its errors in its entry). */
function planRows(deps: PlanDeps, actor: ActingUser, rows: { line: number; row: Row }[], lookup: Lookup): PlannedRow[] {
  const now = deps.clock.now()
  const expand = rememberedExpansion()
  const time = fileTime(now, deps.config.appTimezone)
  return rows.map(({ line, row }) => {
    const entry: RowEntry = {
      line, room: row.room ?? '', teacher: row.teacher ?? '', weekday: row.weekday ?? '', start: row.start ?? '', end: row.end ?? '',
      from: row.from ?? '', until: row.until ?? '', title: row.title || null, rrule: null, series_id: null, occurrences: 0,
      create: 0, update: 0, cancel: 0, unchanged: 0, skipped_past: 0, skipped_closures: [], conflicts: [], errors: [],
    }
    const request = seriesRequest(row, lookup, deps.config.appTimezone, now, time)
    entry.errors.push(...request.errors)
    if (!('key' in request)) return { entry, cancelIds: [] }
    entry.skipped_past = request.skippedPast
    const plan: RowPlan = { room: request.room, owner: request.owner, key: request.key, rule: null, title: request.title, lessons: [] }
    if (!request.request) return { entry, plan, cancelIds: [] }
    try {
      const { start, end, rule } = parseSeriesRequest(request.request)
      entry.rrule = plan.rule = rule
      plan.lessons = checkedOccurrences(deps as ReservationDeps, actor, request.room, { start, end }, rule, expand)
        .map((o) => ({ ...o, fate: 'create', existingId: null, conflict: null, closure: null }))
      return { entry, plan, cancelIds: [] }
    } catch (error) {
      if (!(error instanceof HttpError)) throw error
      entry.errors.push(error.message)
      return { entry, cancelIds: [] }
    }
  })
}

/**
 * The first interval of a start-sorted list of disjoint intervals that overlaps [start, end), by
 * binary search, passing over those `passOver` says (a row's own lessons are no conflict of it).
 */
function overlapping<T extends { start: Date; end: Date }>(sorted: T[], start: Date, end: Date, passOver?: (item: T) => boolean): T | undefined {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (sorted[mid]!.end <= start) lo = mid + 1
    else hi = mid
  }
  for (; lo < sorted.length && sorted[lo]!.start < end; lo++) if (!passOver?.(sorted[lo]!)) return sorted[lo]
  return undefined
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

/** A series an earlier import made for a row (by its key), with its lessons from now on that are not exceptions. */
export interface ExistingSeries {
  id: number
  userId: number
  title: string | null
  rrule: string
  /** the start of its last lesson (series.until) */
  until: Date
  lessons: { id: number; start: Date; end: Date; userId: number; title: string | null }[]
}

/** The lessons the file's earlier rows hold, by room: what a later row of the file conflicts with. */
type Taken = Map<number, { start: Date; end: Date; line: number }[]>

function take(taken: Taken, roomId: number, lesson: Occurrence, line: number): void {
  const list = taken.get(roomId) ?? []
  taken.set(roomId, list)
  list.splice(insertionIndex(list, lesson.start), 0, { start: lesson.start, end: lesson.end, line })
}

/** What a lesson that is not yet the series' as the file has it overlaps: a booking of the room (not the row's own), or an earlier row's lesson. */
function clashOf(lesson: Occurrence, room: RoomHolders, taken: Taken, roomId: number, ownSeriesId: number | null): ImportConflict | null {
  const booking = overlapping(room.booked, lesson.start, lesson.end, (b) => ownSeriesId !== null && b.seriesId === ownSeriesId)
  if (booking) return { kind: 'booking', id: booking.id, msg: BOOKING_MSG.conflict }
  const earlier = overlapping(taken.get(roomId) ?? [], lesson.start, lesson.end)
  return earlier ? { kind: 'row', id: null, line: earlier.line, msg: IMPORT_MSG.earlierRow(earlier.line) } : null
}

/** Whether a closure of the room overlaps the lesson; if so the lesson's fate is `closed`, with the closure. */
function markClosed(o: PlannedLesson, room: RoomHolders): boolean {
  const closure = room.closed.find((c) => c.startTime < o.end && c.endTime > o.start)
  if (!closure) return false
  o.fate = 'closed'
  o.closure = { start_time: formatUtc(o.start), end_time: formatUtc(o.end), closure_id: closure.id, msg: CLOSURE_MSG.closed(closure.reason) }
  return true
}

/** A new lesson's fate: closed (a closure of its room then), a conflict, or created. */
function newLessonFate(o: PlannedLesson, room: RoomHolders, taken: Taken, plan: RowPlan, line: number, ownSeriesId: number | null): void {
  if (markClosed(o, room)) return
  o.conflict = clashOf(o, room, taken, plan.room.id, ownSeriesId)
  o.fate = o.conflict ? 'conflict' : 'create'
  if (!o.conflict) take(taken, plan.room.id, o, line)
}

/**
 * Each lesson's fate, in the file's order, against the room's bookings and closures and the series
 * earlier imports made (`existing`, by key). Rewritten on every call.
 */
function assignFates(planned: PlannedRow[], holders: Map<number, RoomHolders>, existing: Map<string, ExistingSeries>): void {
  const taken: Taken = new Map()
  for (const row of planned) {
    const { entry, plan } = row
    row.cancelIds = []
    if (!plan) continue
    const room = holders.get(plan.room.id) ?? { booked: [], closed: [] }
    const series = existing.get(plan.key)
    const own = new Map((series?.lessons ?? []).map((l) => [l.start.getTime(), l]))
    for (const o of plan.lessons) {
      o.conflict = o.closure = null
      const had = own.get(o.start.getTime())
      own.delete(o.start.getTime())
      o.existingId = had?.id ?? null
      if (had && had.end.getTime() === o.end.getTime()) {
        // The series has it already: the slot is its own, whatever was booked or closed since.
        o.fate = had.userId === plan.owner.id && had.title === plan.title ? 'keep' : 'update'
        take(taken, plan.room.id, o, entry.line)
      } else if (!had && series && o.start <= series.until) {
        // Within the series' time but not in it: cancelled or moved on its own, or skipped when it
        // was made. Not put back (a moved lesson would be there twice); a closure then is reported.
        markClosed(o, room) || (o.fate = 'leave')
      } else if (had) {
        // A new end: checked like a new lesson, except against the lesson it replaces; a clash leaves that one as it is.
        o.conflict = clashOf(o, room, taken, plan.room.id, series!.id)
        o.fate = o.conflict ? 'conflict' : 'update'
        take(taken, plan.room.id, o.conflict ? had : o, entry.line)
      } else {
        newLessonFate(o, room, taken, plan, entry.line, series?.id ?? null)
      }
    }
    row.cancelIds = [...own.values()].map((l) => l.id)
  }
}

/** The report's numbers from the rows and their lessons' fates as they stand. */
function fillReport(report: ImportReport, planned: PlannedRow[], existing: Map<string, ExistingSeries>): void {
  report.rows = planned.map((p) => p.entry)
  const totals: ImportTotals = {
    rows: planned.length, series: 0, occurrences: 0, create: 0, update: 0, cancel: 0, unchanged: 0, skipped_past: 0, skipped_closures: 0, conflicts: 0, errors: 0,
  }
  for (const { entry, plan, cancelIds } of planned) {
    if (plan) {
      const fates = plan.lessons.map((o) => o.fate)
      const count = (...wanted: LessonFate[]) => fates.filter((f) => wanted.includes(f)).length
      entry.series_id = existing.get(plan.key)?.id ?? null
      entry.occurrences = plan.lessons.length
      entry.create = count('create')
      entry.update = count('update')
      entry.unchanged = count('keep', 'leave')
      entry.cancel = cancelIds.length
      entry.skipped_closures = plan.lessons.flatMap((o) => (o.closure ? [o.closure] : []))
      entry.conflicts = plan.lessons.flatMap((o) => (o.conflict ? [{ start_time: formatUtc(o.start), end_time: formatUtc(o.end), ...o.conflict }] : []))
      if (plan.lessons.length || entry.series_id) totals.series++
    }
    totals.occurrences += entry.occurrences
    totals.create += entry.create
    totals.update += entry.update
    totals.cancel += entry.cancel
    totals.unchanged += entry.unchanged
    totals.skipped_past += entry.skipped_past
    totals.skipped_closures += entry.skipped_closures.length
    totals.conflicts += entry.conflicts.length
    totals.errors += entry.errors.length
  }
  report.totals = totals
}

/** What the plan needs of the app: its time zone, booking limits and "now" (the worker's clock is the request's). */
type PlanDeps = Pick<ReservationDeps, 'clock'> & { config: Pick<ReservationDeps['config'], 'appTimezone' | 'bookingHorizonDays' | 'studentMaxBookingHours'> }

/** What the planner is given, once (structured-cloned into the worker). */
export interface PlanInput {
  /** the file as sent: its encoding is found in the worker (chardet reads it several times) */
  file: Uint8Array
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
 * A row's series as the writer needs it: its lessons as [start, end] epoch milliseconds (a
 * transferable array: 85,000 of them cost the event loop nothing to receive), what to do with each
 * (WRITE_*), and the lesson of the series each one replaces (0: none).
 */
export interface WritableRow {
  line: number
  key: string
  roomId: number
  owner: { id: number; name: string }
  rule: string | null
  title: string | null
  /** the series an earlier import made for the row; null: a new one */
  seriesId: number | null
  lessons: Float64Array
  actions: Uint8Array
  existingIds: Float64Array
  cancelIds: number[]
}

/** What the writer does with a lesson. */
const WRITE_NOTHING = 0
export const WRITE_CREATE = 1
export const WRITE_UPDATE = 2
/** Left out for a closure or a conflict: a new series lists it as skipped in its change record. */
const WRITE_SKIPPED = 3

const WRITE_OF: Record<LessonFate, number> = { create: WRITE_CREATE, update: WRITE_UPDATE, keep: WRITE_NOTHING, leave: WRITE_NOTHING, closed: WRITE_SKIPPED, conflict: WRITE_SKIPPED }

function writableRow({ entry, plan, cancelIds }: PlannedRow, existing: Map<string, ExistingSeries>): WritableRow[] {
  if (!plan) return []
  const seriesId = existing.get(plan.key)?.id ?? null
  const lessons = new Float64Array(plan.lessons.length * 2)
  const actions = new Uint8Array(plan.lessons.length)
  const existingIds = new Float64Array(plan.lessons.length)
  plan.lessons.forEach((o, i) => {
    lessons[2 * i] = o.start.getTime()
    lessons[2 * i + 1] = o.end.getTime()
    actions[i] = WRITE_OF[o.fate]
    existingIds[i] = o.existingId ?? 0
  })
  const series = existing.get(plan.key)
  const changes = cancelIds.length > 0 || actions.some((a) => a === WRITE_CREATE || a === WRITE_UPDATE)
    || (series !== undefined && (series.userId !== plan.owner.id || series.title !== plan.title || (plan.rule !== null && series.rrule !== plan.rule)))
  // A new series with no lesson to create holds nothing: it is not made (an import later makes it).
  if (seriesId === null && !actions.includes(WRITE_CREATE)) return []
  if (seriesId !== null && !changes) return []
  return [{ line: entry.line, key: plan.key, roomId: plan.room.id, owner: plan.owner, rule: plan.rule, title: plan.title, seriesId, lessons, actions, existingIds, cancelIds }]
}

/** The report's words for the counts: what was done once it is written, what would be done until then. */
function countsAs<T extends Counts>(counts: T, written: boolean) {
  const { create, update, cancel, unchanged, ...rest } = counts
  return written
    ? { ...rest, created: create, updated: update, cancelled: cancel, unchanged }
    : { ...rest, would_create: create, would_update: update, would_cancel: cancel, unchanged }
}

/** One file's plan: read and expanded once, its lessons' fates assigned against the holders given each time. */
export class TimetablePlanner {
  private readonly planned: PlannedRow[]
  private readonly report: ImportReport
  private existing = new Map<string, ExistingSeries>()

  constructor(input: PlanInput) {
    const deps: PlanDeps = { config: input.config, clock: { now: () => input.now } }
    const lookup: Lookup = { rooms: byName(input.lookup.rooms), users: byName(input.lookup.users) }
    const { text, encoding } = decodeFile(input.file, readsAsTimetable)
    const delimiter = delimiterOf(headerLineOf(text))
    const rows = readCsv(text, delimiter)
    this.planned = planRows(deps, input.actor, rows, lookup)
    this.report = { dry_run: input.dryRun, skip_conflicts: input.skipConflicts, encoding, delimiter, totals: {} as ImportTotals, rows: [] }
    fillReport(this.report, this.planned, this.existing)
  }

  /** The slots of the rows: what to look up the series of earlier imports by. */
  keys(): string[] {
    return this.planned.flatMap((p) => (p.plan ? [p.plan.key] : []))
  }

  span(): PlanSpan | null {
    const plans = this.planned.flatMap((p) => (p.plan ? [p.plan] : []))
    if (plans.length === 0) return null
    const withLessons = plans.filter((p) => p.lessons.length > 0)
    const edge = (pick: (p: RowPlan) => number, of: (...n: number[]) => number) => new Date(withLessons.length ? of(...withLessons.map(pick)) : 0)
    return {
      roomIds: [...new Set(plans.map((p) => p.room.id))].sort((a, b) => a - b),
      from: edge((p) => p.lessons[0]!.start.getTime(), Math.min),
      to: edge((p) => p.lessons[p.lessons.length - 1]!.end.getTime(), Math.max),
    }
  }

  /** The fates these holders and series give: the report's totals and, to write them, the writable rows. */
  assign(holders: Map<number, RoomHolders>, existing: Map<string, ExistingSeries>, writable: boolean): { totals: ImportTotals; rows: WritableRow[] } {
    this.existing = existing
    assignFates(this.planned, holders, existing)
    fillReport(this.report, this.planned, existing)
    return { totals: this.report.totals, rows: writable ? this.planned.flatMap((row) => writableRow(row, existing)) : [] }
  }

  /**
   * The report as JSON, with the series written for each line: serialized here, in the worker
   * (5,000 rows are over a megabyte, tens of milliseconds that the event loop would otherwise spend).
   * `written`: whether the import was kept (created...) or not (a dry run, a refusal: would_create...).
   */
  reportJson(seriesIds: [line: number, seriesId: number][] = [], written = false): string {
    const byLine = new Map(seriesIds)
    const { totals, rows, ...head } = this.report
    return JSON.stringify({
      ...head,
      totals: countsAs(totals, written),
      rows: rows.map((entry) => countsAs({ ...entry, series_id: byLine.get(entry.line) ?? entry.series_id }, written)),
    })
  }
}
