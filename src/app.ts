/**
 * createApp(deps): the whole HTTP application, built the same way in production and in tests.
 * Cross-cutting plugins come first so every route gets them. Feature routes are mounted twice:
 * under /api (canonical, documented) and at the root (the existing frontend's legacy paths).
 */
import { Elysia } from 'elysia'
import type { Deps } from './deps'
import { health } from './modules/health'
import { errorHandler } from './plugins/errors'
import { requestLog, securityHeaders } from './plugins/security-headers'

/** The feature routes, without prefix. Called once per mount point. */
function routes(deps: Deps) {
  return new Elysia().use(health(deps))
}

export function createApp(deps: Deps) {
  return new Elysia()
    .use(errorHandler(deps.log))
    .use(securityHeaders({ hsts: deps.config.jwtCookieSecure }))
    .use(requestLog(deps.log))
    .group('/api', (api) => api.use(routes(deps)))
    .use(routes(deps))
}

export type App = ReturnType<typeof createApp>
