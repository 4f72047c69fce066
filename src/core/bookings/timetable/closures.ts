/**
 * Closures (issue 15): holidays, maintenance, exams. No booking, reschedule, walk-up booking or
 * series occurrence may overlap one in a room it covers (closuresOverlapping and refuseClosed,
 * under the room's row lock like every booking write, so a closure and a booking made at once cannot both win: the
 * closure takes the same locks before it is written). A room under a closure now is `blocked`.
 * Their writes are in closure-writes.ts.
 */
import { and, asc, gt, lt, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../../db/client'
import { closures, rooms, type Closure, type ClosureKind } from '../../../db/schema'
import { HttpError } from '../../../lib/errors'
import type { Clock } from '../../../lib/clock'
import { formatUtc } from '../../../lib/time'
import { CLOSURE_MSG } from '../messages'

export interface ClosureView {
  id: number
  all_rooms: boolean
  room_ids: number[] | null
  kind: ClosureKind
  reason: string
  start_time: string
  end_time: string
  uid: string | null
}

export function closureView(row: Closure): ClosureView {
  return {
    id: row.id, all_rooms: row.allRooms, room_ids: row.allRooms ? null : row.roomIds ?? [], kind: row.kind, reason: row.reason,
    start_time: formatUtc(row.startTime), end_time: formatUtc(row.endTime), uid: row.uid,
  }
}

/** SQL: the closure covers the room (an id, or a column such as rooms.id). */
export function coversRoom(roomId: number | SQL | typeof rooms.id): SQL {
  return sql`(${closures.allRooms} or ${roomId} = any(${closures.roomIds}))`
}

/**
 * SQL: the closure covers the instant (start <= at < end), written as the expression of its GiST
 * index closures_range_idx, which answers it in a few pages. "start <= at and end > at" walked the
 * btree on end_time over every closure still to come, per room: 2,000 rooms x 2,000 coming
 * closures took 950 ms of a 1 s room list (docs/performance.md, Scale).
 */
export function closureCoversAt(at: Date): SQL {
  return sql`tstzrange(${closures.startTime}, ${closures.endTime}, '[)') @> ${at.toISOString()}::timestamptz`
}

/**
 * SQL: the closure overlaps [from, to). For a window that is not empty the overlap is also asked
 * as the expression of the GiST index closures_range_idx, which answers it in a few pages;
 * "start < to and end > from" alone walked every closure still to come (a room's detail at 4,000
 * closures: 1.5 -> 0.2 ms). A reversed range is an error in PostgreSQL, hence the plain form then.
 */
function overlaps(from: Date, to: Date): SQL {
  const plain = [lt(closures.startTime, to), gt(closures.endTime, from)]
  if (from.getTime() >= to.getTime()) return and(...plain)!
  return and(sql`tstzrange(${closures.startTime}, ${closures.endTime}, '[)') && tstzrange(${from.toISOString()}::timestamptz, ${to.toISOString()}::timestamptz, '[)')`, ...plain)!
}

/** The closures of a room overlapping [from, to), earliest first. */
export function closuresOverlapping(executor: Executor, roomId: number, from: Date, to: Date): Promise<Closure[]> {
  return executor.select().from(closures).where(and(coversRoom(roomId), overlaps(from, to))).orderBy(asc(closures.startTime))
}

/** 409 `room is closed: <reason>` for a closure found (read by the caller with closuresOverlapping). */
export function refuseClosed(closure: Closure | undefined): void {
  // a translation says until when ("закрыта до 19:00"); the English text stays as it was
  if (closure) throw new HttpError(409, CLOSURE_MSG.closed(closure.reason), {}, { closure: closureView(closure) }, { until: closure.endTime })
}

/** GET /closures: those overlapping [from, to) (default: from now on), of one room or all. */
export async function listClosures(deps: { database: { db: Executor }; clock: Clock }, query: { from?: Date; to?: Date; room_id?: number }): Promise<{ closures: ClosureView[] }> {
  const from = query.from ?? deps.clock.now()
  const to = query.to ?? new Date('9999-12-31T00:00:00Z')
  const conditions = [overlaps(from, to)]
  if (query.room_id !== undefined) conditions.push(coversRoom(query.room_id))
  const rows = await deps.database.db.select().from(closures).where(and(...conditions)).orderBy(asc(closures.startTime), asc(closures.id)).limit(1000)
  return { closures: rows.map(closureView) }
}
