/**
 * A Server-Sent Events stream over the room event bus: the reconnect delay, then a snapshot (or,
 * with a known Last-Event-ID, the events missed since), then one event per change, with comment
 * heartbeats so proxies keep idle streams open. Ends cleanly when the client goes away.
 */
import type { RoomEvent, RoomEventBus, RoomState } from './bus'

export const HEARTBEAT_MS = 15_000
export const RETRY_MS = 3000

type Shape = (state: RoomState) => unknown

export function frame(event: string, data: unknown, id?: string): string {
  return `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

export function roomEventStream(options: {
  bus: RoomEventBus
  roomId: number | null
  lastEventId: string | null
  signal: AbortSignal
  /** what a snapshot event carries */
  snapshot: (states: RoomState[]) => unknown
  /** what a change event carries */
  change: Shape
}): ReadableStream<Uint8Array> {
  const { bus, roomId, signal } = options
  const encoder = new TextEncoder()
  let cleanup: (() => void) | undefined

  return new ReadableStream<Uint8Array>({
    async start(controller) {
      let open = true
      const send = (text: string) => {
        if (!open) return
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          close()
        }
      }
      // Changes that arrive while the snapshot is being read wait until it has been sent.
      let queue: RoomEvent[] | null = []
      const unsubscribe = await bus.subscribe(roomId, (event) => {
        if (queue) queue.push(event)
        else send(frame('room', options.change(event.state), event.id))
      })
      const heartbeat = setInterval(() => send(': heartbeat\n\n'), HEARTBEAT_MS)
      const close = () => {
        if (!open) return
        open = false
        clearInterval(heartbeat)
        unsubscribe()
        signal.removeEventListener('abort', close)
        try {
          controller.close()
        } catch {}
      }
      cleanup = close
      signal.addEventListener('abort', close)

      send(`retry: ${RETRY_MS}\n\n`)
      const missed = options.lastEventId ? bus.since(options.lastEventId, roomId) : undefined
      if (missed) {
        for (const event of missed) send(frame('room', options.change(event.state), event.id))
      } else {
        const id = bus.currentId()
        send(frame('snapshot', options.snapshot(await bus.snapshot(roomId ?? undefined)), id))
      }
      const waiting = queue
      queue = null
      for (const event of waiting) send(frame('room', options.change(event.state), event.id))
    },
    cancel() {
      cleanup?.()
    },
  })
}
