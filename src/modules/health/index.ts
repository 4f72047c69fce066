/** GET /health: liveness plus a database round trip bounded by 2 s (503 when it does not answer). */
import { Elysia, t } from 'elysia'
import type { Deps } from '../../deps'
import pkg from '../../../package.json'

const DB_TIMEOUT_MS = 2000

const HealthOk = t.Object({
  status: t.Literal('healthy'),
  database: t.Literal('connected'),
  version: t.String(),
  uptime_s: t.Number(),
})
const HealthDown = t.Object({
  status: t.Literal('unhealthy'),
  database: t.Literal('disconnected'),
  error: t.String(),
})

export const healthRoutes = (deps: Deps) =>
  new Elysia().get('/health', async ({ set }) => {
    try {
      await deps.database.ping(DB_TIMEOUT_MS)
      return {
        status: 'healthy' as const,
        database: 'connected' as const,
        version: pkg.version,
        uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      }
    } catch (error) {
      set.status = 503
      set.headers['cache-control'] = 'no-store'
      return { status: 'unhealthy' as const, database: 'disconnected' as const, error: (error as Error).message }
    }
  }, {
    response: { 200: HealthOk, 503: HealthDown },
    detail: { tags: ['Health'], summary: 'Liveness and database connectivity' },
  })
