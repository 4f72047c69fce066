/**
 * GET /rooms/events (every room) and GET /rooms/:id/events (one room, with its remaining bookings
 * of the day) as Server-Sent Events. The events and their stream come from the core
 * (src/core/events: bus.ts, stream.ts).
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { isDatabaseUnavailable } from '../../plugins/errors'
import { getRoomView } from '../../core/bookings/views/rooms'
import { oneRoomStream, roomEventStream } from '../../core/events/stream'
import { Id } from '../../lib/input'
import { SSE_HEADERS } from '../../lib/sse'
import { unreadCount } from '../../core/notifications/inbox'
import { pageViewer } from '../../plugins/auth'

const sse = { 200: { description: 'text/event-stream: `snapshot`, then `room` events', content: { 'text/event-stream': { schema: { type: 'string' as const } } } } }

export const roomEventRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/rooms', detail: { tags: ['Rooms'] } })
    .get('/events', async ({ request, set }) => {
      // Signed in (the session cookie): this user's new notices come on the same stream.
      const viewer = await pageViewer(ctx, request).catch(() => undefined)
      const stream = roomEventStream({
        extra: viewer ? (send) => ctx.notifier.subscribe(viewer.actor.id, () => {
          unreadCount(ctx, viewer.actor.id).then((unread) => send('notification', { unread }), () => {})
        }) : undefined,
        bus: ctx.events,
        roomId: null,
        lastEventId: request.headers.get('last-event-id'),
        signal: request.signal,
        snapshot: (states) => ({ rooms: states.map((s) => s.room) }),
        change: (state) => ({ room: state.room }),
        log: ctx.log,
      })
      return new Response(stream, { headers: { ...(set.headers as Record<string, string>), ...SSE_HEADERS } })
    }, {
      detail: {
        summary: 'Live status of every room (Server-Sent Events)',
        description: 'First a `snapshot` event `{"rooms":[Room]}`, then a `room` event `{"room":Room}` whenever a room\'s status, current or next booking changes, from any instance. Opened with the session cookie, it also carries a `notification` event `{"unread"}` whenever the user gets a new notice (GET /api/me/notifications). Reconnect with `Last-Event-ID` to resume. While the database cannot be reached the stream stays open: an `unavailable` event `{"msg"}`, then a fresh `snapshot` once it answers again.',
        responses: sse,
      },
    })
    .get('/:id/events', async ({ params, request, set }) => {
      try {
        await getRoomView(ctx, params.id) // 404 before the stream starts
      } catch (error) {
        // The database is down: open the stream anyway; it says so and waits (a room that turns
        // out not to exist gets an `error` event then).
        if (!isDatabaseUnavailable(error)) throw error
      }
      const stream = oneRoomStream(ctx.events, params.id, request, ctx.log)
      return new Response(stream, { headers: { ...(set.headers as Record<string, string>), ...SSE_HEADERS } })
    }, {
      params: t.Object({ id: Id('room id') }),
      detail: {
        summary: "Live status of one room and its remaining bookings today (Server-Sent Events)",
        description: 'Each event (`snapshot`, then `room`) carries `{"room":Room,"upcoming":[{id,user_name,start_time,end_time}]}`. While the database cannot be reached: an `unavailable` event `{"msg"}`, then a fresh `snapshot` once it answers again.',
        responses: sse,
      },
    })
