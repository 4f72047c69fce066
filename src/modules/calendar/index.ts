/**
 * Calendar feeds (issue 28, docs/calendar.md): the personal feed's token (POST and DELETE
 * /calendar/token), the personal feed GET /calendar/<token>.ics, a room's public feed GET
 * /rooms/:id/calendar.ics, and one booking as iCalendar GET /reservations/:id/ics. The feeds
 * answer with an ETag of their bytes and 304 to a matching If-None-Match.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import { routeRules } from '../../plugins/route-rules'
import { perMinute } from '../../plugins/rate-limit'
import { NotFound } from '../../lib/errors'
import { BOOKING_MSG, ROOM_MSG } from '../../core/bookings/messages'
import { issueCalendarToken, personalFeed, revokeCalendarToken, roomFeed } from '../../core/calendar/feeds'
import { reservationIcsFor } from '../../core/calendar/ics'
import { CALENDAR_MSG } from '../../core/calendar/messages'
import { FeedParams, FeedUrls, ReservationParams, Revoked, RoomParams, calendarAnswer } from './model'

const CONTENT_TYPE = 'text/calendar; charset=utf-8'
/** `<token>.ics`: the token as issued (43 base64url characters), leniently sized. */
const FEED_FILE = /^([A-Za-z0-9_-]{16,128})\.ics$/

interface Answer {
  request: Request
  set: { status?: number | string; headers: Record<string, string | number> }
}

/** The calendar with its ETag (a hash of its bytes), or 304 when If-None-Match names it. */
function calendarReply({ request, set }: Answer, body: string, cacheControl: string): string {
  const etag = `"${new Bun.CryptoHasher('sha256').update(body).digest('base64url').slice(0, 27)}"`
  set.headers.etag = etag
  set.headers['cache-control'] = cacheControl
  const matches = request.headers.get('if-none-match')?.split(/\s*,\s*/).some((tag) => tag === '*' || tag.replace(/^W\//, '') === etag)
  if (matches) {
    set.status = 304
    return ''
  }
  set.headers['content-type'] = CONTENT_TYPE
  return body
}

export const calendarRoutes = (ctx: Ctx) =>
  new Elysia({ detail: { tags: ['Calendar'] } })
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .post('/calendar/token', ({ user }) => issueCalendarToken(ctx, user.id), {
      auth: 'student',
      response: { 200: FeedUrls },
      limit: perMinute('calendar.token', 30),
      detail: {
        tags: ['Calendar'],
        summary: 'Create your personal calendar feed, or rotate its secret URL (the old one then answers 404)',
      },
    })

    .delete('/calendar/token', ({ user }) => revokeCalendarToken(ctx, user.id), {
      auth: 'student',
      response: { 200: Revoked },
      limit: perMinute('calendar.token', 30),
      detail: { tags: ['Calendar'], summary: 'Revoke your personal calendar feed: its URL answers 404' },
    })

    .get('/calendar/:file', async ({ params, request, set }) => {
      const token = FEED_FILE.exec(params.file)?.[1]
      const body = token ? await personalFeed(ctx, token) : null
      if (body === null) throw new NotFound(CALENDAR_MSG.feedNotFound)
      return calendarReply({ request, set }, body, 'private, max-age=0, must-revalidate')
    }, {
      params: FeedParams,
      limit: perMinute('calendar.feed', 300, 'ip'),
      errors: { 404: [CALENDAR_MSG.feedNotFound] },
      detail: {
        tags: ['Calendar'],
        summary: 'Your personal calendar feed (iCalendar): your bookings and the lessons of your series, 30 days back to 180 ahead',
        description: 'The URL is the secret: no sign-in. A series is one recurring event (RRULE) with EXDATE for its cancelled occurrences and RECURRENCE-ID overrides for moved ones; a cancelled or released booking is STATUS:CANCELLED. ETag and If-None-Match (304).',
        responses: calendarAnswer('The feed, text/calendar'),
      },
    })

    .get('/rooms/:id/calendar.ics', async ({ params, request, set }) => {
      const body = await roomFeed(ctx, params.id)
      if (body === null) throw new NotFound(ROOM_MSG.notFound)
      return calendarReply({ request, set }, body, 'public, max-age=0, must-revalidate')
    }, {
      params: RoomParams,
      limit: perMinute('calendar.feed', 300, 'ip'),
      errors: { 404: [ROOM_MSG.notFound] },
      detail: {
        tags: ['Calendar'],
        summary: "A room's public calendar feed (iCalendar): its bookings and lessons, 30 days back to 180 ahead; a student's booking shows as Occupied",
        responses: calendarAnswer('The feed, text/calendar'),
      },
    })

    .get('/reservations/:id/ics', async ({ params, user, set }) => {
      const body = await reservationIcsFor(ctx, user, params.id)
      set.headers['content-type'] = CONTENT_TYPE
      set.headers['content-disposition'] = `attachment; filename="reservation-${params.id}.ics"`
      set.headers['cache-control'] = 'private, no-store'
      return body
    }, {
      auth: 'student',
      params: ReservationParams,
      limit: perMinute('calendar.reservation', 120),
      errors: { 403: [BOOKING_MSG.notYours], 404: [BOOKING_MSG.notFound] },
      detail: {
        tags: ['Calendar'],
        summary: 'One booking as iCalendar (its owner, an admin): METHOD:PUBLISH, STATUS:CANCELLED once cancelled or released',
        responses: { 200: calendarAnswer('The booking, text/calendar')[200] },
      },
    })
