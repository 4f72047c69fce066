/**
 * Notifications as a service beside the requests (decision 034): the notifier following the change
 * record, the check-in reminders, the e-mail outbox's worker, and the push of new in-app notices
 * to the event streams of this instance (NOTIFY NOTICES_CHANNEL reaches every instance).
 *
 * Every instance runs all of it: the follower's cursor lock and the outbox's SKIP LOCKED claims
 * let them share the work without doing any of it twice. Without start() (tests) nothing runs by
 * itself: drain() does one complete round.
 */
import type { Deps } from '../../deps'
import type { Listening } from '../../db/client'
import type { Activity } from '../../lib/activity'
import { outsideWork } from '../../db/work-scope'
import { ensureCursor, followOnce, startFollower, type Follower, type FollowerSpec } from '../changes/follower'
import { createMailer, type Mailer } from './mail'
import { notifyChanges, NOTICES_CHANNEL, remindCheckIns } from './notifier'
import { deliverDueMail } from './outbox'

export interface Notifier {
  /** Places the cursor (before the server answers: no change after it is missed), then runs by itself. */
  start(onChange: (listener: (roomId: number | null) => void) => () => void): Promise<void>
  /** Everything that is due now, done: the changes so far turned into notices, reminders, e-mail sent (or failed). */
  drain(): Promise<void>
  /** Calls `listener` when the user has new in-app notices (on any instance); returns the unsubscribe. */
  subscribe(userId: number, listener: () => void): () => void
  stop(): Promise<void>
}

const TICK_MS = 1000
/** While requests arrive: this many e-mails, then this pause (about 50 a second at most). */
const BUSY_BATCH = 5
const BUSY_PAUSE_MS = 100
const REMINDER_EVERY_MS = 15_000

export function createNotifier(
  deps: Pick<Deps, 'database' | 'clock' | 'config' | 'log'>,
  icsFor: (reservationId: number) => Promise<string | null>,
  activity?: Activity,
): Notifier {
  const spec: FollowerSpec = { name: 'notifier', handle: (tx, batch) => notifyChanges(deps, tx, batch) }
  let mailer: Mailer | undefined
  const mailerOf = () => (mailer ??= createMailer(deps.config.smtpUrl!))
  const outbox = () => ({ ...deps, mailer: mailerOf(), icsFor })

  let follower: Follower | undefined
  let offChange: (() => void) | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let sending: Promise<void> | undefined
  let lastReminders = 0
  let stopped = false

  /**
   * Sends what is due until a claim comes back empty. While requests keep arriving it gives way to
   * them: a few e-mails at a time with a pause between (the backlog waits, a booking does not);
   * between them at full speed. Measured: bench/notifications.ts, docs/performance.md.
   */
  async function sendDue(options: { yieldToRequests: boolean }): Promise<void> {
    if (!deps.config.smtpUrl) return
    for (;;) {
      if (stopped) return
      const busy = options.yieldToRequests && (activity?.busy() ?? false)
      const claimed = busy ? await deliverDueMail(outbox(), BUSY_BATCH, 1) : await deliverDueMail(outbox())
      if (claimed === 0) return
      if (busy) await Bun.sleep(BUSY_PAUSE_MS)
    }
  }
  function kickMail() {
    if (sending || stopped || !deps.config.smtpUrl) return
    sending = sendDue({ yieldToRequests: true }).catch((error: Error) => deps.log.warn('e-mail outbox: a round failed; retrying', { error: error.message }))
      .finally(() => { sending = undefined })
  }

  const listeners = new Map<number, Set<() => void>>()
  let listening: Promise<Listening | undefined> | undefined
  function listen() {
    // Outside the request that first subscribes: the LISTEN outlives it.
    listening ??= outsideWork(() => deps.database.listen(NOTICES_CHANNEL, (payload) => {
      for (const id of payload.split(',')) for (const listener of listeners.get(Number(id)) ?? []) listener()
    }, () => { listening = undefined })).catch((error: Error) => {
      deps.log.warn('notices: cannot LISTEN; in-app notices are not pushed until it can', { error: error.message })
      listening = undefined
      return undefined
    })
  }

  return {
    async start(onChange) {
      if (follower || stopped) return
      // A database that is down at start: the first pass places it (changes meanwhile are not lost
      // from the record, only possibly from before the cursor's place).
      await ensureCursor(deps, spec.name).catch((error: Error) => deps.log.warn('notifier: cannot place its cursor yet', { error: error.message }))
      if (follower || stopped) return
      follower = startFollower(deps, spec)
      offChange = onChange(() => follower?.poke())
      listen()
      timer = outsideWork(() => setInterval(() => {
        const now = Date.now() // scheduling only: what is due is decided by the injected clock
        if (now - lastReminders >= REMINDER_EVERY_MS) {
          lastReminders = now
          remindCheckIns(deps).catch((error: Error) => deps.log.warn('check-in reminders failed; retrying', { error: error.message }))
        }
        kickMail()
      }, TICK_MS))
      timer.unref?.()
    },
    async drain() {
      while ((await followOnce(deps, spec)) > 0) { /* until the cursor is at the newest change */ }
      await remindCheckIns(deps)
      await sending
      await sendDue({ yieldToRequests: false })
    },
    subscribe(userId, listener) {
      listen()
      let set = listeners.get(userId)
      if (!set) listeners.set(userId, (set = new Set()))
      set.add(listener)
      return () => {
        set!.delete(listener)
        if (set!.size === 0) listeners.delete(userId)
      }
    },
    async stop() {
      stopped = true
      clearInterval(timer)
      offChange?.()
      await follower?.stop()
      await sending
      await (await listening)?.stop()
      mailer?.close()
    },
  }
}
