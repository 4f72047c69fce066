/**
 * Series: recurring bookings (issue 15). A series is an RRULE, a first occurrence, a room, an
 * owner and a title; its occurrences are ordinary reservations (series_id, title), so the overlap
 * constraint, check-in, release, events and audit treat each one like any booking.
 *
 * Every write takes the room's row lock first (lockRoom, as every booking does), so two series, or
 * a series and a booking, asked for at once for the same slots never both win: the second sees the
 * first's rows as conflicts. An occurrence moved or cancelled on its own becomes an exception
 * (reservations.series_exception): later series edits leave it alone.
 */
import { and, asc, desc, eq, gt, gte, inArray, lt, sql } from 'drizzle-orm'
import { rowsOf, type Executor } from '../../../db/client'
import { reservations, rooms, series, terms, type Closure, type Reservation, type Room, type Series } from '../../../db/schema'
import { BadRequest, Forbidden, HttpError, NotFound } from '../../../lib/errors'
import { formatUtc, zonedToUtc } from '../../../lib/time'
import { closuresOverlapping } from './closures'
import { BOOKING_MSG, CLOSURE_MSG, ROOM_MSG, SERIES_MSG } from '../messages'
import { expandRule, normalizeRule, rruleUtc, type Occurrence } from './recurrence'
import {
  checkBookingLimits, checkBookingWindow, checkNotPast, checkRoomAccess, lockRoom, requireUser, rethrowReservationWriteError,
  type ActingUser, type ReservationDeps,
} from '../reservations/writes'
import { reservationJson } from '../views/status'
import { enforceFairUse } from '../fair-use/fair-use'
import { releaseDue } from '../checkin/sweeper'
import { recordChange, recordChanges, writeTransaction } from '../../changes'

export interface SeriesInput {
  room_id: number
  /** the first occurrence, decoded by the body schema (lib/instant-input.ts) */
  start_time: Date
  end_time: Date
  rrule?: unknown
  title?: string
  skip_conflicts?: boolean
  /** admins only: whose series it is */
  user_id?: number
  /** the series ends with this term (instead of COUNT or UNTIL) */
  until_term?: number
}

export interface SeriesConflict {
  kind: 'booking' | 'closure'
  id: number
  msg: string
}

/** An occurrence and what it overlaps (null: free). A timetable import knows more kinds of conflict. */
interface PlannedOccurrence<C extends { msg: string } = SeriesConflict> extends Occurrence {
  conflict: C | null
}

/** A series as it will be written: checked, with the conflict of each occurrence. */
export interface SeriesPlan<C extends { msg: string } = SeriesConflict> {
  room: Room
  owner: { id: number; name: string }
  rule: string
  title: string | null
  untilTermId: number | null
  occurrences: PlannedOccurrence<C>[]
  /** a timetable import's: the row's slot, by which importing the file again finds this series (decision 028) */
  importKey?: string
}

const DAY_MS = 24 * 3600_000

/** The last instant of a term (the end of its ends_on day, local time), as the UNTIL of a series. */
async function termEnd(tx: Executor, termId: number, timeZone: string): Promise<Date> {
  const [term] = await tx.select().from(terms).where(eq(terms.id, termId))
  if (!term) throw new NotFound(SERIES_MSG.termNotFound)
  const [y, m, d] = term.endsOn.split('-').map(Number) as [number, number, number]
  const nextDay = new Date(Date.UTC(y, m - 1, d) + DAY_MS)
  return new Date(zonedToUtc(nextDay.getUTCFullYear(), nextDay.getUTCMonth() + 1, nextDay.getUTCDate(), 0, timeZone).getTime() - 1000)
}

/** The times and rule of a series request (400 naming the problem), before anything is read. */
export function parseSeriesRequest(input: Pick<SeriesInput, 'start_time' | 'end_time' | 'rrule'>, until?: Date): { start: Date; end: Date; rule: string } {
  const { start_time: start, end_time: end } = input
  if (start >= end) throw new BadRequest(BOOKING_MSG.badRange)
  return { start, end, rule: normalizeRule(input.rrule, until) }
}

