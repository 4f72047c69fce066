/**
 * Admin rooms: the filtered, paginated list (one query per page, two past the end), patch, bulk
 * block, QR regeneration and booking on behalf of a user. Room JSON, creation, validation and
 * booking rules come from the rooms and reservations modules.
 */
import { and, eq, inArray, ne, sql } from 'drizzle-orm'
import type { Ctx } from '../../../context'
import { rooms, type Room } from '../../../db/schema'
import { BadRequest, HttpError, NotFound } from '../../../lib/errors'
import { paginationOf, parsePagination } from '../../../lib/pagination'
import { enumValues, searchTerm } from '../../../lib/query-params'
import { formatTimeOfDay, parseTimeOfDay } from '../../../lib/time'
import type { Actor } from '../../identity/actors'
import { ROOM_MSG } from '../messages'
import { generateRoomQr, qrCodeUrl } from '../../qr/codes'
import { createReservation, requireUser } from '../reservations/writes'
import { adminPolicy } from '../reservations/policies'
import { getRoomView, listRoomViews } from '../views/rooms'
import { findRoom, parseCheckInPolicy, parseRoomName, parseRoomType, rethrowRoomWriteError } from '../rooms/writes'
import { ROOM_STATUSES, ROOM_TYPES, type UpdateRoomBody } from '../model'
import { recordChange, writeTransaction } from '../../changes'

export async function listRooms(ctx: Ctx, query: {
  q?: string; status?: string | string[]; type?: string | string[]; is_blocked?: boolean; page?: string; per_page?: string
}) {
  const page = parsePagination(query)
  const { rooms: views, total } = await listRoomViews(ctx, {
    q: searchTerm(query.q),
    statuses: enumValues(query.status, ROOM_STATUSES, 'status'),
    types: enumValues(query.type, ROOM_TYPES, 'type'),
    isBlocked: query.is_blocked,
  }, { limit: page.limit, offset: page.offset })
  return { rooms: views, pagination: paginationOf(page, total) }
}

/** The body of PATCH /admin/rooms/:id, as its schema has checked and decoded it. */
export type UpdateRoomInput = typeof UpdateRoomBody.static

type RoomChanges = Partial<Pick<Room,
  'name' | 'type' | 'isBlocked' | 'bookingStart' | 'bookingEnd' | 'requiresCheckIn' | 'seriesRequireCheckIn' | 'checkInOpensMin' | 'autoReleaseAfterMin' | 'checkInProof'>>

const FIELD_NAMES: Record<keyof RoomChanges, string> = {
  name: 'name', type: 'type', isBlocked: 'is_blocked', bookingStart: 'booking_start', bookingEnd: 'booking_end',
  requiresCheckIn: 'requires_check_in', seriesRequireCheckIn: 'series_require_check_in', checkInOpensMin: 'check_in_opens_min', autoReleaseAfterMin: 'auto_release_after_min',
  checkInProof: 'check_in_proof',
}

/** A changed value as the API shows it (times of day as "HH:MM"). */
function shown(field: keyof RoomChanges, value: unknown) {
  return field === 'bookingStart' || field === 'bookingEnd' ? formatTimeOfDay(value as string | null) : value
}

/**
 * PATCH /admin/rooms/:id: only the fields sent change; values equal to the current ones are no
 * change (and write no audit row). One audit row listing every changed field: `block_room` when
 * the block is all that changed (reported as event room.blocked / room.unblocked), else
 * `update_room` (room.updated); both are reported as the original's action `update_room`.
 */
export async function updateRoom(ctx: Ctx, actor: Actor, id: number, body: UpdateRoomInput) {
  const wanted: RoomChanges = {}
  if (body.name !== undefined) wanted.name = parseRoomName(body.name)
  const rawType = body.type ?? body.room_type
  if (rawType !== undefined) wanted.type = parseRoomType(rawType, body.type !== undefined ? 'type' : 'room_type')
  if (body.is_blocked !== undefined) wanted.isBlocked = body.is_blocked
  const bookingStart = parseTimeOfDay(body.booking_start, 'booking_start')
  if (bookingStart !== undefined) wanted.bookingStart = bookingStart
  const bookingEnd = parseTimeOfDay(body.booking_end, 'booking_end')
  if (bookingEnd !== undefined) wanted.bookingEnd = bookingEnd
  Object.assign(wanted, parseCheckInPolicy(body))
  if (Object.keys(wanted).length === 0)
    throw new BadRequest('nothing to update: send name, type, is_blocked, booking_start and/or booking_end (or the check-in policy: requires_check_in, series_require_check_in, check_in_opens_min, auto_release_after_min, check_in_proof)')

  try {
    await writeTransaction(ctx.database, async (tx) => {
      const [room] = await tx.select().from(rooms).where(eq(rooms.id, id)).for('update')
      if (!room) throw new NotFound(ROOM_MSG.notFound)
      const fields = (Object.keys(wanted) as (keyof RoomChanges)[]).filter((f) => wanted[f] !== room[f])
      if (fields.length === 0) return
      const changes = Object.fromEntries(fields.map((f) => [f, wanted[f]])) as RoomChanges
      await tx.update(rooms).set({ ...changes, updatedAt: ctx.clock.now() }).where(eq(rooms.id, id))
      const onlyBlock = fields.length === 1 && fields[0] === 'isBlocked'
      recordChange(tx, {
        at: ctx.clock.now(),
        actorId: actor.id,
        event: onlyBlock ? (changes.isBlocked ? 'room.blocked' : 'room.unblocked') : 'room.updated',
        description: onlyBlock
          ? `${actor.name} ${changes.isBlocked ? 'blocked' : 'unblocked'} room ${room.name}`
          : `${actor.name} updated room ${changes.name ?? room.name}: ${fields.map((f) => FIELD_NAMES[f]).join(', ')}`,
        data: {
          room_id: id,
          ...(onlyBlock ? { is_blocked: changes.isBlocked } : {}),
          changes: Object.fromEntries(fields.map((f) => [FIELD_NAMES[f], { from: shown(f, room[f]), to: shown(f, wanted[f]) }])),
        },
      })
    })
  } catch (error) {
    if (error instanceof HttpError) throw error
    rethrowRoomWriteError(error)
  }
  return getRoomView(ctx, id)
}

