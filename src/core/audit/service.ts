/**
 * Audit rows. Every state change made through the API calls writeAudit with the same transaction
 * handle as the change itself, so the change and its audit row commit or roll back together.
 */
import type { Executor } from '../../db/client'
import { auditLogs, type AuditAction } from '../../db/schema'

export interface AuditEntry {
  actorId: number | null
  action: AuditAction
  description: string
  payload?: Record<string, unknown>
  /** when it happened: the caller's clock (ctx.clock.now()), never the database's */
  at: Date
}

export async function writeAudit(tx: Executor, entry: AuditEntry): Promise<void> {
  await writeAudits(tx, [entry])
}

/** Rows per INSERT: PostgreSQL takes at most 65,535 parameters in one statement. */
const CHUNK = 5000

/** Many audit rows at once (a timetable import writes one per series), in the change's transaction. */
export async function writeAudits(tx: Executor, entries: AuditEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += CHUNK) {
    await tx.insert(auditLogs).values(entries.slice(i, i + CHUNK).map((entry) => ({
      actorId: entry.actorId,
      action: entry.action,
      description: entry.description,
      payload: entry.payload ?? {},
      createdAt: entry.at,
    })))
  }
}
