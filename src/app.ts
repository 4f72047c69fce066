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
import { admin } from './modules/admin'
import { auth } from './modules/auth'
import { health } from './modules/health'
import { qrStatic } from './modules/qr'
import { reservationRoutes } from './modules/reservations'
import { rooms } from './modules/rooms'
import { corsPlugin } from './plugins/cors'
import { docs } from './plugins/docs'
import { formCsrfCapture } from './plugins/auth'
import { errorHandler } from './plugins/errors'
import { createRateLimiter } from './plugins/rate-limit'
import { requestLog, securityHeaders } from './plugins/security-headers'

/** The feature routes, without prefix. Called once per mount point. */
function routes(ctx: Ctx) {
  return new Elysia()
    .use(health(ctx))
    .use(auth(ctx))
    .use(rooms(ctx))
    .use(reservationRoutes(ctx))
    .use(admin(ctx))
}

export function createApp(deps: Deps) {
  const ctx = buildContext(deps)
  const app = new Elysia()
    .use(errorHandler(deps.log))
    .use(securityHeaders({ hsts: deps.config.jwtCookieSecure }))
    .use(requestLog(deps.log))
    .use(corsPlugin(deps.config.corsOrigins))
    .use(formCsrfCapture(deps.config.jwtCsrfCheckForm))
  if (deps.config.rateLimitEnabled) app.use(createRateLimiter(ctx, deps.rateLimitStore).plugin)
  if (deps.config.swaggerEnabled) app.use(docs(() => app))
  return app
    .group('/api', (api) => api.use(routes(ctx)))
    .use(routes(ctx))
    .use(qrStatic(ctx))
}

export type App = ReturnType<typeof createApp>