/**
 * POST /admin/rooms/bulk/block: blocks or unblocks the listed rooms in one transaction, as the
 * original did: unknown ids are ignored (and listed in `missing_ids`); `updated` counts the rooms
 * whose state this request changed (one room.blocked / room.unblocked change each); rooms already in the wanted
 * state are left alone. The body's shape is checked by its schema (400, nothing changes).
 */
export async function bulkBlock(ctx: Ctx, actor: Actor, roomIds: number[], isBlocked: boolean) {
  const ids = [...new Set(roomIds)]
  return writeTransaction(ctx.database, async (tx) => {
    const found = await tx.select({ id: rooms.id }).from(rooms).where(inArray(rooms.id, ids)).for('update')
    const known = new Set(found.map((r) => r.id))
    const missing = ids.filter((id) => !known.has(id))
    if (found.length === 0) return { updated: 0, missing_ids: missing }
    const changed = await tx.update(rooms)
      .set({ isBlocked, updatedAt: ctx.clock.now() })
      .where(and(inArray(rooms.id, ids), ne(rooms.isBlocked, isBlocked)))
      .returning({ id: rooms.id, name: rooms.name })
    for (const room of changed.sort((a, b) => a.id - b.id)) {
      recordChange(tx, {
        at: ctx.clock.now(),
        actorId: actor.id,
        event: isBlocked ? 'room.blocked' : 'room.unblocked',
        description: `${actor.name} ${isBlocked ? 'blocked' : 'unblocked'} room ${room.name}`,
        data: { room_id: room.id, is_blocked: isBlocked, bulk: true },
      })
    }
    return { updated: changed.length, missing_ids: missing }
  })
}

/**
 * Issues a new QR code: increments the room's qr_version (so the key printed on old posters no
 * longer allows check-in; they still open the room page), audits it in the same transaction,
 * then renders the PNG and SVG files. A file that cannot be written is logged and rendered on
 * request, like a missing one.
 */
export async function regenerateQr(ctx: Ctx, actor: Actor, id: number) {
  const room = await writeTransaction(ctx.database, async (tx) => {
    const [row] = await tx.update(rooms)
      .set({ qrVersion: sql`${rooms.qrVersion} + 1`, updatedAt: ctx.clock.now() })
      .where(eq(rooms.id, id))
      .returning({ id: rooms.id, name: rooms.name, qrVersion: rooms.qrVersion })
    if (!row) throw new NotFound(ROOM_MSG.notFound)
    recordChange(tx, {
      at: ctx.clock.now(),
      actorId: actor.id,
      event: 'room.qr_regenerated',
      description: `${actor.name} issued a new QR code for room ${row.name} (version ${row.qrVersion}); earlier codes no longer allow check-in`,
      data: { room_id: row.id, qr_code_url: qrCodeUrl(ctx.config, row.id), qr_version: row.qrVersion },
    })
    return row
  })
  try {
    await generateRoomQr(ctx.config, room.id, ctx.log)
  } catch (error) {
    ctx.log.warn('could not write QR code files; they will be rendered on request', { room_id: room.id, error: (error as Error).message })
  }
  return { qr_code_url: qrCodeUrl(ctx.config, room.id) }
}

/**
 * POST /admin/rooms/:id/reserve: books for any user by the admin's policy (policies.ts): the room's
 * type and block and the user's fair use do not bind; the time rules (format, range, past, daily
 * window), a taken slot (409) and a closure (409, unless `override_closure: true`, recorded) do.
 */
export async function reserveOnBehalf(
  ctx: Ctx, actor: Actor, roomId: number, body: { user_id: number; start_time: Date; end_time: Date; override_closure?: boolean },
) {
  const { start_time: start, end_time: end } = body
  const created = await writeTransaction(ctx.database, async (tx) => {
    if (!(await findRoom(tx, roomId))) throw new NotFound(ROOM_MSG.notFound)
    await requireUser(tx, body.user_id)
    return createReservation(ctx, tx, {
      roomId, userId: body.user_id, start, end, actor, policy: adminPolicy({ overrideClosure: body.override_closure === true }),
    })
  })
  return { reservation_id: created.id }
}
