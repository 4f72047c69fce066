/** GET /closures (issue 15): when rooms cannot be booked; public, like the room list. */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { listClosures } from '../../core/bookings/timetable/closures'
import { Closure } from '../../core/bookings/model'
import { TIME_MSG } from '../../lib/time'
import { instantFields } from '../../lib/instant-input'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'

const period = instantFields()

export const closureRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/closures', ({ query }) => listClosures(ctx, query), {
      query: t.Object({
        from: period.optional('from', { description: 'overlapping this instant or later (default: now)' }),
        to: period.optional('to', { description: 'before this instant (default: no end)' }),
        room_id: t.Optional(t.Numeric({ minimum: 1, maximum: 2147483647, description: 'closures covering this room (all-rooms ones included)' })),
      }),
      response: { 200: t.Object({ closures: t.Array(Closure) }) },
      limit: perMinute('closures.list', 600),
      errors: { 400: [TIME_MSG.invalid, TIME_MSG.required] },
      detail: { tags: ['Closures'], summary: 'Closures (holidays, maintenance, exams) overlapping a period, of one room or all' },
    })
