/** /console/approvals (placeholder: to be built). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { routeRules } from '../../../plugins/route-rules'
import { hidden, page } from '../kit'
import { common } from '../text'

export const approvalPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/approvals', ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'approvals', title: (lang) => common(lang).approvals,
      render: () => <p>…</p>,
    }), hidden())
