/** /auth routes: thin handlers over the accounts service (src/core/identity); cookies and bodies as the frontend expects. */
import { explicitLanguage, requestLanguage, translate } from '../../lib/i18n'
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { clientIp } from '../../lib/client-ip'
import { parseCookies } from '../../lib/cookies'
import { CSRF_MSG, Unauthorized } from '../../lib/errors'
import { ACCESS_COOKIE, authGuard, bearerToken, checkCsrf, REFRESH_COOKIE } from '../../plugins/auth'
import { metaOf } from '../../plugins/request-context'
import { clearedCookies, sessionCookies } from '../../plugins/session-cookies'
import { ChangePasswordBody, LoginBody, LoginReply, Message, PublicUser, SignupBody } from './model'
import { Int } from '../../lib/wire-types'
import * as service from '../../core/identity/accounts'
import type { TokenClaims } from '../../core/identity/tokens'
import { routeRules } from '../../plugins/route-rules'
import { perMinute } from '../../plugins/rate-limit'
import { ACCOUNT_MSG, TOKEN_MSG } from '../../core/identity/messages'
import { NAME_MSG } from '../../lib/names'
import { PASSWORD_MSG } from '../../lib/passwords'

const REFRESH_CSRF_HINT = 'send the csrf_refresh_token cookie value as the X-CSRF-TOKEN header'

/** The first of the caller's tokens that still verifies: for logout, where any of them will do. */
async function anyValidClaims(ctx: Ctx, request: Request): Promise<{ claims: TokenClaims; viaCookie: boolean } | undefined> {
  const bearer = bearerToken(request)
  const cookies = parseCookies(request.headers.get('cookie'))
  const candidates: [string | undefined, 'access' | 'refresh', boolean][] = [
    [bearer, 'access', false], [bearer, 'refresh', false],
    [cookies[ACCESS_COOKIE], 'access', true], [cookies[REFRESH_COOKIE], 'refresh', true],
  ]
  for (const [token, type, viaCookie] of candidates) {
    if (!token) continue
    const claims = await ctx.tokens.verify(token, type).catch(() => undefined)
    if (claims) return { claims, viaCookie }
  }
  return undefined
}

/** An answer's own message in the request's language (English without Accept-Language, as the original). */
const say = (ctx: Ctx, request: Request, message: string) =>
  translate(message, requestLanguage(request), { timeZone: ctx.config.appTimezone, now: ctx.clock.now() })

