/** Writing closures (issue 15): create, change, remove, import from iCalendar. See closures.ts. */
import { and, asc, eq, gt, inArray, lt, sql } from 'drizzle-orm'
import ICAL from 'ical.js'
import { rowsOf, type Executor } from '../../../db/client'
import { closures, reservations, rooms, type Closure, type ClosureKind } from '../../../db/schema'
import { BadRequest, NotFound } from '../../../lib/errors'
import { formatUtc, TIME_MSG, zonedToUtc } from '../../../lib/time'
import { closureView, type ClosureView } from './closures'
import { BOOKING_MSG, CLOSURE_MSG } from '../messages'
import { cancelReservationTx, type ActingUser, type ReservationDeps } from '../reservations/writes'
import { recordChange, writeTransaction } from '../../changes'

const MAX_REASON = 300

function parseReason(raw: unknown): string {
  const reason = typeof raw === 'string' ? raw.trim() : ''
  if (!reason || reason.length > MAX_REASON) throw new BadRequest(CLOSURE_MSG.reasonRequired)
  return reason
}

/** An instant of a closure lies in the years PostgreSQL and people use (1900-9999), else 400 as an unreadable one. */
function checkClosureTime(date: Date): Date {
  if (!inClosureYears(date.getUTCFullYear())) throw new BadRequest(TIME_MSG.invalid)
  return date
}

function checkRange(start: Date, end: Date): { start: Date; end: Date } {
  checkClosureTime(start)
  checkClosureTime(end)
  if (start >= end) throw new BadRequest(BOOKING_MSG.badRange)
  return { start, end }
}

/**
 * Locks the rows of the rooms a closure covers (all of them, or the listed ones; 404 naming
 * unknown ids), in id order, as a booking of each would: no booking of those rooms can be
 * written meanwhile, and none written before is missed.
 */
async function lockCoveredRooms(tx: Executor, target: { allRooms: boolean; roomIds: number[] }): Promise<number[]> {
  const where = target.allRooms ? undefined : inArray(rooms.id, target.roomIds)
  const locked = await tx.select({ id: rooms.id }).from(rooms).where(where).orderBy(asc(rooms.id)).for('no key update')
  if (!target.allRooms) {
    const found = new Set(locked.map((r) => r.id))
    const missing = target.roomIds.filter((id) => !found.has(id))
    if (missing.length) throw new NotFound(CLOSURE_MSG.roomsNotFound(missing.slice(0, 20).join(', ')))
  }
  return locked.map((r) => r.id)
}

/** Active bookings (not ended) of these rooms overlapping the closure. */
function affectedBookings(tx: Executor, roomIds: number[], start: Date, end: Date, now: Date) {
  if (!roomIds.length) return Promise.resolve([])
  return tx.select().from(reservations).where(and(
    inArray(reservations.roomId, roomIds), eq(reservations.status, 'active'),
    lt(reservations.startTime, end), gt(reservations.endTime, start), gt(reservations.endTime, now),
  )).orderBy(asc(reservations.startTime), asc(reservations.id)).for('update')
}

export interface ClosureInput {
  room_ids?: number[]
  all_rooms?: boolean
  /** decoded by the body schema (lib/instant-input.ts) */
  start_time: Date
  end_time: Date
  kind: ClosureKind
  reason?: unknown
  cancel_affected?: boolean
}

/**
 * POST /admin/closures: the closure, and the active bookings inside it (`affected`); with
 * cancel_affected those are cancelled in the same transaction, each with a change record naming the
 * closure's reason.
 */
