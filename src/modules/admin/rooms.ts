/** /admin/rooms: list, create, patch, bulk block, QR, reserve on behalf. */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import { createRoom } from '../../core/bookings/rooms/writes'
import {
  AdminReserveBody, AdminReserveReply, AdminRoomList, BulkBlockBody, BulkBlockReply, CreateRoomBody, IdParams, QrReply,
  RoomListQuery, RoomReply, UpdateRoomBody,
} from './model'
import * as service from '../../core/bookings/rooms/admin'
import { routeRules } from '../../plugins/route-rules'
import { perMinute } from '../../plugins/rate-limit'
import { BOOKING_ERRORS, ROOM_MSG } from '../../core/bookings/messages'
import { NAME_MSG } from '../../lib/names'
import { INPUT_MSG } from '../../lib/input'

const detail = (summary: string) => ({ tags: ['Admin'], summary })

export const adminRoomRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/rooms', ({ query }) => service.listRooms(ctx, query), {
      auth: 'admin',
      query: RoomListQuery,
      response: { 200: AdminRoomList },
      limit: perMinute('admin.rooms.list', 60),
      errors: { 400: [INPUT_MSG.notBool('is_blocked')] },
      detail: detail('List rooms with filters (name, status, type, blocked), paginated, by name'),
    })
    .post('/rooms', async ({ body, user, set }) => {
      const room = await createRoom(ctx, user, body)
      set.status = 201
      return { room }
    }, {
      auth: 'admin',
      body: CreateRoomBody,
      response: { 201: RoomReply },
      limit: perMinute('admin.rooms.create', 20),
      errors: { 400: [NAME_MSG.controlChars, ROOM_MSG.badProof], 409: [ROOM_MSG.exists] },
      detail: detail('Create a room and its QR code; 409 when the name is taken'),
    })
    // Declared before /rooms/:id so "bulk" is never taken for an id.
    .post('/rooms/bulk/block', ({ body, user }) => service.bulkBlock(ctx, user, body.room_ids, body.is_blocked), {
      auth: 'admin',
      body: BulkBlockBody,
      response: { 200: BulkBlockReply },
      limit: perMinute('admin.rooms.bulk-block', 20),
      errors: { 400: [INPUT_MSG.notIdList('room_ids'), INPUT_MSG.notBool('is_blocked')] },
      detail: detail('Block or unblock several rooms at once: counts the rooms it changed; unknown ids are ignored (missing_ids)'),
    })
    .patch('/rooms/:id', async ({ params, body, user }) => ({ room: await service.updateRoom(ctx, user, params.id, body) }), {
      auth: 'admin',
      params: IdParams,
      body: UpdateRoomBody,
      response: { 200: RoomReply },
      limit: perMinute('admin.rooms.update', 30),
      errors: {
        400: [NAME_MSG.controlChars, INPUT_MSG.notBool('is_blocked'), INPUT_MSG.notBool('requires_check_in'), ROOM_MSG.badProof],
        404: [ROOM_MSG.notFound],
        409: [ROOM_MSG.exists],
      },
      detail: detail("Change a room's name, type, block or daily booking window"),
    })
    .post('/rooms/:id/generate-qr', ({ params, user }) => service.regenerateQr(ctx, user, params.id), {
      auth: 'admin',
      params: IdParams,
      response: { 200: QrReply },
      limit: perMinute('admin.rooms.generate-qr', 20),
      errors: { 404: [ROOM_MSG.notFound] },
      detail: detail("Issue a new poster key and display link: printed posters and paired displays of the old one no longer check in; the public QR image is rendered again"),
    })
    .post('/rooms/:id/reserve', async ({ params, body, user, set }) => {
      const reply = await service.reserveOnBehalf(ctx, user, params.id, body)
      set.status = 201
      return reply
    }, {
      auth: 'admin',
      params: IdParams,
      body: AdminReserveBody,
      response: { 201: AdminReserveReply },
      limit: perMinute('admin.rooms.reserve', 30),
      errors: BOOKING_ERRORS.reserveFor,
      detail: detail('Reserve a room for a user, whatever its type or block; a closure is 409 unless override_closure: true (recorded); fair-use limits do not bind an admin'),
    })
