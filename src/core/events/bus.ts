/**
 * Live room state for subscribers (door displays, the frontend), following the change record
 * (src/core/changes, decision 027). Each change NOTIFYs the channel ROOM_EVENTS_CHANNEL with
 * `position:rooms` (room ids, or '*' when every room may have changed: a user renamed, a closure
 * of every room), whichever instance (or script) made it, in commit order; every instance
 * LISTENs, hands each change at once to the cached room views (onChange), records the position it
 * has heard up to (readBarrier waits on it), and, while anyone is subscribed, recomputes the
 * changed rooms' state in one batch and passes on only what really changed. Time alone also changes a
 * room's state (a booking starts or ends), so while anyone is subscribed the state is recomputed
 * every REFRESH_MS as well. Events are numbered per process; a short history lets a reconnecting
 * client resume with Last-Event-ID, and anything older gets a fresh snapshot instead.
 *
 * Outages (docs/decisions/011): the LISTEN is not a promise kept forever. When it cannot be set up,
 * or its connection drops, the bus tells its subscribers (`down`) and listens again with back-off,
 * at once when the circuit breaker sees the database return. Once listening again it recomputes
 * every room (emitting what changed meanwhile) and hands subscribers the current state (`resync`).
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { Deps } from '../../deps'
import type { Listening } from '../../db/client'
import { changes, reservations, users } from '../../db/schema'
import { outsideWork } from '../../db/work-scope'
import { formatUtc } from '../../lib/time'
import { committedPosition } from '../changes'
import { listRoomViews, type RoomView } from '../bookings/views/rooms'
import { notPending, remainingToday } from '../bookings/views/occupancy'
import { apiUserName, OWNER_COLUMNS, publicName } from '../bookings/views/public-names'

const ROOM_EVENTS_CHANNEL = 'qrbook_room_events'
const BATCH_MS = 20
const HISTORY = 1000

/** One of a room's bookings as the public stream sends it: `user_name` as PUBLIC_USER_NAMES says. */
interface UpcomingBooking {
  id: number
  user_name: string
  start_time: string
  end_time: string
}

/**
 * What the door display shows of a booking besides its times (decision 029), kept beside the
 * public fields and never sent on the public stream: whether it is a lesson (an occurrence of a
 * series) and its title, and the name a door page may show (staff's; null for a student).
 */
interface PageBooking extends UpcomingBooking {
  lesson: boolean
  title: string | null
  public_name: string | null
}

export interface RoomState {
  room: RoomView
  /** active bookings of the rest of the room's local day (APP_TIMEZONE), at most 10 */
  upcoming: PageBooking[]
}

export interface RoomEvent {
  id: string
  seq: number
  state: RoomState
}

interface Subscriber {
  /** A room's state changed. */
  event(event: RoomEvent): void
  /** Live updates stopped (the database cannot be reached); `resync` follows when they resume. */
  down?(): void
  /** Live updates run (again): the state of every room now, ordered by name, and the id it matches. */
  resync?(states: RoomState[], id: string): void
}

export interface RoomEventBus {
  /** Starts listening if it is not (idempotent); resolves to whether the live feed runs (live()). */
  start(): Promise<boolean>
  /** True while the LISTEN runs and was heard within LIVENESS_MS: every change committed before then has arrived. */
  live(): boolean
  subscribe(roomId: number | null, subscriber: Subscriber): () => void
  /** Current state of one room, or of every room (ordered by name). */
  snapshot(roomId?: number): Promise<RoomState[]>
  /** Events after lastEventId for this filter, or undefined when they are no longer known. */
  since(lastEventId: string, roomId: number | null): RoomEvent[] | undefined
  /** The id of the newest event (what a snapshot taken now is equivalent to). */
  currentId(): string
  subscribers(): number
  /**
   * Raw changes as they arrive, before any batching: a room id, or null for "every room" (a user
   * renamed, or the feed (re)started or stopped: whatever was known may be stale). For caches of
   * room views (src/core/bookings/view-cache.ts).
   */
  onChange(listener: (roomId: number | null) => void): () => void
  /**
   * Resolves once every change committed before the call has reached the onChange listeners
   * (true), or false when that cannot be known within BARRIER_MS (not listening, the database
   * does not answer). On PostgreSQL shared with another instance or worker (its feed was counted
   * within SHARED_STICKY_MS) it asks the database for the newest committed position, one query
   * shared by the callers that arrived while the previous one ran, and waits until the feed has
   * heard it; alone on its database (the embedded one, or PostgreSQL with no other feed) it waits
   * for the newest position this process committed, without a query.
   */
  readBarrier(): Promise<boolean>
  /** The newest change position the feed has heard (0 before the first). */
  heardPosition(): number
  stop(): Promise<void>
}

