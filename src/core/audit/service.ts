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
  await tx.insert(auditLogs).values({
    actorId: entry.actorId,
    action: entry.action,
    description: entry.description,
    payload: entry.payload ?? {},
    createdAt: entry.at,
  })
}
