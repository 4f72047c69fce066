/**
 * No-shows have consequences (issue 16): a user whose bookings were released as no-shows
 * NO_SHOW_STRIKES times within NO_SHOW_WINDOW_DAYS cannot make new bookings for
 * NO_SHOW_SUSPENSION_DAYS after the last of them. 0 strikes turns it off.
 *
 * Nothing is stored: the suspension is read from the released bookings themselves (each counts at
 * its start, when the no-show happened), so the sweeper writes nothing more than it did, and a
 * release never has to lock a users row under some room's lock. An admin lifts a suspension by
 * setting users.no_shows_cleared_at: the no-shows before it no longer count.
 *
 * Only a no-show of a booking whose time its owner chose counts (reservations.set_by_owner: they
 * booked it or last moved it themselves). One an admin booked for them, a teacher moved, or a
 * timetable import made never does: otherwise moving a student's bookings to start a minute ago
 * in rooms that release after one minute suspended any student at will (issue 24).
 */
import { eq, sql, type SQL } from 'drizzle-orm'
import type { Config } from '../../../config'
import { rowsOf, type Database, type Executor } from '../../../db/client'
import { users } from '../../../db/schema'
import type { Clock } from '../../../lib/clock'
import { NotFound } from '../../../lib/errors'
import { formatUtc } from '../../../lib/time'
import { BOOKING_MSG } from '../messages'
import { recordChange, writeTransaction } from '../../changes'

const DAY = 24 * 3600_000

export interface NoShowRecord {
  /** no-shows within the window (after any lift) */
  count: number
  threshold: number
  windowDays: number
  /** when the suspension ends; null when the user may book */
  suspendedUntil: Date | null
}

type StrikeConfig = Pick<Config, 'noShowStrikes' | 'noShowWindowDays' | 'noShowSuspensionDays'>

/**
 * SQL for the starts (epoch milliseconds, ascending: a JSON array, or null for none) of a user's
 * no-shows that may still count as of `now`: within the window plus a suspension's length, and
 * after an admin's lift (`clearedAt`). One expression, so the booking path can ask it inside its
 * single query (fair-use.ts) and the reads here ask it alone.
 */
export function noShowStartsSql(config: StrikeConfig, userId: SQL | number, clearedAt: SQL, now: Date): SQL {
  // Old enough no-shows can neither count nor suspend any more.
  const lookBack = new Date(now.getTime() - (config.noShowWindowDays + config.noShowSuspensionDays) * DAY)
  return sql`(select json_agg(extract(epoch from r.start_time) * 1000 order by r.start_time) from reservations r
    where r.user_id = ${userId} and r.status = 'released' and r.set_by_owner and r.start_time <= ${now.toISOString()}::timestamptz
      and r.start_time > greatest(${lookBack.toISOString()}::timestamptz, coalesce(${clearedAt}, '-infinity')))`
}

/** The no-show starts of noShowStartsSql as dates. */
export const noShowDates = (starts: (number | string)[] | null): Date[] => (starts ?? []).map((ms) => new Date(Number(ms)))

async function noShowStarts(executor: Executor, config: StrikeConfig, userId: number, now: Date): Promise<Date[]> {
  const clearedAt = sql`(select ${users.noShowsClearedAt} from ${users} where ${users.id} = ${userId})`
  const [row] = rowsOf<{ starts: number[] | null }>(await executor.execute(sql`select ${noShowStartsSql(config, userId, clearedAt, now)} as starts`))
  return noShowDates(row?.starts ?? null)
}

/**
 * The record those no-shows make as of `now`. The suspension ends `suspensionDays` after the
 * no-show that made it `threshold` within `windowDays`; of several, the latest end counts.
 */
export function noShowRecordOf(config: StrikeConfig, starts: Date[], now: Date): NoShowRecord {
  const { noShowStrikes: threshold, noShowWindowDays: windowDays, noShowSuspensionDays: suspensionDays } = config
  const strikes = starts.map((s) => s.getTime())
  const windowStart = now.getTime() - windowDays * DAY
  const count = strikes.filter((s) => s > windowStart).length
  let suspendedUntil: number | null = null
  if (threshold > 0) {
    for (let i = threshold - 1; i < strikes.length; i++) {
      if (strikes[i]! - strikes[i - threshold + 1]! > windowDays * DAY) continue
      const ends = strikes[i]! + suspensionDays * DAY
      if (ends > now.getTime() && (suspendedUntil === null || ends > suspendedUntil)) suspendedUntil = ends
    }
  }
  return { count, threshold, windowDays, suspendedUntil: suspendedUntil === null ? null : new Date(suspendedUntil) }
}

/** The user's no-shows and suspension as of `now`. */
export async function noShowRecord(deps: { config: StrikeConfig }, executor: Executor, userId: number, now: Date): Promise<NoShowRecord> {
  return noShowRecordOf(deps.config, await noShowStarts(executor, deps.config, userId, now), now)
}

/**
 * DELETE /admin/users/:id/suspension: the user's no-shows so far stop counting (a suspension ends
 * now; the next ones count afresh). Audited. Idempotent.
 */
export async function liftSuspension(
  deps: { database: Pick<Database, 'db'>; clock: Clock; config: Pick<Config, 'noShowStrikes' | 'noShowWindowDays' | 'noShowSuspensionDays'> },
  admin: { id: number; name: string },
  userId: number,
) {
  return writeTransaction(deps.database, async (tx) => {
    const now = deps.clock.now()
    const [user] = await tx.select({ id: users.id, name: users.name }).from(users).where(eq(users.id, userId)).for('no key update')
    if (!user) throw new NotFound(BOOKING_MSG.userNotFound)
    const before = await noShowRecord(deps, tx, user.id, now)
    await tx.update(users).set({ noShowsClearedAt: now, updatedAt: now }).where(eq(users.id, userId))
    recordChange(tx, {
      at: now, actorId: admin.id, event: 'user.suspension_lifted',
      description: `${admin.name} cleared ${user.name}'s no-shows (${before.count} in ${before.windowDays} days)${before.suspendedUntil ? `, lifting the suspension until ${formatUtc(before.suspendedUntil)}` : ''}`,
      data: { user_id: userId, no_shows: before.count, suspended_until: before.suspendedUntil ? formatUtc(before.suspendedUntil) : null },
    })
    return { user_id: userId, no_shows_cleared_at: formatUtc(now), lifted: before.suspendedUntil !== null }
  })
}
