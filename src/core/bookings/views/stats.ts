/**
 * The counts of GET /admin/stats (stats.ts has the route) for the admin dashboard: three
 * queries whatever the table sizes.
 * Definitions (all relative to the clock's now):
 * - rooms.blocked: is_blocked; rooms.active_now: not blocked and an active reservation covers now
 *   (status `occupied`); rooms.available: the rest (total - blocked - active_now).
 * - reservations.by_status: exactly the original's keys, as the API reports the statuses (an
 *   active reservation whose end has passed counts as finished; a no-show released by the sweeper
 *   as cancelled); reservations.active = by_status.active (not ended yet); reservations.upcoming:
 *   those of them that have not started yet; reservations.no_shows: the released no-shows (part of
 *   by_status.cancelled); reservations.checked_in: ever checked in; awaiting_check_in: active
 *   (not ended), needing a check-in and without one yet.
 */
import { and, count, eq, sql } from 'drizzle-orm'
import type { Ctx } from '../../../context'
import { reservations, rooms, users } from '../../../db/schema'
import { formatUtc } from '../../../lib/time'
import { holdsRoomAt, notPending } from './occupancy'

const countWhere = (condition: ReturnType<typeof sql>) => sql<number>`count(*) filter (where ${condition})`.mapWith(Number)

export async function stats(ctx: Ctx) {
  const now = ctx.clock.now()
  const at = sql`${now.toISOString()}::timestamptz`
  const db = ctx.database.db
  const occupied = sql`exists (${db.select({ one: sql`1` }).from(reservations).where(and(eq(reservations.roomId, rooms.id), holdsRoomAt(now), notPending))})`
  const notEnded = sql`${reservations.status} = 'active' and ${reservations.endTime} > ${at}`
  const [[r], [v], [u]] = await Promise.all([
    db.select({
      total: count(),
      blocked: countWhere(sql`${rooms.isBlocked}`),
      activeNow: countWhere(sql`not ${rooms.isBlocked} and ${occupied}`),
      public: countWhere(sql`${rooms.type} = 'public'`),
      admin: countWhere(sql`${rooms.type} = 'admin'`),
      service: countWhere(sql`${rooms.type} = 'service'`),
    }).from(rooms),
    db.select({
      total: count(),
      active: countWhere(notEnded),
      upcoming: countWhere(sql`${notEnded} and ${reservations.startTime} > ${at}`),
      finished: countWhere(sql`${reservations.status} = 'finished' or (${reservations.status} = 'active' and ${reservations.endTime} <= ${at})`),
      cancelled: countWhere(sql`${reservations.status} in ('cancelled', 'released')`),
      noShows: countWhere(sql`${reservations.status} = 'released'`),
      checkedIn: countWhere(sql`${reservations.checkedInAt} is not null`),
      awaitingCheckIn: countWhere(sql`${notEnded} and ${reservations.checkInRequired} and ${reservations.checkedInAt} is null`),
    }).from(reservations),
    db.select({
      total: count(),
      student: countWhere(sql`${users.role} = 'student'`),
      teacher: countWhere(sql`${users.role} = 'teacher'`),
      admin: countWhere(sql`${users.role} = 'admin'`),
    }).from(users),
  ])
  return {
    stats: {
      rooms: {
        total: r!.total,
        blocked: r!.blocked,
        available: r!.total - r!.blocked - r!.activeNow,
        active_now: r!.activeNow,
        by_type: { public: r!.public, admin: r!.admin, service: r!.service },
      },
      reservations: {
        total: v!.total,
        active: v!.active,
        upcoming: v!.upcoming,
        by_status: { active: v!.active, finished: v!.finished, cancelled: v!.cancelled },
        no_shows: v!.noShows,
        checked_in: v!.checkedIn,
        awaiting_check_in: v!.awaitingCheckIn,
      },
      users: {
        total: u!.total,
        by_role: { student: u!.student, teacher: u!.teacher, admin: u!.admin },
      },
      updated_at: formatUtc(now),
    },
  }
}
