/** /reservations routes (contract section 4): thin handlers over reservations/service.ts. */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import { NotFound } from '../../lib/errors'
import { findRoom, ROOM_NOT_FOUND, roomSchedule } from '../../core/bookings/rooms'
import {
  CancelledReply, MyReservations, RescheduledReply, ReservationIdParams, RoomHistory, RoomIdParams, TimeRangeBody,
} from './model'
import { cancelReservation, myReservations, updateReservationTimes } from '../../core/bookings/reservations'

export const reservationRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/reservations', detail: { tags: ['Reservations'] } })
    .use(authGuard(ctx))
    .get('/mine', async ({ user }) => ({ reservations: await myReservations(ctx, user.id) }), {
      auth: 'student',
      response: { 200: MyReservations },
      detail: { tags: ['Reservations'], summary: 'Your reservations, newest start first' },
    })

    .patch('/:id', async ({ params, body, user }) => ({
      reservation: await updateReservationTimes(ctx, user, params.id, body),
    }), {
      auth: 'teacher',
      params: ReservationIdParams,
      body: TimeRangeBody,
      response: { 200: RescheduledReply },
      detail: { tags: ['Reservations'], summary: 'Move an active reservation to new times (teacher, admin)' },
    })

    .delete('/:id', ({ params, user }) => cancelReservation(ctx, user, params.id), {
      auth: 'student',
      params: ReservationIdParams,
      response: { 200: CancelledReply },
      detail: { tags: ['Reservations'], summary: 'Cancel a reservation (its owner, a teacher or an admin); idempotent' },
    })

    .get('/room/:room_id/history', async ({ params }) => {
      if (!(await findRoom(ctx.database.db, params.room_id))) throw new NotFound(ROOM_NOT_FOUND)
      return { reservations: await roomSchedule(ctx, params.room_id) }
    }, {
      auth: 'teacher',
      params: RoomIdParams,
      response: { 200: RoomHistory },
      detail: { tags: ['Reservations'], summary: "A room's reservations of every status, ascending by start, as the original (teacher, admin)" },
    })
