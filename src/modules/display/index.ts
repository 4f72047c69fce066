/**
 * The door display (root only, like the scan page):
 *   GET /display/:id            the page; with ?t=<token> (the room's display link) it shows the
 *                               rotating check-in code, without it the public code; Russian or
 *                               English first by Accept-Language, or ?lang=ru|en (a kiosk browser)
 *   GET /display/:id/events?t=  the paired display's stream: room events and `code` events
 *   GET /display/:id/events     an unpaired display's stream: room events only
 *   (the events carry the display's state, state.ts: no student's name, decision 029)
 *   GET /display/assets/display.js
 * and, for admins (under /api and at the root like every feature):
 *   GET /admin/rooms/:id/display-link   the link that pairs a display with the room
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { Forbidden, NotFound } from '../../lib/errors'
import { authGuard } from '../../plugins/auth'
import { checkDisplayToken } from '../../core/bookings/checkin/keys'
import { currentCode, displayLink } from './code'
import { DISPLAY_CSP, DISPLAY_SCRIPT, renderDisplay } from './page'
import { frame, SSE_HEADERS } from '../../lib/sse'
import { displayEventStream } from './stream'
import { displayState } from './state'
import { oneRoomStream } from '../../core/events/stream'
import { requestLanguage } from '../../lib/i18n'
import { Id } from '../../lib/input'
import { Int } from '../../lib/wire-types'
import { routeRules } from '../../plugins/route-rules'
import { ROOM_MSG } from '../../core/bookings/messages'
import { roomKey } from '../../core/bookings/rooms/writes'

const RoomId = t.Object({ id: Id('room id') })
const Token = t.Object({ t: t.Optional(t.String({ maxLength: 64 })) })
const PageQuery = t.Object({ t: t.Optional(t.String({ maxLength: 64 })), lang: t.Optional(t.String({ maxLength: 8 })) })
const DISPLAY_LINK_INVALID = 'display link is not valid: open the current link from the admin (GET /api/admin/rooms/:id/display-link)'

async function roomKeyOf(ctx: Ctx, id: number) {
  const room = await roomKey(ctx.database.db, id)
  if (!room) throw new NotFound(ROOM_MSG.notFound)
  return room
}

export const displayRoutes = (ctx: Ctx) =>
  new Elysia()
    .get('/display/assets/display.js', ({ set }) => {
      set.headers['content-type'] = 'text/javascript; charset=utf-8'
      set.headers['cache-control'] = 'public, max-age=300'
      return DISPLAY_SCRIPT
    }, { detail: { hide: true } })
    .get('/display/:id', async ({ params, query, request, set }) => {
      const room = await roomKeyOf(ctx, params.id)
      const [state] = await ctx.events.snapshot(params.id)
      if (!state) throw new NotFound(ROOM_MSG.notFound)
      const link = query.t === undefined ? 'missing' : checkDisplayToken(ctx.config.secretKey, room, query.t)
      const lang = query.lang === 'ru' || query.lang === 'en' ? query.lang : requestLanguage(request)
      set.headers['content-type'] = 'text/html; charset=utf-8'
      set.headers['cache-control'] = 'no-store'
      set.headers['content-language'] = lang
      set.headers.vary = 'Accept-Language'
      set.headers['content-security-policy'] = DISPLAY_CSP
      // The link's token is in this page's URL: never send it on as a Referer.
      set.headers['referrer-policy'] = 'no-referrer'
      if (link !== 'valid' && link !== 'missing') set.status = 403
      return renderDisplay({
        state: displayState(state),
        // APP_TIMEZONE unset: the page shows the device's own zone (decision 029)
        timeZone: ctx.config.appTimezoneExplicit ? ctx.config.appTimezone : null,
        lang,
        now: ctx.clock.now(),
        paired: link === 'valid' ? { token: query.t!, code: await currentCode(ctx.config, room, ctx.clock.now()) } : undefined,
        badLink: link !== 'valid' && link !== 'missing',
      })
    }, { params: RoomId, query: PageQuery, detail: { hide: true } })
    .get('/display/:id/events', async ({ params, query, request, set }) => {
      const room = await roomKeyOf(ctx, params.id)
      const headers = { ...(set.headers as Record<string, string>), ...SSE_HEADERS }
      // Unpaired: the room's events as the display shows them, no codes.
      if (query.t === undefined) return new Response(oneRoomStream(ctx.events, room.id, request, ctx.log, displayState), { headers })
      const link = checkDisplayToken(ctx.config.secretKey, room, query.t)
      // A link retired while the display was away: tell its page, which reloads and says so.
      if (link === 'outdated') return new Response(frame('unpaired', { msg: DISPLAY_LINK_INVALID }), { headers })
      if (link !== 'valid') throw new Forbidden(DISPLAY_LINK_INVALID)
      return new Response(displayEventStream(ctx, room, request), { headers })
    }, { params: RoomId, query: Token, detail: { hide: true } })

export const displayAdminRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/admin/rooms', detail: { tags: ['Admin', 'QR'] } })
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/:id/display-link', async ({ params, set }) => {
      const room = await roomKeyOf(ctx, params.id)
      set.headers['cache-control'] = 'no-store'
      return { display_url: displayLink(ctx.config, room), code_period_s: ctx.config.displayCodePeriodS }
    }, {
      auth: 'admin',
      params: RoomId,
      response: { 200: t.Object({
        display_url: t.String({ description: "open it on the room's door display: it then shows the rotating check-in code" }),
        code_period_s: Int({ minimum: 1, description: 'seconds each code is current (DISPLAY_CODE_PERIOD_S); it is accepted one period more' }),
      }) },
      errors: { 404: [ROOM_MSG.notFound] },
      detail: {
        summary: "The link that pairs a door display with the room (shows the rotating check-in code); generate-qr replaces it",
        description: 'Keep it like a password: whoever opens it sees the current check-in code from anywhere. `POST /admin/rooms/:id/generate-qr` retires it together with the printed posters.',
      },
    })
