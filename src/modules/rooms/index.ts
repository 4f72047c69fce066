/** /rooms routes (contract section 3): thin handlers over rooms/service.ts and reservations/service.ts. */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import { reserveRoom } from '../../core/bookings/reservations'
import {
  CreateRoomBody, ReservationCreated, RoomDetail, RoomIdParams, RoomList, RoomReply, TimeRangeBody,
} from '../../core/bookings/model'
import { createRoom, listRoomViews, roomDetail } from '../../core/bookings/rooms'

export const roomRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/rooms', detail: { tags: ['Rooms'] } })
    .use(authGuard(ctx))
    .get('', async () => ({ rooms: (await listRoomViews(ctx)).rooms }), {
      response: { 200: RoomList },
      detail: { tags: ['Rooms'], summary: 'All rooms with their status, ordered by name' },
    })

    .post('', async ({ body, user, set }) => {
      const room = await createRoom(ctx, user, body)
      set.status = 201
      return { room }
    }, {
      auth: 'admin',
      body: CreateRoomBody,
      response: { 201: RoomReply },
      detail: { tags: ['Rooms'], summary: 'Create a room (admin); same as POST /admin/rooms, accepts room_type for type' },
    })

    .get('/:id', ({ params }) => roomDetail(ctx, params.id), {
      params: RoomIdParams,
      response: { 200: RoomDetail },
      detail: { tags: ['Rooms'], summary: 'A room, its schedule and its free slots for the next 24 hours' },
    })

    .post('/:id/reserve', async ({ params, body, user, set }) => {
      const reservation = await reserveRoom(ctx, user, params.id, body)
      set.status = 201
      return { reservation }
    }, {
      auth: 'student',
      params: RoomIdParams,
      body: TimeRangeBody,
      response: { 201: ReservationCreated },
      detail: { tags: ['Rooms'], summary: 'Reserve a public room for yourself' },
    })