export async function createClosure(deps: ReservationDeps, actor: ActingUser, input: ClosureInput): Promise<{ closure: ClosureView; affected: number[] }> {
  const allRooms = input.all_rooms === true
  if (allRooms === (input.room_ids !== undefined)) throw new BadRequest(CLOSURE_MSG.roomsRequired)
  const roomIds = [...new Set(input.room_ids ?? [])]
  const { start, end } = checkRange(input.start_time, input.end_time)
  const reason = parseReason(input.reason)
  return writeTransaction(deps.database, async (tx) => {
    const now = deps.clock.now()
    const covered = await lockCoveredRooms(tx, { allRooms, roomIds })
    const [row] = await tx.insert(closures).values({
      allRooms, roomIds: allRooms ? null : roomIds, kind: input.kind, reason, startTime: start, endTime: end,
      createdAt: now, updatedAt: now,
    }).returning() as [Closure]
    const affected = await affectedBookings(tx, covered, start, end, now)
    if (input.cancel_affected) {
      for (const booking of affected) await cancelReservationTx(deps, tx, booking, actor, { reason: CLOSURE_MSG.closed(reason), closureId: row.id })
    }
    recordChange(tx, {
      at: now, actorId: actor.id, event: 'closure.created', rooms: allRooms ? 'all' : roomIds,
      description: `${actor.name} closed ${allRooms ? 'all rooms' : `rooms ${roomIds.join(', ')}`} from ${formatUtc(start)} to ${formatUtc(end)}: ${reason}`,
      data: { closure_id: row.id, kind: input.kind, all_rooms: allRooms, room_ids: allRooms ? null : roomIds, affected: affected.map((b) => b.id), cancelled: Boolean(input.cancel_affected) },
    })
    return { closure: closureView(row), affected: affected.map((b) => b.id) }
  })
}

async function lockClosure(tx: Executor, id: number): Promise<Closure> {
  const [row] = await tx.select().from(closures).where(eq(closures.id, id)).for('update')
  if (!row) throw new NotFound(CLOSURE_MSG.notFound)
  return row
}

/** PATCH /admin/closures/:id: new times, kind or reason. Existing bookings are not touched (the answer lists those inside). */
export async function updateClosure(
  deps: ReservationDeps, actor: ActingUser, id: number,
  input: { start_time?: Date; end_time?: Date; kind?: ClosureKind; reason?: unknown },
): Promise<{ closure: ClosureView; affected: number[] }> {
  // The request is checked before the closure is looked up: a bad value is 400 whether or not it exists.
  const newStart = input.start_time === undefined ? undefined : checkClosureTime(input.start_time)
  const newEnd = input.end_time === undefined ? undefined : checkClosureTime(input.end_time)
  const newReason = input.reason === undefined ? undefined : parseReason(input.reason)
  return writeTransaction(deps.database, async (tx) => {
    const now = deps.clock.now()
    const current = await lockClosure(tx, id)
    const covered = await lockCoveredRooms(tx, { allRooms: current.allRooms, roomIds: current.roomIds ?? [] })
    const start = newStart ?? current.startTime
    const end = newEnd ?? current.endTime
    if (start >= end) throw new BadRequest(BOOKING_MSG.badRange)
    const reason = newReason ?? current.reason
    const [row] = await tx.update(closures).set({ startTime: start, endTime: end, kind: input.kind ?? current.kind, reason, updatedAt: now })
      .where(eq(closures.id, id)).returning() as [Closure]
    recordChange(tx, {
      at: now, actorId: actor.id, event: 'closure.updated', rooms: current.allRooms ? 'all' : current.roomIds ?? [], description: `${actor.name} changed closure #${id}`,
      data: { closure_id: id, from: closureView(current), to: closureView(row) },
    })
    const affected = await affectedBookings(tx, covered, start, end, now)
    return { closure: closureView(row), affected: affected.map((b) => b.id) }
  })
}

/** DELETE /admin/closures/:id */
export async function deleteClosure(deps: ReservationDeps, actor: ActingUser, id: number): Promise<{ status: 'deleted' }> {
  await writeTransaction(deps.database, async (tx) => {
    const current = await lockClosure(tx, id)
    await tx.delete(closures).where(eq(closures.id, id))
    recordChange(tx, {
      at: deps.clock.now(), actorId: actor.id, event: 'closure.deleted', rooms: current.allRooms ? 'all' : current.roomIds ?? [], description: `${actor.name} removed closure #${id} (${current.reason})`,
      data: { closure_id: id, closure: closureView(current) },
    })
  })
  return { status: 'deleted' }
}

