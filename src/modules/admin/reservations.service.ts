/**
 * Admin reservations: the filtered, paginated list, the admin PATCH and bulk cancel.
 * Statuses are reported and filtered as the API reports them: a stored `active` reservation whose
 * end has passed is `finished`.
 */
import { and, asc, count, desc, eq, gt, gte, ilike, inArray, isNotNull, isNull, lte, or, type SQL } from 'drizzle-orm'
import type { Ctx } from '../../context'
import type { Executor } from '../../db/client'
import { reservations, rooms, users, type ReservationStatus, type UserRole } from '../../db/schema'
import { BadRequest, HttpError } from '../../lib/errors'
import { paginationOf, parsePagination } from '../../lib/pagination'
import { booleanValue, enumValues, idValue, likePattern, searchTerm } from '../../lib/query-params'
import { formatUtc, parseIsoInput } from '../../lib/time'
import { writeAudit } from '../audit/service'
import type { Actor } from '../auth/actors'
import {
  cancelReservationTx, checkInFields, effectiveStatus, lockReservation, MSG, requireUser, rescheduleReservation, rethrowReservationWriteError,
} from '../reservations/service'
import { RESERVATION_STATUSES } from './model'

/** What an admin may set `status` to: `released` is only ever set by the sweeper. */
const SETTABLE_STATUSES = ['active', 'finished', 'cancelled'] as const

export interface AdminReservationRow {
  id: number
  roomId: number
  roomName: string
  userId: number
  userName: string
  userRole: UserRole
  startTime: Date
  endTime: Date
  status: ReservationStatus
  checkInRequired: boolean
  checkedInAt: Date | null
  createdAt: Date
  updatedAt: Date
}

const columns = {
  id: reservations.id,
  roomId: reservations.roomId,
  roomName: rooms.name,
  userId: reservations.userId,
  userName: users.name,
  userRole: users.role,
  startTime: reservations.startTime,
  endTime: reservations.endTime,
  status: reservations.status,
  checkInRequired: reservations.checkInRequired,
  checkedInAt: reservations.checkedInAt,
  createdAt: reservations.createdAt,
  updatedAt: reservations.updatedAt,
}

export function adminReservation(row: AdminReservationRow, now: Date) {
  return {
    id: row.id,
    room: { id: row.roomId, name: row.roomName },
    user: { id: row.userId, name: row.userName, role: row.userRole },
    start_time: formatUtc(row.startTime),
    end_time: formatUtc(row.endTime),
    status: effectiveStatus(row, now),
    ...checkInFields(row),
    created_at: formatUtc(row.createdAt),
    updated_at: formatUtc(row.updatedAt),
  }
}

/** Reservations with their room and user, joined: the shape every admin reservation route answers. */
export function selectAdminReservations(executor: Executor) {
  return executor.select(columns).from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId))
    .innerJoin(users, eq(users.id, reservations.userId))
}

/** SQL for "reported with this status at `now`". */
function statusCondition(status: ReservationStatus, now: Date): SQL {
  switch (status) {
    case 'active': return and(eq(reservations.status, 'active'), gt(reservations.endTime, now))!
    case 'finished': return or(eq(reservations.status, 'finished'), and(eq(reservations.status, 'active'), lte(reservations.endTime, now)))!
    case 'cancelled': return eq(reservations.status, 'cancelled')
    case 'released': return eq(reservations.status, 'released')
  }
}

/** An optional ISO bound from the query; a bad one is 400 naming the parameter. */
function timeBound(raw: string | undefined, name: string): Date | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  try {
    return parseIsoInput(raw)
  } catch (error) {
    if (error instanceof HttpError) throw new HttpError(400, `${name}: ${error.message}`)
    throw error
  }
}

export interface ReservationListQuery {
  q?: string
  status?: string | string[]
  checked_in?: string
  room_id?: string
  user_id?: string
  start_from?: string
  start_to?: string
  end_from?: string
  end_to?: string
  page?: string
  per_page?: string
}

export async function listReservations(ctx: Ctx, query: ReservationListQuery) {
  const now = ctx.clock.now()
  const page = parsePagination(query)
  const statuses = enumValues(query.status, RESERVATION_STATUSES, 'status')
  const checkedIn = booleanValue(query.checked_in, 'checked_in')
  const roomId = idValue(query.room_id, 'room_id')
  const userId = idValue(query.user_id, 'user_id')
  const bounds = {
    startFrom: timeBound(query.start_from, 'start_from'),
    startTo: timeBound(query.start_to, 'start_to'),
    endFrom: timeBound(query.end_from, 'end_from'),
    endTo: timeBound(query.end_to, 'end_to'),
  }
  const q = searchTerm(query.q)

  const conditions: SQL[] = []
  if (q) conditions.push(or(ilike(rooms.name, likePattern(q)), ilike(users.name, likePattern(q)))!)
  if (statuses.length) conditions.push(or(...statuses.map((s) => statusCondition(s, now)))!)
  if (checkedIn !== undefined) conditions.push(checkedIn ? isNotNull(reservations.checkedInAt) : isNull(reservations.checkedInAt))
  if (roomId !== undefined) conditions.push(eq(reservations.roomId, roomId))
  if (userId !== undefined) conditions.push(eq(reservations.userId, userId))
  if (bounds.startFrom) conditions.push(gte(reservations.startTime, bounds.startFrom))
  if (bounds.startTo) conditions.push(lte(reservations.startTime, bounds.startTo))
  if (bounds.endFrom) conditions.push(gte(reservations.endTime, bounds.endFrom))
  if (bounds.endTo) conditions.push(lte(reservations.endTime, bounds.endTo))
  const where = conditions.length ? and(...conditions) : undefined

  const db = ctx.database.db
  const [rows, [totals]] = await Promise.all([
    selectAdminReservations(db).where(where)
      .orderBy(desc(reservations.startTime), desc(reservations.id))
      .limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(reservations)
      .innerJoin(rooms, eq(rooms.id, reservations.roomId))
      .innerJoin(users, eq(users.id, reservations.userId))
      .where(where),
  ])
  return {
    reservations: rows.map((row) => adminReservation(row, now)),
    pagination: paginationOf(page, Number(totals?.total ?? 0)),
  }
}

