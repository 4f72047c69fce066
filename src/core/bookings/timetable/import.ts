/**
 * Importing a term's timetable (issue 15): a CSV with one weekly lesson per row,
 * `room,teacher,weekday,start,end,from,until,title`, as a Russian college's spreadsheet saves it
 * (issue 26: Windows-1251, UTF-8 or UTF-16; Russian column names; `;`, `,` or tabs; DD.MM.YYYY
 * dates). Each row becomes a series (FREQ=WEEKLY;BYDAY=..;UNTIL=..) checked by the same code as
 * POST /series, from today on when its term has begun; a lesson in a closure (a holiday) is left
 * out, a lesson that overlaps a booking of its room or a lesson of the file's earlier rows is a
 * conflict. Importing the file again updates the series the first import made (decision 028).
 *
 * In two steps, so that nobody waits for a big file (issue 24, decision 026):
 * 1. The plan, with reads only: no transaction, no lock. The file is read, every row checked and
 *    expanded, and its conflicts found (against the bookings and closures as they are now, read
 *    here, and against the earlier rows) in a worker thread (timetable-plan.ts), so the seconds of
 *    CPU a big file takes never hold the event loop. A dry run is this step alone: it reports what
 *    the import would do and blocks no booking.
 * 2. Unless a row has an error or a conflict without skip_conflicts (400/409, nothing written), one
 *    short transaction: the file's rooms are locked (in id order), their bookings and closures read
 *    again under the locks and the conflicts found again (someone may have booked meanwhile; the
 *    answer reports those), and every series, lesson and change record written in a few statements
 *    (series.ts writeSeries). Rooms are held for the writing only, not for the checking.
 */
import { and, asc, eq, gt, gte, inArray, lt, not } from 'drizzle-orm'
import type { Executor } from '../../../db/client'
import { anyOf } from '../../../db/any-of'
import { closures, reservations, rooms, series, users, type Room } from '../../../db/schema'
import { HttpError, NotFound } from '../../../lib/errors'
import { enforceFairUse } from '../fair-use/fair-use'
import { IMPORT_MSG, ROOM_MSG } from '../messages'
import type { ActingUser, ReservationDeps } from '../reservations/writes'
import { writeSeries, type RoomHolders, type SeriesPlan } from './series'
import { releasableAt, releaseDue } from '../checkin/sweeper'
import {
  mayHaveHeader, WRITE_CREATE, type ExistingSeries, type ImportTotals, type LookupRows, type PlanInput, type PlanSpan, type WritableRow,
} from './plan'
import { lessonsTo, updateImportedSeries, type SeriesUpdate } from './import-updates'
import type { PlanRequest } from './plan.worker'
import { writeTransaction } from '../../changes'

/** The rooms and users a file may name. */
async function lookupRows(db: Executor): Promise<LookupRows> {
  const [roomRows, userRows] = await Promise.all([
    db.select().from(rooms),
    db.select({ id: users.id, name: users.name, role: users.role, teacherPending: users.teacherPending }).from(users),
  ])
  return { rooms: roomRows, users: userRows }
}

/** Bookings and closures of the span's rooms over its time, by room, for conflicts. */
async function holdersOf(db: Executor, span: PlanSpan | null, now: Date, releasedAlready: boolean): Promise<Map<number, RoomHolders>> {
  const byRoom = new Map<number, RoomHolders>((span?.roomIds ?? []).map((id) => [id, { booked: [], closed: [] }]))
  if (!span) return byRoom
  const [booked, closed] = await Promise.all([
    db.select({ id: reservations.id, roomId: reservations.roomId, start: reservations.startTime, end: reservations.endTime, seriesId: reservations.seriesId })
      .from(reservations).innerJoin(rooms, eq(rooms.id, reservations.roomId))
      .where(and(
        inArray(reservations.roomId, span.roomIds), eq(reservations.status, 'active'), lt(reservations.startTime, span.to), gt(reservations.endTime, span.from),
        // Planning without releasing: what the release would give back holds nothing.
        releasedAlready ? undefined : not(releasableAt(now)),
      ))
      .orderBy(asc(reservations.startTime)),
    db.select({ id: closures.id, allRooms: closures.allRooms, roomIds: closures.roomIds, startTime: closures.startTime, endTime: closures.endTime, reason: closures.reason })
      .from(closures).where(and(lt(closures.startTime, span.to), gt(closures.endTime, span.from))),
  ])
  for (const { roomId, ...b } of booked) byRoom.get(roomId)!.booked.push(b)
  for (const { allRooms, roomIds, ...c } of closed) {
    for (const id of allRooms ? span.roomIds : (roomIds ?? []).filter((r) => byRoom.has(r))) byRoom.get(id)!.closed.push(c)
  }
  return byRoom
}

