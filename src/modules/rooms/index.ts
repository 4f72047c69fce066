/** /rooms routes (contract section 3): thin handlers over the booking core (src/core/bookings: rooms.ts, reservations.ts). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import { reserveRoom } from '../../core/bookings/reservations/writes'
import {
  CreateRoomBody, ReservationCreated, RoomDetail, RoomIdParams, RoomList, RoomReply,
} from '../../core/bookings/model'
import { createRoom } from '../../core/bookings/rooms/writes'
import { cachedJsonResponse } from '../../lib/http-cache'
import { routeRules } from '../../plugins/route-rules'
import { perMinute } from '../../plugins/rate-limit'
import { BOOKING_ERRORS, ROOM_MSG } from '../../core/bookings/messages'
import { ReserveBody } from './model'
import { NAME_MSG } from '../../lib/names'

const CACHING = 'Answered with a strong `ETag` and `Cache-Control: no-cache`: send it back in `If-None-Match` to get `304 Not Modified` while nothing changed. Gzip-compressed (`Content-Encoding: gzip`) when `Accept-Encoding` allows it and the body is over 1 KB.'

export const roomRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/rooms', detail: { tags: ['Rooms'] } })
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    // Served from memory (src/core/bookings/view-cache.ts): bytes, ETag, 304 and gzip.
    .get('', async ({ request, set }) => cachedJsonResponse(request, set.headers as Record<string, string>, await ctx.roomViews.roomList()), {
      response: { 200: RoomList },
      limit: perMinute('rooms.list', 1200),
      detail: { tags: ['Rooms'], summary: 'All rooms with their status, ordered by name', description: CACHING },
    })

    .post('', async ({ body, user, set }) => {
      const room = await createRoom(ctx, user, body)
      set.status = 201
      return { room }
    }, {
      auth: 'admin',
      body: CreateRoomBody,
      response: { 201: RoomReply },
      // the same budget as POST /admin/rooms: one route under two paths
      limit: perMinute('admin.rooms.create', 20),
      errors: { 400: [NAME_MSG.required, NAME_MSG.controlChars, ROOM_MSG.badType('type', '<given>')], 409: [ROOM_MSG.exists] },
      detail: { tags: ['Rooms'], summary: 'Create a room (admin); same as POST /admin/rooms, accepts room_type for type' },
    })

    .get('/:id', async ({ params, request, set }) => cachedJsonResponse(request, set.headers as Record<string, string>, await ctx.roomViews.roomDetail(params.id)), {
      params: RoomIdParams,
      response: { 200: RoomDetail },
      limit: perMinute('rooms.detail', 600),
      errors: { 404: [ROOM_MSG.notFound] },
      detail: { tags: ['Rooms'], summary: 'A room, its schedule and its free slots for the next 24 hours', description: CACHING },
    })

    .post('/:id/reserve', async ({ params, body, user, set }) => {
      const reservation = await reserveRoom(ctx, user, params.id, body)
      set.status = 201
      return { reservation }
    }, {
      auth: 'student',
      params: RoomIdParams,
      body: ReserveBody,
      response: { 201: ReservationCreated },
      limit: perMinute('rooms.reserve', 180),
      errors: BOOKING_ERRORS.reserve,
      detail: { tags: ['Rooms'], summary: 'Reserve a public room for yourself' },
    })
