/** Room writes: creating a room (and the input rules it shares with the admin's edits), and the lookups they need. */
import { eq } from 'drizzle-orm'
import type { Executor } from '../../../db/client'
import { pgConstraint, pgErrorCode } from '../../../db/client'
import { rooms, type CheckInProof, type Room, type RoomType } from '../../../db/schema'
import { BadRequest, Conflict } from '../../../lib/errors'
import type { Logger } from '../../../lib/log'
import { normalizeName } from '../../../lib/names'
import { formatTimeOfDay, parseTimeOfDay } from '../../../lib/time'
import { generateRoomQr } from '../../qr/codes'
import { ROOM_TYPES } from '../model'
import { ROOM_MSG } from '../messages'
import { getRoomView, type RoomDeps, type RoomView } from '../views/rooms'
import { recordChange, writeTransaction } from '../../changes'

/** A room type from a request: public, admin or service (case-insensitive), else 400. */
export function parseRoomType(value: unknown, field = 'type'): RoomType {
  const match = typeof value === 'string' ? ROOM_TYPES.find((t) => t === value.trim().toLowerCase()) : undefined
  if (!match) throw new BadRequest(ROOM_MSG.badType(field, value))
  return match
}

const ROOM_NAME_MAX = 100

/**
 * A room name from a request: no control or bidi characters, NFC, trimmed, 1..100 characters,
 * else 400 (src/lib/names.ts). Room names stay unique exactly as written (rooms_name_key): only
 * admins name rooms, and "B101" and "b101" may be meant as two rooms.
 */
export function parseRoomName(value: unknown): string {
  return normalizeName(value, ROOM_NAME_MAX)
}

export interface CreateRoomInput {
  name?: unknown
  type?: unknown
  /** the deployment guide's synonym of type */
  room_type?: unknown
  booking_start?: unknown
  booking_end?: unknown
  /** check-in policy; requires_check_in defaults to true for public rooms */
  requires_check_in?: boolean
  check_in_opens_min?: unknown
  auto_release_after_min?: unknown
  /** display, poster (default) or none; the body schema checks it */
  check_in_proof?: CheckInProof
}

export interface CheckInPolicy {
  requiresCheckIn?: boolean
  seriesRequireCheckIn?: boolean
  checkInOpensMin?: number
  autoReleaseAfterMin?: number
  checkInProof?: CheckInProof
}

function minutes(value: unknown, field: string, min: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > 1440)
    throw new BadRequest(ROOM_MSG.badMinutes(field, min))
  return n
}

/** The check-in policy fields of a request (only those sent); a bad value is 400 naming the field. */
export function parseCheckInPolicy(input: {
  requires_check_in?: boolean; series_require_check_in?: boolean; check_in_opens_min?: unknown; auto_release_after_min?: unknown; check_in_proof?: CheckInProof
}): CheckInPolicy {
  const policy: CheckInPolicy = {}
  // requires_check_in arrives as a boolean: the body schema decodes it (BoolIsh, src/lib/input.ts).
  if (input.requires_check_in !== undefined) policy.requiresCheckIn = input.requires_check_in
  if (input.series_require_check_in !== undefined) policy.seriesRequireCheckIn = input.series_require_check_in
  if (input.check_in_opens_min !== undefined) policy.checkInOpensMin = minutes(input.check_in_opens_min, 'check_in_opens_min', 0)
  if (input.auto_release_after_min !== undefined) policy.autoReleaseAfterMin = minutes(input.auto_release_after_min, 'auto_release_after_min', 1)
  // check_in_proof arrives checked: its body schema allows only the three (with ROOM_MSG.badProof).
  if (input.check_in_proof !== undefined) policy.checkInProof = input.check_in_proof
  return policy
}

/** Maps a duplicate room name to 409 `room already exists`; rethrows anything else. */
export function rethrowRoomWriteError(error: unknown): never {
  if (pgErrorCode(error) === '23505' && (pgConstraint(error) ?? 'rooms_name_key') === 'rooms_name_key')
    throw new Conflict(ROOM_MSG.exists)
  throw error
}

/**
 * Creates a room (POST /rooms and POST /admin/rooms): validates, inserts and audits in one
 * transaction, then renders its QR code files (a failure there is logged, not fatal: the file is
 * rebuilt on request). Returns the Room JSON.
 */
export async function createRoom(
  deps: RoomDeps & { log?: Logger },
  actor: { id: number; name?: string },
  input: CreateRoomInput,
): Promise<RoomView> {
  const name = parseRoomName(input.name)
  const rawType = input.type ?? input.room_type
  const type = rawType === undefined || rawType === null || rawType === '' ? 'public' : parseRoomType(rawType, input.type !== undefined ? 'type' : 'room_type')
  const bookingStart = parseTimeOfDay(input.booking_start, 'booking_start') ?? null
  const bookingEnd = parseTimeOfDay(input.booking_end, 'booking_end') ?? null
  const policy = parseCheckInPolicy(input)
  const requiresCheckIn = policy.requiresCheckIn ?? type === 'public'

  let created: Room
  try {
    created = await writeTransaction(deps.database, async (tx) => {
      const [row] = await tx.insert(rooms).values({
        name, type, bookingStart, bookingEnd, ...policy, requiresCheckIn, createdAt: deps.clock.now(), updatedAt: deps.clock.now(),
      }).returning()
      recordChange(tx, {
        at: deps.clock.now(),
        actorId: actor.id,
        event: 'room.created',
        description: `${actor.name ?? `user #${actor.id}`} created room ${name} (${type})`,
        data: {
          room_id: row!.id, name, type, booking_start: formatTimeOfDay(bookingStart), booking_end: formatTimeOfDay(bookingEnd),
          requires_check_in: row!.requiresCheckIn, check_in_opens_min: row!.checkInOpensMin, auto_release_after_min: row!.autoReleaseAfterMin,
          check_in_proof: row!.checkInProof,
        },
      })
      return row!
    })
  } catch (error) {
    rethrowRoomWriteError(error)
  }

  try {
    await generateRoomQr(deps.config, created.id, deps.log)
  } catch (error) {
    deps.log?.warn('could not write QR code files; they will be rendered on request', {
      room_id: created.id, error: (error as Error).message,
    })
  }
  return getRoomView(deps, created.id)
}

/** Whether a room row exists (and its fields), for services that check before writing. */
export async function findRoom(executor: Executor, id: number): Promise<Room | undefined> {
  const [row] = await executor.select().from(rooms).where(eq(rooms.id, id))
  return row
}

/** What the room's codes are made from (its id and qr_version: posters, display links, QR images); undefined if there is no such room. */
export async function roomKey(executor: Executor, id: number): Promise<{ id: number; qrVersion: number } | undefined> {
  const [row] = await executor.select({ id: rooms.id, qrVersion: rooms.qrVersion }).from(rooms).where(eq(rooms.id, id))
  return row
}
