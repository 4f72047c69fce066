/**
 * The names of the changes the record holds (src/db/schema.ts `changes.event`), each a precise
 * kind of state change. The audit log reports each under the original backend's name for it
 * (src/core/audit/vocabulary.ts); followers (the live feed, later notifications and webhooks)
 * read these names.
 */
export const CHANGE_EVENTS = [
  'reservation.created', 'reservation.updated', 'reservation.cancelled', 'reservation.bumped',
  'reservation.released', 'reservation.checked_in', 'reservation.checked_out',
  'reservation.approved', 'reservation.rejected',
  'room.created', 'room.updated', 'room.blocked', 'room.unblocked', 'room.qr_regenerated',
  'user.created', 'user.signed_up', 'user.updated', 'user.password_reset', 'user.password_changed',
  'user.logged_in', 'user.logged_out', 'user.suspension_lifted',
  'series.created', 'series.updated', 'series.cancelled',
  'closure.created', 'closure.updated', 'closure.deleted',
  'term.created',
  'policy.created', 'policy.updated', 'policy.deleted',
  'settings.updated',
  'waitlist.joined', 'waitlist.left', 'waitlist.expired',
  'webhook.created', 'webhook.updated', 'webhook.deleted',
] as const

export type ChangeEvent = (typeof CHANGE_EVENTS)[number]
