/**
 * The waitlist routes (issue 28): wait for a taken slot, list and leave one's waits. Thin handlers
 * over the core (src/core/bookings/waitlist); the booking itself is made by the waitlist service.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { WAITLIST_ERRORS } from '../../core/bookings/waitlist/messages'
import { joinWaitlist, leaveWaitlist, myWaitlist } from '../../core/bookings/waitlist/waitlist'
import { authGuard } from '../../plugins/auth'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'
import { EntryIdParams, EntryList, EntryReply, RoomIdParams, TimeRangeBody } from './model'

const tags = ['Reservations']

export const waitlistRoutes = (ctx: Ctx) =>
  new Elysia({ detail: { tags } })
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .post('/rooms/:id/waitlist', async ({ params, body, user, set }) => {
      const entry = await joinWaitlist(ctx, user, params.id, body)
      set.status = 201
      return { entry }
    }, {
      auth: 'student',
      params: RoomIdParams,
      body: TimeRangeBody,
      response: { 201: EntryReply },
      limit: perMinute('waitlist.join', 60),
      errors: WAITLIST_ERRORS.join,
      detail: {
        tags,
        summary: 'Wait for a taken slot: booked for you when it frees, if your booking passes every rule then',
        description: 'The wanted booking is checked as POST /rooms/{id}/reserve checks it (times, window, fair use), except that the slot is taken (or closed). A free slot is 409: book it. When the slot frees (a cancel, a release, a closure lifted...), the first waiter whose booking passes every rule right then gets it booked (reservation.created with waitlist_entry_id); if it fails their rules, the next one. Entries expire at their start. At most 10 waits at a time.',
      },
    })
    .get('/me/waitlist', async ({ user }) => ({ entries: await myWaitlist(ctx, user.id) }), {
      auth: 'student',
      response: { 200: EntryList },
      limit: perMinute('waitlist.mine', 300),
      detail: { tags, summary: 'Your waitlist entries (every status), latest start first' },
    })
    .delete('/me/waitlist/:id', async ({ params, user }) => ({ entry: await leaveWaitlist(ctx, user, params.id) }), {
      auth: 'student',
      params: EntryIdParams,
      response: { 200: EntryReply },
      limit: perMinute('waitlist.leave', 120),
      errors: WAITLIST_ERRORS.leave,
      detail: { tags, summary: 'Stop waiting; idempotent (an entry already booked, expired or left is answered as it is)' },
    })
