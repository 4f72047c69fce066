/**
 * The four cookies of the frontend's contract (Flask-JWT-Extended's names): the two tokens are
 * httpOnly; the two CSRF values are readable by JavaScript so the frontend can echo them back.
 */
import type { Config } from '../config'
import { serializeCookie } from '../lib/cookies'
import { ACCESS_COOKIE, CSRF_ACCESS_COOKIE, CSRF_REFRESH_COOKIE, REFRESH_COOKIE } from './auth'
import type { TokenPair } from '../core/identity/sessions'

type CookieConfig = Pick<Config, 'jwtCookieSecure' | 'jwtCookieSameSite' | 'accessTokenTtlS' | 'refreshTokenTtlS'>

export function sessionCookies(config: CookieConfig, pair: Pick<TokenPair, 'access' | 'refresh'>): string[] {
  const base = { secure: config.jwtCookieSecure, sameSite: config.jwtCookieSameSite }
  const access = { ...base, maxAge: config.accessTokenTtlS }
  const refresh = { ...base, maxAge: config.refreshTokenTtlS }
  return [
    serializeCookie(ACCESS_COOKIE, pair.access.token, { ...access, httpOnly: true }),
    serializeCookie(CSRF_ACCESS_COOKIE, pair.access.claims.csrf, { ...access, httpOnly: false }),
    serializeCookie(REFRESH_COOKIE, pair.refresh.token, { ...refresh, httpOnly: true }),
    serializeCookie(CSRF_REFRESH_COOKIE, pair.refresh.claims.csrf, { ...refresh, httpOnly: false }),
  ]
}

export function clearedCookies(config: CookieConfig): string[] {
  const gone = { secure: config.jwtCookieSecure, sameSite: config.jwtCookieSameSite, maxAge: 0 }
  return [
    serializeCookie(ACCESS_COOKIE, '', { ...gone, httpOnly: true }),
    serializeCookie(CSRF_ACCESS_COOKIE, '', { ...gone, httpOnly: false }),
    serializeCookie(REFRESH_COOKIE, '', { ...gone, httpOnly: true }),
    serializeCookie(CSRF_REFRESH_COOKIE, '', { ...gone, httpOnly: false }),
  ]
}
