/**
 * Rate limits, as the Flask backend had them (decisions 004 and 009):
 * - global defaults (RATELIMIT_DEFAULTS) for every request except /health, per user id when a
 *   valid access token comes with it, else per client IP, counted in onRequest, before routing,
 *   so unknown paths and unparseable bodies count too;
 * - per-route limits (ROUTE_LIMITS): every route its own bucket with the original's number,
 *   looked up by Elysia's matched route pattern ("POST /admin/rooms/:id/generate-qr"), the same
 *   at the /api and the legacy mount. Counted in onTransform: after the body is parsed (login is
 *   limited per IP + lower-cased name) but before validation and the auth guard, so refused and
 *   invalid requests count, as they did under Flask-Limiter's decorators.
 * A refused request is 429 {msg} with Retry-After; every counted response carries
 * X-RateLimit-Limit/Remaining/Reset of its tightest limit. If the store (Redis) fails, requests
 * are served and the failure is logged: losing rate limiting briefly beats refusing everyone.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../context'
import { clientIp } from '../lib/client-ip'
import { TooManyRequests } from '../lib/errors'
import { createRateLimitStore, type RateLimitStore } from '../lib/rate-limit-store'
import { parseRateLimit, type RateLimit } from '../lib/rate-limit-spec'
import { accessToken } from './auth'
import { metaOf } from './request-context'

interface RequestInfo {
  ip: string
  userId?: number
}

/**
 * Whose budget a request spends: `user` = the user id of a valid access token, else the client IP;
 * `ip` = always the client IP; `login` = the client IP and the lower-cased name in the body.
 */
type KeyKind = 'user' | 'ip' | 'login'

export interface RouteLimit {
  /** the counter's name: routes that share a budget share a bucket */
  bucket: string
  limits: RateLimit[]
  key: KeyKind
}

const perMinute = (n: number) => [parseRateLimit(`${n} per minute`)]

/**
 * The original's per-route limits, keyed "METHOD /route/pattern" exactly as the route is
 * registered (src/modules/*), without the /api mount. Routes not listed get only the defaults.
 * Kept in one table rather than next to each handler (issue 14 would move them into route
 * options): a table is one place to compare with api-contract.md section 7, and
 * test/rate-limit.test.ts checks that every entry names a route that exists at both mounts.
 */
export const ROUTE_LIMITS: ReadonlyMap<string, RouteLimit> = new Map<string, RouteLimit>([
  // auth
  ['POST /auth/login', { bucket: 'login', limits: perMinute(6), key: 'login' }],
  // The scan page's login form spends the same budget as POST /auth/login.
  ['POST /r/:id/login', { bucket: 'login', limits: perMinute(6), key: 'login' }],
  ['POST /auth/signup', { bucket: 'signup', limits: perMinute(10), key: 'ip' }],
  ['POST /auth/logout', { bucket: 'logout', limits: perMinute(30), key: 'user' }],
  ['POST /auth/refresh', { bucket: 'refresh', limits: perMinute(30), key: 'user' }],
  ['GET /auth/me', { bucket: 'me', limits: perMinute(120), key: 'user' }],
  ['POST /auth/register', { bucket: 'register', limits: perMinute(20), key: 'user' }],
  // rooms
  ['GET /rooms', { bucket: 'rooms.list', limits: perMinute(1200), key: 'user' }],
  ['GET /rooms/:id', { bucket: 'rooms.detail', limits: perMinute(600), key: 'user' }],
  ['POST /rooms/:id/reserve', { bucket: 'rooms.reserve', limits: perMinute(180), key: 'user' }],
  // POST /rooms (from the deployment guide) is POST /admin/rooms under another path: one budget.
  ['POST /rooms', { bucket: 'admin.rooms.create', limits: perMinute(20), key: 'user' }],
  // reservations
  ['GET /reservations/mine', { bucket: 'reservations.mine', limits: perMinute(600), key: 'user' }],
  ['PATCH /reservations/:id', { bucket: 'reservations.update', limits: perMinute(120), key: 'user' }],
  ['DELETE /reservations/:id', { bucket: 'reservations.cancel', limits: perMinute(180), key: 'user' }],
  ['GET /reservations/room/:room_id/history', { bucket: 'reservations.history', limits: perMinute(180), key: 'user' }],
  // admin
  ['GET /admin/rooms', { bucket: 'admin.rooms.list', limits: perMinute(60), key: 'user' }],
  ['POST /admin/rooms', { bucket: 'admin.rooms.create', limits: perMinute(20), key: 'user' }],
  ['PATCH /admin/rooms/:id', { bucket: 'admin.rooms.update', limits: perMinute(30), key: 'user' }],
  ['POST /admin/rooms/bulk/block', { bucket: 'admin.rooms.bulk-block', limits: perMinute(20), key: 'user' }],
  ['POST /admin/rooms/:id/generate-qr', { bucket: 'admin.rooms.generate-qr', limits: perMinute(20), key: 'user' }],
  ['POST /admin/rooms/:id/reserve', { bucket: 'admin.rooms.reserve', limits: perMinute(30), key: 'user' }],
  ['GET /admin/reservations', { bucket: 'admin.reservations.list', limits: perMinute(60), key: 'user' }],
  ['PATCH /admin/reservations/:id', { bucket: 'admin.reservations.update', limits: perMinute(40), key: 'user' }],
  ['POST /admin/reservations/bulk-cancel', { bucket: 'admin.reservations.bulk-cancel', limits: perMinute(20), key: 'user' }],
  ['GET /admin/users', { bucket: 'admin.users.list', limits: perMinute(60), key: 'user' }],
  ['POST /admin/users', { bucket: 'admin.users.create', limits: perMinute(20), key: 'user' }],
  ['PATCH /admin/users/:id', { bucket: 'admin.users.update', limits: perMinute(30), key: 'user' }],
  ['POST /admin/users/:id/reset-password', { bucket: 'admin.users.reset-password', limits: perMinute(20), key: 'user' }],
  ['GET /admin/audit/logs', { bucket: 'admin.audit', limits: perMinute(30), key: 'user' }],
  ['GET /admin/stats', { bucket: 'admin.stats', limits: perMinute(30), key: 'user' }],
])

