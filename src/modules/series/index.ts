/**
 * /series routes (issue 15): recurring bookings for teachers and admins. Thin handlers over the
 * booking core (src/core/bookings/series.ts).
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { BOOKING_MSG, POLICY_403, ROOM_MSG, SERIES_MSG } from '../../core/bookings/messages'
import { MAX_OCCURRENCES } from '../../core/bookings/timetable/recurrence'
import { cancelSeries, createSeries, getSeries, listSeries, precheckSeries, updateSeries } from '../../core/bookings/timetable/series'
import { TIME_MSG } from '../../lib/time'
import { authGuard } from '../../plugins/auth'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'
import {
  CancelSeriesQuery, CreateSeriesBody, PrecheckBody, PrecheckReply, SeriesChanged, SeriesCreated, SeriesDetail, SeriesList,
  SeriesListQuery, SeriesParams, UpdateSeriesBody,
} from './model'

const RULE_ERRORS = [
  TIME_MSG.invalid, TIME_MSG.required, BOOKING_MSG.badRange, BOOKING_MSG.past, SERIES_MSG.rruleRequired, SERIES_MSG.rruleUnknownPart('<PART>'),
  SERIES_MSG.rruleFreq, SERIES_MSG.rruleNoEnd, SERIES_MSG.rruleBothEnds, SERIES_MSG.tooMany(MAX_OCCURRENCES), SERIES_MSG.none,
  SERIES_MSG.rruleCharacter('<character>'), SERIES_MSG.rrulePartForm('<part>'), SERIES_MSG.rruleRepeated('<PART>'),
  SERIES_MSG.rruleValue('<PART>', '<what it must be>'), SERIES_MSG.rruleNotWith('<PART>', '<other>'), SERIES_MSG.rruleSetPosAlone,
  BOOKING_MSG.tooFarAhead('<BOOKING_HORIZON_DAYS>'), BOOKING_MSG.startsEarly, BOOKING_MSG.endsLate,
]
const PLAN_ERRORS = {
  400: RULE_ERRORS,
  403: [SERIES_MSG.forSomeoneElse, BOOKING_MSG.notBookable, ...POLICY_403],
  404: [ROOM_MSG.notFound, BOOKING_MSG.userNotFound, SERIES_MSG.termNotFound],
  409: [BOOKING_MSG.blocked],
}
const tags = ['Series']

export const seriesRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/series', detail: { tags } })
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .post('/precheck', ({ body, user }) => precheckSeries(ctx, user, body), {
      auth: 'teacher',
      body: PrecheckBody,
      response: { 200: PrecheckReply },
      limit: perMinute('series.precheck', 60),
      errors: PLAN_ERRORS,
      detail: { tags, summary: 'The occurrences a series would have, each with its conflict (a booking or a closure); nothing is written' },
    })
    .post('', async ({ body, user, set }) => {
      const outcome = await createSeries(ctx, user, body)
      set.status = 201
      return outcome
    }, {
      auth: 'teacher',
      body: CreateSeriesBody,
      response: { 201: SeriesCreated },
      limit: perMinute('series.create', 30),
      errors: { ...PLAN_ERRORS, 409: [SERIES_MSG.conflicts, BOOKING_MSG.blocked, BOOKING_MSG.conflict] },
      detail: {
        tags,
        summary: 'Create a recurring booking (teachers, admins): every occurrence becomes a reservation',
        description: 'Times are kept in APP_TIMEZONE: a 10:00 lesson stays at 10:00 local across a DST change. Without `skip_conflicts` any conflict (an active booking or a closure) is 409 `{"msg","conflicts":[...]}` and nothing is created; with it, the conflicting occurrences are listed in `skipped`. At most 200 occurrences.',
      },
    })
    .get('', ({ query, user }) => listSeries(ctx, user, query.mine === '1'), {
      auth: 'student',
      query: SeriesListQuery,
      response: { 200: SeriesList },
      detail: { tags, summary: "Your series (an admin's without mine=1: everyone's), newest first" },
    })
    .get('/:id', ({ params }) => getSeries(ctx, params.id), {
      auth: 'student',
      params: SeriesParams,
      response: { 200: SeriesDetail },
      errors: { 404: [SERIES_MSG.notFound] },
      detail: { tags, summary: 'A series and all its occurrences (every status; moved or cancelled ones are marked exception)' },
    })
    .delete('/:id', ({ params, query, user }) => cancelSeries(ctx, user, params.id, query.from), {
      auth: 'teacher',
      params: SeriesParams,
      query: CancelSeriesQuery,
      response: { 200: SeriesChanged },
      errors: { 400: [TIME_MSG.invalid, TIME_MSG.required], 403: [SERIES_MSG.notYours], 404: [SERIES_MSG.notFound] },
      detail: { tags, summary: 'Cancel the occurrences from `from` on (default: all future ones); exceptions are left alone' },
    })
    .patch('/:id', ({ params, body, user }) => updateSeries(ctx, user, params.id, body), {
      auth: 'teacher',
      params: SeriesParams,
      body: UpdateSeriesBody,
      response: { 200: SeriesChanged },
      errors: { 400: [TIME_MSG.invalid, TIME_MSG.required, SERIES_MSG.onlyEarlier], 403: [SERIES_MSG.notYours], 404: [SERIES_MSG.notFound] },
      detail: { tags, summary: 'Rename a series, or end it earlier (the occurrences after the new end are cancelled); exceptions are left alone' },
    })
