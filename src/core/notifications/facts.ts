/**
 * The facts a batch of changes' notices are made of (derive.ts), read in a few queries for the
 * whole batch inside the notifier's transaction: the bookings, the names, the admins, the lesson
 * that bumped a booking, the suspensions a release brought, closure reasons, series titles.
 */
import { and, eq, gt, inArray, lt, ne } from 'drizzle-orm'
import type { Config } from '../../config'
import type { Executor } from '../../db/client'
import { closures, reservations, rooms, series, users, type ChangeRow } from '../../db/schema'
import { formatUtc } from '../../lib/time'
import { noShowRecord } from '../bookings/fair-use/strikes'
import { factsWanted, type BookingFacts, type Facts } from './derive'

export async function readFacts(deps: { config: Config }, tx: Executor, batch: ChangeRow[], now: Date): Promise<Facts> {
  const wanted = factsWanted(batch)
  const bookingIds = [...wanted.bookings]
  const [bookingRows, adminRows, closureRows, seriesRows] = await Promise.all([
    bookingIds.length === 0 ? [] : tx.select({
      id: reservations.id, room_id: reservations.roomId, room_name: rooms.name, start: reservations.startTime, end: reservations.endTime,
      title: reservations.title, user_id: reservations.userId,
    }).from(reservations).innerJoin(rooms, eq(rooms.id, reservations.roomId)).where(inArray(reservations.id, bookingIds)),
    batch.some((c) => c.event === 'reservation.created' && c.data.approval === 'pending')
      ? tx.select({ id: users.id }).from(users).where(eq(users.role, 'admin'))
      : [],
    wanted.closures.size === 0 ? [] : tx.select({ id: closures.id, reason: closures.reason }).from(closures).where(inArray(closures.id, [...wanted.closures])),
    wanted.series.size === 0 ? [] : tx.select({ id: series.id, title: series.title, room_name: rooms.name }).from(series)
      .innerJoin(rooms, eq(rooms.id, series.roomId)).where(inArray(series.id, [...wanted.series])),
  ])
  const bookings = new Map<number, BookingFacts>(bookingRows.map((r) => [r.id, {
    id: r.id, room_id: r.room_id, room_name: r.room_name, start_time: formatUtc(r.start), end_time: formatUtc(r.end), title: r.title, user_id: r.user_id,
  }]))
  for (const b of bookings.values()) wanted.users.add(b.user_id)

  // The lesson that took a bumped booking's slot: the booking of the bump's actor in that room and time.
  const lessons = new Map<number, string | null>()
  for (const change of batch.filter((c) => c.event === 'reservation.bumped' && c.actorId !== null)) {
    const bumped = bookings.get(change.data.reservation_id as number)
    if (!bumped) continue
    const [lesson] = await tx.select({ title: reservations.title }).from(reservations).where(and(
      eq(reservations.roomId, bumped.room_id), eq(reservations.userId, change.actorId!), ne(reservations.id, bumped.id),
      lt(reservations.startTime, new Date(bumped.end_time)), gt(reservations.endTime, new Date(bumped.start_time)),
    )).limit(1)
    lessons.set(bumped.id, lesson?.title ?? null)
  }

  const suspensions = new Map<number, string>()
  if (deps.config.noShowStrikes > 0) {
    for (const userId of wanted.released) {
      const record = await noShowRecord(deps, tx, userId, now)
      if (record.suspendedUntil) suspensions.set(userId, formatUtc(record.suspendedUntil))
    }
  }

  const nameIds = [...wanted.users]
  const nameRows = nameIds.length === 0 ? [] : await tx.select({ id: users.id, name: users.name }).from(users).where(inArray(users.id, nameIds))
  return {
    bookings,
    names: new Map(nameRows.map((r) => [r.id, r.name])),
    admins: adminRows.map((r) => r.id),
    lessons,
    suspensions,
    closureReasons: new Map(closureRows.map((r) => [r.id, r.reason])),
    seriesTitles: new Map(seriesRows.map((r) => [r.id, { title: r.title, room_name: r.room_name }])),
  }
}
