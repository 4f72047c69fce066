/** /console/calendar (placeholder: to be built). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { routeRules } from '../../../plugins/route-rules'
import { hidden, page } from '../kit'
import { common } from '../text'

export const calendarPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/calendar', ({ request, set }) => page(ctx, request, set, {
      role: 'teacher', active: 'calendar', title: (lang) => common(lang).calendar,
      render: () => <p>…</p>,
    }), hidden())
