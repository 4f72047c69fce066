/**
 * The declarative guard every protected route uses:
 *   { auth: 'student' | 'teacher' | 'admin' }  -> resolves `user` (an Actor) or refuses
 *   { token: true }                             -> resolves `claims` (the user may be gone, the token not revoked)
 * A token comes from `Authorization: Bearer` (no CSRF needed) or from access_token_cookie, in which
 * case POST/PUT/PATCH/DELETE must also carry the CSRF token (double submit, as Flask-JWT-Extended).
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../context'
import type { UserRole } from '../db/schema'
import { parseCookies } from '../lib/cookies'
import { Forbidden, Unauthorized, CsrfError, CSRF_MSG } from '../lib/errors'
import { hasRole, tokenRevoked, type Actor } from '../core/identity/actors'
import type { TokenClaims } from '../core/identity/tokens'
import { sameSecret } from '../lib/same-secret'
import { TOKEN_MSG } from '../core/identity/messages'

export const ACCESS_COOKIE = 'access_token_cookie'
export const REFRESH_COOKIE = 'refresh_token_cookie'
export const CSRF_ACCESS_COOKIE = 'csrf_access_token'
export const CSRF_REFRESH_COOKIE = 'csrf_refresh_token'

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const CSRF_HINT = 'send the csrf_access_token cookie value (also "csrf_token" in the login response) as the X-CSRF-TOKEN header, or authenticate with "Authorization: Bearer <access_token>"'

export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get('authorization')
  const match = header && /^Bearer\s+(\S+)\s*$/i.exec(header)
  return match ? match[1] : undefined
}

/**
 * csrf_token fields of url-encoded form bodies (JWT_CSRF_CHECK_FORM), read from a copy of the body
 * before Elysia parses it: route schemas drop properties they do not name, so by the time the guard
 * runs the field would be gone. (A parse hook would do the same but hides every request body from
 * the OpenAPI document.)
 */
const formCsrfTokens = new WeakMap<Request, string>()

export const formCsrfCapture = (enabled: boolean) =>
  new Elysia({ name: 'form-csrf-capture', seed: enabled }).onRequest(async ({ request }) => {
    if (!enabled || !UNSAFE_METHODS.has(request.method)) return
    if (!request.headers.get('content-type')?.startsWith('application/x-www-form-urlencoded')) return
    const token = new URLSearchParams(await request.clone().text()).get('csrf_token')
    if (token) formCsrfTokens.set(request, token)
  })

/** The CSRF token a cookie-authenticated write sent: header first, then the form field if allowed. */
function submittedCsrf(request: Request, body: unknown, allowForm: boolean): string | undefined {
  const header = request.headers.get('x-csrf-token') ?? request.headers.get('x-csrftoken')
  if (header) return header
  if (!allowForm) return undefined
  const captured = formCsrfTokens.get(request)
  if (captured) return captured
  const field = body && typeof body === 'object' ? (body as Record<string, unknown>).csrf_token : undefined
  const type = request.headers.get('content-type') ?? ''
  return typeof field === 'string' && type.startsWith('multipart/form-data') ? field : undefined
}

export function checkCsrf(expected: string, request: Request, body: unknown, allowForm: boolean, hint = CSRF_HINT): void {
  const sent = submittedCsrf(request, body, allowForm)
  if (!sent) throw new CsrfError(CSRF_MSG.missing, { hint })
  if (!sameSecret(sent, expected)) throw new CsrfError(CSRF_MSG.mismatch)
}

export interface AccessToken {
  claims: TokenClaims
  /** sent as Authorization: Bearer (no CSRF needed), else as the access cookie */
  viaBearer: boolean
}

/**
 * The request's access token, verified once per request however many hooks ask (the rate
 * limiter, the guard macros, the scan page): undefined when there is none; rejects with 401
 * `token has expired` or 422 `token invalid`. No CSRF check here: see verifyAccess.
 */
const verifiedTokens = new WeakMap<Request, Promise<AccessToken | undefined>>()
export function accessToken(ctx: Ctx, request: Request): Promise<AccessToken | undefined> {
  let verified = verifiedTokens.get(request)
  if (!verified) {
    const bearer = bearerToken(request)
    const token = bearer ?? parseCookies(request.headers.get('cookie'))[ACCESS_COOKIE]
    verified = token
      ? ctx.tokens.verify(token, 'access').then((claims) => ({ claims, viaBearer: Boolean(bearer) }))
      : Promise.resolve(undefined)
    verifiedTokens.set(request, verified)
  }
  return verified
}

