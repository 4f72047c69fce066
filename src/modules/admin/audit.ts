/**
 * GET /admin/audit/logs: newest first. Without page/per_page it answers the newest 200 rows (the
 * original's behaviour); with either, it paginates (per_page default 20, at most 200) and adds
 * `pagination`. Each row is reported with the original's `action` name and its precise `event`
 * (src/modules/audit/vocabulary.ts); `action` and `event` filter on them.
 */
import { count, desc } from 'drizzle-orm'
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { auditLogs, type AuditLog } from '../../db/schema'
import { paginationOf, parsePagination } from '../../lib/pagination'
import { enumValues } from '../../lib/query-params'
import { formatUtc } from '../../lib/time'
import { authGuard } from '../../plugins/auth'
import { AUDIT_ACTIONS, AUDIT_EVENTS, auditFilter, reportedAudit } from '../../core/audit'
import { AuditLogList, AuditLogQuery } from './model'
import { routeRules } from '../../plugins/route-rules'
import { perMinute } from '../../plugins/rate-limit'
import { notOneOf } from '../../lib/query-params'

const DEFAULT_LOG_LIMIT = 200

function logEntry(row: AuditLog) {
  const payload = row.payload ?? {}
  return {
    id: row.id,
    actor_id: row.actorId,
    ...reportedAudit({ action: row.action, payload }),
    description: row.description,
    payload,
    created_at: formatUtc(row.createdAt),
  }
}

async function listLogs(ctx: Ctx, query: {
  action?: string | string[]; event?: string | string[]; page?: string; per_page?: string
}) {
  const db = ctx.database.db
  const where = auditFilter(enumValues(query.action, AUDIT_ACTIONS, 'action'), enumValues(query.event, AUDIT_EVENTS, 'event'))
  const newestFirst = [desc(auditLogs.createdAt), desc(auditLogs.id)]
  if (query.page === undefined && query.per_page === undefined) {
    const rows = await db.select().from(auditLogs).where(where).orderBy(...newestFirst).limit(DEFAULT_LOG_LIMIT)
    return { logs: rows.map(logEntry) }
  }
  const page = parsePagination(query, { maxPerPage: DEFAULT_LOG_LIMIT })
  const [rows, [totals]] = await Promise.all([
    db.select().from(auditLogs).where(where).orderBy(...newestFirst).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(auditLogs).where(where),
  ])
  return { logs: rows.map(logEntry), pagination: paginationOf(page, Number(totals?.total ?? 0)) }
}

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