/**
 * Every occurrence of the rule, checked as a booking of each would be by `actor` (room type and
 * block for non-admins, the past, the booking limits, the daily window): the checks that need
 * nothing but the room. 400/403/409 naming the first problem. `expand`: a timetable import passes
 * expandRule remembered per file (plan.ts), the same result for its many rows of one slot.
 */
export function checkedOccurrences(
  deps: ReservationDeps, actor: ActingUser, room: Room, first: Occurrence, rule: string, expand: typeof expandRule = expandRule,
): Occurrence[] {
  const now = deps.clock.now()
  const tz = deps.config.appTimezone
  const expanded = expand(rule, first, tz)
  if (actor.role !== 'admin') checkRoomAccess(room)
  checkNotPast(expanded[0]!.start, now)
  for (const o of expanded) {
    checkBookingLimits(deps.config, actor.role, o.start, o.end, now)
    checkBookingWindow(room, o.start, o.end, tz)
  }
  return expanded
}

/** A room's active bookings (disjoint: the overlap constraint) and closures, as read for conflicts. */
export interface RoomHolders {
  /** seriesId: a timetable import read it, so that a row's own lessons do not conflict with it */
  booked: { id: number; start: Date; end: Date; seriesId?: number | null }[]
  closed: Pick<Closure, 'id' | 'startTime' | 'endTime' | 'reason'>[]
}

/** What an occurrence overlaps in the room: a closure first, then a booking; null when it is free. */
function conflictOf(o: Occurrence, holders: RoomHolders): SeriesConflict | null {
  const closure = holders.closed.find((c) => c.startTime < o.end && c.endTime > o.start)
  if (closure) return { kind: 'closure', id: closure.id, msg: CLOSURE_MSG.closed(closure.reason) }
  const booking = holders.booked.find((b) => b.start < o.end && b.end > o.start)
  return booking ? { kind: 'booking', id: booking.id, msg: BOOKING_MSG.conflict } : null
}

/** The room's active bookings and closures between `from` and `to` (inside a write, after its room lock). */
async function roomHolders(tx: Executor, roomId: number, from: Date, to: Date): Promise<RoomHolders> {
  const [booked, closed] = await Promise.all([
    tx.select({ id: reservations.id, start: reservations.startTime, end: reservations.endTime }).from(reservations)
      .where(and(eq(reservations.roomId, roomId), eq(reservations.status, 'active'), lt(reservations.startTime, to), gt(reservations.endTime, from))),
    closuresOverlapping(tx, roomId, from, to),
  ])
  return { booked, closed }
}

/**
 * Everything a series would be, checked, with the conflict of each occurrence (an active booking
 * or a closure of the room overlapping it), under the room's row lock (inside a transaction).
 */
async function planSeries(deps: ReservationDeps, tx: Executor, actor: ActingUser, input: SeriesInput): Promise<SeriesPlan> {
  const ownerId = input.user_id ?? actor.id
  if (ownerId !== actor.id && actor.role !== 'admin') throw new Forbidden(SERIES_MSG.forSomeoneElse)
  const until = input.until_term === undefined ? undefined : await termEnd(tx, input.until_term, deps.config.appTimezone)
  const { start, end, rule } = parseSeriesRequest(input, until)
  // Expanded before the room is locked: a rule refused (400) never waits for the room.
  expandRule(rule, { start, end }, deps.config.appTimezone)

  const room = await lockRoom(tx, input.room_id)
  if (!room) throw new NotFound(ROOM_MSG.notFound)
  const owner = ownerId === actor.id ? actor : await requireUser(tx, ownerId)
  const expanded = checkedOccurrences(deps, actor, room, { start, end }, rule)
  // A no-show whose release is due but not yet swept must not count as a conflict.
  await releaseDue(deps, tx, { roomId: room.id })
  const holders = await roomHolders(tx, room.id, expanded[0]!.start, expanded[expanded.length - 1]!.end)
  return {
    room, owner, rule, title: input.title?.trim() || null, untilTermId: input.until_term ?? null,
    occurrences: expanded.map((o) => ({ ...o, conflict: conflictOf(o, holders) })),
  }
}

const occurrenceTimes = (o: Occurrence) => ({ start_time: formatUtc(o.start), end_time: formatUtc(o.end) })

