/**
 * Admin reservations: the filtered, paginated list, the admin PATCH and bulk cancel.
 * Statuses are reported and filtered as the API reports them (reservations/status.ts): a stored
 * `active` reservation whose end has passed is `finished`; a released no-show is `cancelled`
 * (cancel_reason no_show).
 */
import { and, asc, count, desc, eq, gt, gte, ilike, inArray, isNotNull, isNull, lte, or, type SQL } from 'drizzle-orm'
import type { Ctx } from '../../../context'
import type { Executor } from '../../../db/client'
import { reservations, rooms, users, type BookingApproval, type ReservationStatus, type UserRole } from '../../../db/schema'
import { BadRequest } from '../../../lib/errors'
import { paginationOf, parsePagination } from '../../../lib/pagination'
import { enumValues, idValue, likePattern, searchTerm } from '../../../lib/query-params'
import { formatUtc } from '../../../lib/time'
import type { Actor } from '../../identity/actors'
import {
  cancelReservationTx, checkInFields, lockReservationAndRoom, refuseTakenSlot, requireUser, rescheduleReservation, rethrowReservationWriteError,
} from './writes'
import { closuresOverlapping } from '../timetable/closures'
import { adminPolicy, overrideNote, overridesOf } from './policies'
import { reportedStatus, statusFields } from '../views/status'
import { RESERVATION_STATUSES } from '../model'
import { recordChange, writeTransaction } from '../../changes'

/** Thrown here and documented by the routes (reservations.ts). */
export const ADMIN_RESERVATION_MSG = {
  bothTimes: 'start_time and end_time must be sent together',
  badStatus: 'status must be active, finished or cancelled',
} as const

/** What an admin may set `status` to: any reported status (`released` is only ever set by the sweeper). */
const SETTABLE_STATUSES = RESERVATION_STATUSES
/** Status filter values: the reported ones, and `released` for the no-shows alone (a part of `cancelled`). */
export const FILTER_STATUSES = [...RESERVATION_STATUSES, 'released'] as const

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
  cancelReason: string | null
  approval: BookingApproval | null
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
  cancelReason: reservations.cancelReason,
  approval: reservations.approval,
  checkInRequired: reservations.checkInRequired,
  checkedInAt: reservations.checkedInAt,
  createdAt: reservations.createdAt,
  updatedAt: reservations.updatedAt,
}

function adminReservation(row: AdminReservationRow, now: Date) {
  return {
    id: row.id,
    room: { id: row.roomId, name: row.roomName },
    user: { id: row.userId, name: row.userName, role: row.userRole },
    start_time: formatUtc(row.startTime),
    end_time: formatUtc(row.endTime),
    ...statusFields(row, now),
    ...checkInFields(row),
    created_at: formatUtc(row.createdAt),
    updated_at: formatUtc(row.updatedAt),
  }
}

/** Reservations with their room and user, joined: the shape every admin reservation route answers. */
function selectAdminReservations(executor: Executor) {
  return executor.select(columns).from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId))
    .innerJoin(users, eq(users.id, reservations.userId))
}

/** SQL for "reported with this status at `now`" (`released`: the cancelled no-shows alone). */
function statusCondition(status: (typeof FILTER_STATUSES)[number], now: Date): SQL {
  switch (status) {
    case 'active': return and(eq(reservations.status, 'active'), gt(reservations.endTime, now))!
    case 'finished': return or(eq(reservations.status, 'finished'), and(eq(reservations.status, 'active'), lte(reservations.endTime, now)))!
    case 'cancelled': return inArray(reservations.status, ['cancelled', 'released'])
    case 'released': return eq(reservations.status, 'released')
  }
}

export interface ReservationListQuery {
  q?: string
  status?: string | string[]
  checked_in?: boolean
  room_id?: string
  user_id?: string
  /** the time bounds, decoded by the query schema (lib/instant-input.ts: InstantFilter; empty: not set) */
  start_from?: Date
  start_to?: Date
  end_from?: Date
  end_to?: Date
  page?: string
  per_page?: string
}

