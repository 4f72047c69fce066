/**
 * Rate limits, as the Flask backend had them and as RATELIMIT_DEFAULTS says:
 * - global defaults for every request (except /health), per user id when a valid access token
 *   comes with it, else per client IP, counted before routing so unknown paths count too;
 * - per-route limits (ROUTE_LIMITS), counted after the body is parsed, since login is limited
 *   per IP + lower-cased name.
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
  body: unknown
}

interface RouteLimit {
  name: string
  methods: string[]
  path: RegExp
  limits: RateLimit[]
  /** whose budget a request spends; undefined means the rule does not apply to it */
  key(info: RequestInfo): string | undefined
}

const perUserOrIp = (info: RequestInfo) => (info.userId ? `user:${info.userId}` : `ip:${info.ip}`)
const WRITES = ['POST', 'PUT', 'PATCH', 'DELETE']

export const ROUTE_LIMITS: RouteLimit[] = [
  {
    // The scan page's login form (POST /r/<id>/login) spends the same budget as POST /auth/login.
    name: 'login', methods: ['POST'], path: /^\/(auth\/login|r\/[^/]+\/login)\/?$/, limits: [parseRateLimit('6 per minute')],
    key: ({ ip, body }) => {
      const fields = (body ?? {}) as { name?: unknown; username?: unknown }
      const name = fields.name ?? fields.username
      return `ip:${ip}:name:${typeof name === 'string' ? name.trim().toLowerCase() : ''}`
    },
  },
  { name: 'signup', methods: ['POST'], path: /^\/auth\/signup\/?$/, limits: [parseRateLimit('10 per minute')], key: ({ ip }) => `ip:${ip}` },
  { name: 'reserve', methods: ['POST'], path: /^\/rooms\/[^/]+\/reserve\/?$/, limits: [parseRateLimit('180 per minute')], key: perUserOrIp },
  { name: 'admin-write', methods: WRITES, path: /^\/(admin\/|auth\/register\/?$)/, limits: [parseRateLimit('40 per minute')], key: perUserOrIp },
]

const EXEMPT = /^\/(api\/)?health\/?$/

function describe(limit: RateLimit): string {
  const units: [number, string][] = [[86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']]
  const [seconds, unit] = units.find(([s]) => limit.windowS % s === 0)!
  const n = limit.windowS / seconds
  return `${limit.limit} per ${n === 1 ? '' : `${n} `}${unit}${n === 1 ? '' : 's'}`
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

  const identities = new WeakMap<Request, Promise<RequestInfo>>()
  const infoOf = (request: Request, body: unknown) => {
    let info = identities.get(request)
    if (!info) {
      info = userIdOf(request).then((userId) => ({
        ip: clientIp(request, metaOf(request).socketIp, ctx.config.trustProxy),
        userId,
        body: undefined as unknown,
      }))
      identities.set(request, info)
    }
    return info.then((i) => ({ ...i, body }))
  }

  const plugin = new Elysia({ name: 'rate-limit' })
    .onRequest(async ({ request, set }) => {
      if (request.method === 'OPTIONS') return
      const path = new URL(request.url).pathname
      if (EXEMPT.test(path)) return
      const info = await infoOf(request, undefined)
      Object.assign(set.headers, await spend('default', perUserOrIp(info), ctx.config.rateLimitDefaults))
    })
    .onBeforeHandle({ as: 'global' }, async ({ request, body, set }) => {
      const path = new URL(request.url).pathname.replace(/^\/api(?=\/)/, '')
      for (const rule of ROUTE_LIMITS) {
        if (!rule.methods.includes(request.method) || !rule.path.test(path)) continue
        const identity = rule.key(await infoOf(request, body))
        if (identity) Object.assign(set.headers, await spend(rule.name, identity, rule.limits))
      }
    })

  return { plugin, store }
}
