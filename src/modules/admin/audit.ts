/**
 * GET /admin/audit/logs: newest first. Without page/per_page it answers the newest 200 rows (the
 * original's behaviour); with either, it paginates (per_page default 20, at most 200) and adds
 * `pagination`.
 */
import { count, desc } from 'drizzle-orm'
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { auditLogs, type AuditLog } from '../../db/schema'
import { paginationOf, parsePagination } from '../../lib/pagination'
import { formatUtc } from '../../lib/time'
import { authGuard } from '../../plugins/auth'
import { AuditLogList, AuditLogQuery } from './model'

export const DEFAULT_LOG_LIMIT = 200

function logEntry(row: AuditLog) {
  return {
    id: row.id,
    actor_id: row.actorId,
    action: row.action,
    description: row.description,
    payload: row.payload ?? {},
    created_at: formatUtc(row.createdAt),
  }
}

export async function listLogs(ctx: Ctx, query: { page?: string; per_page?: string }) {
  const db = ctx.database.db
  const newestFirst = [desc(auditLogs.createdAt), desc(auditLogs.id)]
  if (query.page === undefined && query.per_page === undefined) {
    const rows = await db.select().from(auditLogs).orderBy(...newestFirst).limit(DEFAULT_LOG_LIMIT)
    return { logs: rows.map(logEntry) }
  }
  const page = parsePagination(query, { maxPerPage: DEFAULT_LOG_LIMIT })
  const [rows, [totals]] = await Promise.all([
    db.select().from(auditLogs).orderBy(...newestFirst).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(auditLogs),
  ])
  return { logs: rows.map(logEntry), pagination: paginationOf(page, Number(totals?.total ?? 0)) }
}

export const adminAudit = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .get('/audit/logs', ({ query }) => listLogs(ctx, query), {
      auth: 'admin',
      query: AuditLogQuery,
      response: { 200: AuditLogList },
      detail: { tags: ['Admin'], summary: 'Audit log, newest first (the newest 200 unless page/per_page are given)' },
    })