export const authRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/auth', detail: { tags: ['Auth'] } })
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .post('/login', async ({ body, request, set }) => {
      const { user, pair } = await service.login(ctx, body, clientIp(request, metaOf(request).socketIp, ctx.config.trustProxy), explicitLanguage(request))
      set.headers['set-cookie'] = sessionCookies(ctx.config, pair) as any
      return {
        msg: say(ctx, request, 'login successful'),
        role: user.role,
        user: service.publicUser(user),
        access_token: pair.access.token,
        csrf_token: pair.access.claims.csrf,
      }
    }, {
      body: LoginBody,
      response: { 200: LoginReply },
      limit: perMinute('login', 6, 'login'),
      errors: { 400: [ACCOUNT_MSG.credentialsRequired], 401: [ACCOUNT_MSG.badCredentials] },
      detail: {
        summary: 'Log in with name (or username) and password; sets the session cookies',
        description: 'Limited to 6 attempts a minute per client IP and name, and to RATELIMIT_LOGIN_FAILURES (default 30 per 10 minutes) failed logins per client IP across all names; then 429 with Retry-After.',
      },
    })

    .post('/logout', async ({ request, body, set }) => {
      const found = await anyValidClaims(ctx, request)
      // A cookie-authenticated logout is a write like any other: it must carry the CSRF token.
      if (found?.viaCookie) checkCsrf(found.claims.csrf, request, body, ctx.config.jwtCsrfCheckForm)
      await service.logout(ctx, found?.claims)
      set.headers['set-cookie'] = clearedCookies(ctx.config) as any
      return { msg: say(ctx, request, 'logout successful') }
    }, {
      response: { 200: Message },
      limit: perMinute('logout', 30),
      errors: { 401: [`${CSRF_MSG.missing} (cookie session without X-CSRF-TOKEN)`] },
      detail: { summary: 'Log out: clears the cookies and revokes the session' },
    })

    .post('/refresh', async ({ request, body, set }) => {
      const bearer = bearerToken(request)
      const token = bearer ?? parseCookies(request.headers.get('cookie'))[REFRESH_COOKIE]
      if (!token) throw new Unauthorized(TOKEN_MSG.missing, { hint: 'send the refresh_token_cookie (with X-CSRF-TOKEN = csrf_refresh_token)' })
      const claims = await ctx.tokens.verify(token, 'refresh')
      if (!bearer) checkCsrf(claims.csrf, request, body, ctx.config.jwtCsrfCheckForm, REFRESH_CSRF_HINT)
      const pair = await service.refresh(ctx, token, claims)
      set.headers['set-cookie'] = sessionCookies(ctx.config, pair) as any
      return { msg: say(ctx, request, 'token refreshed'), access_token: pair.access.token, csrf_token: pair.access.claims.csrf }
    }, {
      response: { 200: t.Object({ msg: t.String(), access_token: t.String(), csrf_token: t.String() }) },
      limit: perMinute('refresh', 30),
      errors: {
        401: [TOKEN_MSG.missing, TOKEN_MSG.expired, TOKEN_MSG.revoked, TOKEN_MSG.refreshed, `${CSRF_MSG.missing} (send csrf_refresh_token)`],
        422: [TOKEN_MSG.invalid],
      },
      detail: { summary: 'Exchange the refresh token for new tokens (the refresh token rotates)' },
    })

    .get('/me', ({ claims }) => service.me(ctx, claims), {
      token: true,
      response: { 200: PublicUser },
      limit: perMinute('me', 120),
      errors: { 401: [TOKEN_MSG.missing, TOKEN_MSG.expired], 404: [ACCOUNT_MSG.notFound], 422: [TOKEN_MSG.invalid] },
      detail: { summary: 'The logged-in user' },
    })

    .post('/signup', async ({ body, set }) => {
      const { user, pair } = await service.signup(ctx, body)
      set.status = 201
      set.headers['set-cookie'] = sessionCookies(ctx.config, pair) as any
      return service.publicUser(user)
    }, {
      body: SignupBody,
      response: { 201: PublicUser },
      limit: perMinute('signup', 10, 'ip'),
      errors: {
        400: [NAME_MSG.required, NAME_MSG.controlChars, PASSWORD_MSG.tooShort, ACCOUNT_MSG.signupRole],
        403: [ACCOUNT_MSG.adminSignup, ACCOUNT_MSG.teacherSignupOff],
        409: [ACCOUNT_MSG.exists],
      },
      detail: { summary: 'Create a student or teacher account and log in' },
    })

    .post('/register', async ({ body, user, set, request }) => {
      const created = await service.register(ctx, user, body)
      set.status = 201
      return { msg: say(ctx, request, 'user created'), id: created.id }
    }, {
      auth: 'admin',
      body: SignupBody,
      response: { 201: t.Object({ msg: t.String(), id: Int() }) },
      limit: perMinute('register', 20),
      errors: { 400: [NAME_MSG.controlChars, PASSWORD_MSG.tooShort, ACCOUNT_MSG.anyRole], 409: [ACCOUNT_MSG.exists] },
      detail: { summary: 'Create a user of any role (admin)' },
    })

    .post('/change-password', async ({ body, user, claims, set, request }) => {
      const pair = await service.changePassword(ctx, user, claims, body)
      set.headers['set-cookie'] = sessionCookies(ctx.config, pair) as any
      return { msg: say(ctx, request, 'password changed') }
    }, {
      auth: 'student',
      token: true,
      body: ChangePasswordBody,
      response: { 200: Message },
      errors: { 400: [ACCOUNT_MSG.wrongPassword, PASSWORD_MSG.tooShort] },
      detail: {
        summary: 'Change your own password; ends your other sessions',
        description: 'The new password follows the signup rules (8+ characters, not only spaces, not the name, not a common password). At most 5 wrong current passwords per session in 15 minutes; then 429 with Retry-After.',
      },
    })
