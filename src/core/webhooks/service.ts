/**
 * The webhooks beside the requests (issue 28): the follower `webhooks` that turns changes into
 * deliveries (outbox.ts), and the worker that sends them. Both run on every instance; the
 * follower's cursor lock and the claims' SKIP LOCKED make each delivery one instance's work.
 *
 * The follower is poked when the live feed hears a change of a room (and runs every
 * INTERVAL_MS anyway, for the changes of no room and a missed NOTIFY); the worker runs after
 * each pass of it, when poked (a test, a retry) and every INTERVAL_MS (a back-off ended). Both
 * run outside any request's work (db/work-scope.ts): a request that pokes them never waits for
 * them, and they are never abandoned at its deadline.
 */
import type { Deps } from '../../deps'
import { outsideWork } from '../../db/work-scope'
import { followOnce, startFollower, type Follower, type FollowerSpec } from '../changes/follower'
import { deliverDue, queueChanges } from './outbox'

/** The webhooks' row of follower_cursors. */
export const WEBHOOKS_FOLLOWER = 'webhooks'
const INTERVAL_MS = 2000
const FOLLOW_BATCH = 500

export interface Webhooks {
  /** Starts the follower and the worker (idempotent). */
  start(): void
  /** Stops both, after the round in progress (idempotent; start() may run them again). */
  stop(): Promise<void>
  /** Deliveries were queued or made due (a test, a retry): send them soon. Nothing before start(). */
  poke(): void
  /** Reads the change record to its end and delivers everything due now (tests; works without start). */
  drain(): Promise<void>
}

type WebhookDeps = Pick<Deps, 'database' | 'clock' | 'log'>

export function createWebhooks(deps: WebhookDeps, onChange: (listener: (roomId: number | null) => void) => () => void): Webhooks {
  const spec: FollowerSpec = { name: WEBHOOKS_FOLLOWER, batch: FOLLOW_BATCH, handle: async (tx, batch) => { await queueChanges(deps, tx, batch) } }
  let follower: Follower | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let debounce: ReturnType<typeof setTimeout> | undefined
  let unlisten: (() => void) | undefined
  let started = false
  /** while stop() runs: rounds end after the send in progress */
  let stopped = false
  let running: Promise<void> | undefined
  let again = false
  /** aborts the sends in progress when stop() is called */
  let halt = new AbortController()

  async function rounds(): Promise<void> {
    do {
      again = false
      try {
        while (!stopped && (await deliverDue(deps, halt.signal)) > 0) { /* more may be due */ }
      } catch (error) {
        deps.log.warn('webhooks: delivering failed; retrying on the next change or tick', { error: String(error) })
        return
      }
    } while (again && !stopped)
  }
  /** One run of the worker at a time; a call during a run asks for another after it. */
  function deliver(): Promise<void> {
    if (running) {
      again = true
      return running
    }
    running = outsideWork(() => rounds()).finally(() => { running = undefined })
    return running
  }
  /** The follower to the newest change: one pass, more while batches come back full. */
  async function follow(): Promise<void> {
    while ((await followOnce(deps, spec)) >= FOLLOW_BATCH) { /* a full batch: more may wait */ }
  }
  /** Soon (coalesced): the follower to the end, then the worker. */
  let followWanted = false
  function soon(withFollower: boolean) {
    if (!started || stopped) return
    followWanted ||= withFollower
    if (debounce) return
    debounce = outsideWork(() => setTimeout(() => {
      debounce = undefined
      if (stopped) return
      const first = followWanted ? follow() : Promise.resolve()
      followWanted = false
      void first.catch(() => {}).then(deliver)
      // 100 ms: a burst of changes (a Monday-morning rush) makes one pass, not one per booking.
    }, 100))
  }

  return {
    start() {
      if (started) return
      started = true
      outsideWork(() => {
        follower = startFollower(deps, spec, { intervalMs: INTERVAL_MS })
        timer = setInterval(() => { void deliver() }, INTERVAL_MS)
        timer.unref?.()
      })
      unlisten = onChange(() => soon(true))
      soon(true)
    },
    async stop() {
      if (!started) return
      stopped = true
      unlisten?.()
      clearInterval(timer)
      clearTimeout(debounce)
      debounce = undefined
      halt.abort()
      await follower?.stop()
      await running
      halt = new AbortController()
      // stopped for good until start(): drain() still works (tests)
      follower = undefined
      started = false
      stopped = false
    },
    poke: () => soon(false),
    async drain() {
      await outsideWork(() => follow())
      await deliver()
      // a run already going when drain was called may have claimed before the newest rows were due
      await deliver()
    },
  }
}
