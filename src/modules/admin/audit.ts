/**
 * GET /admin/audit/logs: newest first. Without page/per_page it answers the newest 200 rows (the
 * original's behaviour); with either, it paginates (per_page default 20, at most 200) and adds
 * `pagination`. Each row is reported with the original's `action` name and its precise `event`
 * (src/core/audit/vocabulary.ts); `action` and `event` filter on them.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { notOneOf } from '../../lib/query-params'
import { authGuard } from '../../plugins/auth'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'
import { AUDIT_ACTIONS, listLogs } from '../../core/audit'
import { AuditLogList, AuditLogQuery } from './model'

export const adminAuditRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/audit/logs', ({ query }) => listLogs(ctx, query), {
      auth: 'admin',
      query: AuditLogQuery,
      response: { 200: AuditLogList },
      limit: perMinute('admin.audit', 30),
      errors: { 400: [notOneOf('action', 'x', [...AUDIT_ACTIONS.slice(0, 2), '...']), notOneOf('event', 'x', ['...'])] },
      detail: {
        tags: ['Admin'],
        summary: 'Audit log, newest first (the newest 200 unless page/per_page are given); filter by action or event',
        description: "`action` is the original backend's name for the kind of event (create_reservation, cancel_reservation, update_reservation, update_room, create_user, login, logout); `event` is the precise kind (room.created, room.qr_regenerated, user.signed_up, reservation.released, reservation.checked_in, ...). Filtering by an action matches every event under it.",
      },
    })
