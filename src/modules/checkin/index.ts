/**
 * Check-in routes for the frontend (mounted under /api and at the root like every feature):
 * GET /scan/:id?k=, POST /scan/:id/book, POST /reservations/:id/check-in, POST /reservations/:id/check-out.
 * The server-rendered scan page (/r/:id, root only) is in page.ts.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { parseCookies } from '../../lib/cookies'
import { ACCESS_COOKIE, actorFor, authGuard, bearerToken, verifyAccess } from '../../plugins/auth'
import type { Actor } from '../../core/identity/actors'
import { ReservationCreated } from '../../core/bookings/model'
import { BookNowBody, CheckInBody, CheckInReply, ReservationParams, ScanParams, ScanQuery, ScanReply } from './model'
import { bookNow, checkIn, checkOut, scanView } from '../../core/bookings/checkin/checkin'
import { routeRules } from '../../plugins/route-rules'
import { BOOKING_ERRORS, ROOM_MSG } from '../../core/bookings/messages'

/** The caller when a token comes with the request; no token is an anonymous viewer, a bad one is refused as usual. */
async function optionalActor(ctx: Ctx, request: Request): Promise<Actor | undefined> {
  if (!bearerToken(request) && !parseCookies(request.headers.get('cookie'))[ACCESS_COOKIE]) return undefined
  return actorFor(ctx, await verifyAccess(ctx, request, undefined))
}

export const checkinRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/scan/:id', async ({ params, query, request }) => scanView(ctx, await optionalActor(ctx, request), params.id, query.k), {
      params: ScanParams,
      query: ScanQuery,
      response: { 200: ScanReply },
      errors: { 404: [ROOM_MSG.notFound] },
      detail: {
        tags: ['Scan'],
        summary: "What a scan of the room's QR code offers the caller: check_in, book_now, login or view",
        description: 'Logged out callers get `login`. Releases the room\'s due no-shows first, so a slot freed at +15 min shows as free at once.',
      },
    })
    .post('/scan/:id/book', async ({ params, body, user, set }) => {
      const reservation = await bookNow(ctx, user, params.id, body.k, body.minutes)
      set.status = 201
      return { reservation }
    }, {
      auth: 'student',
      params: ScanParams,
      body: BookNowBody,
      response: { 201: ReservationCreated },
      errors: BOOKING_ERRORS.bookNow,
      detail: {
        tags: ['Scan'],
        summary: 'Walk-up booking at the door: from now for 30/60/90 minutes (capped), checked in at once with the proof the room requires',
        description: "With `k` from the door display (or the printed poster, where the room's `check_in_proof` allows it; anything for `none`) the booking is checked in at once. Without `k` (the public qr_code_url) it is an ordinary booking from now, not checked in. A `k` that proves nothing (expired display code, replaced poster, poster key in a `display` room) is refused with a message saying what to scan.",
      },
    })
    .post('/reservations/:id/check-in', async ({ params, body, user }) => ({ reservation: await checkIn(ctx, user, params.id, body.k) }), {
      auth: 'student',
      params: ReservationParams,
      body: CheckInBody,
      response: { 200: CheckInReply },
      errors: BOOKING_ERRORS.checkIn,
      detail: {
        tags: ['Reservations'],
        summary: "Check in to your booking with the room's proof of presence, from check_in_opens_min before its start until it would be released",
        description: "`k` must satisfy the room's `check_in_proof`: `display` the door display's rotating code (current for DISPLAY_CODE_PERIOD_S, accepted one period more), `poster` the printed poster's key or a display code, `none` nothing. A missing `k` is 400, a wrong, expired or replaced one 403, each message saying what to scan.",
      },
    })
    .post('/reservations/:id/check-out', async ({ params, user }) => ({ reservation: await checkOut(ctx, user, params.id) }), {
      auth: 'student',
      params: ReservationParams,
      response: { 200: CheckInReply },
      errors: BOOKING_ERRORS.checkOut,
      detail: {
        tags: ['Reservations'],
        summary: 'End your booking now: the rest of its slot is free at once',
      },
    })
