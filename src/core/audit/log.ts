/** The audit log as GET /admin/audit/logs reads it (audit.ts has the route). */
import { count, desc } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { auditLogs, type AuditLog } from '../../db/schema'
import { paginationOf, parsePagination } from '../../lib/pagination'
import { enumValues } from '../../lib/query-params'
import { formatUtc } from '../../lib/time'
import { AUDIT_ACTIONS, AUDIT_EVENTS, auditFilter, reportedAudit } from './vocabulary'

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

export async function listLogs(ctx: Ctx, query: {
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
