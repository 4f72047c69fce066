/** /console/closures (placeholder: to be built). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { routeRules } from '../../../plugins/route-rules'
import { hidden, page } from '../kit'
import { common } from '../text'

export const closurePages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/closures', ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'closures', title: (lang) => common(lang).closures,
      render: () => <p>…</p>,
    }), hidden())
