/** /reservations routes (contract section 4): thin handlers over the booking core (src/core/bookings). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import { NotFound } from '../../lib/errors'
import { roomSchedule } from '../../core/bookings/views/rooms'
import { findRoom } from '../../core/bookings/rooms/writes'
import { ROOM_MSG } from '../../core/bookings/messages'
import {
  CancelledReply, MyReservations, RescheduledReply, ReservationIdParams, RoomHistory, RoomIdParams, TimeRangeBody,
} from './model'
import { cancelReservation, myReservations, updateReservationTimes } from '../../core/bookings/reservations/writes'
import { routeRules } from '../../plugins/route-rules'
import { perMinute } from '../../plugins/rate-limit'
import { BOOKING_ERRORS } from '../../core/bookings/messages'

export const reservationRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/reservations', detail: { tags: ['Reservations'] } })
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/mine', async ({ user }) => ({ reservations: await myReservations(ctx, user.id) }), {
      auth: 'student',
      response: { 200: MyReservations },
      limit: perMinute('reservations.mine', 600),
      detail: { tags: ['Reservations'], summary: 'Your reservations, newest start first' },
    })

    .patch('/:id', async ({ params, body, user }) => ({
      reservation: await updateReservationTimes(ctx, user, params.id, body),
    }), {
      auth: 'teacher',
      params: ReservationIdParams,
      body: TimeRangeBody,
      response: { 200: RescheduledReply },
      limit: perMinute('reservations.update', 120),
      errors: BOOKING_ERRORS.reschedule,
      detail: { tags: ['Reservations'], summary: 'Move an active reservation to new times (teacher, admin)' },
    })

    .delete('/:id', ({ params, user }) => cancelReservation(ctx, user, params.id), {
      auth: 'student',
      params: ReservationIdParams,
      response: { 200: CancelledReply },
      limit: perMinute('reservations.cancel', 180),
      errors: BOOKING_ERRORS.cancel,
      detail: { tags: ['Reservations'], summary: 'Cancel a reservation (its owner, a teacher or an admin); idempotent' },
    })

    .get('/room/:room_id/history', async ({ params }) => {
      if (!(await findRoom(ctx.database.db, params.room_id))) throw new NotFound(ROOM_MSG.notFound)
      return { reservations: await roomSchedule(ctx, params.room_id) }
    }, {
      auth: 'teacher',
      params: RoomIdParams,
      response: { 200: RoomHistory },
      limit: perMinute('reservations.history', 180),
      errors: { 404: [ROOM_MSG.notFound] },
      detail: { tags: ['Reservations'], summary: "A room's reservations of every status, ascending by start, as the original (teacher, admin)" },
    })