/**
 * The owner's fair-use rules over the occurrences to be created (issue 16): each counts like a
 * booking (length, notice, advance, grid, active bookings, weekly minutes); whether they await approval.
 */
function seriesFairUse(deps: ReservationDeps, tx: Executor, actor: ActingUser, plan: SeriesPlan, occurrences: Occurrence[]) {
  return enforceFairUse(deps, tx, { actor, ownerId: plan.owner.id, room: plan.room, bookings: occurrences, isNew: true })
}

/** POST /series/precheck: the occurrences and the conflict of each; nothing is written. */
export async function precheckSeries(deps: ReservationDeps, actor: ActingUser, input: SeriesInput) {
  const plan = await writeTransaction(deps.database, async (tx) => {
    const planned = await planSeries(deps, tx, actor, input)
    await seriesFairUse(deps, tx, actor, planned, planned.occurrences.filter((o) => !o.conflict))
    return planned
  })
  return { occurrences: plan.occurrences.map((o) => ({ ...occurrenceTimes(o), conflict: o.conflict })) }
}

function seriesView(row: Series) {
  return {
    id: row.id, room_id: row.roomId, user_id: row.userId, title: row.title, rrule: row.rrule, time_zone: row.timeZone,
    start_time: formatUtc(row.firstStart), end_time: formatUtc(row.firstEnd), until: formatUtc(row.until),
    until_term: row.untilTermId, created_at: formatUtc(row.createdAt),
  }
}

/**
 * An occurrence as the series routes answer it: a reservation (as /reservations/mine) with its
 * series and title. Every row here was made by its series or read by it, so series_id is never null.
 */
function occurrenceView(row: Reservation, roomName: string, now: Date) {
  return {
    ...reservationJson(row, { id: row.roomId, name: roomName }, now),
    series_id: row.seriesId!, title: row.title, exception: row.seriesException,
  }
}

export interface SeriesOutcome {
  series: ReturnType<typeof seriesView> | null
  created: ReturnType<typeof occurrenceView>[]
  skipped: { start_time: string; end_time: string; reason: string; conflict: SeriesConflict }[]
}

/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters in one statement. */
const INSERT_CHUNK = 2000

async function insertChunked<T>(rows: T[], insert: (chunk: T[]) => Promise<unknown[]>): Promise<unknown[]> {
  const out: unknown[] = []
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) out.push(...await insert(rows.slice(i, i + INSERT_CHUNK)))
  return out
}

/** A written series: its view and the occurrences created. */
export interface WrittenSeries {
  series: ReturnType<typeof seriesView>
  created: ReturnType<typeof occurrenceView>[]
}

/**
 * Many lessons in one statement, for a timetable import (tens of thousands while its rooms are
 * locked): the rows go as one JSON parameter, read by json_to_recordset. A multi-row INSERT of the
 * same rows spent three quarters of its time building and sending 15 parameters a row (4.0 s for
 * 25,500 lessons on PostgreSQL; the database's own work is about 1.1 s). Only the ids come back.
 */
export async function insertLessons(tx: Executor, rows: (typeof reservations.$inferInsert)[]): Promise<Pick<Reservation, 'id' | 'seriesId'>[]> {
  if (rows.length === 0) return []
  const json = JSON.stringify(rows.map((r) => ({
    room_id: r.roomId, user_id: r.userId, start_time: r.startTime, end_time: r.endTime, check_in_required: r.checkInRequired,
    series_id: r.seriesId, title: r.title, approval: r.approval, set_by_owner: r.setByOwner,
  })))
  const { createdAt, status } = rows[0]!
  const result = await tx.execute(sql`
    insert into reservations (room_id, user_id, start_time, end_time, status, check_in_required, series_id, title, approval, set_by_owner, created_at, updated_at)
    select l.room_id, l.user_id, l.start_time, l.end_time, ${status}::reservation_status, l.check_in_required, l.series_id, l.title,
      l.approval::booking_approval, l.set_by_owner, ${createdAt!.toISOString()}::timestamptz, ${createdAt!.toISOString()}::timestamptz
    from json_to_recordset(${json}::json) as l(room_id int, user_id int, start_time timestamptz, end_time timestamptz, check_in_required boolean,
      series_id int, title text, approval text, set_by_owner boolean)
    returning id, series_id`)
  return rowsOf<{ id: number; series_id: number }>(result).map((r) => ({ id: r.id, seriesId: r.series_id }))
}

