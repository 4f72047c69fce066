/**
 * GET /health: liveness plus a database round trip bounded by 2 s (503 when it does not answer).
 * With an admin's session (cookie or bearer) a healthy answer also lists the configuration warnings
 * logged at start (`warnings`, src/notices.ts); everyone else, Railway's health check included, gets
 * the contract's answer unchanged, and a missing, bad or expired token is simply not an admin.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { hasRole } from '../../core/identity/actors'
import { configWarnings } from '../../notices'
import { accessToken, actorFor } from '../../plugins/auth'
import pkg from '../../../package.json'
import { Int } from '../../lib/wire-types'

const DB_TIMEOUT_MS = 2000

const HealthOk = t.Object({
  status: t.Literal('healthy'),
  database: t.Literal('connected'),
  version: t.String(),
  uptime_s: Int({ minimum: 0, description: 'whole seconds since this instance started' }),
  warnings: t.Optional(t.Array(t.String(), {
    description: 'Only for an admin\'s session: the configuration warnings the server logged at start (e.g. cross-site cookies that browsers will not send); empty when there are none',
  })),
})
const HealthDown = t.Object({
  status: t.Literal('unhealthy'),
  database: t.Literal('disconnected'),
  error: t.String(),
})

/** Whether the request carries a valid admin's session; never throws (a health check must not fail on a token). */
async function fromAdmin(ctx: Ctx, request: Request): Promise<boolean> {
  try {
    const access = await accessToken(ctx, request)
    return access !== undefined && hasRole(await actorFor(ctx, access.claims), 'admin')
  } catch {
    return false
  }
}

export const healthRoutes = (ctx: Ctx) =>
  new Elysia().get('/health', async ({ request, set }) => {
    try {
      await ctx.database.ping(DB_TIMEOUT_MS)
      const answer = {
        status: 'healthy' as const,
        database: 'connected' as const,
        version: pkg.version,
        uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
      }
      if (!(await fromAdmin(ctx, request))) return answer
      set.headers['cache-control'] = 'no-store'
      return { ...answer, warnings: configWarnings(ctx.config) }
    } catch (error) {
      set.status = 503
      set.headers['cache-control'] = 'no-store'
      return { status: 'unhealthy' as const, database: 'disconnected' as const, error: (error as Error).message }
    }
  }, {
    response: { 200: HealthOk, 503: HealthDown },
    detail: { tags: ['Health'], summary: 'Liveness and database connectivity; an admin\'s session also gets the configuration warnings' },
  })