/**
 * An iCalendar time as an instant: all-day dates and floating times are local to `timeZone`.
 * UTC goes through zonedToUtc too: ical.js's toJSDate reads the years 0-99 as 1900-1999.
 */
function icalInstant(time: ICAL.Time, timeZone: string): Date {
  const seconds = time.isDate ? 0 : time.hour * 3600 + time.minute * 60 + time.second
  const tzid = time.zone?.tzid
  if (time.isDate || !tzid || tzid === 'floating') return zonedToUtc(time.year, time.month, time.day, seconds, timeZone)
  if (tzid === 'UTC' || tzid === 'Z') return zonedToUtc(time.year, time.month, time.day, seconds, 'UTC')
  try {
    return zonedToUtc(time.year, time.month, time.day, seconds, tzid)
  } catch {
    // Not a zone Intl knows (a VTIMEZONE of the file's own): ical.js converts with its rules.
    return time.toJSDate()
  }
}

/** Why importClosures refuses an event; it names the event in front of this. */
class EventProblem extends Error {}

/** The years a closure may lie in, as checkClosureTime says. */
const inClosureYears = (year: number) => year >= 1900 && year <= 9999

/** A property's value as ical.js reads it: lazily, so a malformed value throws only now. */
function readValue<T>(name: string, read: () => T): T {
  try {
    return read()
  } catch (error) {
    throw new EventProblem(`has an invalid ${name}: ${String((error as Error).message).slice(0, 100)}`)
  }
}

/** DATE and DATE-TIME values as jCal writes them: 2040-01-05, 2040-01-05T10:00:00, 2040-01-05T10:00:00Z. */
const JCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})Z?)?$/

/**
 * A DTSTART or DTEND as written, checked: a date or date-time that exists (ical.js turns February
 * 30 into March 1 and 25:00 into the next day: what it read must be what was written).
 */
function checkWritten(event: ICAL.Event, name: 'DTSTART' | 'DTEND', time: ICAL.Time): void {
  const written: unknown = event.component.getFirstProperty(name.toLowerCase())?.jCal[3]
  const fields = (typeof written === 'string' ? JCAL_TIME.exec(written) : null)?.slice(1).map((field) => Number(field ?? 0))
  const read = [time.year, time.month, time.day, time.hour, time.minute, time.second]
  if (!fields || fields.some((field, i) => field !== read[i])) throw new EventProblem(`has an invalid ${name}: not a date or date-time that exists`)
}

/** An event's start or end as an instant in the closure years, checked before and after conversion. */
function eventInstant(time: unknown, edge: 'starts' | 'ends', timeZone: string): Date {
  if (!(time instanceof ICAL.Time)) throw new EventProblem(`${edge} at something that is not a date or a date-time`)
  if (!inClosureYears(time.year)) throw new EventProblem(`${edge} outside the years 1900-9999`)
  const instant = icalInstant(time, timeZone)
  if (Number.isNaN(instant.getTime())) throw new EventProblem(`${edge} at a time that cannot be converted`)
  if (!inClosureYears(instant.getUTCFullYear())) throw new EventProblem(`${edge} outside the years 1900-9999`)
  return instant
}

/** The closure an event asks for; EventProblem (or whatever ical.js throws) when it cannot be one. */
function wantedClosure(event: ICAL.Event, timeZone: string): { uid: string; start: Date; end: Date; reason: string } {
  const uid = String(event.uid ?? '').trim().slice(0, 300)
  if (!uid) throw new EventProblem('has no UID')
  if (!event.component.hasProperty('dtstart')) throw new EventProblem('has no DTSTART')
  const startTime = readValue('DTSTART', () => event.startDate)
  if (startTime instanceof ICAL.Time) checkWritten(event, 'DTSTART', startTime)
  const start = eventInstant(startTime, 'starts', timeZone)
  // Without DTEND ical.js adds DURATION to DTSTART, or a day to an all-day date.
  const hasEnd = event.component.hasProperty('dtend')
  const endTime = readValue(hasEnd ? 'DTEND' : 'DURATION', () => event.endDate)
  if (hasEnd && endTime instanceof ICAL.Time) checkWritten(event, 'DTEND', endTime)
  const end = eventInstant(endTime, 'ends', timeZone)
  if (!(end > start)) throw new EventProblem('does not end after it starts')
  const reason = String(event.summary ?? '').trim().slice(0, MAX_REASON) || 'holiday'
  return { uid, start, end, reason }
}

