/**
 * A follower of the change record (decision 034): something that must act on every change, once,
 * in order, whichever instance hears it: the notifier (notices and their e-mail), the webhooks.
 *
 * Its place is a row of follower_cursors. One pass locks that row (FOR UPDATE SKIP LOCKED: an
 * instance that finds it held leaves the pass to the holder), reads the changes after it, hands
 * them to `handle` in the same transaction, and moves the row past them; so what `handle` writes
 * commits with the cursor, or neither does and the next pass reads the same changes again. Positions
 * are in commit order (record.ts), so nothing committed later can appear behind the cursor.
 *
 * A new follower starts at the newest change: it acts on what happens from its first start, not on
 * the years before it was installed.
 */
import { asc, eq, gt, sql } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { changes, followerCursors, type ChangeRow } from '../../db/schema'
import type { Executor } from '../../db/client'
import { outsideWork } from '../../db/work-scope'

export interface FollowerSpec {
  /** its row in follower_cursors */
  name: string
  /** acts on changes (in commit order) inside the pass's transaction */
  handle(tx: Executor, batch: ChangeRow[]): Promise<void>
  /** changes per pass (default 500) */
  batch?: number
}

type FollowDeps = Pick<Deps, 'database' | 'clock'>

/**
 * How long a poke waits before its pass: a burst of changes (a Monday-morning rush, an import)
 * makes one pass, not one per change, so that following costs the writers little.
 */
const DEBOUNCE_MS = 100

/**
 * Places a follower's cursor at the newest change unless it has one. Called before the server
 * answers (app start), so that no change made after the start can fall behind a new cursor.
 */
export async function ensureCursor(deps: FollowDeps, name: string, executor: Executor = deps.database.db): Promise<void> {
  await executor.insert(followerCursors)
    .values({ name, position: sql`(select coalesce(max(${changes.position}), 0) from ${changes})`, updatedAt: deps.clock.now() })
    .onConflictDoNothing()
}

/** One pass: how many changes it handled; 0 when there was nothing new or another instance holds the cursor. */
export async function followOnce(deps: FollowDeps, spec: FollowerSpec): Promise<number> {
  return deps.database.db.transaction(async (tx) => {
    const lockCursor = () => tx.select({ position: followerCursors.position }).from(followerCursors)
      .where(eq(followerCursors.name, spec.name)).for('update', { skipLocked: true })
    let [cursor] = await lockCursor()
    if (!cursor) {
      // Held by another instance, or not placed yet (the first pass without start()): place it, ask again.
      await ensureCursor(deps, spec.name, tx)
      ;[cursor] = await lockCursor()
      if (!cursor) return 0
    }
    const batch = await tx.select().from(changes).where(gt(changes.position, cursor.position))
      .orderBy(asc(changes.position)).limit(spec.batch ?? 500)
    if (batch.length === 0) return 0
    await spec.handle(tx, batch)
    await tx.update(followerCursors).set({ position: batch[batch.length - 1]!.position, updatedAt: deps.clock.now() })
      .where(eq(followerCursors.name, spec.name))
    return batch.length
  })
}

export interface Follower {
  /** Asks for a pass soon (the live feed heard a change); passes never overlap. */
  poke(): void
  /** Resolves when nothing is left to read (tests: after a change, before looking for its notice). */
  drain(): Promise<void>
  stop(): Promise<void>
}

/**
 * Runs passes when poked (the live feed heard a change) and every `intervalMs` anyway (a missed
 * NOTIFY, another instance's cursor released), each pass followed by another while batches come
 * back full. A failed pass (the database is down) is logged and retried by the next poke or tick.
 */
export function startFollower(deps: FollowDeps & Pick<Deps, 'log'>, spec: FollowerSpec, options: { intervalMs?: number; debounceMs?: number } = {}): Follower {
  const batchSize = spec.batch ?? 500
  let running: Promise<void> | undefined
  let again = false
  let stopped = false
  let debounce: ReturnType<typeof setTimeout> | undefined

  async function passes(): Promise<void> {
    do {
      again = false
      try {
        while (!stopped && (await followOnce(deps, spec)) >= batchSize) { /* a full batch: more may wait */ }
      } catch (error) {
        deps.log.warn(`${spec.name}: following the change record failed; retrying on the next change or tick`, { error: String(error) })
        return
      }
    } while (again && !stopped)
  }
  function run(): Promise<void> {
    if (running) {
      again = true
      return running
    }
    running = passes().finally(() => { running = undefined })
    return running
  }
  // Timers made outside any request's work (db/work-scope.ts): a pass poked while a request runs
  // is not that request's, and is not refused when the request times out.
  const timer = outsideWork(() => setInterval(() => { void run() }, options.intervalMs ?? 2000))
  timer.unref?.()
  return {
    poke() {
      if (stopped || debounce) return
      debounce = outsideWork(() => setTimeout(() => {
        debounce = undefined
        if (!stopped) void run()
      }, options.debounceMs ?? DEBOUNCE_MS))
    },
    async drain() {
      await run()
      // a pass already running when drain was called may have started before the newest change
      await run()
    },
    async stop() {
      stopped = true
      clearInterval(timer)
      clearTimeout(debounce)
      await running
    },
  }
}
