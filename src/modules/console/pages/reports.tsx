/** /console/reports (placeholder: to be built). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { routeRules } from '../../../plugins/route-rules'
import { hidden, page } from '../kit'
import { common } from '../text'

export const reportPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/reports', ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'reports', title: (lang) => common(lang).reports,
      render: () => <p>…</p>,
    }), hidden())
