/** /console/policies (placeholder: to be built). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { routeRules } from '../../../plugins/route-rules'
import { hidden, page } from '../kit'
import { common } from '../text'

export const policyPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/policies', ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'policies', title: (lang) => common(lang).policies,
      render: () => <p>…</p>,
    }), hidden())
