/**
 * "Now" and "today" of a room's bookings, written once: which booking holds a room at an instant,
 * and which of its bookings remain today in the college's time zone. The room list, the statistics,
 * the live events and the scan page all ask these questions; they must get the same answers.
 */
import { and, eq, gt, lt, sql, type SQL } from 'drizzle-orm'
import { reservations } from '../../../db/schema'
import { localParts, zonedToUtc } from '../../../lib/time'

/**
 * The active booking that holds its room at `at`: start <= at < end. Written as the exact
 * expression of the reservations_no_overlap constraint, so that its GiST index answers it.
 */
export function holdsRoomAt(at: Date): SQL {
  return and(
    eq(reservations.status, 'active'),
    sql`tstzrange(${reservations.startTime}, ${reservations.endTime}, '[)') @> ${at.toISOString()}::timestamptz`,
  )!
}

/**
 * Not awaiting an admin's approval (issue 16): a pending booking holds its slot against other
 * bookings, but is nobody's current or next booking, and the door display does not list it.
 */
export const notPending: SQL = sql`${reservations.approval} is distinct from 'pending'`

/** The end of the local day of `now` in the zone (the next local midnight), as an instant. */
function endOfLocalDay(now: Date, timeZone: string): Date {
  const local = localParts(now, timeZone)
  return zonedToUtc(local.year, local.month, local.day, 86400, timeZone)
}

/** The active bookings not yet over at `now` that start before the end of the local day. */
export function remainingToday(now: Date, timeZone: string): SQL {
  return and(
    eq(reservations.status, 'active'),
    gt(reservations.endTime, now),
    lt(reservations.startTime, endOfLocalDay(now, timeZone)),
  )!
}
