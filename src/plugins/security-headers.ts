/** Security headers on every response. */
import { Elysia } from 'elysia'
import type { Config } from '../config'

/**
 * The security headers every response carries, whichever layer writes it: the app (below) and
 * src/server.ts, which answers 413, 503 "request timed out" and a last-resort 500 outside the app.
 * HSTS only when the cookies are Secure (JWT_COOKIE_SECURE), i.e. the site is served over HTTPS.
 */
export function securityHeaderSet(config: Pick<Config, 'jwtCookieSecure'>): Readonly<Record<string, string>> {
  return Object.freeze({
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'strict-origin-when-cross-origin',
    ...(config.jwtCookieSecure ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  })
}

export const securityHeaders = (config: Pick<Config, 'jwtCookieSecure'>) => {
  const headers = securityHeaderSet(config)
  return new Elysia({ name: 'security-headers' }).onRequest(({ set }) => {
    Object.assign(set.headers, headers)
  })
}