/**
 * A timetable import's series (each with its import key, unique) in one statement, as insertLessons
 * sends lessons: 1,200 series as a multi-row INSERT with RETURNING of every column took ~0.2 s,
 * most of it building parameters and mapping rows. Only the ids come back, matched to the rows by
 * their keys; the rest of each row is what was sent.
 */
async function insertImportedSeries(tx: Executor, values: (typeof series.$inferInsert)[]): Promise<Series[]> {
  const json = JSON.stringify(values.map((v) => ({
    room_id: v.roomId, user_id: v.userId, title: v.title, rrule: v.rrule, time_zone: v.timeZone, first_start: v.firstStart, first_end: v.firstEnd,
    until: v.until, until_term_id: v.untilTermId, import_key: v.importKey,
  })))
  const { createdAt } = values[0]!
  const result = await tx.execute(sql`
    insert into series (room_id, user_id, title, rrule, time_zone, first_start, first_end, until, until_term_id, import_key, created_at, updated_at)
    select s.room_id, s.user_id, s.title, s.rrule, s.time_zone, s.first_start, s.first_end, s.until, s.until_term_id, s.import_key,
      ${createdAt!.toISOString()}::timestamptz, ${createdAt!.toISOString()}::timestamptz
    from json_to_recordset(${json}::json) as s(room_id int, user_id int, title text, rrule text, time_zone text, first_start timestamptz,
      first_end timestamptz, until timestamptz, until_term_id int, import_key text)
    returning id, import_key`)
  const ids = new Map(rowsOf<{ id: number; import_key: string }>(result).map((r) => [r.import_key, r.id]))
  return values.map((v) => ({
    id: ids.get(v.importKey!)!, roomId: v.roomId, userId: v.userId, title: v.title ?? null, rrule: v.rrule, timeZone: v.timeZone,
    firstStart: v.firstStart, firstEnd: v.firstEnd, until: v.until, untilTermId: v.untilTermId ?? null, importKey: v.importKey ?? null,
    createdAt: v.createdAt!, updatedAt: v.updatedAt!,
  }))
}

/**
 * Writes checked series with `tx` (their rooms locked, their conflicts read under the locks): each
 * series row, its free occurrences as reservations, one series.created change each; the
 * conflicting occurrences are left out. Many at once (a timetable import) in a few statements.
 * `approval` per plan: fair use (seriesFairUse) decided it.
 */
