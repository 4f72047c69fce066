/** /admin/reservations: filtered list, patch, bulk cancel. */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import {
  BulkCancelBody, BulkCancelReply, IdParams, ReservationList, ReservationListQuery, ReservationReply, UpdateReservationBody,
} from './model'
import * as service from '../../core/bookings/reservations/admin'
import { routeRules } from '../../plugins/route-rules'
import { perMinute } from '../../plugins/rate-limit'
import { BOOKING_MSG, CLOSURE_MSG } from '../../core/bookings/messages'
import { INPUT_MSG } from '../../lib/input'
import { notOneOf } from '../../lib/query-params'
import { TIME_MSG } from '../../lib/time'

const detail = (summary: string) => ({ tags: ['Admin'], summary })

export const adminReservationRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/reservations', ({ query }) => service.listReservations(ctx, query), {
      auth: 'admin',
      query: ReservationListQuery,
      response: { 200: ReservationList },
      limit: perMinute('admin.reservations.list', 60),
      errors: { 400: [notOneOf('status', 'x', service.FILTER_STATUSES), INPUT_MSG.notBool('checked_in')] },
      detail: detail('List reservations with filters (name search, status, room, user, time ranges), paginated, newest start first'),
    })
    .patch('/reservations/:id', async ({ params, body, user }) => ({
      reservation: await service.updateReservation(ctx, user, params.id, body),
    }), {
      auth: 'admin',
      params: IdParams,
      body: UpdateReservationBody,
      response: { 200: ReservationReply },
      limit: perMinute('admin.reservations.update', 40),
      errors: {
        400: [service.ADMIN_RESERVATION_MSG.badStatus, service.ADMIN_RESERVATION_MSG.bothTimes, TIME_MSG.invalid, TIME_MSG.required, BOOKING_MSG.badRange],
        404: [BOOKING_MSG.notFound, BOOKING_MSG.userNotFound],
        // A reactivated or moved booking, checked under its room's lock as a new booking is (issue 25):
        // a slot taken meanwhile (with held_by), a closure of the room unless override_closure.
        409: [`${BOOKING_MSG.conflict} (held_by: who holds the slot)`, `${CLOSURE_MSG.closed('<reason>')} (unless override_closure: true)`],
      },
      detail: detail("Move a reservation (start_time with end_time), give it to another user or set any status (active, finished, cancelled); reactivated or moved, it is checked as a new booking (409: slot taken, room closed; override_closure: true books into a closure, recorded); fair-use limits do not bind an admin"),
    })
    .post('/reservations/bulk-cancel', ({ body, user }) => service.bulkCancel(ctx, user, body.reservation_ids), {
      auth: 'admin',
      body: BulkCancelBody,
      response: { 200: BulkCancelReply },
      limit: perMinute('admin.reservations.bulk-cancel', 20),
      errors: { 400: [INPUT_MSG.notIdList('reservation_ids')] },
      detail: detail('Cancel several reservations at once: counts the ones it cancelled; unknown ids are ignored (missing_ids)'),
    })