/** "METHOD /pattern" for a request's matched route: without the /api mount or a trailing slash; HEAD is GET. */
export function routeKey(method: string, route: string): string {
  const path = route.replace(/^\/api(?=\/|$)/, '').replace(/(.)\/+$/, '$1') || '/'
  return `${method === 'HEAD' ? 'GET' : method} ${path}`
}

const EXEMPT = /^\/(api\/)?health\/?$/

function describe(limit: RateLimit): string {
  const units: [number, string][] = [[86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']]
  const [seconds, unit] = units.find(([s]) => limit.windowS % s === 0)!
  const n = limit.windowS / seconds
  return `${limit.limit} per ${n === 1 ? '' : `${n} `}${unit}${n === 1 ? '' : 's'}`
}

function identityOf(kind: KeyKind, info: RequestInfo, body: unknown): string {
  if (kind === 'user' && info.userId) return `user:${info.userId}`
  if (kind === 'login') {
    const fields = (body && typeof body === 'object' ? body : {}) as { name?: unknown; username?: unknown }
    const name = fields.name ?? fields.username
    return `ip:${info.ip}:name:${typeof name === 'string' ? name.trim().toLowerCase() : ''}`
  }
  return `ip:${info.ip}`
}

const remainingOf = (headers: Record<string, unknown>) => {
  const value = headers['x-ratelimit-remaining']
  return value === undefined ? Infinity : Number(value)
}

export function createRateLimiter(ctx: Ctx, store: RateLimitStore = createRateLimitStore(ctx.config.rateLimitStorageUri, ctx.log)) {
  let lastFailureLog = 0

  /** Counts one request against each limit; throws 429 when one is exceeded, else returns headers. */
  async function spend(scope: string, identity: string, limits: RateLimit[]): Promise<Record<string, string>> {
    let tightest: { limit: RateLimit; remaining: number; resetInMs: number } | undefined
    for (const limit of limits) {
      const windowMs = limit.windowS * 1000
      let result
      try {
        result = await store.hit(`rl:${scope}:${limit.limit}/${limit.windowS}:${identity}`, windowMs)
      } catch (error) {
        if (Date.now() - lastFailureLog > 30_000) {
          lastFailureLog = Date.now()
          ctx.log.warn('rate-limit store unavailable; serving requests without limits', { error: (error as Error).message })
        }
        return {}
      }
      const remaining = Math.max(0, limit.limit - result.count)
      const resetInMs = Math.max(0, result.resetInMs)
      const headers = {
        'x-ratelimit-limit': String(limit.limit),
        'x-ratelimit-remaining': String(remaining),
        'x-ratelimit-reset': String(Math.ceil((Date.now() + resetInMs) / 1000)),
      }
      if (result.count > limit.limit) {
        throw new TooManyRequests(`rate limit exceeded: ${describe(limit)}`, {
          ...headers,
          'retry-after': String(Math.max(1, Math.ceil(resetInMs / 1000))),
        })
      }
      if (!tightest || remaining < tightest.remaining) tightest = { limit, remaining, resetInMs }
    }
    return tightest
      ? {
        'x-ratelimit-limit': String(tightest.limit.limit),
        'x-ratelimit-remaining': String(tightest.remaining),
        'x-ratelimit-reset': String(Math.ceil((Date.now() + tightest.resetInMs) / 1000)),
      }
      : {}
  }

  /** The user id of a valid access token, if the request carries one (no CSRF check: this only picks a budget). */
  async function userIdOf(request: Request): Promise<number | undefined> {
    const access = await accessToken(ctx, request).catch(() => undefined)
    return access ? Number(access.claims.sub) : undefined
  }

  const infos = new WeakMap<Request, Promise<RequestInfo>>()
  const infoOf = (request: Request) => {
    let info = infos.get(request)
    if (!info) {
      info = userIdOf(request).then((userId) => ({ ip: clientIp(request, metaOf(request).socketIp, ctx.config.trustProxy), userId }))
      infos.set(request, info)
    }
    return info
  }

  const plugin = new Elysia({ name: 'rate-limit' })
    .onRequest(async ({ request, set }) => {
      if (request.method === 'OPTIONS') return
      const path = new URL(request.url).pathname
      if (EXEMPT.test(path)) return
      const info = await infoOf(request)
      Object.assign(set.headers, await spend('default', identityOf('user', info, undefined), ctx.config.rateLimitDefaults))
    })
    // `route` is the pattern the router matched (Elysia sets it because this hook reads it).
    .onTransform({ as: 'global' }, async ({ request, route, body, set }) => {
      if (typeof route !== 'string') return
      const rule = ROUTE_LIMITS.get(routeKey(request.method, route))
      if (!rule) return
      const headers = await spend(rule.bucket, identityOf(rule.key, await infoOf(request), body), rule.limits)
      // The response reports its tightest limit: the route's, unless the defaults are closer to running out.
      if (remainingOf(headers) <= remainingOf(set.headers)) Object.assign(set.headers, headers)
    })

  return { plugin, store }
}