/**
 * The series earlier imports made for these keys (the rows' slots), each with its active lessons
 * from `now` on that are not exceptions. `lock`: inside the write, after the rooms (the lock order).
 */
async function existingSeriesOf(db: Executor, keys: string[], now: Date, lock = false): Promise<Map<string, ExistingSeries>> {
  if (keys.length === 0) return new Map()
  const query = db.select({ id: series.id, key: series.importKey, userId: series.userId, title: series.title, rrule: series.rrule, until: series.until })
    .from(series).where(anyOf(series.importKey, keys, 'text')).orderBy(asc(series.id))
  const found = lock ? await query.for('update') : await query
  if (found.length === 0) return new Map()
  const lessons = await db.select({ id: reservations.id, seriesId: reservations.seriesId, start: reservations.startTime, end: reservations.endTime, userId: reservations.userId, title: reservations.title })
    .from(reservations)
    .where(and(
      anyOf(reservations.seriesId, found.map((s) => s.id), 'integer'), eq(reservations.status, 'active'), eq(reservations.seriesException, false), gte(reservations.startTime, now),
    ))
    .orderBy(asc(reservations.startTime))
  const bySeries = Map.groupBy(lessons, (l) => l.seriesId!)
  return new Map(found.map(({ key, ...s }) => [key!, { ...s, lessons: (bySeries.get(s.id) ?? []).map(({ seriesId: _, ...l }) => l) }]))
}

type PlanReply =
  | { kind: 'planned'; span: PlanSpan | null; keys: string[] }
  | { kind: 'assigned'; totals: ImportTotals; rows: WritableRow[] }
  | { kind: 'report'; json: string }
  | { kind: 'refused'; status: number; msg: string; extra: Record<string, unknown> }
  | { kind: 'failed'; msg: string }

/** Imports planned at once, each in its own thread: more wait (within the request's TIMEOUT) rather than crowd the CPU. */
const MAX_PLANNERS = 2
let planners = 0
const waitingForPlanner: (() => void)[] = []

async function plannerSlot(): Promise<() => void> {
  while (planners >= MAX_PLANNERS) await new Promise<void>((resolve) => waitingForPlanner.push(resolve))
  planners++
  return () => {
    planners--
    waitingForPlanner.shift()?.()
  }
}

/** The worker thread of one import (plan.worker.ts): one question at a time. */
async function startPlanner() {
  const release = await plannerSlot()
  const worker = new Worker(new URL('./plan.worker.ts', import.meta.url).href)
  const ask = <K extends PlanReply['kind']>(request: PlanRequest, expect: K) => new Promise<Extract<PlanReply, { kind: K }>>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<PlanReply>) => {
      const reply = event.data
      if (reply.kind === expect) resolve(reply as Extract<PlanReply, { kind: K }>)
      else if (reply.kind === 'refused') reject(new HttpError(reply.status, reply.msg, {}, reply.extra))
      else reject(new Error(`timetable plan: ${reply.kind === 'failed' ? reply.msg : `unexpected ${reply.kind}`}`))
    }
    worker.onerror = (event) => reject(new Error(`timetable plan: ${event.message}`))
    worker.postMessage(request)
  })
  return {
    plan: (input: PlanInput) => ask({ kind: 'plan', input }, 'planned'),
    assign: (holders: Map<number, RoomHolders>, existing: Map<string, ExistingSeries>, writable: boolean) =>
      ask({ kind: 'assign', holders, existing, writable }, 'assigned'),
    report: async (seriesIds: [number, number][] = [], written = false) => (await ask({ kind: 'report', seriesIds, written }, 'report')).json,
    stop: () => {
      worker.terminate()
      release()
    },
  }
}

/** A new row's series as series.ts writes it: its room, its key, and its lessons as dates again (those not created marked skipped). */
function seriesPlanOf(row: WritableRow, room: SeriesPlan['room']): SeriesPlan<{ msg: string }> {
  const occurrences = Array.from({ length: row.actions.length }, (_, i) => ({
    start: new Date(row.lessons[2 * i]!), end: new Date(row.lessons[2 * i + 1]!), conflict: row.actions[i] === WRITE_CREATE ? null : { msg: 'skipped' },
  }))
  return { room, owner: row.owner, rule: row.rule!, title: row.title, untilTermId: null, occurrences, importKey: row.key }
}

/**
 * 400 with the report when a row has an error, 409 when a lesson has a conflict and conflicts are
 * not skipped. Lessons in closures are no conflict: they are left out whatever is asked.
 */
