/**
 * The console's calendar and lessons reads (GET /console/calendar, /console/calendar/reservation/:id,
 * /console/lessons): a week (or a day) of a few rooms at a time, one reservation, a teacher's own
 * series with their coming lessons. Every query is bounded by the rooms asked for, an indexed time
 * range and a limit, so the pages stay cheap at 200 rooms and 100,000 reservations.
 *
 * The writes these pages make are the API's own core calls (reservations/admin.ts for an admin,
 * reservations/writes.ts and timetable/series.ts for a teacher); what is here only decides whom
 * the console lets act on what: an admin on everything, a teacher on their own bookings and lessons.
 */
import { and, asc, desc, eq, gt, gte, inArray, lt, sql } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { closures, reservations, rooms, series, users, type BookingApproval, type ClosureKind, type ReservationStatus, type RoomType } from '../../db/schema'
import { Forbidden, NotFound } from '../../lib/errors'
import { BOOKING_MSG, SERIES_MSG } from '../bookings/messages'
import { apiUserName, OWNER_COLUMNS } from '../bookings/views/public-names'
import { reportedStatus } from '../bookings/views/status'
import type { Actor } from '../identity/actors'
import { buildingOf } from './reports'

/** Rooms a calendar may list (a select of every room; 200 in the bench). */
const ROOM_LIMIT = 2000
/** Rooms shown at once in a building's day view. */
export const BUILDING_ROOM_LIMIT = 40
/** Items read for one calendar view: far more than a week of a building holds. */
const ITEM_LIMIT = 3000
const CLOSURE_LIMIT = 300
/**
 * How long a booking may be and still be found by the start-time index from the week it reaches
 * into: a booking that began more than this before the week is not drawn (none is that long).
 */
const LONGEST_BOOKING_MS = 31 * 86400_000

/**
 * A room, with the building it is in: rooms have no building field, so a building is read from the
 * name as the reports group rooms (reports.ts buildingOf: "B101" and "B102" are in building "B").
 */
export interface CalendarRoom { id: number; name: string; type: RoomType; isBlocked: boolean; building: string }

/** Every room (id, name, type, block) by name, with its building. */
export async function calendarRooms(ctx: Ctx): Promise<CalendarRoom[]> {
  const rows = await ctx.database.db.select({ id: rooms.id, name: rooms.name, type: rooms.type, isBlocked: rooms.isBlocked })
    .from(rooms).orderBy(asc(rooms.name)).limit(ROOM_LIMIT)
  return rows.map((r) => ({ ...r, building: buildingOf(r.name) }))
}

interface CalendarBooking {
  kind: 'booking' | 'lesson'
  id: number
  roomId: number
  start: Date
  end: Date
  /** a lesson's title */
  title: string | null
  ownerId: number
  /** the owner's name as this viewer may see it (an admin: always; a teacher: as the API shows it) */
  owner: string
  status: ReservationStatus
  approval: BookingApproval | null
  seriesId: number | null
}

interface CalendarClosure {
  kind: 'closure'
  id: number
  /** the shown rooms it covers */
  roomIds: number[]
  start: Date
  end: Date
  closureKind: ClosureKind
  reason: string
}

export type CalendarItem = CalendarBooking | CalendarClosure

/**
 * What the rooms hold between `from` and `to`: their bookings and lessons that hold (or held) their
 * slot (active, pending approval included, and finished; not cancelled or released), and the
 * closures covering any of them.
 */
