/**
 * The audit log's two vocabularies. It reads the change record (src/core/changes): each change
 * is stored with its precise event name (reservation.created, room.qr_regenerated, ...); the API
 * reports each row with
 *   - `action`: the original backend's name for that kind of event, the only names its clients
 *     know (the frontend's journal keys its labels on them): create_reservation,
 *     cancel_reservation, update_reservation, update_room, create_user, login, logout;
 *   - `event`: the precise name.
 *
 * Under which original name each event goes: as the original logged it where it had the event
 * (room creation, (un)blocking and QR regeneration were `update_room`; user updates and password
 * resets `create_user`), and by what the event does otherwise: a released no-show and a bumped
 * booking are cancellations (reported `cancelled`, cancel_reason no_show / bumped), a check-in or
 * check-out changes the reservation, a password change is a change of the user, as a reset was; a
 * series is bookings created, changed or cancelled together, and closures and terms change the
 * rooms; an approval decides a booking (a rejection cancels it); policies and a lifted suspension
 * change what a user may book, as a user update did.
 */
import { inArray, type SQL } from 'drizzle-orm'
import { changes } from '../../db/schema'
import { CHANGE_EVENTS, type ChangeEvent } from '../changes/events'

/** The original's audit actions: the values of `action` in the API. */
export const AUDIT_ACTIONS = [
  'create_reservation', 'cancel_reservation', 'update_reservation', 'update_room', 'create_user', 'login', 'logout',
] as const
type ReportedAuditAction = (typeof AUDIT_ACTIONS)[number]

/** Every event under its original name (the type makes a new event without one a compile error). */
const ACTION_OF: Record<ChangeEvent, ReportedAuditAction> = {
  'reservation.created': 'create_reservation',
  'reservation.updated': 'update_reservation',
  'reservation.cancelled': 'cancel_reservation',
  'reservation.bumped': 'cancel_reservation',
  'reservation.released': 'cancel_reservation',
  'reservation.checked_in': 'update_reservation',
  'reservation.checked_out': 'update_reservation',
  'reservation.approved': 'update_reservation',
  'reservation.rejected': 'cancel_reservation',
  'room.created': 'update_room',
  'room.updated': 'update_room',
  'room.blocked': 'update_room',
  'room.unblocked': 'update_room',
  'room.qr_regenerated': 'update_room',
  'user.created': 'create_user',
  'user.signed_up': 'create_user',
  'user.updated': 'create_user',
  'user.password_reset': 'create_user',
  'user.password_changed': 'create_user',
  'user.logged_in': 'login',
  'user.logged_out': 'logout',
  'user.suspension_lifted': 'create_user',
  'series.created': 'create_reservation',
  'series.updated': 'update_reservation',
  'series.cancelled': 'cancel_reservation',
  'closure.created': 'update_room',
  'closure.updated': 'update_room',
  'closure.deleted': 'update_room',
  'term.created': 'update_room',
  'policy.created': 'create_user',
  'policy.updated': 'create_user',
  'policy.deleted': 'create_user',
  // the rooms' time zone: their hours change
  'settings.updated': 'update_room',
  // waiting for a taken slot (issue 28): a request for a booking, changed or dropped
  'waitlist.joined': 'update_reservation',
  'waitlist.left': 'update_reservation',
  'waitlist.expired': 'update_reservation',
  // an integrator's endpoint: configuration, as the settings are
  'webhook.created': 'update_room',
  'webhook.updated': 'update_room',
  'webhook.deleted': 'update_room',
}

export const AUDIT_EVENTS = CHANGE_EVENTS

/** `action` and `event` of a stored change. */
export function reportedAudit(event: string): { action: ReportedAuditAction; event: ChangeEvent } {
  return { action: ACTION_OF[event as ChangeEvent] ?? 'update_room', event: event as ChangeEvent }
}

/** SQL for changes reported with any of these actions / events (both: rows matching both lists); undefined = no filter. */
export function auditFilter(actions: readonly ReportedAuditAction[], events: readonly ChangeEvent[]): SQL | undefined {
  let chosen: ChangeEvent[] | undefined
  if (actions.length) chosen = CHANGE_EVENTS.filter((e) => actions.includes(ACTION_OF[e]))
  if (events.length) chosen = (chosen ?? [...CHANGE_EVENTS]).filter((e) => events.includes(e))
  return chosen ? inArray(changes.event, chosen) : undefined
}
