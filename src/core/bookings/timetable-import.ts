/**
 * Importing a term's timetable (issue 15): a CSV (parsed by csv-parse, comma or semicolon) with
 * one weekly lesson per row, `room,teacher,weekday,start,end,from,until,title`. Each row becomes a
 * series (FREQ=WEEKLY;BYDAY=..;UNTIL=..) created by the same code as POST /series, inside one
 * transaction for the whole file: every check, lock and conflict is the real one, and a lesson
 * conflicts with the file's earlier rows too. A dry run does all of it and rolls back, so it
 * reports exactly what the import would do. Without skip_conflicts, any error or conflict rolls
 * everything back.
 */
import { parse } from 'csv-parse/sync'
import type { Executor } from '../../db/client'
import { rooms, users, type UserRole } from '../../db/schema'
import { HttpError } from '../../lib/errors'
import { parseTimeOfDay, secondsOfDay, zonedToUtc } from '../../lib/time'
import { IMPORT_MSG } from './messages'
import { rruleUtc } from './recurrence'
import type { ActingUser, ReservationDeps } from './reservations'
import { createSeriesTx, type SeriesConflict } from './series'
import { releaseDue } from './sweeper'
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
  conflicts: ({ start_time: string; end_time: string } & SeriesConflict)[]
  errors: string[]
}

export interface ImportReport {
  dry_run: boolean
  skip_conflicts: boolean
  totals: { rows: number; series: number; occurrences: number; created: number; conflicts: number; errors: number }
  rows: ImportRowReport[]
}

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

interface Lookup {
  rooms: Map<string, number>
  users: Map<string, { id: number; name: string; role: UserRole }>
}

async function lookups(tx: Executor): Promise<Lookup> {
  const [roomRows, userRows] = await Promise.all([
    tx.select({ id: rooms.id, name: rooms.name }).from(rooms),
    tx.select({ id: users.id, name: users.name, role: users.role }).from(users),
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
  return {
    rooms: new Map([...byName(roomRows)].map(([k, v]) => [k, v.id])),
    users: byName(userRows),
  }
}

const find = <T>(map: Map<string, T>, name: string) => map.get(name) ?? map.get(name.toLowerCase())

/** One row as a series request, or its errors. */
function seriesRequest(row: Row, lookup: Lookup, timeZone: string) {
  const errors: string[] = []
  const roomId = row.room ? find(lookup.rooms, row.room) : undefined
  if (roomId === undefined) errors.push(IMPORT_MSG.unknownRoom(row.room ?? ''))
  const teacher = row.teacher ? find(lookup.users, row.teacher) : undefined
  if (!teacher) errors.push(IMPORT_MSG.unknownTeacher(row.teacher ?? ''))
  else if (teacher.role === 'student') errors.push(IMPORT_MSG.notTeacher(teacher.name))
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
    owner: teacher!,
    request: {
      room_id: roomId!, user_id: teacher!.id, start_time: firstStart.toISOString(), end_time: firstEnd.toISOString(),
      rrule: `FREQ=WEEKLY;BYDAY=${BYDAY[weekday! - 1]};UNTIL=${rruleUtc(untilInstant)}`, title: row.title || undefined, skip_conflicts: true,
    },
  }
}

class Rollback extends Error {}

/**
 * POST /admin/timetable/import. The admin (actor) creates each series for its teacher. Answers the
 * report: with dry_run nothing is kept; otherwise everything is kept, or (any error, or a conflict
 * without skip_conflicts) nothing, and the report comes with an HttpError 400/409.
 */
export async function importTimetable(
  deps: ReservationDeps, actor: ActingUser, text: string, options: { dryRun: boolean; skipConflicts: boolean },
): Promise<ImportReport> {
  const rows = readCsv(text)
  const report: ImportReport = {
    dry_run: options.dryRun, skip_conflicts: options.skipConflicts,
    totals: { rows: rows.length, series: 0, occurrences: 0, created: 0, conflicts: 0, errors: 0 }, rows: [],
  }
  try {
    await deps.database.db.transaction(async (tx) => {
      const lookup = await lookups(tx)
      // Due no-shows must not count as conflicts: release them once, not once per row.
      await releaseDue(deps, tx)
      for (const { line, row } of rows) {
        const entry: ImportRowReport = {
          line, room: row.room ?? '', teacher: row.teacher ?? '', weekday: row.weekday ?? '', start: row.start ?? '', end: row.end ?? '',
          from: row.from ?? '', until: row.until ?? '', title: row.title || null, rrule: null, series_id: null,
          occurrences: 0, created: 0, conflicts: [], errors: [],
        }
        report.rows.push(entry)
        const { errors, request, owner } = seriesRequest(row, lookup, deps.config.appTimezone)
        entry.errors.push(...errors)
        if (!request) continue
        entry.rrule = request.rrule
        try {
          // A savepoint per row: a row the database refuses leaves the others intact.
          const outcome = await tx.transaction((sp) => createSeriesTx(deps, sp, actor, request, { owner, released: true }))
          entry.series_id = outcome.series!.id
          entry.created = outcome.created.length
          entry.occurrences = outcome.created.length + outcome.skipped.length
          entry.conflicts = outcome.skipped.map((s) => ({ start_time: s.start_time, end_time: s.end_time, ...s.conflict }))
        } catch (error) {
          if (!(error instanceof HttpError)) throw error
          entry.errors.push(error.message)
        }
      }
      for (const entry of report.rows) {
        report.totals.series += entry.series_id === null ? 0 : 1
        report.totals.occurrences += entry.occurrences
        report.totals.created += entry.created
        report.totals.conflicts += entry.conflicts.length
        report.totals.errors += entry.errors.length
      }
      const failed = report.totals.errors > 0 || (report.totals.conflicts > 0 && !options.skipConflicts)
      if (options.dryRun || failed) throw new Rollback()
    })
  } catch (error) {
    if (!(error instanceof Rollback)) throw error
    // Rolled back: no series exists; the counts say what would have been created.
    for (const entry of report.rows) entry.series_id = null
  }
  if (options.dryRun) return report
  if (report.totals.errors > 0) throw new HttpError(400, IMPORT_MSG.failed, {}, { report })
  if (report.totals.conflicts > 0 && !options.skipConflicts) throw new HttpError(409, IMPORT_MSG.failed, {}, { report })
  return report
}
