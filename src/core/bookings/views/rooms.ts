/**
 * Room views: the Room JSON (status, current and next reservation, booking window, QR URL), the
 * public list and detail, schedules and free slots. Plain functions over explicit dependencies;
 * the admin routes reuse listRoomViews / getRoomView (room writes are in ../rooms).
 *
 * A list is ONE query whatever the number of rooms (two when a page past the end needs the
 * total): each room's current and next reservation come from LATERAL subqueries, and the
 * total from a window count.
 *
 * The current reservation is the active one whose [start, end) range contains now, looked up
 * through the overlap constraint's own GiST index on (room_id, tstzrange(start, end)) WHERE
 * active: a few index pages per room. Asking for "start <= now AND end > now" on the btree
 * (room_id, start_time) instead walked every past reservation of every room (~10x slower with
 * 500 per room, see docs/performance.md). Active reservations never overlap, so there is at most one.
 * The closure covering now is found the same way, through the closures' GiST index.
 */
import { and, asc, eq, gt, ilike, inArray, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm'
import type { Config } from '../../../config'
import type { Database, Executor } from '../../../db/client'
import { closures, reservations, rooms, users, type Room, type RoomType } from '../../../db/schema'
import type { Clock } from '../../../lib/clock'
import { NotFound } from '../../../lib/errors'
import {
  formatTimeOfDay, formatUtc, formatUtcOrNull, intersectIntervals, windowIntervals, type Interval,
} from '../../../lib/time'
import { qrCodeUrl } from '../../qr/codes'
import { scheduleEntry, type ScheduleEntryView } from './status'
import { ROOM_STATUSES, type Room as RoomSchema } from '../model'
import { likePattern } from '../../../lib/query-params'
import { holdsRoomAt, notPending } from './occupancy'
import { ROOM_MSG } from '../messages'
import { closureCoversAt, closuresOverlapping, coversRoom } from '../timetable/closures'
import { apiUserName, OWNER_COLUMNS } from './public-names'

type RoomStatus = (typeof ROOM_STATUSES)[number]

/** What the room functions need; a Ctx satisfies it. */
export interface RoomDeps {
  config: Config
  database: Pick<Database, 'db'>
  clock: Clock
}

/** A room as every route answers it: the Room schema's type. */
export type RoomView = typeof RoomSchema.static

/** Filters of a room list; every field is optional and they combine with AND. */
export interface RoomFilter {
  ids?: number[]
  /** part of the name, case-insensitive */
  q?: string
  /** any of these types (empty = all) */
  types?: RoomType[]
  /** any of these computed statuses (empty = all) */
  statuses?: RoomStatus[]
  isBlocked?: boolean
}

/** A page of a list: pass { limit: per_page, offset: (page - 1) * per_page }. */
export interface RoomPage {
  limit: number
  offset: number
}


/**
 * Rooms as Room JSON, ordered by name, with the total number matching the filter.
 * One SQL query (a second only for a page past the end, to count). `executor` lets a caller
 * read inside its own transaction.
 */
export async function listRoomViews(
  deps: RoomDeps,
  filter: RoomFilter = {},
  page?: RoomPage,
  executor: Executor = deps.database.db,
): Promise<{ rooms: RoomView[]; total: number }> {
  const now = deps.clock.now()

  const current = executor
    .select({
      id: reservations.id, userId: reservations.userId, ...OWNER_COLUMNS, endTime: reservations.endTime,
      checkInRequired: reservations.checkInRequired, checkedInAt: reservations.checkedInAt,
    })
    .from(reservations)
    .innerJoin(users, eq(users.id, reservations.userId))
    .where(and(eq(reservations.roomId, rooms.id), holdsRoomAt(now), notPending))
    .limit(1)
    .as('current_reservation')

  const next = executor
    .select({ id: reservations.id, ...OWNER_COLUMNS, startTime: reservations.startTime })
    .from(reservations)
    .innerJoin(users, eq(users.id, reservations.userId))
    .where(and(
      eq(reservations.roomId, rooms.id),
      eq(reservations.status, 'active'),
      gt(reservations.startTime, now),
      notPending,
    ))
    .orderBy(asc(reservations.startTime))
    .limit(1)
    .as('next_reservation')

  // A closure covering the room now (issue 15): the room is `blocked`, and says why.
  const closure = executor
    .select({ id: closures.id, kind: closures.kind, reason: closures.reason, startTime: closures.startTime, endTime: closures.endTime })
    .from(closures)
    .where(and(coversRoom(rooms.id), closureCoversAt(now)))
    .orderBy(asc(closures.endTime))
    .limit(1)
    .as('closure_now')

  const conditions: SQL[] = []
  if (filter.ids) conditions.push(filter.ids.length ? inArray(rooms.id, filter.ids) : sql`false`)
  if (filter.q) conditions.push(ilike(rooms.name, likePattern(filter.q)))
  if (filter.types?.length) conditions.push(inArray(rooms.type, filter.types))
  if (filter.isBlocked !== undefined) conditions.push(eq(rooms.isBlocked, filter.isBlocked))
  if (filter.statuses?.length) {
    const open = and(eq(rooms.isBlocked, false), isNull(closure.id))!
    const byStatus: Record<RoomStatus, SQL> = {
      blocked: or(eq(rooms.isBlocked, true), isNotNull(closure.id))!,
      occupied: and(open, isNotNull(current.id))!,
      available: and(open, isNull(current.id))!,
    }
    conditions.push(or(...filter.statuses.map((s) => byStatus[s]))!)
  }

  const where = conditions.length ? and(...conditions) : undefined
  const query = executor
    .select({
      room: ROOM_VIEW_COLUMNS,
      currentId: current.id,
      currentUserId: current.userId,
      currentUserName: current.userName,
      currentUserRole: current.userRole,
      currentUserTeacherPending: current.userTeacherPending,
      currentEnd: current.endTime,
      currentCheckInRequired: current.checkInRequired,
      currentCheckedInAt: current.checkedInAt,
      nextId: next.id,
      nextUserName: next.userName,
      nextUserRole: next.userRole,
      nextUserTeacherPending: next.userTeacherPending,
      nextStart: next.startTime,
      closureId: closure.id,
      closureKind: closure.kind,
      closureReason: closure.reason,
      closureStart: closure.startTime,
      closureEnd: closure.endTime,
      total: sql<number>`count(*) over ()`.mapWith(Number),
    })
    .from(rooms)
    .leftJoinLateral(current, sql`true`)
    .leftJoinLateral(next, sql`true`)
    .leftJoinLateral(closure, sql`true`)
    .where(where)
    .orderBy(asc(rooms.name), asc(rooms.id))
    .$dynamic()
  if (page) query.limit(page.limit).offset(page.offset)
  const rows = await query

  let total = rows[0]?.total ?? 0
  if (rows.length === 0 && page && page.offset > 0) {
    // A page past the end: the window count had no row to ride on.
    const [counted] = await executor
      .select({ total: sql<number>`count(*)`.mapWith(Number) })
      .from(rooms)
      .leftJoinLateral(current, sql`true`)
      .leftJoinLateral(closure, sql`true`)
      .where(where)
    total = counted?.total ?? 0
  }

  return {
    total,
    rooms: rows.map((row) => roomView(deps.config, row.room, {
      current: row.currentId === null ? null : {
        id: row.currentId, user_id: row.currentUserId!,
        user_name: apiUserName(deps.config, { userName: row.currentUserName!, userRole: row.currentUserRole!, userTeacherPending: row.currentUserTeacherPending! }),
        end_time: formatUtc(row.currentEnd!),
        check_in_required: row.currentCheckInRequired!, checked_in_at: formatUtcOrNull(row.currentCheckedInAt),
      },
      next: row.nextId === null ? null : {
        id: row.nextId, start_time: formatUtc(row.nextStart!),
        user_name: apiUserName(deps.config, { userName: row.nextUserName!, userRole: row.nextUserRole!, userTeacherPending: row.nextUserTeacherPending! }),
      },
      closure: row.closureId === null ? null : {
        id: row.closureId, kind: row.closureKind!, reason: row.closureReason!, start_time: formatUtc(row.closureStart!), end_time: formatUtc(row.closureEnd!),
      },
    })),
  }
}

/**
 * The room columns the Room JSON shows: a list selects only these (fewer columns to send, parse
 * and map: ~12% of the time of GET /api/rooms with 200 rooms, docs/performance.md).
 */
const ROOM_VIEW_COLUMNS = {
  id: rooms.id,
  name: rooms.name,
  type: rooms.type,
  isBlocked: rooms.isBlocked,
  bookingStart: rooms.bookingStart,
  bookingEnd: rooms.bookingEnd,
  requiresCheckIn: rooms.requiresCheckIn,
  seriesRequireCheckIn: rooms.seriesRequireCheckIn,
  checkInOpensMin: rooms.checkInOpensMin,
  autoReleaseAfterMin: rooms.autoReleaseAfterMin,
  checkInProof: rooms.checkInProof,
}
type RoomViewFields = Pick<Room, keyof typeof ROOM_VIEW_COLUMNS>

/**
 * Builds the Room JSON from a room row and its current / next reservation. Its keys are in the
 * Room schema's order: the cached room views serialize this object as it is (view-cache.ts), and
 * clients have always got this order.
 */
function roomView(
  config: Pick<Config, 'qrBaseUrl' | 'serverExternalBase' | 'staticQrPath' | 'frontendBaseUrl'>,
  room: RoomViewFields,
  reservationsNow: { current: RoomView['current_reservation']; next: RoomView['next_reservation']; closure: RoomView['closure'] },
): RoomView {
  return {
    id: room.id,
    name: room.name,
    type: room.type,
    is_blocked: room.isBlocked,
    qr_code_url: qrCodeUrl(config, room.id),
    status: room.isBlocked || reservationsNow.closure ? 'blocked' : reservationsNow.current ? 'occupied' : 'available',
    current_reservation: reservationsNow.current,
    next_reservation: reservationsNow.next,
    booking_window: { start: formatTimeOfDay(room.bookingStart), end: formatTimeOfDay(room.bookingEnd) },
    requires_check_in: room.requiresCheckIn,
    check_in_opens_min: room.checkInOpensMin,
    auto_release_after_min: room.autoReleaseAfterMin,
    check_in_proof: room.checkInProof,
    series_require_check_in: room.seriesRequireCheckIn,
    closure: reservationsNow.closure,
  }
}

/** One room as Room JSON, or 404 `room not found`. */
export async function getRoomView(deps: RoomDeps, id: number, executor?: Executor): Promise<RoomView> {
  const { rooms: found } = await listRoomViews(deps, { ids: [id] }, undefined, executor)
  if (!found[0]) throw new NotFound(ROOM_MSG.notFound)
  return found[0]
}

/**
 * All reservations of a room, every status, with their user names, ascending by start (the
 * schedule and the history). These are views of the room, read by others than the owners: the
 * cancel reason is not even read, since why a booking ended is not shown there (scheduleEntry),
 * and a student's name is shown as PUBLIC_USER_NAMES says (public-names.ts).
 */
export async function roomSchedule(
  deps: RoomDeps,
  roomId: number,
  executor: Executor = deps.database.db,
): Promise<ScheduleEntryView[]> {
  const now = deps.clock.now()
  const rows = await executor
    .select({
      id: reservations.id,
      userId: reservations.userId,
      ...OWNER_COLUMNS,
      startTime: reservations.startTime,
      endTime: reservations.endTime,
      status: reservations.status,
      approval: reservations.approval,
      checkInRequired: reservations.checkInRequired,
      checkedInAt: reservations.checkedInAt,
    })
    .from(reservations)
    .innerJoin(users, eq(users.id, reservations.userId))
    .where(eq(reservations.roomId, roomId))
    .orderBy(asc(reservations.startTime), asc(reservations.id))
  return rows.map((row) => scheduleEntry({ ...row, userName: apiUserName(deps.config, row) }, now))
}

/** How far ahead a room's free slots look. */
export const FREE_SLOT_HORIZON_MS = 24 * 3600_000

/**
 * A room's detail lists free slots from "now" rounded up to the whole second (decision 016, amended
 * 2026-12-04): every request within one second gets the same bytes, so the served-from-memory
 * detail is not rebuilt and re-hashed for each request (issue 17), and a slot still never starts
 * before the instant it is shown, so booking it exactly as advertised is never "in the past".
 * Booking ends and starts inside the slots stay exact to the millisecond.
 */
export const FREE_SLOT_STEP_MS = 1000

/** The instant a room's detail lists free slots from at `now`: the next whole second (or now, when whole). */
export function freeSlotsFrom(now: Date): Date {
  return new Date(Math.ceil(now.getTime() / FREE_SLOT_STEP_MS) * FREE_SLOT_STEP_MS)
}

/**
 * Free slots from now to now + 24 h: the gaps between active reservations, clipped to the room's
 * daily booking window (local time in `timeZone`) on each day.
 */
export function freeSlots(
  busy: { start: Date; end: Date }[],
  window: { start: string | null; end: string | null },
  now: Date,
  timeZone: string,
  horizonMs = FREE_SLOT_HORIZON_MS,
): { start: string; end: string }[] {
  const from = now
  const to = new Date(from.getTime() + horizonMs)
  const gaps: Interval[] = []
  let cursor = from
  for (const r of [...busy].sort((a, b) => a.start.getTime() - b.start.getTime())) {
    if (r.end <= cursor) continue
    if (r.start >= to) break
    if (r.start > cursor) gaps.push({ start: cursor, end: r.start })
    if (r.end > cursor) cursor = r.end
  }
  if (cursor < to) gaps.push({ start: cursor, end: to })
  const allowed = windowIntervals(window, from, to, timeZone)
  return intersectIntervals(gaps, allowed).map((slot) => ({ start: formatUtc(slot.start), end: formatUtc(slot.end) }))
}

/** What GET /rooms/:id shows apart from the free slots, and what the free slots are made from. */
export interface RoomDetailParts {
  room: RoomView
  schedule: ScheduleEntryView[]
  /** active bookings and closures (those overlapping [now, closuresUntil)) */
  busy: Interval[]
}

/**
 * The parts of GET /rooms/:id as of `deps.clock.now()`; closures are read up to `closuresUntil`
 * (default: the free-slot horizon), so a cache can compute free slots for a while longer.
 */
export async function roomDetailParts(deps: RoomDeps, id: number, closuresUntil?: Date): Promise<RoomDetailParts> {
  const now = deps.clock.now()
  const [room, schedule, closed] = await Promise.all([
    getRoomView(deps, id), roomSchedule(deps, id),
    closuresOverlapping(deps.database.db, id, now, closuresUntil ?? new Date(now.getTime() + FREE_SLOT_HORIZON_MS + FREE_SLOT_STEP_MS)),
  ])
  const busy = schedule
    .filter((entry) => entry.status === 'active')
    .map((entry) => ({ start: new Date(entry.start_time), end: new Date(entry.end_time) }))
    .concat(closed.map((c) => ({ start: c.startTime, end: c.endTime })))
  return { room, schedule, busy }
}

/** The free slots of a room's detail at `now` (from freeSlotsFrom(now)). */
export function detailFreeSlots(deps: Pick<RoomDeps, 'config'>, parts: Pick<RoomDetailParts, 'room' | 'busy'>, now: Date) {
  return freeSlots(parts.busy, parts.room.booking_window, freeSlotsFrom(now), deps.config.appTimezone)
}

/** GET /rooms/:id: the room, its whole schedule (ascending) and its free slots for the next 24 h. */
export async function roomDetail(deps: RoomDeps, id: number) {
  const parts = await roomDetailParts(deps, id)
  return { room: parts.room, schedule: parts.schedule, free_slots: detailFreeSlots(deps, parts, deps.clock.now()) }
}

// ---- creation ----