/** "3 (UID xmas@school)": the event's number in the file, and its UID when it can be read. */
function eventLabel(event: ICAL.Event, index: number): string {
  let uid = ''
  try {
    uid = String(event.uid ?? '').trim().slice(0, 100)
  } catch {}
  return uid ? `${index + 1} (UID ${uid})` : String(index + 1)
}

const MAX_IMPORTED_EVENTS = 2000

/** What an import does (or, in a dry run, would do) with one event of the file. */
interface ImportedEvent {
  uid: string
  reason: string
  start_time: string
  end_time: string
  /** create / update its closure (found by UID), or leave it as it is */
  action: 'create' | 'update' | 'unchanged'
  /** its closure: null for one a dry run would create */
  closure_id: number | null
  /** active bookings (not lessons) inside it that have not ended */
  bookings: number
  /** active lessons (occurrences of a series) inside it that have not ended */
  lessons: number
}

export interface ClosureImport {
  created: number
  updated: number
  unchanged: number
  /** the closures it wrote or left; in a dry run the stored ones the file names, as they are now */
  closures: ClosureView[]
  dry_run: boolean
  events: ImportedEvent[]
}

/**
 * The active bookings and lessons that have not ended inside each span, in one query: a lateral
 * count per span (at most MAX_IMPORTED_EVENTS), each read through reservations_active_end_idx.
 */
async function activeInside(tx: Executor, spans: { start: Date; end: Date }[], now: Date): Promise<{ bookings: number; lessons: number }[]> {
  const counts = spans.map(() => ({ bookings: 0, lessons: 0 }))
  if (!spans.length) return counts
  const values = sql.join(spans.map((s, i) => sql`(${i}::int, ${s.start.toISOString()}::timestamptz, ${s.end.toISOString()}::timestamptz)`), sql`, `)
  const rows = rowsOf<{ i: number | string; bookings: number | string; lessons: number | string }>(await tx.execute(sql`
    select w.i, c.bookings, c.lessons
    from (values ${values}) as w(i, s, e)
    cross join lateral (
      select count(*) filter (where r.series_id is null)::int as bookings, count(*) filter (where r.series_id is not null)::int as lessons
      from reservations r
      where r.status = 'active' and r.end_time > greatest(w.s, ${now.toISOString()}::timestamptz) and r.start_time < w.e
    ) as c`))
  for (const row of rows) counts[Number(row.i)] = { bookings: Number(row.bookings), lessons: Number(row.lessons) }
  return counts
}

/**
 * POST /admin/closures/import: one all-rooms holiday closure per VEVENT of an iCalendar file
 * (parsed by ical.js), idempotent by UID: importing the same file again changes nothing, an
 * updated file updates the closures it had created. With dryRun the file is read, checked and
 * classified the same way and nothing is written (no change record): `created` and `updated`
 * then count what it would create and update. Either way `events` says, per event, what it does
 * and how many active bookings and lessons fall inside it.
 */
