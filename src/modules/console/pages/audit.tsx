/** /console/audit (placeholder: to be built). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { routeRules } from '../../../plugins/route-rules'
import { hidden, page } from '../kit'
import { common } from '../text'

export const auditPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/audit', ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'audit', title: (lang) => common(lang).audit,
      render: () => <p>…</p>,
    }), hidden())
