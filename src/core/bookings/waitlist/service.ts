/**
 * The waitlist running beside the requests (issue 28): it follows the live feed of changes
 * (RoomEventBus.onChange: a room id, or null for every room) and, shortly after a change of a room
 * that has waiters (a cancel, a release, a bump undone, a closure lifted, a series shortened, a
 * rejection: each is a change of that room), fills that room (waitlist.ts). Every
 * WAITLIST_PASS_MS it also passes over every room with waiters, expiring the entries whose start
 * has come (a missed notice, a change made while this instance was down, time passing).
 *
 * One fill at a time in a process; across instances fills of one room queue on the room's lock
 * and book only entries still waiting, so a waiter is booked at most once.
 */
import type { RoomEventBus } from '../../events/bus'
import type { Logger } from '../../../lib/log'
import { outsideWork } from '../../../db/work-scope'
import { expireDue, fill, roomsWithWaiters, type WaitlistDeps } from './waitlist'

/** How soon after a change its room is filled: changes of a burst are taken together. */
const DEBOUNCE_MS = 50
/** The periodic pass over every room with waiters. */
const WAITLIST_PASS_MS = 30_000

export interface Waitlist {
  /** Follows the live feed and starts the periodic pass (idempotent). */
  start(): void
  /** Stops following and waits for a fill in progress. Idempotent. */
  stop(): Promise<void>
  /** Fills this room (null: every room with waiters) shortly. */
  poke(roomId: number | null): void
  /** Expires what is due and fills every room with waiters now; resolves when done (tests, after a change). */
  drain(): Promise<void>
}

export function createWaitlist(deps: WaitlistDeps & { log: Logger; events: Pick<RoomEventBus, 'onChange'> }, options: { debounceMs?: number; passMs?: number } = {}): Waitlist {
  const pending = new Set<number>()
  let everyRoom = false
  let debounce: ReturnType<typeof setTimeout> | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let unfollow: (() => void) | undefined
  let stopped = false
  /** the fills of this process, one after another */
  let tail: Promise<unknown> = Promise.resolve()

  function enqueue(work: () => Promise<void>): Promise<void> {
    const run = tail.then(() => outsideWork(work))
    tail = run.catch(() => {})
    return run
  }

  async function fillRooms(ids: number[]): Promise<void> {
    for (const roomId of ids) {
      if (stopped) return
      const result = await fill(deps, roomId)
      if (result.booked.length) deps.log.info('waitlist', { room: roomId, booked: result.booked.map((b) => b.reservationId) })
    }
  }

  const everything = async () => {
    await expireDue(deps)
    await fillRooms(await roomsWithWaiters(deps))
  }

  function background(work: () => Promise<void>) {
    void enqueue(work).catch((error) => deps.log.warn('waitlist: filling failed; retrying on the next change or pass', { error: String(error) }))
  }

  function flush() {
    debounce = undefined
    if (stopped) return
    const all = everyRoom
    const ids = [...pending]
    everyRoom = false
    pending.clear()
    background(async () => fillRooms(await roomsWithWaiters(deps, all ? undefined : ids)))
  }

  function poke(roomId: number | null) {
    if (stopped) return
    if (roomId === null) everyRoom = true
    else pending.add(roomId)
    debounce ??= outsideWork(() => setTimeout(flush, options.debounceMs ?? DEBOUNCE_MS))
  }

  return {
    start() {
      if (stopped || unfollow) return
      unfollow = deps.events.onChange(poke)
      timer = outsideWork(() => setInterval(() => { if (!stopped) background(everything) }, options.passMs ?? WAITLIST_PASS_MS))
      timer.unref?.()
      background(everything)
    },
    async stop() {
      stopped = true
      unfollow?.()
      clearTimeout(debounce)
      clearInterval(timer)
      await tail
    },
    poke,
    drain: () => enqueue(everything),
  }
}
