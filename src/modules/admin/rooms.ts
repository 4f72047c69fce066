/** /admin/rooms: list, create, patch, bulk block, QR, reserve on behalf. */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import { createRoom } from '../../core/bookings/rooms'
import {
  AdminReserveBody, AdminReserveReply, AdminRoomList, BulkBlockBody, BulkBlockReply, CreateRoomBody, IdParams, QrReply,
  RoomListQuery, RoomReply, UpdateRoomBody,
} from './model'
import * as service from './rooms.service'

const detail = (summary: string) => ({ tags: ['Admin'], summary })

export const adminRoomRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .get('/rooms', ({ query }) => service.listRooms(ctx, query), {
      auth: 'admin',
      query: RoomListQuery,
      response: { 200: AdminRoomList },
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
      detail: detail('Create a room and its QR code; 409 when the name is taken'),
    })
    // Declared before /rooms/:id so "bulk" is never taken for an id.
    .post('/rooms/bulk/block', ({ body, user }) => service.bulkBlock(ctx, user, body.room_ids, body.is_blocked), {
      auth: 'admin',
      body: BulkBlockBody,
      response: { 200: BulkBlockReply },
      detail: detail('Block or unblock several rooms at once: counts the rooms it changed; unknown ids are ignored (missing_ids)'),
    })
    .patch('/rooms/:id', async ({ params, body, user }) => ({ room: await service.updateRoom(ctx, user, params.id, body) }), {
      auth: 'admin',
      params: IdParams,
      body: UpdateRoomBody,
      response: { 200: RoomReply },
      detail: detail("Change a room's name, type, block or daily booking window"),
    })
    .post('/rooms/:id/generate-qr', ({ params, user }) => service.regenerateQr(ctx, user, params.id), {
      auth: 'admin',
      params: IdParams,
      response: { 200: QrReply },
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
      detail: detail('Reserve a room for a user, whatever its type or block'),
    })
