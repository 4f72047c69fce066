/**
 * The nonce a sign-in form double-submits (the scan page's and the console's): a form without a
 * session has no CSRF value to carry, so its GET sets a random nonce in an httpOnly cookie and the
 * form echoes it in a hidden field. Another site can neither read the field nor make the browser
 * send the cookie with its POST, so it cannot sign a visitor in to an account of its choosing.
 */
import type { Ctx } from '../context'
import { parseCookies, serializeCookie } from '../lib/cookies'
import { sameSecret } from '../lib/same-secret'
import { randomToken } from '../lib/secret-tokens'

/** The cookie a form's nonce lives in. */
export interface NonceCookie { name: string; sameSite: 'Lax' | 'Strict'; path?: string }

const NONCE_PATTERN = /^[A-Za-z0-9_-]{22}$/

/** The browser's nonce, or a new one with the Set-Cookie header that gives it. */
export function formNonce(ctx: Ctx, request: Request, cookie: NonceCookie): { nonce: string; setCookie?: string } {
  const existing = parseCookies(request.headers.get('cookie'))[cookie.name]
  if (existing && NONCE_PATTERN.test(existing)) return { nonce: existing }
  const nonce = randomToken(16)
  const setCookie = serializeCookie(cookie.name, nonce, { httpOnly: true, secure: ctx.config.jwtCookieSecure, sameSite: cookie.sameSite, maxAge: 3600, path: cookie.path })
  return { nonce, setCookie }
}

/** Whether the posted nonce is the one the browser holds. */
export function nonceMatches(request: Request, cookie: NonceCookie, posted: string | undefined): boolean {
  const expected = parseCookies(request.headers.get('cookie'))[cookie.name]
  return Boolean(expected && posted && sameSecret(expected, posted))
}
