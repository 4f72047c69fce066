/**
 * The audit trail, a module without routes (the admin module serves GET /admin/audit/logs): every
 * write appends its row in its own transaction (service.ts), and reads map the stored actions to
 * the original backend's vocabulary (vocabulary.ts). Other modules use it through this file.
 */
export { writeAudit, writeAudits } from './service'
export { AUDIT_ACTIONS, AUDIT_EVENTS } from './vocabulary'