export async function calendarItems(ctx: Ctx, viewer: Pick<Actor, 'role'>, roomIds: number[], from: Date, to: Date): Promise<CalendarItem[]> {
  if (roomIds.length === 0) return []
  const db = ctx.database.db
  const roomList = sql.join(roomIds.map((id) => sql`${id}`), sql`, `)
  const [booked, closed] = await Promise.all([
    db.select({
      id: reservations.id, roomId: reservations.roomId, start: reservations.startTime, end: reservations.endTime, title: reservations.title,
      ownerId: reservations.userId, status: reservations.status, approval: reservations.approval, seriesId: reservations.seriesId, ...OWNER_COLUMNS,
    }).from(reservations).innerJoin(users, eq(users.id, reservations.userId))
      .where(and(
        inArray(reservations.roomId, roomIds), inArray(reservations.status, ['active', 'finished']),
        lt(reservations.startTime, to), gt(reservations.startTime, new Date(from.getTime() - LONGEST_BOOKING_MS)), gt(reservations.endTime, from),
      ))
      .orderBy(asc(reservations.startTime), asc(reservations.id)).limit(ITEM_LIMIT),
    db.select().from(closures)
      .where(and(
        sql`(${closures.allRooms} or ${closures.roomIds} && array[${roomList}]::int[])`,
        lt(closures.startTime, to), gt(closures.endTime, from),
      ))
      .orderBy(asc(closures.startTime), asc(closures.id)).limit(CLOSURE_LIMIT),
  ])
  const items: CalendarItem[] = booked.map((r) => ({
    kind: r.seriesId !== null ? 'lesson' : 'booking', id: r.id, roomId: r.roomId, start: r.start, end: r.end, title: r.title,
    ownerId: r.ownerId, owner: viewer.role === 'admin' ? r.userName : apiUserName(ctx.config, r), status: r.status, approval: r.approval, seriesId: r.seriesId,
  }))
  for (const c of closed) {
    items.push({
      kind: 'closure', id: c.id, roomIds: c.allRooms ? [...roomIds] : roomIds.filter((id) => c.roomIds?.includes(id)),
      start: c.startTime, end: c.endTime, closureKind: c.kind, reason: c.reason,
    })
  }
  return items
}

export interface ReservationDetail {
  id: number
  roomId: number
  roomName: string
  ownerId: number
  owner: string
  ownerRole: Actor['role']
  start: Date
  end: Date
  /** as the API reports it now: active, finished or cancelled */
  status: 'active' | 'finished' | 'cancelled'
  stored: ReservationStatus
  cancelReason: string | null
  approval: BookingApproval | null
  checkedInAt: Date | null
  title: string | null
  seriesId: number | null
  seriesTitle: string | null
  seriesUntil: Date | null
  /** moved or cancelled on its own: series edits leave it alone */
  exception: boolean
  /** whether this viewer may move or cancel it (an admin: any; a teacher: their own) */
  mayChange: boolean
}

/** Whether the console lets `actor` change a booking of `ownerId`: an admin any, anyone else their own. */
function mayChange(actor: Pick<Actor, 'id' | 'role'>, ownerId: number): boolean {
  return actor.role === 'admin' || actor.id === ownerId
}

/** One reservation with its room, owner and series, as `viewer` may see it; undefined when there is none. */
export async function reservationDetail(ctx: Ctx, viewer: Pick<Actor, 'id' | 'role'>, id: number): Promise<ReservationDetail | undefined> {
  const [row] = await ctx.database.db.select({
    id: reservations.id, roomId: reservations.roomId, roomName: rooms.name, ownerId: reservations.userId, ...OWNER_COLUMNS,
    start: reservations.startTime, end: reservations.endTime, status: reservations.status, cancelReason: reservations.cancelReason,
    approval: reservations.approval, checkedInAt: reservations.checkedInAt, title: reservations.title, seriesId: reservations.seriesId,
    seriesTitle: series.title, seriesUntil: series.until, exception: reservations.seriesException,
  }).from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId))
    .innerJoin(users, eq(users.id, reservations.userId))
    .leftJoin(series, eq(series.id, reservations.seriesId))
    .where(eq(reservations.id, id))
  if (!row) return undefined
  const now = ctx.clock.now()
  return {
    id: row.id, roomId: row.roomId, roomName: row.roomName, ownerId: row.ownerId,
    owner: viewer.role === 'admin' || viewer.id === row.ownerId ? row.userName : apiUserName(ctx.config, row), ownerRole: row.userRole,
    start: row.start, end: row.end, status: reportedStatus({ status: row.status, endTime: row.end }, now), stored: row.status,
    cancelReason: row.status === 'released' ? 'no_show' : row.cancelReason, approval: row.approval, checkedInAt: row.checkedInAt,
    title: row.title, seriesId: row.seriesId, seriesTitle: row.seriesTitle, seriesUntil: row.seriesUntil, exception: row.exception,
    mayChange: mayChange(viewer, row.ownerId),
  }
}