export async function importClosures(
  deps: ReservationDeps & { config: { appTimezone: string } }, actor: ActingUser, text: string, options: { dryRun?: boolean } = {},
): Promise<ClosureImport> {
  let events: ICAL.Event[]
  try {
    const calendar = new ICAL.Component(ICAL.parse(text))
    events = calendar.getAllSubcomponents('vevent').map((v) => new ICAL.Event(v))
  } catch (error) {
    throw new BadRequest(CLOSURE_MSG.badCalendar(String((error as Error).message).slice(0, 200)))
  }
  if (events.length > MAX_IMPORTED_EVENTS) throw new BadRequest(CLOSURE_MSG.badCalendar(`more than ${MAX_IMPORTED_EVENTS} events`))
  const tz = deps.config.appTimezone
  // Every event is read and checked before anything is written: one refused event refuses the file.
  const wanted = events.map((event, i) => {
    try {
      return wantedClosure(event, tz)
    } catch (error) {
      const problem = error instanceof EventProblem ? error.message : `cannot be read: ${String((error as Error).message).slice(0, 100)}`
      throw new BadRequest(CLOSURE_MSG.badCalendar(`event ${eventLabel(event, i)} ${problem}`))
    }
  })
  const dryRun = options.dryRun === true
  const run = async (tx: Executor): Promise<ClosureImport> => {
    const now = deps.clock.now()
    // A dry run takes no lock: it says what an import would do now.
    if (!dryRun) await lockCoveredRooms(tx, { allRooms: true, roomIds: [] })
    const existing = new Map<string, Closure>()
    const uids = wanted.map((w) => w.uid)
    if (uids.length) for (const row of await tx.select().from(closures).where(inArray(closures.uid, uids))) existing.set(row.uid!, row)
    // In a dry run, what the file has made of a UID so far (a UID twice in one file: the second sees the first).
    const planned = new Map<string, { start: Date; end: Date; reason: string; id: number | null }>()
    let created = 0, updated = 0, unchanged = 0
    const result: ClosureView[] = []
    const listed = new Set<number>()
    const actions: Pick<ImportedEvent, 'action' | 'closure_id'>[] = []
    for (const w of wanted) {
      const old = existing.get(w.uid)
      const current = planned.get(w.uid) ?? (old ? { start: old.startTime, end: old.endTime, reason: old.reason, id: old.id } : undefined)
      if (current && current.start.getTime() === w.start.getTime() && current.end.getTime() === w.end.getTime() && current.reason === w.reason) {
        unchanged++
        actions.push({ action: 'unchanged', closure_id: current.id })
        if (!dryRun) result.push(closureView(old!))
        else if (old && !listed.has(old.id)) { listed.add(old.id); result.push(closureView(old)) }
        continue
      }
      if (current) updated++
      else created++
      actions.push({ action: current ? 'update' : 'create', closure_id: current?.id ?? null })
      if (dryRun) {
        planned.set(w.uid, { start: w.start, end: w.end, reason: w.reason, id: current?.id ?? null })
        if (old && !listed.has(old.id)) { listed.add(old.id); result.push(closureView(old)) }
        continue
      }
      const [row] = old
        ? await tx.update(closures).set({ startTime: w.start, endTime: w.end, reason: w.reason, updatedAt: now }).where(eq(closures.id, old.id)).returning() as [Closure]
        : await tx.insert(closures).values({ allRooms: true, roomIds: null, kind: 'holiday', reason: w.reason, startTime: w.start, endTime: w.end, uid: w.uid, createdAt: now, updatedAt: now }).returning() as [Closure]
      actions[actions.length - 1]!.closure_id = row.id
      existing.set(w.uid, row)
      result.push(closureView(row))
    }
    const inside = await activeInside(tx, wanted, now)
    if (!dryRun && (created || updated)) {
      recordChange(tx, {
        at: now, actorId: actor.id, event: 'closure.created', rooms: 'all',
        description: `${actor.name} imported ${created} new and ${updated} changed closures from a calendar`,
        data: { imported: true, created, updated, unchanged },
      })
    }
    const report = wanted.map((w, i): ImportedEvent => ({
      uid: w.uid, reason: w.reason, start_time: formatUtc(w.start), end_time: formatUtc(w.end), ...actions[i]!, ...inside[i]!,
    }))
    return { created, updated, unchanged, closures: result, dry_run: dryRun, events: report }
  }
  return dryRun ? run(deps.database.db) : writeTransaction(deps.database, run)
}
