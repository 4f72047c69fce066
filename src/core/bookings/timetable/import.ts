/**
 * Importing a term's timetable (issue 15): a CSV (comma or semicolon) with one weekly lesson per
 * row, `room,teacher,weekday,start,end,from,until,title`. Each row becomes a series
 * (FREQ=WEEKLY;BYDAY=..;UNTIL=..) checked by the same code as POST /series; a lesson conflicts with
 * the bookings and closures of its room and with the file's earlier rows.
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
import { and, asc, eq, gt, inArray, lt, not } from 'drizzle-orm'
import type { Executor } from '../../../db/client'
import { closures, reservations, rooms, users } from '../../../db/schema'
import { HttpError, NotFound } from '../../../lib/errors'
import { enforceFairUse } from '../fair-use/fair-use'
import { IMPORT_MSG, ROOM_MSG } from '../messages'
import type { ActingUser, ReservationDeps } from '../reservations/writes'
import { writeSeries, type RoomHolders, type SeriesPlan } from './series'
import { releasableAt, releaseDue } from '../checkin/sweeper'
import { mayHaveHeader, type ImportReport, type LookupRows, type PlanInput, type PlanSpan, type WritableRow } from './plan'
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
    db.select({ id: reservations.id, roomId: reservations.roomId, start: reservations.startTime, end: reservations.endTime })
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

type PlanReply =
  | { kind: 'planned'; span: PlanSpan | null }
  | { kind: 'assigned'; totals: ImportReport['totals']; rows: WritableRow[] }
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

/** The worker thread of one import (timetable-plan.worker.ts): one question at a time. */
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
    assign: (holders: Map<number, RoomHolders>, writable: boolean) => ask({ kind: 'assign', holders, writable }, 'assigned'),
    report: async (seriesIds: [number, number][] = []) => (await ask({ kind: 'report', seriesIds }, 'report')).json,
    stop: () => {
      worker.terminate()
      release()
    },
  }
}

/** A writable row as series.ts writes it: its room, and its lessons as dates again. */
function seriesPlanOf(row: WritableRow, room: SeriesPlan['room']): SeriesPlan<{ msg: string }> {
  const occurrences = Array.from({ length: row.conflicting.length }, (_, i) => ({
    start: new Date(row.lessons[2 * i]!), end: new Date(row.lessons[2 * i + 1]!), conflict: row.conflicting[i] ? { msg: 'conflict' } : null,
  }))
  return { room, owner: row.owner, rule: row.rule, title: row.title, untilTermId: null, occurrences }
}

/** 400 with the report when a row has an error, 409 when one has a conflict and conflicts are not skipped. */
async function refuseFailed(totals: ImportReport['totals'], skipConflicts: boolean, report: () => Promise<string>): Promise<void> {
  const status = totals.errors > 0 ? 400 : totals.conflicts > 0 && !skipConflicts ? 409 : undefined
  if (status) throw new HttpError(status, IMPORT_MSG.failed, {}, { report: JSON.parse(await report()) as ImportReport })
}

/**
 * POST /admin/timetable/import. The admin (actor) creates each series for its teacher. Answers the
 * report, as JSON (ImportReport): with dry_run nothing is kept; otherwise everything is kept, or
 * (any error, or a conflict without skip_conflicts) nothing, and the report comes with an
 * HttpError 400/409.
 */
export async function importTimetable(
  deps: ReservationDeps, actor: ActingUser, text: string, options: { dryRun: boolean; skipConflicts: boolean },
): Promise<string> {
  // A file that cannot be a timetable is refused before a thread is started for it.
  if (!mayHaveHeader(text)) throw new HttpError(400, IMPORT_MSG.header)
  const db = deps.database.db
  const planner = await startPlanner()
  try {
    // Step 1: the plan, read without a transaction or a lock, worked out in the worker.
    const { span } = await planner.plan({
      text, lookup: await lookupRows(db), now: deps.clock.now(), actor, dryRun: options.dryRun, skipConflicts: options.skipConflicts,
      config: { appTimezone: deps.config.appTimezone, bookingHorizonDays: deps.config.bookingHorizonDays, studentMaxBookingHours: deps.config.studentMaxBookingHours },
    })
    const { totals } = await planner.assign(await holdersOf(db, span, deps.clock.now(), false), false)
    if (options.dryRun) return await planner.report()
    await refuseFailed(totals, options.skipConflicts, planner.report)

    // Step 2: the write, holding the file's rooms only for it.
    const seriesIds = await writeTransaction(deps.database, async (tx) => {
      const locked = span
        ? await tx.select().from(rooms).where(inArray(rooms.id, span.roomIds)).orderBy(asc(rooms.id)).for('no key update')
        : []
      // Due no-shows must not count as conflicts: release them once, not once per row.
      await releaseDue(deps, tx)
      const { totals: underLock, rows: writable } = await planner.assign(await holdersOf(tx, span, deps.clock.now(), true), true)
      await refuseFailed(underLock, options.skipConflicts, planner.report)
      // A room removed since the plan: nothing is written (the admin imports again).
      if (span && locked.length < span.roomIds.length) throw new NotFound(ROOM_MSG.notFound)
      const roomById = new Map(locked.map((room) => [room.id, room]))
      const plans = writable.map((row) => seriesPlanOf(row, roomById.get(row.roomId)!))
      // Admins are exempt from fair use (decision 022); asked all the same, so a rule for them would apply here too.
      const approvals = await Promise.all(plans.map((plan) => enforceFairUse(deps, tx, {
        actor, ownerId: plan.owner.id, room: plan.room, bookings: plan.occurrences.filter((o) => !o.conflict), isNew: true,
      })))
      const written = await writeSeries(deps, tx, actor, plans.map((plan, i) => ({ plan, approval: approvals[i]!.approval })), { views: false })
      return writable.map((row, i): [number, number] => [row.line, written[i]!.series.id])
    })
    return await planner.report(seriesIds)
  } finally {
    planner.stop()
  }
}
