/**
 * Importing a term's timetable (issue 15): a CSV (parsed by csv-parse, comma or semicolon) with
 * one weekly lesson per row, `room,teacher,weekday,start,end,from,until,title`. Each row becomes a
 * series (FREQ=WEEKLY;BYDAY=..;UNTIL=..) checked by the same code as POST /series (series.ts:
 * parseSeriesRequest, checkedOccurrences, conflictOf, writeSeries); a lesson conflicts with the
 * bookings and closures of its room and with the file's earlier rows.
 *
 * In two steps, so that nobody waits for a big file (issue 24):
 * 1. The plan, with reads only: no transaction, no lock. Every row is checked and expanded (the
 *    CPU work yields the event loop every few milliseconds), and its conflicts found against the
 *    bookings and closures as they are now and against the earlier rows, in memory. A dry run is
 *    this step alone, so it reports what the import would do and blocks no booking.
 * 2. Unless a row has an error or a conflict without skip_conflicts (400/409, nothing written), one
 *    short transaction: the file's rooms are locked (in id order), their bookings and closures read
 *    again under the locks (someone may have booked meanwhile: the conflicts are found again, and
 *    the answer reports those), and every series, lesson and audit row written in a few
 *    statements. Rooms are held for the writing only, not for the checking.
 */
import { parse } from 'csv-parse'
import { and, asc, eq, gt, inArray, lt, not } from 'drizzle-orm'
import type { Executor } from '../../db/client'
import { closures, reservations, rooms, users, type Room, type UserRole } from '../../db/schema'
import { cooperative } from '../../lib/cooperate'
import { HttpError } from '../../lib/errors'
import { formatUtc, parseTimeOfDay, secondsOfDay, zonedToUtc } from '../../lib/time'
import { enforceFairUse } from './fair-use'
import { IMPORT_MSG } from './messages'
import { rruleUtc } from './recurrence'
import type { ActingUser, ReservationDeps } from './reservations'
import {
  checkedOccurrences, conflictOf, parseSeriesRequest, writeSeries, type RoomHolders, type SeriesConflict, type SeriesPlan,
} from './series'
import { releasableAt, releaseDue } from './sweeper'
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

/** How much of the file the parser gets at a time: parsing all of 5,000 rows at once held the event loop ~70 ms. */
const PARSE_SLICE = 64 * 1024