/**
 * How recently the LISTEN connection must have been heard for the feed to count as live: two of
 * its heartbeats (client.ts). The bound on how stale a cached room view can be (decision 025).
 */
export const LIVENESS_MS = 500

/**
 * How long a process keeps asking the database for the newest committed position after it last
 * counted another process's feed (readBarrier, sharedDatabase): longer than a peer's LISTEN
 * connection takes to come back (its retries back off to RETRY_MAX_MS).
 */
const SHARED_STICKY_MS = 5 * 60_000

/**
 * How long a starting process waits after its feed listens before it serves: two heartbeats of
 * the other processes' feeds (db/client.ts, every 250 ms), so that they count it, and ask the
 * database before every cached read, before it can answer its first write.
 */
export const PEER_NOTICE_MS = 600

/** How long readBarrier() waits for the feed to hear the newest committed position. */
const BARRIER_MS = 250

/** Back-off between two attempts to LISTEN again (the breaker's recovery also triggers one at once). */
const RETRY_MIN_MS = 250
const RETRY_MAX_MS = 2000

export function createRoomEventBus(ctx: Deps, options: { refreshMs?: number } = {}): RoomEventBus {
  const refreshMs = options.refreshMs ?? 30_000
  const boot = Date.now().toString(36)
  const subscribers = new Map<Subscriber, number | null>()
  const known = new Map<number, string>()
  const history: RoomEvent[] = []
  const pending = new Set<number>()
  const changeListeners = new Set<(roomId: number | null) => void>()
  /** the newest position heard, and the readers waiting for a position */
  let heard = 0
  const positionWaiters = new Set<{ position: number; resolve: (ok: boolean) => void }>()
  /** the newest-committed-position query running, and the one queued behind it (readBarrier) */
  let asking: Promise<number> | undefined
  let askingNext: Promise<number> | undefined
  let seq = 0
  let wanted = false
  let stopped = false
  let listening = false
  let baselined = false
  let downNotified = false
  let connecting: Promise<void> | undefined
  /** the LISTEN that runs (set while `listening`) */
  let listener: Listening | undefined
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let retryMs = RETRY_MIN_MS
  let failures = 0
  let flushTimer: ReturnType<typeof setTimeout> | undefined
  let refreshTimer: ReturnType<typeof setInterval> | undefined

  async function states(ids?: number[]): Promise<RoomState[]> {
    const { rooms } = await listRoomViews(ctx, ids ? { ids } : {})
    if (rooms.length === 0) return []
    const now = ctx.clock.now()
    const rows = await ctx.database.db
      .select({
        id: reservations.id, roomId: reservations.roomId, ...OWNER_COLUMNS,
        start: reservations.startTime, end: reservations.endTime, seriesId: reservations.seriesId, title: reservations.title,
      })
      .from(reservations)
      .innerJoin(users, eq(users.id, reservations.userId))
      .where(and(inArray(reservations.roomId, rooms.map((r) => r.id)), remainingToday(now, ctx.config.appTimezone), notPending))
      .orderBy(asc(reservations.startTime))
    return rooms.map((room) => ({
      room,
      upcoming: rows.filter((r) => r.roomId === room.id).slice(0, 10).map((r) => ({
        id: r.id, user_name: apiUserName(ctx.config, r), start_time: formatUtc(r.start), end_time: formatUtc(r.end),
        lesson: r.seriesId !== null, title: r.title, public_name: publicName(r),
      })),
    }))
  }

  function each(fn: (subscriber: Subscriber, filter: number | null) => void) {
    for (const [subscriber, filter] of [...subscribers]) {
      try {
        fn(subscriber, filter)
      } catch (error) {
        ctx.log.warn('room event listener failed', { error: String(error) })
      }
    }
  }

  function emit(state: RoomState) {
    const event: RoomEvent = { id: `${boot}-${++seq}`, seq, state }
    history.push(event)
    if (history.length > HISTORY) history.shift()
    each((subscriber, filter) => {
      if (filter === null || filter === state.room.id) subscriber.event(event)
    })
  }

  /** Records the given states and emits those that changed. */
  function apply(list: RoomState[]) {
    for (const state of list) {
      const json = JSON.stringify(state)
      if (known.get(state.room.id) === json) continue
      known.set(state.room.id, json)
      emit(state)
    }
  }

  /** Recomputes the given rooms (all known ones when undefined) and emits those that changed. */
  async function refresh(ids?: number[]) {
    if (!listening) return // recomputed in full once listening again
    try {
      apply(await states(ids))
    } catch (error) {
      ctx.log.warn('could not refresh room state for subscribers', { error: (error as Error).message })
    }
  }

  function schedule(roomId: number) {
    pending.add(roomId)
    flushTimer ??= setTimeout(() => {
      flushTimer = undefined
      const ids = [...pending]
      pending.clear()
      void refresh(ids)
    }, BATCH_MS)
  }

  function updateRefreshTimer() {
    if (subscribers.size > 0 && !refreshTimer) refreshTimer = outsideWork(() => setInterval(() => void refresh(), refreshMs))
    if (subscribers.size === 0 && refreshTimer) {
      clearInterval(refreshTimer)
      refreshTimer = undefined
    }
  }

  function changed(roomId: number | null) {
    for (const listener of changeListeners) {
      try {
        listener(roomId)
      } catch (error) {
        ctx.log.warn('room change listener failed', { error: String(error) })
      }
    }
  }

  /** The feed has heard every change up to `position`: wake the readers waiting for it. */
  function hear(position: number) {
    if (position <= heard) return
    heard = position
    for (const waiter of positionWaiters) {
      if (waiter.position <= heard) {
        positionWaiters.delete(waiter)
        waiter.resolve(true)
      }
    }
  }

  /** `position:rooms` (migration 0015's trigger): the rooms first, then the position, so a reader woken by it finds them dropped. */
  function onPayload(payload: string) {
    const match = /^(\d+):(\*|[\d,]*)$/.exec(payload)
    if (!match) return
    const ids = match[2] === '*' ? null : match[2]!.split(',').filter(Boolean).map(Number)
    if (ids === null) changed(null)
    else for (const id of ids) changed(id)
    hear(Number(match[1]))
    if (ids !== null && ids.length === 0) return
    // Nobody to tell: recomputing room states would only cost every booking a query or two. What
    // was known is stale now, so the next subscriber's first changes are all sent.
    if (subscribers.size === 0) return void known.clear()
    if (ids === null) {
      if (flushTimer === undefined) void refresh()
    } else for (const id of ids) schedule(id)
  }

  /** The newest position committed, as the database says now. */
  const newestCommitted = () => outsideWork(async () => {
    const [row] = await ctx.database.db.select({ position: sql<string>`coalesce(max(${changes.position}), 0)` }).from(changes)
    return Number(row?.position ?? 0)
  })

  /**
   * The newest committed position from a query that began after the call: the running one
   * began earlier, so a caller arriving while it runs waits for the next one, which every
   * caller arriving meanwhile shares (ReadIndex, as in Raft: one query per round, not per read).
   */
  function committedSinceCall(): Promise<number> {
    if (!asking) {
      asking = newestCommitted().finally(() => { asking = undefined })
      return asking
    }
    askingNext ??= asking.catch(() => 0).then(() => {
      askingNext = undefined
      return committedSinceCall()
    })
    return askingNext
  }

  /** Resolves true once the feed has heard `position`, false after BARRIER_MS or when it stops listening. */
  function heardBy(position: number): Promise<boolean> {
    if (position <= heard) return Promise.resolve(true)
    return new Promise((resolve) => {
      const waiter = { position, resolve }
      positionWaiters.add(waiter)
      setTimeout(() => {
        if (positionWaiters.delete(waiter)) resolve(false)
      }, BARRIER_MS)
    })
  }

  function dropWaiters() {
    for (const waiter of positionWaiters) waiter.resolve(false)
    positionWaiters.clear()
  }

  /** Live updates stopped: tell the subscribers once, and drop the LISTEN connection if any. */
  function goDown() {
    const was = listening
    listening = false
    dropWaiters()
    if (was) changed(null)
    pending.clear()
    const running = listener
    listener = undefined
    if (running) void running.stop()
    if (!downNotified && subscribers.size > 0) {
      downNotified = true
      each((subscriber) => subscriber.down?.())
    }
  }

  function retryLater() {
    clearTimeout(retryTimer)
    if (stopped || !wanted) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      ensureListening()
    }, retryMs)
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS)
  }

  function onLost(error: Error) {
    if (stopped) return
    ctx.log.warn('room events: the LISTEN connection was lost; listening again', { error: error.message })
    listener = undefined
    listening = false
    dropWaiters()
    changed(null)
    // A dropped connection may be the first sign of an outage.
    ctx.database.breaker.suspect(error)
    ensureListening()
  }

  function ensureListening() {
    if (stopped || !wanted || listening || connecting) return
    clearTimeout(retryTimer)
    retryTimer = undefined
    // The feed outlives the request that may have started it (its first reader): not part of that
    // request's work (db/work-scope.ts), whatever becomes of it.
    connecting = outsideWork(async () => {
      let started: Listening | undefined
      let established = false
      let lostEarly: Error | undefined
      try {
        if (ctx.database.breaker.state === 'open') throw new Error('database unavailable')
        started = await ctx.database.listen(ROOM_EVENTS_CHANNEL, onPayload, (error) => {
          if (established) onLost(error)
          else lostEarly = error
        })
        // The baseline, or after an interruption what changed while nobody listened. Everything
        // committed up to `since` is in what is read from here on (every cached view is dropped
        // below), so the feed counts as having heard it.
        const since = await newestCommitted()
        const all = await states()
        if (stopped) return void (await started.stop())
        if (lostEarly) throw lostEarly
        established = true
        if (baselined) apply(all)
        else for (const state of all) known.set(state.room.id, JSON.stringify(state))
        baselined = true
        listener = started
        listening = true
        changed(null)
        hear(since)
        if (failures > 0) ctx.log.info('room events: listening again', { attempts: failures + 1 })
        failures = 0
        retryMs = RETRY_MIN_MS
        downNotified = false
        const id = bus.currentId()
        each((subscriber) => subscriber.resync?.(all, id))
      } catch (error) {
        if (started) void started.stop()
        if (failures++ === 0) ctx.log.warn('room events: cannot LISTEN; retrying with back-off', { error: (error as Error).message })
        goDown()
        retryLater()
      }
    }).finally(() => {
      connecting = undefined
    })
  }

  // The database returned (the breaker let queries through again): listen again at once. It went
  // away: the LISTEN connection may hang rather than fail, so give it up and start afresh later.
  const offBreaker = ctx.database.breaker.onChange((state) => {
    if (!wanted || stopped) return
    if (state === 'open') goDown()
    else {
      retryMs = RETRY_MIN_MS
      ensureListening()
    }
  })

  /**
   * The feed runs and is known to be heard: the LISTEN connection answered a heartbeat sent at most
   * LIVENESS_MS ago, so every change committed before then has arrived. A partitioned connection
   * neither answers nor closes; from LIVENESS_MS after its last answer on, the feed is not live and
   * the cached room views are bypassed, long before the heartbeat gives the connection up.
   */
  function live(): boolean {
    return listening && listener !== undefined && performance.now() - listener.heardUpTo() <= LIVENESS_MS
  }

  /** performance.now() when another process's feed was last counted (or nothing was counted yet). */
  let sharedAt = Number.NEGATIVE_INFINITY

  /**
   * Whether another process may write to this database: another feed listens to it now, or did
   * within SHARED_STICKY_MS, or none has been counted yet. Alone, every change is this process's
   * own and its newest committed position is known without asking the database: a cached read
   * then waits for nothing but its own writes' notices (no query, and the read completes at once).
   * Sticky, so that a peer whose LISTEN connection is being replaced (and which may still write)
   * keeps this process asking.
   */
  function sharedDatabase(): boolean {
    if (ctx.database.kind !== 'postgres') return false
    const peers = listener?.peers()
    if (peers === undefined || peers > 0) sharedAt = performance.now()
    return performance.now() - sharedAt < SHARED_STICKY_MS
  }

  const bus: RoomEventBus = {
    async start() {
      wanted = true
      ensureListening()
      await connecting
      return live()
    },
    live,
    subscribe(roomId, subscriber) {
      subscribers.set(subscriber, roomId)
      updateRefreshTimer()
      wanted = true
      ensureListening()
      return () => {
        subscribers.delete(subscriber)
        updateRefreshTimer()
      }
    },
    snapshot: (roomId) => states(roomId === undefined ? undefined : [roomId]),
    since(lastEventId, roomId) {
      const match = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId)
      if (!match || match[1] !== boot) return undefined
      const after = Number(match[2])
      if (after > seq) return undefined
      const oldest = history[0]?.seq ?? seq + 1
      if (after < oldest - 1) return undefined
      return history.filter((e) => e.seq > after && (roomId === null || e.state.room.id === roomId))
    },
    currentId: () => `${boot}-${seq}`,
    subscribers: () => subscribers.size,
    onChange(listener) {
      changeListeners.add(listener)
      return () => changeListeners.delete(listener)
    },
    async readBarrier() {
      if (!listening) return false
      try {
        const position = sharedDatabase() ? await committedSinceCall() : committedPosition(ctx.database)
        return (await heardBy(position)) && listening
      } catch {
        return false
      }
    },
    heardPosition: () => heard,
    async stop() {
      stopped = true
      offBreaker()
      subscribers.clear()
      updateRefreshTimer()
      clearTimeout(flushTimer)
      clearTimeout(retryTimer)
      await connecting
      const running = listener
      listener = undefined
      listening = false
      dropWaiters()
      changed(null)
      changeListeners.clear()
      await running?.stop()
    },
  }
  return bus
}

