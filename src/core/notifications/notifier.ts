/**
 * The notifier (decision 034): a follower of the change record (changes/follower.ts) that turns
 * each change into notices (derive.ts) for the people it is about, as each of them wants them
 * (preferences.ts): a row of `notifications` (the in-app list) and, for e-mail, a row of the outbox
 * `mail_deliveries`, both in the follower's transaction with its cursor, both unique per notice, so a
 * change read twice (a pass that failed after it, two instances) makes nothing twice. No write path
 * calls it: a booking commits whether or not anybody is ever told.
 *
 * The check-in reminder is the one notice no change makes (time makes it): each pass also looks for
 * bookings whose check-in has opened and tells their owners once (key `reminder:<booking>`).
 */
import { and, eq, gt, isNull, lte, sql } from 'drizzle-orm'
import type { Config } from '../../config'
import type { Deps } from '../../deps'
import type { Executor } from '../../db/client'
import { mailDeliveries, notifications, reservations, rooms, type ChangeRow } from '../../db/schema'
import { formatUtc } from '../../lib/time'
import { noticesOf, type Notice } from './derive'
import { readFacts } from './facts'
import { wantedChannels } from './preferences'

/** NOTIFY channel: `<user id>,<user id>...` of users with new in-app notices (the event stream pushes them). */
export const NOTICES_CHANNEL = 'qrbook_notices'

type NotifierDeps = Pick<Deps, 'config' | 'clock'>

/** User ids per NOTIFY: 700 ids of up to 10 digits and a comma stay under PostgreSQL's 8,000 bytes. */
const NOTIFY_USERS = 700

/** The follower's handle: the notices of a batch of changes, stored with the follower's cursor. */
export async function notifyChanges(deps: NotifierDeps, tx: Executor, batch: ChangeRow[]): Promise<void> {
  const now = deps.clock.now()
  const facts = await readFacts(deps, tx, batch, now)
  await storeNotices(deps, tx, batch.flatMap((change) => noticesOf(change, facts)))
}

/**
 * Stores notices as their users want them: in the app, by e-mail (when the user has an address and
 * SMTP_URL is set), neither (nothing stored). A notice already stored (its key) is left alone.
 */
export async function storeNotices(deps: NotifierDeps, tx: Executor, notices: Notice[]): Promise<number> {
  if (notices.length === 0) return 0
  const now = deps.clock.now()
  const wanted = await wantedChannels(tx, notices, { mail: deps.config.smtpUrl !== undefined })
  const rows = notices.flatMap((n, i) => {
    const channels = wanted[i]!
    return channels.inApp || channels.email !== null
      ? [{ notice: n, email: channels.email, row: { userId: n.userId, kind: n.kind, key: n.key, changePosition: n.changePosition, data: n.data, inApp: channels.inApp, createdAt: now } }]
      : []
  })
  if (rows.length === 0) return 0
  const stored = await tx.insert(notifications).values(rows.map((r) => r.row)).onConflictDoNothing().returning({ id: notifications.id, key: notifications.key, userId: notifications.userId, inApp: notifications.inApp })
  const byKey = new Map(rows.map((r) => [r.notice.key, r]))
  const mail = stored.flatMap((s) => {
    const to = byKey.get(s.key)?.email
    return to ? [{ notificationId: s.id, to, nextAttemptAt: now, createdAt: now }] : []
  })
  if (mail.length > 0) await tx.insert(mailDeliveries).values(mail).onConflictDoNothing()
  const told = [...new Set(stored.filter((s) => s.inApp).map((s) => s.userId))]
  // A NOTIFY payload holds under 8,000 bytes: a closure that tells thousands is told in several.
  for (let i = 0; i < told.length; i += NOTIFY_USERS) await tx.execute(sql`select pg_notify(${NOTICES_CHANNEL}, ${told.slice(i, i + NOTIFY_USERS).join(',')})`)
  return stored.length
}

/** Reminders per pass, at most: a backlog is worked through pass by pass. */
const REMINDER_BATCH = 500

/**
 * Tells the owners of bookings whose check-in window has opened (and that are not yet released)
 * to check in; once per booking. Returns how many were told.
 */
export async function remindCheckIns(deps: NotifierDeps & { database: Deps['database'] }, config: Pick<Config, 'smtpUrl'> = deps.config): Promise<number> {
  const now = deps.clock.now()
  return deps.database.db.transaction(async (tx) => {
    const due = await tx.select({
      id: reservations.id, userId: reservations.userId, roomId: rooms.id, roomName: rooms.name, start: reservations.startTime, end: reservations.endTime,
      title: reservations.title, afterMin: rooms.autoReleaseAfterMin,
    }).from(reservations).innerJoin(rooms, eq(rooms.id, reservations.roomId)).where(and(
      eq(reservations.status, 'active'), eq(reservations.checkInRequired, true), isNull(reservations.checkedInAt), eq(rooms.requiresCheckIn, true),
      sql`${reservations.approval} is distinct from 'pending'`,
      // the window has opened, the release has not come (the index on start_time bounds the scan)
      lte(reservations.startTime, new Date(now.getTime() + 1440 * 60_000)),
      gt(reservations.startTime, new Date(now.getTime() - 1440 * 60_000)),
      sql`${reservations.startTime} - ${rooms.checkInOpensMin} * interval '1 minute' <= ${now.toISOString()}::timestamptz`,
      sql`${reservations.startTime} + ${rooms.autoReleaseAfterMin} * interval '1 minute' > ${now.toISOString()}::timestamptz`,
      gt(reservations.endTime, now),
      sql`not exists (select 1 from ${notifications} n where n.key = 'reminder:' || ${reservations.id})`,
    )).limit(REMINDER_BATCH)
    return storeNotices({ ...deps, config: { ...deps.config, ...config } }, tx, due.map((r) => {
      const releaseAt = new Date(Math.min(r.start.getTime() + r.afterMin * 60_000, r.end.getTime()))
      return {
        userId: r.userId, kind: 'checkin_reminder' as const, key: `reminder:${r.id}`, changePosition: null,
        data: { reservation_id: r.id, room_id: r.roomId, room_name: r.roomName, start_time: formatUtc(r.start), end_time: formatUtc(r.end), title: r.title, release_at: formatUtc(releaseAt) },
      }
    }))
  })
}
