/** /console/term (placeholder: to be built). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { routeRules } from '../../../plugins/route-rules'
import { hidden, page } from '../kit'
import { common } from '../text'

export const termPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/term', ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'term', title: (lang) => common(lang).term,
      render: () => <p>…</p>,
    }), hidden())
