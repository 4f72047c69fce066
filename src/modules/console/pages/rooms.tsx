/** /console/rooms (placeholder: to be built). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { routeRules } from '../../../plugins/route-rules'
import { hidden, page } from '../kit'
import { common } from '../text'

export const roomPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/rooms', ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'rooms', title: (lang) => common(lang).rooms,
      render: () => <p>…</p>,
    }), hidden())
