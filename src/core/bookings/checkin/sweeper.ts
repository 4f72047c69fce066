/**
 * Release without cron: an in-process sweeper that, every SWEEP_INTERVAL_S seconds,
 * - releases active reservations that needed a check-in and got none by start +
 *   auto_release_after_min (or by their end, if that comes first): status `released`, which takes
 *   them out of the exclusion constraint, so the slot is free at once; one `auto_release` audit row each;
 * - releases bookings still awaiting an admin's approval at their start (approvals.ts);
 * - marks active reservations whose end has passed `finished` (every read already reports them so;
 *   this only makes the stored status agree, and is not audited).
 *
 * Exactly one instance sweeps at a time: each sweep runs in one transaction that first takes
 * pg_try_advisory_xact_lock; an instance that does not get it skips that round. Independently of
 * the lock, rows are claimed with FOR UPDATE SKIP LOCKED and changed only while still due, so two
 * sweeps (or a sweep and a booking's own releaseDue) never release a reservation twice and never
 * wait on each other. On single-process PGlite the lock is not needed and not taken.
 */
import { and, asc, eq, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm'
import type { Database, Executor } from '../../../db/client'
import { rowsOf } from '../../../db/client'
import { reservations, rooms } from '../../../db/schema'
import type { Clock } from '../../../lib/clock'
import type { Logger } from '../../../lib/log'
import { formatUtc } from '../../../lib/time'
import { recordChanges, writeTransaction } from '../../changes'

/** Arbitrary constant shared by every QRBOOK process: "QRBS" in ASCII. */
export const SWEEP_LOCK_KEY = 0x51524253

export interface SweepDeps {
  database: Pick<Database, 'db' | 'kind'>
  clock: Clock
  log?: Logger
}

export interface ReleasedReservation {
  id: number
  roomId: number
  roomName: string
  userId: number
  startTime: Date
  endTime: Date
}

const at = (now: Date) => sql`${now.toISOString()}::timestamptz`

/**
 * Releases the reservations that are due (optionally of one room) with `tx`, writing one
 * `reservation.released` change per reservation actually released. Rows another transaction holds
 * (a check-in in progress, another sweep) are skipped: that transaction decides their fate.
 */
export async function releaseDue(
  deps: { clock: Clock },
  tx: Executor,
  options: { roomId?: number; now?: Date } = {},
): Promise<ReleasedReservation[] & { expired?: number }> {
  const now = options.now ?? deps.clock.now()
  // Bookings still awaiting approval at their start give their slot back too (approvals.ts). Both
  // questions are sent at once (pipelined on the transaction's connection): one round trip.
  const [expired, due] = await Promise.all([expirePending(tx, now, options.roomId), dueForRelease(tx, now, options.roomId)])
  const none = Object.assign([] as ReleasedReservation[], { expired: expired.length })
  if (due.length === 0) return none

  const changed = await tx.update(reservations)
    .set({ status: 'released', updatedAt: now })
    .where(and(inArray(reservations.id, due.map((r) => r.id)), eq(reservations.status, 'active'), isNull(reservations.checkedInAt)))
    .returning({ id: reservations.id })
  const ids = new Set(changed.map((r) => r.id))
  const released = due.filter((r) => ids.has(r.id))
  if (released.length === 0) return none

  recordChanges(tx, released.map((r) => {
    const deadline = new Date(r.startTime.getTime() + r.afterMin * 60_000)
    const reason = deadline <= r.endTime
      ? `not checked in within ${r.afterMin} minutes of its start`
      : 'not checked in before its end'
    return {
      actorId: null,
      event: 'reservation.released' as const,
      at: now,
      description: `reservation #${r.id} in ${r.roomName} (${formatUtc(r.startTime)} - ${formatUtc(r.endTime)}) released: ${reason}`,
      data: {
        reservation_id: r.id, room_id: r.roomId, room_name: r.roomName, user_id: r.userId,
        start_time: formatUtc(r.startTime), end_time: formatUtc(r.endTime), auto_release_after_min: r.afterMin,
        released_at: formatUtc(now),
      },
    }
  }))
  return Object.assign(released.map(({ afterMin: _, ...r }) => r), { expired: expired.length })
}

/**
 * SQL over reservations joined with rooms: an active booking that the next release gives back
 * (a no-show due for release, or one still awaiting approval at its start). Reads that ask which
 * bookings hold a slot without releasing first (a timetable import's plan) leave these out.
 */
export function releasableAt(now: Date): SQL {
  return sql`(${reservations.status} = 'active' and ${reservations.startTime} <= ${at(now)} and (
    (${reservations.approval} = 'pending')
    or (${reservations.checkInRequired} and ${reservations.checkedInAt} is null and ${rooms.requiresCheckIn}
      and (${reservations.startTime} + ${rooms.autoReleaseAfterMin} * interval '1 minute' <= ${at(now)} or ${reservations.endTime} <= ${at(now)}))))`
}

/** The no-shows due for release (optionally of one room), locked, skipping rows others hold. */
function dueForRelease(tx: Executor, now: Date, roomId?: number) {
  return tx
    .select({
      id: reservations.id, roomId: reservations.roomId, roomName: rooms.name, userId: reservations.userId,
      startTime: reservations.startTime, endTime: reservations.endTime, afterMin: rooms.autoReleaseAfterMin,
    })
    .from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId))
    .where(and(
      eq(reservations.status, 'active'),
      eq(reservations.checkInRequired, true),
      isNull(reservations.checkedInAt),
      eq(rooms.requiresCheckIn, true),
      roomId === undefined ? undefined : eq(reservations.roomId, roomId),
      lte(reservations.startTime, now),
      or(
        sql`${reservations.startTime} + ${rooms.autoReleaseAfterMin} * interval '1 minute' <= ${at(now)}`,
        lte(reservations.endTime, now),
      ),
    ))
    .orderBy(asc(reservations.id))
    .for('update', { of: reservations, skipLocked: true })
}

