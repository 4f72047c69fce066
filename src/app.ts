/**
 * createApp(deps): the whole HTTP application, built the same way in production and in tests.
 * Cross-cutting plugins come first so every route gets them. Feature routes are mounted twice:
 * under /api (canonical, documented) and at the root (the existing frontend's legacy paths).
 * Feature modules are unnamed Elysia instances on purpose: a named plugin is deduplicated, and
 * the second mount would silently lose its routes.
 */
import { Elysia } from 'elysia'
import { buildContext, type Ctx } from './context'
import type { Deps } from './deps'
import { adminRoutes } from './modules/admin'
import { authRoutes } from './modules/auth'
import { checkinRoutes } from './modules/checkin'
import { closureRoutes } from './modules/closures'
import { scanPageRoutes } from './modules/checkin/page'
import { displayRoutes, displayAdminRoutes } from './modules/display'
import { roomEventRoutes } from './modules/events'
import { healthRoutes } from './modules/health'
import { homeRoutes } from './modules/home'
import { adminFairUseRoutes, policyRoutes } from './modules/policies'
import { posterRoutes } from './modules/posters'
import { qrRoutes } from './modules/qr'
import { reservationRoutes } from './modules/reservations'
import { roomRoutes } from './modules/rooms'
import { seriesRoutes } from './modules/series'
import { corsPlugin } from './plugins/cors'
import { docs } from './plugins/docs'
import { formCsrfCapture } from './plugins/auth'
import { errorHandler } from './plugins/errors'
import { bodyDepthLimit } from './plugins/body-depth'
import { rateLimiterFor } from './plugins/rate-limit'
import { requestLog } from './plugins/request-log'
import { securityHeaders } from './plugins/security-headers'

/** The services of each app built here (tests and the server stop its live feed through it). */
const contexts = new WeakMap<object, Ctx>()
export const appContext = (app: object): Ctx | undefined => contexts.get(app)

/** The feature routes, without prefix. Called once per mount point. */
function routes(ctx: Ctx) {
  return new Elysia()
    .use(healthRoutes(ctx))
    .use(authRoutes(ctx))
    .use(roomEventRoutes(ctx))
    .use(roomRoutes(ctx))
    .use(reservationRoutes(ctx))
    .use(seriesRoutes(ctx))
    .use(closureRoutes(ctx))
    .use(checkinRoutes(ctx))
    .use(adminRoutes(ctx))
    .use(policyRoutes(ctx))
    .use(adminFairUseRoutes(ctx))
    .use(posterRoutes(ctx))
    .use(displayAdminRoutes(ctx))
}

export function createApp(deps: Deps) {
  const ctx = buildContext(deps)
  // encodeSchema off: responses are checked with the compiled validator. Left on, every response
  // whose schema has a t.Integer (a decode-only transform) went through TypeBox's interpreted
  // Encode: 15% of the CPU of GET /api/rooms (docs/performance.md). No response schema encodes.
  const app = new Elysia({ encodeSchema: false })
    .use(errorHandler(deps.log))
    .use(securityHeaders(deps.config))
    .use(requestLog(deps.log))
    .use(corsPlugin(deps.config.corsOrigins))
    .use(formCsrfCapture(deps.config.jwtCsrfCheckForm))
  const limiter = rateLimiterFor(ctx)
  if (limiter) app.use(limiter.plugin)
  // After the rate limiter: a refused over-deep body still spends the sender's default budget.
  app.use(bodyDepthLimit())
  if (deps.config.swaggerEnabled) app.use(docs(() => app, deps.clock))
  const built = app
    .group('/api', (api) => api.use(routes(ctx)))
    .use(routes(ctx))
    .use(qrRoutes(ctx))
    .use(scanPageRoutes(ctx))
    .use(displayRoutes(ctx))
    .use(homeRoutes(ctx))
  contexts.set(built, ctx)
  return built
}

export type App = ReturnType<typeof createApp>
