/**
 * The audit log's two vocabularies. Rows are stored with a precise kind (the `audit_action` enum:
 * create_room, generate_qr, signup, auto_release, ...); the API reports each row with
 *   - `action`: the original backend's name for that kind of event, the only names its clients
 *     know (the frontend's journal keys its labels on them): create_reservation,
 *     cancel_reservation, update_reservation, update_room, create_user, login, logout;
 *   - `event`: the precise kind, e.g. "room.qr_regenerated".
 * The mapping happens when rows are read, so no stored row changes and old rows read right.
 *
 * Under which original name each kind goes: as the original logged it where it had the event
 * (room creation, (un)blocking and QR regeneration were `update_room`; user updates and password
 * resets `create_user`), and by what the event does otherwise: a released no-show is a
 * cancellation (it is reported `cancelled`, cancel_reason no_show), a check-in or check-out
 * changes the reservation, a password change is a change of the user, as a reset was; a series
 * is bookings created, changed or cancelled together, and closures and terms change the rooms.
 */
import { and, eq, inArray, ne, or, sql, type SQL } from 'drizzle-orm'
import { auditLogs, type AuditAction } from '../../db/schema'

/** The original's audit actions: the values of `action` in the API. */
export const AUDIT_ACTIONS = [
  'create_reservation', 'cancel_reservation', 'update_reservation', 'update_room', 'create_user', 'login', 'logout',
] as const
export type ReportedAuditAction = (typeof AUDIT_ACTIONS)[number]

interface EventKind {
  /** the precise kind, reported as `event` */
  event: string
  /** the original's name for it, reported as `action` */
  action: ReportedAuditAction
  /** the stored kind */
  stored: AuditAction
  /** block_room rows: which way (payload.is_blocked) */
  blocked?: boolean
}

const KINDS = [
  { event: 'reservation.created', action: 'create_reservation', stored: 'create_reservation' },
  { event: 'reservation.cancelled', action: 'cancel_reservation', stored: 'cancel_reservation' },
  { event: 'reservation.released', action: 'cancel_reservation', stored: 'auto_release' },
  { event: 'reservation.updated', action: 'update_reservation', stored: 'update_reservation' },
  { event: 'reservation.checked_in', action: 'update_reservation', stored: 'check_in' },
  { event: 'reservation.checked_out', action: 'update_reservation', stored: 'check_out' },
  { event: 'room.created', action: 'update_room', stored: 'create_room' },
  { event: 'room.updated', action: 'update_room', stored: 'update_room' },
  { event: 'room.blocked', action: 'update_room', stored: 'block_room', blocked: true },
  { event: 'room.unblocked', action: 'update_room', stored: 'block_room', blocked: false },
  { event: 'room.qr_regenerated', action: 'update_room', stored: 'generate_qr' },
  { event: 'user.created', action: 'create_user', stored: 'create_user' },
  { event: 'user.signed_up', action: 'create_user', stored: 'signup' },
  { event: 'user.updated', action: 'create_user', stored: 'update_user' },
  { event: 'user.password_reset', action: 'create_user', stored: 'reset_password' },
  { event: 'user.password_changed', action: 'create_user', stored: 'change_password' },
  { event: 'user.logged_in', action: 'login', stored: 'login' },
  { event: 'user.logged_out', action: 'logout', stored: 'logout' },
  // Timetables (issue 15): a series is bookings made, changed or cancelled together; the calendar
  // (closures, terms) changes what rooms may be booked.
  { event: 'series.created', action: 'create_reservation', stored: 'create_series' },
  { event: 'series.updated', action: 'update_reservation', stored: 'update_series' },
  { event: 'series.cancelled', action: 'cancel_reservation', stored: 'cancel_series' },
  { event: 'closure.created', action: 'update_room', stored: 'create_closure' },
  { event: 'closure.updated', action: 'update_room', stored: 'update_closure' },
  { event: 'closure.deleted', action: 'update_room', stored: 'delete_closure' },
  { event: 'term.created', action: 'update_room', stored: 'create_term' },
  // Fair use (issue 16): an approval decides a booking (a rejection cancels it); policies and a
  // lifted suspension change what a user may book, as a user update did.
  { event: 'reservation.approved', action: 'update_reservation', stored: 'approve_reservation' },
  { event: 'reservation.rejected', action: 'cancel_reservation', stored: 'reject_reservation' },
  { event: 'policy.created', action: 'create_user', stored: 'create_policy' },
  { event: 'policy.updated', action: 'create_user', stored: 'update_policy' },
  { event: 'policy.deleted', action: 'create_user', stored: 'delete_policy' },
  { event: 'user.suspension_lifted', action: 'create_user', stored: 'lift_suspension' },
] as const satisfies readonly EventKind[]

type Kind = (typeof KINDS)[number]
export type AuditEvent = Kind['event']
export const AUDIT_EVENTS = KINDS.map((k) => k.event) as [AuditEvent, ...AuditEvent[]]

/** `action` and `event` of a stored row. */
export function reportedAudit(row: { action: AuditAction; payload: Record<string, unknown> | null }): { action: ReportedAuditAction; event: AuditEvent } {
  const kind: Kind | undefined = row.action === 'block_room'
    ? KINDS.find((k) => k.stored === 'block_room' && (k as EventKind).blocked === (row.payload?.is_blocked !== false))
    : KINDS.find((k) => k.stored === row.action)
  // Every stored kind is in KINDS (test/admin-audit.test.ts checks it against the enum).
  return { action: kind!.action, event: kind!.event }
}

/** SQL for rows of one kind. */
function kindCondition(kind: EventKind): SQL {
  if (kind.blocked === undefined) return eq(auditLogs.action, kind.stored)
  // Bulk block rows always carry is_blocked; a row without it counts as a block.
  const flag = sql`coalesce(${auditLogs.payload}->>'is_blocked', 'true')`
  return and(eq(auditLogs.action, kind.stored), kind.blocked ? ne(flag, 'false') : eq(flag, 'false'))!
}

/** SQL for rows reported with any of these actions / events (both: rows matching both lists); undefined = no filter. */
export function auditFilter(actions: readonly ReportedAuditAction[], events: readonly AuditEvent[]): SQL | undefined {
  const conditions: SQL[] = []
  if (actions.length) conditions.push(inArray(auditLogs.action, [...new Set(KINDS.filter((k) => actions.includes(k.action)).map((k) => k.stored))]))
  if (events.length) conditions.push(or(...KINDS.filter((k) => events.includes(k.event)).map(kindCondition))!)
  return conditions.length ? and(...conditions) : undefined
}

/** The stored kinds, for the test that every one of them has a reported name. */
export const MAPPED_STORED_KINDS: readonly AuditAction[] = [...new Set(KINDS.map((k) => k.stored))]
