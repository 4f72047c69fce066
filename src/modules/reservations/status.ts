/** How reservations are reported: the status as of now, and the schedule entry shape. */
import type { ReservationStatus } from '../../db/schema'
import { formatUtc, formatUtcOrNull } from '../../lib/time'

/** A stored `active` reservation whose end has passed is reported as `finished` (computed at read time). */
export function effectiveStatus(row: { status: ReservationStatus; endTime: Date }, now: Date): ReservationStatus {
  return row.status === 'active' && row.endTime.getTime() <= now.getTime() ? 'finished' : row.status
}

export interface ScheduleRow {
  id: number
  userId: number
  userName: string
  startTime: Date
  endTime: Date
  status: ReservationStatus
  checkInRequired: boolean
  checkedInAt: Date | null
}

export interface ScheduleEntryView {
  id: number
  user_id: number
  user_name: string
  start_time: string
  end_time: string
  status: ReservationStatus
  check_in_required: boolean
  checked_in_at: string | null
}

/** The check-in fields every reservation JSON carries. */
export function checkInFields(row: { checkInRequired: boolean; checkedInAt: Date | null }) {
  return { check_in_required: row.checkInRequired, checked_in_at: formatUtcOrNull(row.checkedInAt) }
}

export function scheduleEntry(row: ScheduleRow, now: Date): ScheduleEntryView {
  return {
    id: row.id,
    user_id: row.userId,
    user_name: row.userName,
    start_time: formatUtc(row.startTime),
    end_time: formatUtc(row.endTime),
    status: effectiveStatus(row, now),
    ...checkInFields(row),
  }
}