/** The reservation, if `actor` may change it in the console: 404 without one, 403 for a teacher's other than their own. */
export async function changeableReservation(ctx: Ctx, actor: Pick<Actor, 'id' | 'role'>, id: number): Promise<ReservationDetail> {
  const detail = await reservationDetail(ctx, actor, id)
  if (!detail) throw new NotFound(BOOKING_MSG.notFound)
  if (!detail.mayChange) throw new Forbidden(BOOKING_MSG.notYours)
  return detail
}

export interface LessonSeries {
  id: number
  title: string | null
  roomId: number
  roomName: string
  rrule: string
  timeZone: string
  firstStart: Date
  firstEnd: Date
  until: Date
  /** its active lessons from now on, soonest first (pending approval included) */
  upcoming: { id: number; start: Date; end: Date; approval: BookingApproval | null }[]
}

/** Series a lessons page lists at most. */
const SERIES_LIMIT = 100
/** Coming lessons read for them: 200 a series at most (MAX_OCCURRENCES), rarely more than a few thousand in all. */
const LESSON_LIMIT = 6000

/**
 * A user's own series that have not ended before today (by `until`, the last start), oldest first,
 * with their active lessons from `now` on.
 */
export async function lessonSeriesOf(ctx: Ctx, userId: number, since: Date): Promise<LessonSeries[]> {
  const db = ctx.database.db
  const now = ctx.clock.now()
  const rows = await db.select({
    id: series.id, title: series.title, roomId: series.roomId, roomName: rooms.name, rrule: series.rrule, timeZone: series.timeZone,
    firstStart: series.firstStart, firstEnd: series.firstEnd, until: series.until,
  }).from(series).innerJoin(rooms, eq(rooms.id, series.roomId))
    .where(and(eq(series.userId, userId), gte(series.until, since)))
    .orderBy(desc(series.until), desc(series.id)).limit(SERIES_LIMIT)
  if (rows.length === 0) return []
  const lessons = await db.select({ id: reservations.id, seriesId: reservations.seriesId, start: reservations.startTime, end: reservations.endTime, approval: reservations.approval })
    .from(reservations)
    .where(and(
      eq(reservations.userId, userId), inArray(reservations.seriesId, rows.map((r) => r.id)), eq(reservations.status, 'active'), gte(reservations.startTime, now),
    ))
    .orderBy(asc(reservations.startTime), asc(reservations.id)).limit(LESSON_LIMIT)
  const bySeries = Map.groupBy(lessons, (l) => l.seriesId!)
  return rows
    .map((r) => ({ ...r, upcoming: (bySeries.get(r.id) ?? []).map(({ id, start, end, approval }) => ({ id, start, end, approval })) }))
    .sort((a, b) => a.firstStart.getTime() - b.firstStart.getTime() || a.id - b.id)
}

/** A series the console lets `actor` change: 404 without one, 403 for a teacher's other than their own (the series API's rule). */
export async function changeableSeries(ctx: Ctx, actor: Pick<Actor, 'id' | 'role'>, seriesId: number): Promise<{ id: number; userId: number; until: Date }> {
  const [row] = await ctx.database.db.select({ id: series.id, userId: series.userId, until: series.until }).from(series).where(eq(series.id, seriesId))
  if (!row) throw new NotFound(SERIES_MSG.notFound)
  if (actor.role !== 'admin' && row.userId !== actor.id) throw new Forbidden(SERIES_MSG.notYours)
  return row
}

/**
 * A lesson of a series the console lets `actor` cancel by itself: 404 when the series or the
 * lesson (of that series) is not there, 403 for a series not theirs.
 */
export async function changeableLesson(ctx: Ctx, actor: Pick<Actor, 'id' | 'role'>, seriesId: number, reservationId: number): Promise<{ id: number; start: Date }> {
  await changeableSeries(ctx, actor, seriesId)
  const [lesson] = await ctx.database.db.select({ id: reservations.id, start: reservations.startTime }).from(reservations)
    .where(and(eq(reservations.id, reservationId), eq(reservations.seriesId, seriesId)))
  if (!lesson) throw new NotFound(BOOKING_MSG.notFound)
  return lesson
}
