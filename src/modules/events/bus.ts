/**
 * Live room state for subscribers (door displays, the frontend). Database triggers NOTIFY the
 * channel ROOM_EVENTS_CHANNEL with a room id whenever a room or one of its reservations changes,
 * whichever instance (or script) made the change; every instance LISTENs, recomputes the changed
 * rooms' state in one batch, and passes on only what really changed. Time alone also changes a
 * room's state (a booking starts or ends), so while anyone is subscribed the state is recomputed
 * every REFRESH_MS as well. Events are numbered per process; a short history lets a reconnecting
 * client resume with Last-Event-ID, and anything older gets a fresh snapshot instead.
 */
import { and, asc, eq, gt, inArray, lt } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { reservations, users } from '../../db/schema'
import { formatUtc, localParts, zonedToUtc } from '../../lib/time'
import { listRoomViews, type RoomView } from '../rooms/service'

export const ROOM_EVENTS_CHANNEL = 'qrbook_room_events'
const BATCH_MS = 20
const HISTORY = 1000

export interface UpcomingBooking {
  id: number
  user_name: string
  start_time: string
  end_time: string
}

export interface RoomState {
  room: RoomView
  /** active bookings of the rest of the room's local day (APP_TIMEZONE), at most 10 */
  upcoming: UpcomingBooking[]
}

export interface RoomEvent {
  id: string
  seq: number
  state: RoomState
}

export type Listener = (event: RoomEvent) => void

export interface RoomEventBus {
  /** Starts listening (idempotent); subscribe() calls it. */
  start(): Promise<void>
  subscribe(roomId: number | null, listener: Listener): Promise<() => void>
  /** Current state of one room, or of every room (ordered by name). */
  snapshot(roomId?: number): Promise<RoomState[]>
  /** Events after lastEventId for this filter, or undefined when they are no longer known. */
  since(lastEventId: string, roomId: number | null): RoomEvent[] | undefined
  /** The id of the newest event (what a snapshot taken now is equivalent to). */
  currentId(): string
  subscribers(): number
  stop(): Promise<void>
}

export function createRoomEventBus(ctx: Ctx, options: { refreshMs?: number } = {}): RoomEventBus {
  const refreshMs = options.refreshMs ?? 30_000
  const boot = Date.now().toString(36)
  const listeners = new Map<Listener, number | null>()
  const known = new Map<number, string>()
  const history: RoomEvent[] = []
  const pending = new Set<number>()
  let seq = 0
  let started: Promise<void> | undefined
  let unlisten: (() => Promise<void>) | undefined
  let flushTimer: ReturnType<typeof setTimeout> | undefined
  let refreshTimer: ReturnType<typeof setInterval> | undefined

  async function states(ids?: number[]): Promise<RoomState[]> {
    const { rooms } = await listRoomViews(ctx, ids ? { ids } : {})
    if (rooms.length === 0) return []
    const now = ctx.clock.now()
    const rows = await ctx.database.db
      .select({
        id: reservations.id, roomId: reservations.roomId, userName: users.name,
        start: reservations.startTime, end: reservations.endTime,
      })
      .from(reservations)
      .innerJoin(users, eq(users.id, reservations.userId))
      .where(and(
        inArray(reservations.roomId, rooms.map((r) => r.id)),
        eq(reservations.status, 'active'),
        gt(reservations.endTime, now),
        lt(reservations.startTime, endOfLocalDay(now, ctx.config.appTimezone)),
      ))
      .orderBy(asc(reservations.startTime))
    return rooms.map((room) => ({
      room,
      upcoming: rows.filter((r) => r.roomId === room.id).slice(0, 10).map((r) => ({
        id: r.id, user_name: r.userName, start_time: formatUtc(r.start), end_time: formatUtc(r.end),
      })),
    }))
  }

  function emit(state: RoomState) {
    const event: RoomEvent = { id: `${boot}-${++seq}`, seq, state }
    history.push(event)
    if (history.length > HISTORY) history.shift()
    for (const [listener, filter] of listeners) {
      if (filter === null || filter === state.room.id) {
        try {
          listener(event)
        } catch (error) {
          ctx.log.warn('room event listener failed', { error: String(error) })
        }
      }
    }
  }

  /** Recomputes the given rooms (all known ones when undefined) and emits those that changed. */
  async function refresh(ids?: number[]) {
    try {
      for (const state of await states(ids)) {
        const json = JSON.stringify(state)
        if (known.get(state.room.id) === json) continue
        known.set(state.room.id, json)
        emit(state)
      }
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
    if (listeners.size > 0 && !refreshTimer) refreshTimer = setInterval(() => void refresh(), refreshMs)
    if (listeners.size === 0 && refreshTimer) {
      clearInterval(refreshTimer)
      refreshTimer = undefined
    }
  }

  const bus: RoomEventBus = {
    start() {
      started ??= (async () => {
        unlisten = await ctx.database.listen(ROOM_EVENTS_CHANNEL, (payload) => {
          const id = Number(payload)
          if (Number.isInteger(id) && id > 0) schedule(id)
        })
        // The baseline: what "changed" is measured against.
        for (const state of await states()) known.set(state.room.id, JSON.stringify(state))
      })()
      return started
    },
    async subscribe(roomId, listener) {
      await bus.start()
      listeners.set(listener, roomId)
      updateRefreshTimer()
      return () => {
        listeners.delete(listener)
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
    subscribers: () => listeners.size,
    async stop() {
      listeners.clear()
      updateRefreshTimer()
      clearTimeout(flushTimer)
      await unlisten?.()
    },
  }
  return bus
}

function endOfLocalDay(now: Date, timeZone: string): Date {
  const local = localParts(now, timeZone)
  return zonedToUtc(local.year, local.month, local.day, 86400, timeZone)
}
