/**
 * The audit log, a module without routes (the admin module serves GET /admin/audit/logs): the
 * change record (src/core/changes) read in the original backend's vocabulary (vocabulary.ts).
 */
export { listLogs } from './log'
export { AUDIT_ACTIONS, AUDIT_EVENTS } from './vocabulary'
