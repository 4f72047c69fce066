/** /console/lessons (placeholder: to be built). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { routeRules } from '../../../plugins/route-rules'
import { hidden, page } from '../kit'
import { common } from '../text'

export const lessonPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/lessons', ({ request, set }) => page(ctx, request, set, {
      role: 'teacher', active: 'lessons', title: (lang) => common(lang).lessons,
      render: () => <p>…</p>,
    }), hidden())