/**
 * PATCH /admin/reservations/:id. `start_time` and `end_time` come together (400 otherwise) and go
 * through the reservations module's reschedule rules (range, past, daily window, overlap 409), but
 * not the room type/block rules, as for an admin booking; a non-active reservation may be moved
 * only while being set back to active. `user_id` must name an existing user (404). `status`:
 * `cancelled` alone is a cancel (as DELETE /reservations/:id: idempotent, 400 once finished);
 * setting `active` again is refused with 409 when the slot has been taken meanwhile.
 * One audit row: `cancel_reservation` for a plain cancel, else `update_reservation`.
 */
export async function updateReservation(
  ctx: Ctx, actor: Actor, id: number,
  body: { start_time?: unknown; end_time?: unknown; user_id?: number; status?: string },
) {
  const hasStart = body.start_time !== undefined
  const hasEnd = body.end_time !== undefined
  if (hasStart !== hasEnd) throw new BadRequest('start_time and end_time must be sent together')
  const times = hasStart ? { start: parseIsoInput(body.start_time), end: parseIsoInput(body.end_time) } : undefined
  const status = body.status === undefined ? undefined : enumValues(body.status, SETTABLE_STATUSES, 'status')[0]
  if (body.status !== undefined && !status) throw new BadRequest('status must be active, finished or cancelled')
  if (!times && body.user_id === undefined && status === undefined)
    throw new BadRequest('nothing to update: send start_time and end_time, user_id and/or status')

  return ctx.database.db.transaction(async (tx) => {
    const current = await lockReservation(tx, id)
    if (body.user_id !== undefined) await requireUser(tx, body.user_id)
    const extra: { userId?: number; status?: ReservationStatus; checkInRequired?: boolean } = {}
    if (body.user_id !== undefined && body.user_id !== current.userId) extra.userId = body.user_id
    if (status !== undefined && status !== current.status) extra.status = status
    // An admin who brings a released (no-show) booking back means it: it is not released again.
    if (extra.status === 'active' && current.status === 'released' && current.checkInRequired) extra.checkInRequired = false

    if (times) {
      await rescheduleReservation(ctx, tx, {
        id, start: times.start, end: times.end, actor, extra,
        enforceRoomRules: false,
        requireActive: extra.status !== 'active',
      })
    } else if (extra.status === 'cancelled' && extra.userId === undefined) {
      await cancelReservationTx(ctx, tx, current, actor)
    } else if (Object.keys(extra).length > 0) {
      try {
        await tx.update(reservations).set({ ...extra, updatedAt: ctx.clock.now() }).where(eq(reservations.id, id))
      } catch (error) {
        rethrowReservationWriteError(error)
      }
      const changes: Record<string, { from: unknown; to: unknown }> = {}
      if (extra.userId !== undefined) changes.user_id = { from: current.userId, to: extra.userId }
      if (extra.status !== undefined) changes.status = { from: current.status, to: extra.status }
      if (extra.checkInRequired !== undefined) changes.check_in_required = { from: current.checkInRequired, to: extra.checkInRequired }
      await writeAudit(tx, {
        at: ctx.clock.now(),
        actorId: actor.id,
        action: 'update_reservation',
        description: `${actor.name} changed reservation #${id}: ${Object.keys(changes).join(', ')}`,
        payload: { reservation_id: id, room_id: current.roomId, changes },
      })
    }
    const [row] = await selectAdminReservations(tx).where(eq(reservations.id, id))
    return adminReservation(row!, ctx.clock.now())
  })
}

/**
 * Cancels the listed reservations in one transaction: all or nothing. An unknown id is 404 and
 * nothing changes. Reservations already cancelled or already over (finished) are left as they
 * are and not counted. Each cancelled one goes through the reservations module's cancel (one
 * `cancel_reservation` audit row each, as DELETE /reservations/:id writes).
 */
export async function bulkCancel(ctx: Ctx, actor: Actor, ids: number[]) {
  const wanted = [...new Set(ids)]
  return ctx.database.db.transaction(async (tx) => {
    const found = await tx.select().from(reservations)
      .where(inArray(reservations.id, wanted)).orderBy(asc(reservations.id)).for('update')
    if (found.length !== wanted.length) {
      const known = new Set(found.map((r) => r.id))
      throw new HttpError(404, MSG.notFound, {}, { missing_ids: wanted.filter((id) => !known.has(id)) })
    }
    const now = ctx.clock.now()
    let cancelled = 0
    for (const row of found) {
      if (effectiveStatus(row, now) !== 'active') continue
      if ((await cancelReservationTx(ctx, tx, row, actor)).changed) cancelled++
    }
    return { cancelled }
  })
}