async function refuseFailed(totals: ImportTotals, skipConflicts: boolean, report: () => Promise<string>): Promise<void> {
  const status = totals.errors > 0 ? 400 : totals.conflicts > 0 && !skipConflicts ? 409 : undefined
  if (status) throw new HttpError(status, IMPORT_MSG.failed, {}, { report: JSON.parse(await report()) as unknown })
}

/** The file's rows written with `tx` (its rooms and their series locked): new series made, changed ones updated. */
async function writeRows(
  deps: ReservationDeps, tx: Executor, actor: ActingUser, writable: WritableRow[], roomById: Map<number, Room>, existing: Map<string, ExistingSeries>,
): Promise<[line: number, seriesId: number][]> {
  const fresh = writable.filter((row) => row.seriesId === null)
  const plans = fresh.map((row) => seriesPlanOf(row, roomById.get(row.roomId)!))
  // Admins are exempt from fair use (decision 022); asked all the same, so a rule for them would apply here too.
  const approvals = await Promise.all(plans.map((plan) => enforceFairUse(deps, tx, {
    actor, ownerId: plan.owner.id, room: plan.room, bookings: plan.occurrences.filter((o) => !o.conflict), isNew: true,
  })))
  const written = await writeSeries(deps, tx, actor, plans.map((plan, i) => ({ plan, approval: approvals[i]!.approval })), { views: false })
  const updates: SeriesUpdate[] = await Promise.all(writable.filter((row): row is SeriesUpdate['row'] => row.seriesId !== null).map(async (row) => {
    const room = roomById.get(row.roomId)!
    const added = lessonsTo(row, WRITE_CREATE)
    const { approval } = added.length
      ? await enforceFairUse(deps, tx, { actor, ownerId: row.owner.id, room, bookings: added, isNew: true })
      : { approval: null }
    return { row, room, before: existing.get(row.key)!, approval }
  }))
  await updateImportedSeries(deps, tx, actor, updates)
  return fresh.map((row, i) => [row.line, written[i]!.series.id])
}

/**
 * POST /admin/timetable/import. The admin (actor) creates each series for its teacher. Answers the
 * report, as JSON (ImportReport): with dry_run nothing is kept; otherwise everything is kept, or
 * (any error, or a conflict without skip_conflicts) nothing, and the report comes with an
 * HttpError 400/409. `file`: the bytes as sent, in whichever encoding (encoding.ts).
 */
export async function importTimetable(
  deps: ReservationDeps, actor: ActingUser, file: Uint8Array, options: { dryRun: boolean; skipConflicts: boolean },
): Promise<string> {
  // A file that cannot be a timetable is refused before a thread is started for it.
  if (!mayHaveHeader(file)) throw new HttpError(400, IMPORT_MSG.headerNames)
  const db = deps.database.db
  const planner = await startPlanner()
  try {
    // Step 1: the plan, read without a transaction or a lock, worked out in the worker.
    const { span, keys } = await planner.plan({
      file, lookup: await lookupRows(db), now: deps.clock.now(), actor, dryRun: options.dryRun, skipConflicts: options.skipConflicts,
      config: { appTimezone: deps.config.appTimezone, bookingHorizonDays: deps.config.bookingHorizonDays, studentMaxBookingHours: deps.config.studentMaxBookingHours },
    })
    const [holders, existing] = await Promise.all([holdersOf(db, span, deps.clock.now(), false), existingSeriesOf(db, keys, deps.clock.now())])
    const { totals } = await planner.assign(holders, existing, false)
    if (options.dryRun) return await planner.report()
    await refuseFailed(totals, options.skipConflicts, planner.report)

    // Step 2: the write, holding the file's rooms only for it.
    const seriesIds = await writeTransaction(deps.database, async (tx) => {
      const locked = span
        ? await tx.select().from(rooms).where(inArray(rooms.id, span.roomIds)).orderBy(asc(rooms.id)).for('no key update')
        : []
      // Read again under the locks (the series after the rooms, before any booking: the lock order):
      // someone may have booked, or changed a series, meanwhile. A lesson from now on is never a
      // no-show yet, so the release below changes none of these.
      const existingNow = await existingSeriesOf(tx, keys, deps.clock.now(), true)
      // Due no-shows must not count as conflicts: release them once, not once per row.
      await releaseDue(deps, tx)
      const { totals: underLock, rows: writable } = await planner.assign(await holdersOf(tx, span, deps.clock.now(), true), existingNow, true)
      await refuseFailed(underLock, options.skipConflicts, planner.report)
      // A room removed since the plan: nothing is written (the admin imports again).
      if (span && locked.length < span.roomIds.length) throw new NotFound(ROOM_MSG.notFound)
      return writeRows(deps, tx, actor, writable, new Map(locked.map((room) => [room.id, room])), existingNow)
    })
    return await planner.report(seriesIds, true)
  } finally {
    planner.stop()
  }
}
