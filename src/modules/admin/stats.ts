/** GET /admin/stats: counts for the admin dashboard (what each one means: stats.service.ts). */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'
import { Stats } from './model'
import { stats } from '../../core/bookings/views/stats'

export const adminStatsRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/stats', () => stats(ctx), {
      auth: 'admin',
      response: { 200: Stats },
      limit: perMinute('admin.stats', 30),
      detail: { tags: ['Admin'], summary: 'Counts of rooms, reservations and users for the dashboard' },
    })
