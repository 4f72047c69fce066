/**
 * A Server-Sent Events stream over the room event bus: the reconnect delay, then a snapshot (or,
 * with a known Last-Event-ID, the events missed since), then one event per change, with comment
 * heartbeats so proxies keep idle streams open. Ends cleanly when the client goes away.
 *
 * While the database cannot be reached (when the stream opens, or later) the stream stays open:
 * it sends one `unavailable` event `{"msg"}`, then waits, and sends a fresh `snapshot` as soon as
 * live updates run again (the bus's resync, or a retry every WAIT_RETRY_MS).
 */
import { isDatabaseUnavailable } from '../../db/errors'
import type { Logger } from '../../lib/log'
import type { RoomEvent, RoomEventBus, RoomState } from './bus'
import { frame } from '../../lib/sse'

const HEARTBEAT_MS = 15_000
const RETRY_MS = 3000
/** While waiting for the database, how often a stream checks whether it can send its snapshot. */
const WAIT_RETRY_MS = 1000
const UNAVAILABLE_MSG = 'database unavailable: live updates resume when it answers again'

type Shape = (state: RoomState) => unknown

export function roomEventStream(options: {
  bus: RoomEventBus
  roomId: number | null
  lastEventId: string | null
  signal: AbortSignal
  /** what a snapshot event carries */
  snapshot: (states: RoomState[]) => unknown
  /** what a change event carries */
  change: Shape
  log?: Logger
  /**
   * Other events for this stream's reader (a signed-in user's new notices): called once the stream
   * opens with a way to send an event; returns what stops them.
   */
  extra?: (send: (event: string, data: unknown) => void) => () => void
}): ReadableStream<Uint8Array> {
  const { bus, roomId, signal } = options
  const encoder = new TextEncoder()
  let cleanup: (() => void) | undefined

  return new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true
      // starting: the first snapshot is being read (changes wait in `queue`); live: changes are
      // sent as they come; waiting: the database cannot be reached, a snapshot follows its return.
      let phase: 'starting' | 'live' | 'waiting' = 'starting'
      let queue: RoomEvent[] = []
      let waitTimer: ReturnType<typeof setTimeout> | undefined
      const send = (text: string) => {
        if (!open) return
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          close()
        }
      }
      const sendChange = (event: RoomEvent) => send(frame('room', options.change(event.state), event.id))

      /** Sends the snapshot of these states (every room); false when this stream's room is gone. */
      const sendSnapshot = (states: RoomState[], id: string): boolean => {
        const mine = roomId === null ? states : states.filter((s) => s.room.id === roomId)
        if (roomId !== null && mine.length === 0) {
          send(frame('error', { msg: 'room not found' }))
          close()
          return false
        }
        send(frame('snapshot', options.snapshot(mine), id))
        return true
      }

      const goLive = () => {
        phase = 'live'
        clearTimeout(waitTimer)
        const waiting = queue
        queue = []
        for (const event of waiting) sendChange(event)
      }

      const wait = () => {
        if (!open) return
        if (phase !== 'waiting') send(frame('unavailable', { msg: UNAVAILABLE_MSG }))
        phase = 'waiting'
        queue = []
        clearTimeout(waitTimer)
        waitTimer = setTimeout(() => {
          if (bus.live()) void begin(false)
          else wait()
        }, WAIT_RETRY_MS)
      }

      /** The first snapshot (or the missed events), or after an outage a fresh snapshot. */
      const begin = async (resume: boolean) => {
        if (!(await bus.start())) return wait()
        const missed = resume && options.lastEventId ? bus.since(options.lastEventId, roomId) : undefined
        if (missed) {
          for (const event of missed) sendChange(event)
          return goLive()
        }
        const id = bus.currentId()
        let states: RoomState[]
        try {
          states = await bus.snapshot(roomId ?? undefined)
        } catch (error) {
          if (!isDatabaseUnavailable(error)) throw error
          return wait()
        }
        if (!open || phase === 'live') return
        if (sendSnapshot(states, id)) goLive()
      }

      const unsubscribe = bus.subscribe(roomId, {
        event(event) {
          if (phase === 'live') sendChange(event)
          else if (phase === 'starting') queue.push(event)
          // waiting: the snapshot that ends the wait includes it
        },
        down() {
          if (phase === 'live') wait()
        },
        resync(states, id) {
          if (phase !== 'waiting') return
          if (sendSnapshot(states, id)) goLive()
        },
      })
      const heartbeat = setInterval(() => send(': heartbeat\n\n'), HEARTBEAT_MS)
      const stopExtra = options.extra?.((event, data) => send(frame(event, data)))
      const close = () => {
        if (!open) return
        open = false
        stopExtra?.()
        clearInterval(heartbeat)
        clearTimeout(waitTimer)
        unsubscribe()
        signal.removeEventListener('abort', close)
        try {
          controller.close()
        } catch {}
      }
      cleanup = close
      signal.addEventListener('abort', close)

      send(`retry: ${RETRY_MS}\n\n`)
      void begin(true).catch((error) => {
        options.log?.error('room event stream failed', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })
        send(frame('error', { msg: 'internal server error' }))
        close()
      })
    },
    cancel() {
      cleanup?.()
    },
  })
}

/**
 * A room's state as the public stream sends it: the room and its remaining bookings today as
 * `{id,user_name,start_time,end_time}`, `user_name` as PUBLIC_USER_NAMES says. What the door pages
 * read besides (lesson, title, the name they may show: bus.ts PageBooking) stays on the server.
 */
function publicRoomState(state: RoomState) {
  return {
    room: state.room,
    upcoming: state.upcoming.map((b) => ({ id: b.id, user_name: b.user_name, start_time: b.start_time, end_time: b.end_time })),
  }
}

/**
 * One room's stream (GET /rooms/:id/events, and inside the door display's, which gives its own
 * `shape`): each event is the room's state.
 */
export function oneRoomStream(bus: RoomEventBus, roomId: number, request: Request, log?: Logger, shape: Shape = publicRoomState): ReadableStream<Uint8Array> {
  return roomEventStream({
    bus,
    roomId,
    lastEventId: request.headers.get('last-event-id'),
    signal: request.signal,
    snapshot: (states) => shape(states[0]!),
    change: shape,
    log,
  })
}
