/**
 * The console's overview (GET /console): today at a glance and what waits for an admin, in one
 * round of small counting queries, so the page stays cheap at 100,000 reservations.
 */
import { and, count, eq, gt, gte, lt, sql } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { reservations, rooms, users } from '../../db/schema'
import { localParts, zonedToUtc } from '../../lib/time'
import { failedMailCount } from '../notifications/outbox'
import { failedDeliveriesCount } from '../webhooks/endpoints'

/** The local day around `now` in the zone: [start, end). */
function localDay(now: Date, timeZone: string, offsetDays = 0): { start: Date; end: Date } {
  const p = localParts(now, timeZone)
  return { start: zonedToUtc(p.year, p.month, p.day, offsetDays * 86400, timeZone), end: zonedToUtc(p.year, p.month, p.day, (offsetDays + 1) * 86400, timeZone) }
}

export interface Overview {
  today: { lessons: number; bookings: number; checkedIn: number; released: number }
  waiting: { approvals: number; teachers: number; failedMail: number; failedWebhooks: number }
  rooms: { total: number; blocked: number }
}

export async function adminOverview(ctx: Ctx): Promise<Overview> {
  const db = ctx.database.db
  const now = ctx.clock.now()
  const { start, end } = localDay(now, ctx.config.appTimezone)
  const overlapsToday = and(lt(reservations.startTime, end), gt(reservations.endTime, start))
  const [[today], [approvals], [teachers], [roomCounts], failedMail, failedWebhooks] = await Promise.all([
    db.select({
      lessons: sql<number>`count(*) filter (where ${reservations.status} <> 'cancelled' and ${reservations.seriesId} is not null)`.mapWith(Number),
      bookings: sql<number>`count(*) filter (where ${reservations.status} <> 'cancelled' and ${reservations.seriesId} is null)`.mapWith(Number),
      checkedIn: sql<number>`count(*) filter (where ${reservations.checkedInAt} is not null)`.mapWith(Number),
      released: sql<number>`count(*) filter (where ${reservations.status} = 'released')`.mapWith(Number),
    }).from(reservations).where(overlapsToday),
    db.select({ n: count() }).from(reservations).where(and(eq(reservations.approval, 'pending'), eq(reservations.status, 'active'), gt(reservations.startTime, now))),
    db.select({ n: count() }).from(users).where(eq(users.teacherPending, true)),
    db.select({ total: count(), blocked: sql<number>`count(*) filter (where ${rooms.isBlocked})`.mapWith(Number) }).from(rooms),
    // Deliveries that gave up: an admin must see them (issue 28).
    failedMailCount(ctx),
    failedDeliveriesCount(ctx),
  ])
  return {
    today: today ?? { lessons: 0, bookings: 0, checkedIn: 0, released: 0 },
    waiting: { approvals: approvals?.n ?? 0, teachers: teachers?.n ?? 0, failedMail, failedWebhooks },
    rooms: { total: roomCounts?.total ?? 0, blocked: roomCounts?.blocked ?? 0 },
  }
}

/** A teacher's own lessons and bookings from the start of today for `days` days, soonest first. */
export async function upcomingOf(ctx: Ctx, userId: number, days = 7) {
  const now = ctx.clock.now()
  const { start } = localDay(now, ctx.config.appTimezone)
  const { end } = localDay(now, ctx.config.appTimezone, days - 1)
  return ctx.database.db.select({
    id: reservations.id, roomId: reservations.roomId, roomName: rooms.name, start: reservations.startTime, end: reservations.endTime,
    title: reservations.title, seriesId: reservations.seriesId, status: reservations.status,
  }).from(reservations).innerJoin(rooms, eq(rooms.id, reservations.roomId))
    .where(and(eq(reservations.userId, userId), eq(reservations.status, 'active'), gte(reservations.endTime, start), lt(reservations.startTime, end)))
    .orderBy(reservations.startTime).limit(200)
}