export async function listReservations(ctx: Ctx, query: ReservationListQuery) {
  const now = ctx.clock.now()
  const page = parsePagination(query)
  const statuses = enumValues(query.status, FILTER_STATUSES, 'status')
  const checkedIn = query.checked_in
  const roomId = idValue(query.room_id, 'room_id')
  const userId = idValue(query.user_id, 'user_id')
  const bounds = { startFrom: query.start_from, startTo: query.start_to, endFrom: query.end_from, endTo: query.end_to }
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

export interface UpdateReservationBody {
  /** decoded by the body schema; both or neither */
  start_time?: Date
  end_time?: Date
  user_id?: number
  status?: string
  /** reactivate or move into a closure of the room all the same (recorded: adminPolicy, overridesOf) */
  override_closure?: boolean
}

/**
 * PATCH /admin/reservations/:id. `start_time` and `end_time` come together (400 otherwise) and go
 * through the reservations module's reschedule rules (range, past, daily window, closures, overlap
 * 409), but not the room type/block rules, as for an admin booking; a non-active reservation may
 * be moved only while being set back to active. `user_id` must name an existing user (404).
 * `status`: an admin may set any of active, finished, cancelled, from any of them, as in the
 * original (other values 400). It is compared with the reported status, so asking for the status
 * a reservation already has is no change (a released no-show is already `cancelled`). `cancelled`
 * alone is a cancel (as DELETE /reservations/:id, but a finished reservation may be cancelled
 * too), and a reservation whose end has passed is reported `finished` whatever is stored.
 *
 * One path with every booking write (issue 25): the room's lock, then the reservation's
 * (lockReservationAndRoom), then the new owner's row; a booking that takes a slot again
 * (reactivated, or moved) is checked under that lock by the admin's policy (policies.ts): a closure
 * is 409 `room is closed: <reason>` unless overridden by name (`override_closure: true`, recorded),
 * a slot someone else holds meanwhile is 409 `Reservation conflicts with existing booking` with
 * `held_by` (refuseTakenSlot), as a new booking is answered; the owner's fair use is overridden by
 * decision, recorded (`fair_use: 'admin_override'`). A change of owner keeps the
 * slot the booking holds. One change record: `reservation.cancelled` for a plain cancel, else
 * `reservation.updated`, concerning the room and the owner (both owners when it is given away).
 */
export async function updateReservation(ctx: Ctx, actor: Actor, id: number, body: UpdateReservationBody) {
  const hasStart = body.start_time !== undefined
  const hasEnd = body.end_time !== undefined
  if (hasStart !== hasEnd) throw new BadRequest(ADMIN_RESERVATION_MSG.bothTimes)
  const times = body.start_time && body.end_time ? { start: body.start_time, end: body.end_time } : undefined
  const status = body.status === undefined ? undefined : enumValues(body.status, SETTABLE_STATUSES, 'status')[0]
  if (body.status !== undefined && !status) throw new BadRequest(ADMIN_RESERVATION_MSG.badStatus)
  if (!times && body.user_id === undefined && status === undefined)
    throw new BadRequest('nothing to update: send start_time and end_time, user_id and/or status')
  const policy = adminPolicy({ overrideClosure: body.override_closure === true })

  return writeTransaction(ctx.database, async (tx) => {
    // The room's lock before the reservation's, as every write takes them; the user's row after both.
    const { reservation: current, room } = await lockReservationAndRoom(tx, id)
    if (body.user_id !== undefined) await requireUser(tx, body.user_id)
    const now = ctx.clock.now()
    const before = reportedStatus(current, now)
    const extra: { userId?: number; status?: ReservationStatus; checkInRequired?: boolean; cancelledAt?: Date | null; setByOwner?: boolean } = {}
    if (body.user_id !== undefined && body.user_id !== current.userId) extra.userId = body.user_id
    if (status !== undefined && status !== before) extra.status = status
    if (extra.status === 'cancelled') extra.cancelledAt = now
    if (extra.status === 'active') extra.cancelledAt = null
    // An admin who brings a released (no-show) booking back means it: it is not released again.
    if (extra.status === 'active' && current.status === 'released' && current.checkInRequired) extra.checkInRequired = false

    // Who the change concerns: the owner, and the new one when it is given away.
    const users = extra.userId !== undefined ? [current.userId, extra.userId] : [current.userId]
    // Stored active afterwards: it holds a slot (and counts against its owner, were fair use checked).
    const endsActive = (extra.status ?? current.status) === 'active'
    // Takes a slot it did not hold: moved, or reactivated (stored cancelled, released or finished).
    const takesSlot = endsActive && (times !== undefined || current.status !== 'active')

    if (times) {
      await rescheduleReservation(ctx, tx, {
        id, start: times.start, end: times.end, actor, extra, policy, users,
        requireActive: extra.status !== 'active',
      })
    } else if (extra.status === 'cancelled' && extra.userId === undefined) {
      await cancelReservationTx(ctx, tx, current, actor, { allowFinished: true })
    } else if (Object.keys(extra).length > 0) {
      // Reactivated: under the room's lock, a closure over its slot (409 unless overridden by name),
      // then the slot may have been taken meanwhile (409 naming who holds it, nothing written).
      const overrides = endsActive ? overridesOf(policy, takesSlot ? (await closuresOverlapping(tx, room.id, current.startTime, current.endTime))[0] : undefined) : {}
      if (takesSlot) await refuseTakenSlot(ctx, tx, room.id, current.startTime, current.endTime, id)
      try {
        // Given to someone else: its time was not their choice (no no-show strike, issue 24).
        const setByOwner = extra.userId !== undefined ? { setByOwner: false } : {}
        await tx.update(reservations).set({ ...extra, ...setByOwner, updatedAt: now }).where(eq(reservations.id, id))
      } catch (error) {
        rethrowReservationWriteError(error)
      }
      const changes: Record<string, { from: unknown; to: unknown }> = {}
      if (extra.userId !== undefined) changes.user_id = { from: current.userId, to: extra.userId }
      if (extra.status !== undefined) changes.status = { from: before, to: extra.status }
      if (extra.checkInRequired !== undefined) changes.check_in_required = { from: current.checkInRequired, to: extra.checkInRequired }
      recordChange(tx, {
        at: now,
        actorId: actor.id,
        event: 'reservation.updated',
        rooms: [room.id],
        users,
        description: `${actor.name} changed reservation #${id}: ${Object.keys(changes).join(', ')}${overrideNote(overrides)}`,
        data: { reservation_id: id, room_id: room.id, changes, ...overrides },
      })
    }
    const [row] = await selectAdminReservations(tx).where(eq(reservations.id, id))
    return adminReservation(row!, ctx.clock.now())
  })
}

/**
 * POST /admin/reservations/bulk-cancel: cancels the listed reservations in one transaction, as
 * the original did: unknown ids are ignored (and listed in `missing_ids`), and an admin may cancel
 * a finished reservation too (as with PATCH). `cancelled` counts the reservations this request
 * cancelled; those already cancelled (or released as no-shows) are left alone and not counted.
 * Each goes through the reservations module's cancel (one reservation.cancelled change each, as
 * DELETE /reservations/:id writes). The body's shape is checked by its schema (400, nothing changes).
 */
export async function bulkCancel(ctx: Ctx, actor: Actor, ids: number[]) {
  const wanted = [...new Set(ids)]
  return writeTransaction(ctx.database, async (tx) => {
    // The one lock order of every write (docs/architecture.md, Locks): the rooms of the listed
    // reservations first (ascending id), then the reservations (ascending id). A reservation never
    // changes rooms, so the rooms read before their locks are theirs.
    const roomIds = (await tx.selectDistinct({ roomId: reservations.roomId }).from(reservations).where(inArray(reservations.id, wanted)))
      .map((r) => r.roomId)
    if (roomIds.length > 0) await tx.select({ id: rooms.id }).from(rooms).where(inArray(rooms.id, roomIds)).orderBy(asc(rooms.id)).for('no key update')
    const found = await tx.select().from(reservations)
      .where(inArray(reservations.id, wanted)).orderBy(asc(reservations.id)).for('update')
    const known = new Set(found.map((r) => r.id))
    let cancelled = 0
    for (const row of found) {
      if ((await cancelReservationTx(ctx, tx, row, actor, { allowFinished: true })).changed) cancelled++
    }
    return { cancelled, missing_ids: wanted.filter((id) => !known.has(id)) }
  })
}