export async function writeSeries<C extends { msg: string }>(
  deps: ReservationDeps, tx: Executor, actor: ActingUser, plans: { plan: SeriesPlan<C>; approval: 'pending' | null }[],
  options: { views?: boolean } = {},
): Promise<WrittenSeries[]> {
  if (plans.length === 0) return []
  const now = deps.clock.now()
  const values = plans.map(({ plan }): typeof series.$inferInsert => ({
    roomId: plan.room.id, userId: plan.owner.id, title: plan.title, rrule: plan.rule, timeZone: deps.config.appTimezone,
    firstStart: plan.occurrences[0]!.start, firstEnd: plan.occurrences[0]!.end, until: plan.occurrences[plan.occurrences.length - 1]!.start,
    untilTermId: plan.untilTermId, importKey: plan.importKey ?? null, createdAt: now, updatedAt: now,
  }))
  const seriesRows = options.views === false && values.every((v) => v.importKey)
    ? await insertImportedSeries(tx, values)
    : await insertChunked(values, (chunk) => tx.insert(series).values(chunk).returning()) as Series[]
  // RETURNING gives the rows of a multi-row INSERT in the order of its VALUES.
  const wanted = plans.flatMap(({ plan, approval }, i) => plan.occurrences.filter((o) => !o.conflict).map((o) => ({
    roomId: plan.room.id, userId: plan.owner.id, startTime: o.start, endTime: o.end, status: 'active' as const,
    // Lessons are released as no-shows only where the room says so for series.
    checkInRequired: plan.room.requiresCheckIn && plan.room.seriesRequireCheckIn,
    seriesId: seriesRows[i]!.id, title: seriesRows[i]!.title, approval, setByOwner: plan.owner.id === actor.id, createdAt: now, updatedAt: now,
  })))
  const withViews = options.views !== false
  let inserted: Pick<Reservation, 'id' | 'seriesId'>[]
  try {
    inserted = withViews
      ? await insertChunked(wanted, (chunk) => tx.insert(reservations).values(chunk).returning()) as Reservation[]
      : await insertLessons(tx, wanted)
  } catch (error) {
    rethrowReservationWriteError(error)
  }
  const bySeries = Map.groupBy(inserted, (r) => r.seriesId!)
  const outcomes = plans.map(({ plan }, i) => {
    const row = seriesRows[i]!
    const skipped = plan.occurrences.filter((o) => o.conflict).map((o) => formatUtc(o.start))
    return { row, plan, ids: (bySeries.get(row.id) ?? []).map((r) => r.id), rows: bySeries.get(row.id) ?? [], skipped }
  })
  recordChanges(tx, outcomes.map(({ row, plan, ids, skipped }) => ({
    at: now, actorId: actor.id, event: 'series.created',
    description: `${actor.name} created series #${row.id} in ${plan.room.name}${plan.owner.id !== actor.id ? ` for ${plan.owner.name}` : ''}: ${ids.length} bookings (${plan.rule})${skipped.length ? `, ${skipped.length} skipped` : ''}`,
    data: {
      series_id: row.id, room_id: plan.room.id, user_id: plan.owner.id, rrule: plan.rule, title: row.title,
      reservation_ids: ids, skipped,
    },
  })))
  return outcomes.map(({ row, plan, rows }) => ({
    series: seriesView(row),
    created: withViews ? (rows as Reservation[]).map((r) => occurrenceView(r, plan.room.name, now)) : [],
  }))
}

/**
 * Creates a series with `tx`: without skip_conflicts any conflict is 409 {msg, conflicts} and
 * nothing is written; with it the conflicting occurrences are left out (`skipped`).
 */
async function createSeriesTx(deps: ReservationDeps, tx: Executor, actor: ActingUser, input: SeriesInput): Promise<SeriesOutcome> {
  const plan = await planSeries(deps, tx, actor, input)
  const conflicting = plan.occurrences.filter((o) => o.conflict)
  if (conflicting.length && !input.skip_conflicts) {
    throw new HttpError(409, SERIES_MSG.conflicts, {}, { conflicts: conflicting.map((o) => ({ ...occurrenceTimes(o), conflict: o.conflict! })) })
  }
  const { approval } = await seriesFairUse(deps, tx, actor, plan, plan.occurrences.filter((o) => !o.conflict))
  const [written] = await writeSeries(deps, tx, actor, [{ plan, approval }])
  return { ...written!, skipped: conflicting.map((o) => ({ ...occurrenceTimes(o), reason: o.conflict!.msg, conflict: o.conflict! })) }
}

/** POST /series */
export function createSeries(deps: ReservationDeps, actor: ActingUser, input: SeriesInput): Promise<SeriesOutcome> {
  return writeTransaction(deps.database, (tx) => createSeriesTx(deps, tx, actor, input))
}

async function seriesRow(executor: Executor, id: number, lock = false): Promise<Series> {
  const query = executor.select().from(series).where(eq(series.id, id))
  const [row] = lock ? await query.for('update') : await query
  if (!row) throw new NotFound(SERIES_MSG.notFound)
  return row
}

async function occurrencesOf(executor: Executor, seriesId: number): Promise<Reservation[]> {
  return executor.select().from(reservations).where(eq(reservations.seriesId, seriesId)).orderBy(asc(reservations.startTime), asc(reservations.id))
}

/** GET /series/:id: the series and all its occurrences (every status, exceptions marked). */
export async function getSeries(deps: ReservationDeps, id: number) {
  const db = deps.database.db
  const row = await seriesRow(db, id)
  const [occurrences, [roomRow]] = await Promise.all([
    occurrencesOf(db, id),
    db.select({ name: rooms.name }).from(rooms).where(eq(rooms.id, row.roomId)),
  ])
  const now = deps.clock.now()
  return { series: seriesView(row), occurrences: occurrences.map((r) => occurrenceView(r, roomRow?.name ?? '', now)) }
}

