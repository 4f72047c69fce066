/**
 * The rules a booking write applies, named per path (issue 25). Every write that gives a booking a
 * slot (createReservation, rescheduleReservation, the admin PATCH's reactivation) takes the room's
 * lock and then asks its policy what to check, instead of a handful of booleans whose defaults a
 * caller had to know. An exemption is part of a path's name, not a missing argument; and an admin
 * override that the write makes use of is recorded in its change (`overridesOf`).
 *
 * Not a policy: the owner's fair-use rules bind whoever is not an admin on every path (an admin
 * actor is exempt: enforceFairUse), and time range, horizon and booking length are checked always.
 */
import type { Closure } from '../../../db/schema'
import { refuseClosed } from '../timetable/closures'

export interface WritePolicy {
  /** the path's name, for readers and for the change record of an override */
  readonly name: 'booking' | 'lesson' | 'walk-up' | 'reschedule' | 'admin'
  /** 403 a room that is not public, 409 a blocked one */
  readonly roomAccess: boolean
  /** 400 outside the room's daily booking window */
  readonly bookingWindow: boolean
  /** 400 a start in the past */
  readonly refusePast: boolean
  /** a closure of the room over the slot: 409 `room is closed`, or booked all the same and recorded */
  readonly closures: 'refuse' | 'override'
  /** someone holding the slot: 409 naming them, or (a lesson) students give way and are bumped */
  readonly takenSlot: 'refuse' | 'bump-students'
  /** a walk-up at the door: starts now (notice and grid do not apply); rooms that need approval refuse it */
  readonly walkUp: boolean
}

const USER_RULES = { roomAccess: true, bookingWindow: true, refusePast: true, closures: 'refuse', takenSlot: 'refuse', walkUp: false } as const

/** POST /rooms/:id/reserve: every rule. */
export const BOOKING: WritePolicy = { name: 'booking', ...USER_RULES }

/** POST /rooms/:id/reserve with `bump` (teachers and admins only): students holding the slot give way. */
export const LESSON: WritePolicy = { name: 'lesson', ...USER_RULES, takenSlot: 'bump-students' }

/** POST /rooms/:id/book-now at the door: every rule, as a walk-up. */
export const WALK_UP: WritePolicy = { name: 'walk-up', ...USER_RULES, walkUp: true }

/** PATCH /reservations/:id (teachers and admins): every rule, as a new booking. */
export const RESCHEDULE: WritePolicy = { name: 'reschedule', ...USER_RULES }

/**
 * The admin's own paths (POST /admin/rooms/:id/reserve on someone's behalf, PATCH
 * /admin/reservations/:id): the room's type and block do not bind an admin (the original's
 * behaviour); the window, the past and a taken slot do. A closure binds too, unless the admin
 * names the override (`override_closure: true`), which the change records.
 */
export function adminPolicy(options: { overrideClosure: boolean }): WritePolicy {
  return { name: 'admin', ...USER_RULES, roomAccess: false, closures: options.overrideClosure ? 'override' : 'refuse' }
}

/**
 * What an admin's write overrides, for its change record: the owner's fair use (decided, issue 25:
 * an admin who books for, moves or reactivates someone's booking is not bound by that person's
 * limits) and a closure the admin booked into by name. Refuses the closure when the policy does.
 */
export function overridesOf(policy: WritePolicy, closure: Closure | undefined): Record<string, unknown> {
  if (policy.closures === 'refuse') refuseClosed(closure)
  if (policy.name !== 'admin') return {}
  return {
    fair_use: 'admin_override',
    ...(closure ? { override: 'closure', closure: { id: closure.id, reason: closure.reason } } : {}),
  }
}

/** The note an override adds to the change's description. */
export function overrideNote(overrides: Record<string, unknown>): string {
  const closure = overrides.closure as { reason: string } | undefined
  return closure ? ` (closure overridden: ${closure.reason})` : ''
}
