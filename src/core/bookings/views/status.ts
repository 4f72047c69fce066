/**
 * How reservations are reported. Clients switch on `status` (the original frontend keys its labels
 * on it), so every route of the original contract reports only the original's three statuses:
 * - a stored `active` reservation whose end has passed is `finished` (computed at read time);
 * - a stored `released` one (a no-show the sweeper gave back, see sweeper.ts) is
 *   `cancelled`, with `cancel_reason: "no_show"`; `cancel_reason` is null on every other reservation.
 * The stored status keeps the finer state; effectiveStatus gives it for the code that needs it.
 */
import type { BookingApproval, ReservationStatus } from '../../../db/schema'
import { formatUtc, formatUtcOrNull } from '../../../lib/time'
import { CANCEL_REASONS, type CancelReason, type ReportedStatus, type ScheduleEntry } from '../model'

export type { CancelReason, ReportedStatus } from '../model'
/** A reservation in a room's schedule or history, as the API answers it. */
export type ScheduleEntryView = typeof ScheduleEntry.static

/** The stored status as of `now`: a stored `active` reservation whose end has passed is `finished`. */
export function effectiveStatus(row: { status: ReservationStatus; endTime: Date }, now: Date): ReservationStatus {
  return row.status === 'active' && row.endTime.getTime() <= now.getTime() ? 'finished' : row.status
}

/** The status the API reports as of `now`: effectiveStatus with `released` reported as `cancelled`. */
export function reportedStatus(row: { status: ReservationStatus; endTime: Date }, now: Date): ReportedStatus {
  const status = effectiveStatus(row, now)
  return status === 'released' ? 'cancelled' : status
}

const isCancelReason = (value: string | null | undefined): value is CancelReason => (CANCEL_REASONS as readonly (string | null | undefined)[]).includes(value)

/** `status`, `cancel_reason` and `approval`, as every reservation JSON carries them. */
export function statusFields(
  row: { status: ReservationStatus; endTime: Date; cancelReason?: string | null; approval?: BookingApproval | null },
  now: Date,
): { status: ReportedStatus; cancel_reason: CancelReason | null; approval: BookingApproval | null } {
  const cancelReason = row.status === 'released' ? 'no_show' : row.status === 'cancelled' && isCancelReason(row.cancelReason) ? row.cancelReason : null
  return { status: reportedStatus(row, now), cancel_reason: cancelReason, approval: row.approval ?? null }
}

export interface ScheduleRow {
  id: number
  userId: number
  userName: string
  startTime: Date
  endTime: Date
  status: ReservationStatus
  cancelReason?: string | null
  approval?: BookingApproval | null
  checkInRequired: boolean
  checkedInAt: Date | null
}

/** The check-in fields every reservation JSON carries. */
export function checkInFields(row: { checkInRequired: boolean; checkedInAt: Date | null }) {
  return { check_in_required: row.checkInRequired, checked_in_at: formatUtcOrNull(row.checkedInAt) }
}

/** A reservation as GET /reservations/mine and the booking routes answer it (the Reservation schema). */
export function reservationJson(
  row: { id: number; startTime: Date; endTime: Date; status: ReservationStatus; cancelReason?: string | null; approval?: BookingApproval | null; checkInRequired: boolean; checkedInAt: Date | null },
  room: { id: number; name: string },
  now: Date,
) {
  return {
    id: row.id,
    room_id: room.id,
    room_name: room.name,
    start_time: formatUtc(row.startTime),
    end_time: formatUtc(row.endTime),
    ...statusFields(row, now),
    ...checkInFields(row),
  }
}

/**
 * A reservation in a room's schedule (GET /rooms/:id, served to everyone as the same cached bytes,
 * and GET /reservations/room/:id/history). Why someone else's booking ended (a no-show, bumped,
 * rejected, not approved) is the owner's and the admins' business, not the room's: a cancelled
 * entry says only `cancelled`, with cancel_reason and approval null. An entry still standing keeps
 * its approval, since a `pending` booking holds its slot and that is public. The owner reads the
 * reason in GET /reservations/mine, the admins in /admin/reservations (reservationJson).
 */
export function scheduleEntry(row: ScheduleRow, now: Date): ScheduleEntryView {
  const { status, approval } = statusFields(row, now)
  return {
    id: row.id,
    user_id: row.userId,
    user_name: row.userName,
    start_time: formatUtc(row.startTime),
    end_time: formatUtc(row.endTime),
    status,
    cancel_reason: null,
    approval: status === 'cancelled' ? null : approval,
    ...checkInFields(row),
  }
}
