/** /console/users (placeholder: to be built). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { routeRules } from '../../../plugins/route-rules'
import { hidden, page } from '../kit'
import { common } from '../text'

export const userPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/users', ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'users', title: (lang) => common(lang).users,
      render: () => <p>…</p>,
    }), hidden())
