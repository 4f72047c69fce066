/** The audit log as GET /admin/audit/logs reads it: the change record, newest first (the admin module's audit.ts has the route). */
import { count, desc } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { changes, type ChangeRow } from '../../db/schema'
import { paginationOf, parsePagination } from '../../lib/pagination'
import { enumValues } from '../../lib/query-params'
import { formatUtc } from '../../lib/time'
import { AUDIT_ACTIONS, AUDIT_EVENTS, auditFilter, reportedAudit } from './vocabulary'

const DEFAULT_LOG_LIMIT = 200

/** A change as the audit log reports it: its position is the entry's id, its data the payload. */
function logEntry(row: ChangeRow) {
  return {
    id: row.position,
    actor_id: row.actorId,
    ...reportedAudit(row.event),
    description: row.description,
    payload: row.data,
    created_at: formatUtc(row.at),
  }
}

export async function listLogs(ctx: Ctx, query: {
  action?: string | string[]; event?: string | string[]; page?: string; per_page?: string
}) {
  const db = ctx.database.db
  const where = auditFilter(enumValues(query.action, AUDIT_ACTIONS, 'action'), enumValues(query.event, AUDIT_EVENTS, 'event'))
  const newestFirst = [desc(changes.at), desc(changes.position)]
  if (query.page === undefined && query.per_page === undefined) {
    const rows = await db.select().from(changes).where(where).orderBy(...newestFirst).limit(DEFAULT_LOG_LIMIT)
    return { logs: rows.map(logEntry) }
  }
  const page = parsePagination(query, { maxPerPage: DEFAULT_LOG_LIMIT })
  const [rows, [totals]] = await Promise.all([
    db.select().from(changes).where(where).orderBy(...newestFirst).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(changes).where(where),
  ])
  return { logs: rows.map(logEntry), pagination: paginationOf(page, Number(totals?.total ?? 0)) }
}
