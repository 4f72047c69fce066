/**
 * The paired door display's live stream: the room's own events (`snapshot`, then `room`, as
 * GET /api/rooms/:id/events sends them, but carrying the display's state: state.ts) with a `code` event carrying the rotating check-in code
 * at once and again at the start of every period. The period is read from the injected clock: the
 * stream looks at it at each period boundary and at least every CODE_TICK_MS, so a fake clock
 * moved by a test is followed within that time. Codes need no database: they keep coming during an
 * outage. When the room's qr_version changes (generate-qr), the display link is retired: the
 * stream sends `unpaired` and ends.
 */
import type { Ctx } from '../../context'
import { codeStep, stepStart } from '../../core/bookings/checkin/keys'
import { oneRoomStream } from '../../core/events/stream'
import { frame } from '../../lib/sse'
import { currentCode } from './code'
import { displayState } from './state'
import { roomKey } from '../../core/bookings/rooms/writes'

/** The longest the stream goes without looking at the clock. */
const CODE_TICK_MS = 1000

export function displayEventStream(ctx: Ctx, room: { id: number; qrVersion: number }, request: Request): ReadableStream<Uint8Array> {
  const inner = oneRoomStream(ctx.events, room.id, request, ctx.log, displayState)
  const encoder = new TextEncoder()
  let stop: (() => void) | undefined

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const reader = inner.getReader()
      let open = true
      let timer: ReturnType<typeof setTimeout> | undefined
      let lastStep: number | undefined

      const close = () => {
        if (!open) return
        open = false
        clearTimeout(timer)
        request.signal.removeEventListener('abort', close)
        reader.cancel().catch(() => {})
        try {
          controller.close()
        } catch {}
      }
      stop = close
      const send = (chunk: Uint8Array | string) => {
        if (!open) return
        try {
          controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk)
        } catch {
          close()
        }
      }
      request.signal.addEventListener('abort', close)

      /** Retires the stream when the room's display link has changed; a database error changes nothing. */
      const checkStillPaired = async () => {
        try {
          const row = await roomKey(ctx.database.db, room.id)
          if (row?.qrVersion === room.qrVersion) return
          send(frame('unpaired', { msg: 'display link replaced: open the new link from the admin' }))
          close()
        } catch (error) {
          ctx.log.warn('display stream could not check its room', { room_id: room.id, error: (error as Error).message })
        }
      }

      const tick = async () => {
        timer = undefined
        if (!open) return
        const now = ctx.clock.now()
        const step = codeStep(now, ctx.config.displayCodePeriodS)
        if (step !== lastStep) {
          const first = lastStep === undefined
          lastStep = step
          try {
            send(frame('code', await currentCode(ctx.config, room, now)))
          } catch (error) {
            ctx.log.warn('could not render the display code', { room_id: room.id, error: (error as Error).message })
          }
          if (!first) void checkStillPaired()
        }
        if (!open) return
        const untilNext = stepStart(step + 1, ctx.config.displayCodePeriodS).getTime() - now.getTime()
        timer = setTimeout(tick, Math.max(20, Math.min(CODE_TICK_MS, untilNext)))
      }

      // The room's events pass through whole (one chunk is one frame), between the code events.
      void (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read()
            if (done) break
            send(value)
          }
        } catch {}
        close()
      })()
      void tick()
    },
    cancel() {
      stop?.()
    },
  })
}
