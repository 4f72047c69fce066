/**
 * The console's reads of rooms (GET /console/rooms and /console/rooms/:id): the API's room list
 * and room view (views/rooms.ts: one query per page), the room's qr_version for its door display
 * link, and the door posters of a selection as one PDF.
 *
 * The posters PDF is the one GET /api/admin/rooms/posters.pdf?ids= makes, from the same core
 * renderer (core/qr/posters.ts).
 */
import type { Ctx } from '../../context'
import { NotFound } from '../../lib/errors'
import { displayPath } from '../bookings/checkin/keys'
import { ROOM_MSG } from '../bookings/messages'
import { roomKey } from '../bookings/rooms/writes'
import { getRoomView, listRoomViews, type RoomFilter, type RoomView } from '../bookings/views/rooms'
import { posterRooms, postersPdf, type PosterRoom } from '../qr/posters'

/** A page of rooms as the API lists them (by name), with the total. */
export function consoleRooms(ctx: Ctx, filter: RoomFilter, page: { limit: number; offset: number }) {
  return listRoomViews(ctx, filter, page)
}

export interface ConsoleRoom {
  room: RoomView
  /** the version the room's poster key and display link are signed with (generate-qr adds one) */
  qrVersion: number
  /** the link that pairs a door display (as GET /api/admin/rooms/:id/display-link answers it) */
  displayUrl: string
  /** the same page on this server: /display/<id>?t=<token> */
  displayPath: string
}

/** One room with what its page shows; 404 when there is none. */
export async function consoleRoom(ctx: Ctx, id: number): Promise<ConsoleRoom> {
  const key = await roomKey(ctx.database.db, id)
  if (!key) throw new NotFound(ROOM_MSG.notFound)
  const room = await getRoomView(ctx, id)
  const base = ctx.config.serverExternalBase.endsWith('/') ? ctx.config.serverExternalBase : `${ctx.config.serverExternalBase}/`
  const path = displayPath(ctx.config.secretKey, key)
  return { room, qrVersion: key.qrVersion, displayUrl: `${base}${path}`, displayPath: `/${path}` }
}

/** The door posters of the rooms (one A4 page each, name order) as one PDF, as the API's posters route makes it; unknown ids are a 404. */
export async function postersPdfOf(ctx: Ctx, ids: number[]): Promise<{ pdf: Uint8Array; rooms: PosterRoom[] }> {
  const rooms = await posterRooms(ctx, ids)
  return { pdf: await postersPdf(rooms), rooms }
}