/** The file's rows with their line numbers, parsed a slice at a time (the event loop handed on between slices). */
async function readCsv(text: string): Promise<{ line: number; row: Row }[]> {
  const records: { record: Row; info: { lines: number } }[] = []
  const parser = parse({
    columns: (header: string[]) => {
      const names = header.map((c) => c.trim().toLowerCase())
      if (REQUIRED.some((c) => !names.includes(c))) throw new HttpError(400, IMPORT_MSG.header)
      return names
    },
    delimiter: [',', ';'], bom: true, trim: true, skip_empty_lines: true, info: true, relax_column_count: true,
  })
  const ended = new Promise<void>((resolve, reject) => {
    parser.on('readable', () => {
      for (let record = parser.read(); record !== null; record = parser.read()) records.push(record)
    })
    parser.on('end', resolve)
    parser.on('error', reject)
  })
  ended.catch(() => {}) // read below, after the last slice
  const pause = cooperative()
  try {
    // Slices end at a line break, so no character is cut in two (quoted fields may still span them).
    for (let from = 0; from < text.length;) {
      const cut = text.indexOf('\n', from + PARSE_SLICE)
      const to = cut === -1 ? text.length : cut + 1
      if (!parser.write(text.slice(from, to))) await new Promise((resolve) => parser.once('drain', resolve))
      from = to
      await pause()
    }
    parser.end()
    await ended
  } catch (error) {
    parser.destroy()
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

interface Lookup {
  rooms: Map<string, Room>
  users: Map<string, { id: number; name: string; role: UserRole; teacherPending: boolean }>
}

async function lookups(db: Executor): Promise<Lookup> {
  const [roomRows, userRows] = await Promise.all([
    db.select().from(rooms),
    db.select({ id: users.id, name: users.name, role: users.role, teacherPending: users.teacherPending }).from(users),
  ])
  // Exact names first; a case-insensitive match only where it is unambiguous.
  const byName = <T extends { name: string }>(list: T[]) => {
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
  return { rooms: byName(roomRows), users: byName(userRows) }
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

/** A lesson's conflict in the report: a booking or closure of its room, or an earlier row of the file. */
type ImportConflict = SeriesConflict | { kind: 'row'; id: null; line: number; msg: string }

interface PlannedRow {
  entry: ImportRowReport
  plan?: SeriesPlan<ImportConflict>
}

/** Step 1's CPU part: every row checked and expanded, the event loop handed on every few ms. */
async function planRows(deps: ReservationDeps, actor: ActingUser, rows: { line: number; row: Row }[], lookup: Lookup): Promise<PlannedRow[]> {
  const pause = cooperative()
  const planned: PlannedRow[] = []
  for (const { line, row } of rows) {
    await pause()
    const entry: ImportRowReport = {
      line, room: row.room ?? '', teacher: row.teacher ?? '', weekday: row.weekday ?? '', start: row.start ?? '', end: row.end ?? '',
      from: row.from ?? '', until: row.until ?? '', title: row.title || null, rrule: null, series_id: null,
      occurrences: 0, created: 0, conflicts: [], errors: [],
    }
    const request = seriesRequest(row, lookup, deps.config.appTimezone)
    entry.errors.push(...request.errors)
    if (!request.request) {
      planned.push({ entry })
      continue
    }
    try {
      const { start, end, rule } = parseSeriesRequest(request.request)
      entry.rrule = rule
      const occurrences = checkedOccurrences(deps, actor, request.room, { start, end }, rule)
      planned.push({
        entry,
        plan: { room: request.room, owner: request.owner, rule, title: request.title, untilTermId: null, occurrences: occurrences.map((o) => ({ ...o, conflict: null })) },
      })
    } catch (error) {
      if (!(error instanceof HttpError)) throw error
      entry.errors.push(error.message)
      planned.push({ entry })
    }
  }
  return planned
}

/** Bookings and closures of the file's rooms over the file's time, for conflicts; by room. */
async function holdersOf(db: Executor, plans: SeriesPlan<ImportConflict>[], now: Date, releasedAlready: boolean): Promise<Map<number, RoomHolders>> {
  const roomIds = [...new Set(plans.map((p) => p.room.id))]
  const byRoom = new Map<number, RoomHolders>(roomIds.map((id) => [id, { booked: [], closed: [] }]))
  if (roomIds.length === 0) return byRoom
  const from = new Date(Math.min(...plans.map((p) => p.occurrences[0]!.start.getTime())))
  const to = new Date(Math.max(...plans.map((p) => p.occurrences[p.occurrences.length - 1]!.end.getTime())))
  const [booked, closed] = await Promise.all([
    db.select({ id: reservations.id, roomId: reservations.roomId, start: reservations.startTime, end: reservations.endTime })
      .from(reservations).innerJoin(rooms, eq(rooms.id, reservations.roomId))
      .where(and(
        inArray(reservations.roomId, roomIds), eq(reservations.status, 'active'), lt(reservations.startTime, to), gt(reservations.endTime, from),
        // Planning without releasing: what the release would give back holds nothing.
        releasedAlready ? undefined : not(releasableAt(now)),
      ))
      .orderBy(asc(reservations.startTime)),
    db.select().from(closures).where(and(lt(closures.startTime, to), gt(closures.endTime, from))),
  ])
  for (const b of booked) byRoom.get(b.roomId)!.booked.push(b)
  for (const c of closed) {
    for (const id of c.allRooms ? roomIds : (c.roomIds ?? []).filter((r) => byRoom.has(r))) byRoom.get(id)!.closed.push(c)
  }
  return byRoom
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
async function assignConflicts(planned: PlannedRow[], holders: Map<number, RoomHolders>): Promise<void> {
  const pause = cooperative()
  const accepted = new Map<number, { start: Date; end: Date; line: number }[]>()
  for (const { entry, plan } of planned) {
    await pause()
    if (!plan) continue
    const room = holders.get(plan.room.id)!
    const taken = accepted.get(plan.room.id) ?? []
    accepted.set(plan.room.id, taken)
    for (const o of plan.occurrences) {
      const booking = overlapping(room.booked, o.start, o.end)
      const closure = room.closed.find((c) => c.startTime < o.end && c.endTime > o.start)
      const existing: ImportConflict | null = closure || booking ? conflictOf(o, { booked: booking ? [booking] : [], closed: closure ? [closure] : [] }) : null
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
      const conflicting = plan.occurrences.filter((o) => o.conflict)
      entry.occurrences = plan.occurrences.length
      entry.created = plan.occurrences.length - conflicting.length
      entry.conflicts = conflicting.map((o) => ({ start_time: formatUtc(o.start), end_time: formatUtc(o.end), ...o.conflict! }))
      report.totals.series++
    }
    report.totals.occurrences += entry.occurrences
    report.totals.created += entry.created
    report.totals.conflicts += entry.conflicts.length
    report.totals.errors += entry.errors.length
  }
}

/** 400 with the report when a row has an error, 409 when one has a conflict and conflicts are not skipped. */
function refuseFailed(report: ImportReport, skipConflicts: boolean): void {
  if (report.totals.errors > 0) throw new HttpError(400, IMPORT_MSG.failed, {}, { report })
  if (report.totals.conflicts > 0 && !skipConflicts) throw new HttpError(409, IMPORT_MSG.failed, {}, { report })
}

/**
 * POST /admin/timetable/import. The admin (actor) creates each series for its teacher. Answers the
 * report: with dry_run nothing is kept; otherwise everything is kept, or (any error, or a conflict
 * without skip_conflicts) nothing, and the report comes with an HttpError 400/409.
 */
export async function importTimetable(
  deps: ReservationDeps, actor: ActingUser, text: string, options: { dryRun: boolean; skipConflicts: boolean },
): Promise<ImportReport> {
  const rows = await readCsv(text)
  const report: ImportReport = {
    dry_run: options.dryRun, skip_conflicts: options.skipConflicts,
    totals: { rows: rows.length, series: 0, occurrences: 0, created: 0, conflicts: 0, errors: 0 }, rows: [],
  }
  const db = deps.database.db
  // Step 1: the plan, read without a transaction or a lock.
  const planned = await planRows(deps, actor, rows, await lookups(db))
  const plans = planned.flatMap((p) => (p.plan ? [p.plan] : []))
  await assignConflicts(planned, await holdersOf(db, plans, deps.clock.now(), false))
  fillReport(report, planned)
  if (options.dryRun) return report
  refuseFailed(report, options.skipConflicts)

  // Step 2: the write, holding the file's rooms only for it.
  await db.transaction(async (tx) => {
    const roomIds = [...new Set(plans.map((p) => p.room.id))].sort((a, b) => a - b)
    if (roomIds.length) await tx.select({ id: rooms.id }).from(rooms).where(inArray(rooms.id, roomIds)).orderBy(asc(rooms.id)).for('no key update')
    // Due no-shows must not count as conflicts: release them once, not once per row.
    await releaseDue(deps, tx)
    await assignConflicts(planned, await holdersOf(tx, plans, deps.clock.now(), true))
    fillReport(report, planned)
    refuseFailed(report, options.skipConflicts)
    // Admins are exempt from fair use (decision 022); asked all the same, so a rule for them would apply here too.
    const approvals = await Promise.all(plans.map((plan) => enforceFairUse(deps, tx, {
      actor, ownerId: plan.owner.id, room: plan.room, bookings: plan.occurrences.filter((o) => !o.conflict), isNew: true,
    })))
    const written = await writeSeries(deps, tx, actor, plans.map((plan, i) => ({ plan, approval: approvals[i]!.approval })))
    let next = 0
    for (const { entry, plan } of planned) if (plan) entry.series_id = written[next++]!.series.id
  })
  return report
}