/** GET /series: the caller's series (an admin's without mine=1: everyone's), newest first. */
export async function listSeries(deps: ReservationDeps, actor: ActingUser, mine: boolean) {
  const where = mine || actor.role !== 'admin' ? eq(series.userId, actor.id) : undefined
  const rows = await deps.database.db.select().from(series).where(where).orderBy(desc(series.id)).limit(500)
  return { series: rows.map(seriesView) }
}

function checkOwner(actor: ActingUser, row: Series): void {
  if (actor.role !== 'admin' && row.userId !== actor.id) throw new Forbidden(SERIES_MSG.notYours)
}

/** Cancels the active, non-exception occurrences of a series starting at or after `from`; one series.cancelled change. */
async function cancelOccurrences(deps: ReservationDeps, tx: Executor, actor: ActingUser, row: Series, from: Date, why: string): Promise<number[]> {
  const now = deps.clock.now()
  const doomed = await tx.select({ id: reservations.id }).from(reservations).where(and(
    eq(reservations.seriesId, row.id), eq(reservations.status, 'active'), eq(reservations.seriesException, false), gte(reservations.startTime, from),
  )).for('update')
  const ids = doomed.map((r) => r.id)
  if (ids.length) await tx.update(reservations).set({ status: 'cancelled', cancelledAt: now, updatedAt: now }).where(inArray(reservations.id, ids))
  recordChange(tx, {
    at: now, actorId: actor.id, event: 'series.cancelled', users: [row.userId],
    description: `${actor.name} cancelled ${ids.length} bookings of series #${row.id} from ${formatUtc(from)} (${why})`,
    data: { series_id: row.id, room_id: row.roomId, from: formatUtc(from), reservation_ids: ids },
  })
  return ids
}

/** DELETE /series/:id?from=: cancels the occurrences from then on (default: all future ones). */
export async function cancelSeries(deps: ReservationDeps, actor: ActingUser, id: number, from: Date = deps.clock.now()) {
  return writeTransaction(deps.database, async (tx) => {
    const row = await seriesRow(tx, id, true)
    checkOwner(actor, row)
    const cancelled = await cancelOccurrences(deps, tx, actor, row, from, 'series cancelled')
    return { series: seriesView(row), cancelled }
  })
}

/**
 * PATCH /series/:id {title?, until?}: a new title for the series and its occurrences (not the
 * exceptions); an earlier until cancels the occurrences after it.
 */
export async function updateSeries(deps: ReservationDeps, actor: ActingUser, id: number, input: { title?: string | null; until?: Date }) {
  return writeTransaction(deps.database, async (tx) => {
    const now = deps.clock.now()
    const row = await seriesRow(tx, id, true)
    checkOwner(actor, row)
    const changes: Partial<Series> = { updatedAt: now }
    let cancelled: number[] = []
    if (input.title !== undefined) {
      changes.title = input.title?.trim() || null
      await tx.update(reservations).set({ title: changes.title, updatedAt: now })
        .where(and(eq(reservations.seriesId, id), eq(reservations.seriesException, false)))
    }
    if (input.until !== undefined) {
      const until = input.until
      if (until > row.until) throw new BadRequest(SERIES_MSG.onlyEarlier)
      cancelled = await cancelOccurrences(deps, tx, actor, row, new Date(until.getTime() + 1), 'series shortened')
      changes.until = until
      changes.rrule = `${row.rrule.split(';').filter((p) => !/^(COUNT|UNTIL)=/.test(p)).join(';')};UNTIL=${rruleUtc(until)}`
      changes.untilTermId = null
    }
    const [updated] = await tx.update(series).set(changes).where(eq(series.id, id)).returning() as [Series]
    recordChange(tx, {
      at: now, actorId: actor.id, event: 'series.updated', rooms: [row.roomId], users: [row.userId], description: `${actor.name} changed series #${id}`,
      data: { series_id: id, ...(input.title !== undefined ? { title: changes.title } : {}), ...(input.until !== undefined ? { until: formatUtc(changes.until!) } : {}), cancelled },
    })
    return { series: seriesView(updated), cancelled }
  })
}