/**
 * Releases the pending bookings whose start has come (optionally of one room) with `tx`; one
 * reservation.rejected change each. Rows another transaction holds (a decision in progress) are skipped.
 */
async function expirePending(tx: Executor, now: Date, roomId?: number): Promise<number[]> {
  const due = await tx.select({ id: reservations.id, roomId: reservations.roomId, userId: reservations.userId, start: reservations.startTime, end: reservations.endTime })
    .from(reservations)
    .where(and(eq(reservations.approval, 'pending'), eq(reservations.status, 'active'), lte(reservations.startTime, now), roomId === undefined ? undefined : eq(reservations.roomId, roomId)))
    .orderBy(asc(reservations.id))
    .for('update', { skipLocked: true })
  if (due.length === 0) return []
  await tx.update(reservations).set({ status: 'cancelled', approval: 'rejected', cancelReason: 'not_approved', cancelledAt: now, updatedAt: now })
    .where(inArray(reservations.id, due.map((r) => r.id)))
  recordChanges(tx, due.map((r) => ({
    actorId: null, event: 'reservation.rejected' as const, at: now,
    description: `reservation #${r.id} (${formatUtc(r.start)} - ${formatUtc(r.end)}) released: not approved before its start`,
    data: { reservation_id: r.id, room_id: r.roomId, user_id: r.userId, start_time: formatUtc(r.start), end_time: formatUtc(r.end), reason: 'not_approved' },
  })))
  return due.map((r) => r.id)
}

/** Marks active reservations whose end has passed `finished` (skipping rows others hold). */
async function finishEnded(tx: Executor, now: Date): Promise<number> {
  const ended = await tx.select({ id: reservations.id }).from(reservations)
    .where(and(eq(reservations.status, 'active'), lte(reservations.endTime, now)))
    // By end, not id: the partial index on active bookings' ends answers it. Ordered by id, the
    // planner walked the primary key and filtered every row: 1.6 s a pass at a million bookings
    // (bench --scale). SKIP LOCKED means no sweeper waits on another, so the order is free.
    .orderBy(asc(reservations.endTime))
    .limit(1000)
    .for('update', { skipLocked: true })
  if (ended.length === 0) return 0
  const changed = await tx.update(reservations)
    .set({ status: 'finished', updatedAt: now })
    .where(and(inArray(reservations.id, ended.map((r) => r.id)), eq(reservations.status, 'active')))
    .returning({ id: reservations.id })
  return changed.length
}

export interface SweepResult {
  /** true when another instance held the sweep lock, so this one did nothing */
  skipped: boolean
  released: ReleasedReservation[]
  finished: number
}

/** One sweep in one transaction, under the sweep advisory lock on PostgreSQL. */
export async function sweepOnce(deps: SweepDeps): Promise<SweepResult> {
  const now = deps.clock.now()
  return writeTransaction(deps.database, async (tx) => {
    if (deps.database.kind === 'postgres') {
      const [row] = rowsOf<{ locked: boolean }>(await tx.execute(sql`select pg_try_advisory_xact_lock(${SWEEP_LOCK_KEY}) as locked`))
      if (!row?.locked) return { skipped: true, released: [], finished: 0 }
    }
    const released = await releaseDue(deps, tx, { now })
    const finished = await finishEnded(tx, now)
    return { skipped: false, released, finished }
  })
}

export interface Sweeper {
  /** Runs a sweep now (or waits for the one in progress). */
  runNow(): Promise<SweepResult | undefined>
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>
}

/** Sweeps at once and then every `intervalS` seconds; never two sweeps of this process at a time. */
export function startSweeper(deps: SweepDeps & { log: Logger }, intervalS: number): Sweeper {
  let running: Promise<SweepResult | undefined> | undefined
  let stopped = false
  const run = () => {
    if (stopped) return Promise.resolve(undefined)
    running ??= sweepOnce(deps)
      .then((result) => {
        if (result.released.length || result.finished)
          deps.log.info('sweep', { released: result.released.map((r) => r.id), finished: result.finished })
        return result
      })
      .catch((error) => {
        deps.log.warn('sweep failed; will retry', { error: (error as Error).message })
        return undefined
      })
      .finally(() => { running = undefined })
    return running
  }
  const timer = setInterval(() => void run(), intervalS * 1000)
  void run()
  return {
    runNow: run,
    async stop() {
      stopped = true
      clearInterval(timer)
      await running
    },
  }
}