/** Verifies the request's access token (and CSRF for cookie-authenticated writes). */
export async function verifyAccess(ctx: Ctx, request: Request, body: unknown): Promise<TokenClaims> {
  const access = await accessToken(ctx, request)
  if (!access) throw new Unauthorized(TOKEN_MSG.missing, {
    hint: 'log in at POST /api/auth/login, then send its cookies or "Authorization: Bearer <access_token>"',
  })
  if (!access.viaBearer && UNSAFE_METHODS.has(request.method)) checkCsrf(access.claims.csrf, request, body, ctx.config.jwtCsrfCheckForm)
  return access.claims
}

/**
 * The current user behind verified claims; refuses deleted users, tokens of an older generation
 * (issued before a password change or reset) and tokens of a revoked session (logout, replay).
 */
export async function actorFor(ctx: Ctx, claims: TokenClaims): Promise<Actor> {
  const actor = await ctx.actors.get(Number(claims.sub))
  if (!actor) throw new Unauthorized(TOKEN_MSG.userGone)
  if (tokenRevoked(actor, claims)) throw new Unauthorized(TOKEN_MSG.revoked)
  return actor
}

/**
 * Who is signed in, for a server-rendered page (the scan page, the console): the actor and the
 * session's CSRF value its forms carry, or undefined when there is no token or it no longer works
 * (expired, revoked, user gone): a page then shows itself to an anonymous visitor instead of failing.
 */
export async function pageViewer(ctx: Ctx, request: Request): Promise<{ actor: Actor; csrf: string } | undefined> {
  try {
    const access = await accessToken(ctx, request)
    if (!access) return undefined
    return { actor: await actorFor(ctx, access.claims), csrf: access.claims.csrf }
  } catch {
    return undefined
  }
}

/**
 * Claims that are not revoked, for routes that answer about the token itself (`token: true`, e.g.
 * /auth/me): a deleted user passes (the route answers 404), a revoked token does not.
 */
async function unrevokedClaims(ctx: Ctx, claims: TokenClaims): Promise<TokenClaims> {
  const actor = await ctx.actors.get(Number(claims.sub))
  if (actor && tokenRevoked(actor, claims)) throw new Unauthorized(TOKEN_MSG.revoked)
  return claims
}

export const authGuard = (ctx: Ctx) =>
  new Elysia().macro({
    auth: (required: UserRole) => ({
      // Read by the docs plugin to document 401/403/422 and the role on every protected route.
      detail: { 'x-required-role': required } as { [key: string]: unknown },
      async resolve({ request, body }) {
        const actor = await actorFor(ctx, await verifyAccess(ctx, request, body))
        if (!hasRole(actor, required)) throw new Forbidden(TOKEN_MSG.forbidden)
        return { user: actor }
      },
    }),
    token: {
      detail: { 'x-required-role': 'student' } as { [key: string]: unknown },
      async resolve({ request, body }) {
        return { claims: await unrevokedClaims(ctx, await verifyAccess(ctx, request, body)) }
      },
    },
  })

/**
 * verifyAccess for the scan page's server-rendered forms (src/modules/checkin/page.ts): a
 * cookie-authenticated form post may carry the CSRF token as its `csrf_token` field whatever
 * JWT_CSRF_CHECK_FORM says. That is no weaker than the header: the value must still equal the
 * `csrf` claim inside the signed access token, which another site can neither read nor set. Only
 * form-encoded bodies count, and only the routes that call this accept it.
 */
export async function verifyFormAccess(ctx: Ctx, request: Request, formToken: unknown): Promise<TokenClaims> {
  const access = await accessToken(ctx, request)
  if (!access) throw new Unauthorized(TOKEN_MSG.missing)
  const { claims } = access
  if (access.viaBearer) return claims
  const type = request.headers.get('content-type') ?? ''
  const isForm = type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')
  const sent = request.headers.get('x-csrf-token') ?? request.headers.get('x-csrftoken')
    ?? (isForm && typeof formToken === 'string' && formToken ? formToken : undefined)
  if (!sent) throw new CsrfError(CSRF_MSG.missing)
  if (!sameSecret(sent, claims.csrf)) throw new CsrfError(CSRF_MSG.mismatch)
  return claims
}
