/**
 * Rate limits, as the Flask backend had them (decisions 004 and 009):
 * - global defaults (RATELIMIT_DEFAULTS) for every request except /health, per user id when a
 *   valid access token comes with it, else per client IP, counted in onRequest, before routing,
 *   so unknown paths and unparseable bodies count too;
 * - per-route limits: each route declares its own in its options (`limit: perMinute(...)`, the
 *   route-rules macro, src/plugins/route-rules.ts), with the original's number, the same at the
 *   /api and the legacy mount. Counted in the route's transform: after the body is parsed (login
 *   is limited per IP + lower-cased name) but before validation and the auth guard, so refused
 *   and invalid requests count, as they did under Flask-Limiter's decorators.
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

/** A route's own limit of n requests a minute; routes that name the same bucket share one budget. */
export function perMinute(bucket: string, n: number, key: KeyKind = 'user'): RouteLimit {
  return { bucket, limits: [parseRateLimit(`${n} per minute`)], key }
}

const EXEMPT = /^\/(api\/)?health\/?$/

/** "6 per minute": a limit as the 429 message and the API document say it. */
export function describeLimit(limit: RateLimit): string {
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
        throw new TooManyRequests(`rate limit exceeded: ${describeLimit(limit)}`, {
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

  /** Spends a route's own limit (the route-rules macro calls this from the route's transform). */
  async function spendRoute(rule: RouteLimit, request: Request, body: unknown, responseHeaders: Record<string, unknown>): Promise<void> {
    const headers = await spend(rule.bucket, identityOf(rule.key, await infoOf(request), body), rule.limits)
    // The response reports its tightest limit: the route's, unless the defaults are closer to running out.
    if (remainingOf(headers) <= remainingOf(responseHeaders)) Object.assign(responseHeaders, headers)
  }

  return { plugin, store, spendRoute }
}

const limiters = new WeakMap<Ctx, ReturnType<typeof createRateLimiter>>()

/** The app's one limiter (its counters and its store), or none when RATELIMIT_ENABLED is off. */
export function rateLimiterFor(ctx: Ctx): ReturnType<typeof createRateLimiter> | undefined {
  if (!ctx.config.rateLimitEnabled) return undefined
  let limiter = limiters.get(ctx)
  if (!limiter) {
    limiter = createRateLimiter(ctx, ctx.rateLimitStore)
    limiters.set(ctx, limiter)
  }
  return limiter
}
