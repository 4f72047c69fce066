/** /admin/reservations: filtered list, patch, bulk cancel. */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import {
  BulkCancelBody, BulkCancelReply, IdParams, ReservationList, ReservationListQuery, ReservationReply, UpdateReservationBody,
} from './model'
import * as service from './reservations.service'

const detail = (summary: string) => ({ tags: ['Admin'], summary })

export const adminReservationRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .get('/reservations', ({ query }) => service.listReservations(ctx, query), {
      auth: 'admin',
      query: ReservationListQuery,
      response: { 200: ReservationList },
      detail: detail('List reservations with filters (name search, status, room, user, time ranges), paginated, newest start first'),
    })
    .patch('/reservations/:id', async ({ params, body, user }) => ({
      reservation: await service.updateReservation(ctx, user, params.id, body),
    }), {
      auth: 'admin',
      params: IdParams,
      body: UpdateReservationBody,
      response: { 200: ReservationReply },
      detail: detail("Move a reservation (start_time with end_time), give it to another user or set any status (active, finished, cancelled)"),
    })
    .post('/reservations/bulk-cancel', ({ body, user }) => service.bulkCancel(ctx, user, body.reservation_ids), {
      auth: 'admin',
      body: BulkCancelBody,
      response: { 200: BulkCancelReply },
      detail: detail('Cancel several reservations at once: counts the ones it cancelled; unknown ids are ignored (missing_ids)'),
    })
