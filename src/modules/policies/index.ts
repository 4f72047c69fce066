/** GET /policies/me (issue 16): the caller's booking limits and how much of them is used. */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { myPolicies } from '../../core/bookings/fair-use/fair-use'
import { authGuard } from '../../plugins/auth'
import { routeRules } from '../../plugins/route-rules'
import { MyPolicies } from './model'

export { adminFairUseRoutes } from './admin'

export const policyRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/policies/me', ({ user }) => myPolicies(ctx, user), {
      auth: 'student',
      response: { 200: MyPolicies },
      detail: { tags: ['Policies'], summary: 'Your booking limits (the rules of your role), your usage and your no-show record' },
    })
