/**
 * What a route says about itself, in its own options next to its handler (issue 14):
 *   limit:  its rate limit (the original's Flask-Limiter decorator, see rate-limit.ts), spent as
 *           the request's body is parsed: before validation and the auth guard, so refused and
 *           invalid requests count, as they did in the original;
 *   errors: the error answers it gives beyond the generic ones, by status, as the very message
 *           constants its services throw, so the documented and the real message cannot drift.
 * Both also land in the route's OpenAPI operation (`x-rate-limit`, `x-errors`), which is where
 * the document builder (openapi-enrich.ts) and the route-limit test read them.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../context'
// A message may end in a note for the reader: "Missing CSRF token (send csrf_refresh_token)".
import type { ErrorAnswers } from '../lib/errors'
import { describeLimit, rateLimiterFor, type RouteLimit } from './rate-limit'


export const routeRules = (ctx: Ctx) =>
  new Elysia().macro({
    limit: (rule: RouteLimit) => ({
      detail: { 'x-rate-limit': { bucket: rule.bucket, key: rule.key, limits: rule.limits.map(describeLimit) } } as { [key: string]: unknown },
      async transform({ request, body, set }) {
        await rateLimiterFor(ctx)?.spendRoute(rule, request, body, set.headers as Record<string, string>)
      },
    }),
    errors: (answers: ErrorAnswers) => ({
      detail: { 'x-errors': answers } as { [key: string]: unknown },
    }),
  })
