/**
 * The scan page, root only (the public QR code encodes SERVER_EXTERNAL_BASE/r/<id>; the poster and
 * the door display add ?k=<key>, the proof of presence check-in needs, decision 013):
 *   GET  /r/:id            server-rendered HTML, works without JavaScript (a small inline script
 *                          only shows the times in the device's zone where APP_TIMEZONE is unset),
 *                          ru/en by Accept-Language; never a student's name (decision 029)
 *   POST /r/:id/login      form login: sets the session cookies, 303 back to the page
 *   POST /r/:id/check-in   | forms of the logged-in viewer; each carries csrf_token (the session's
 *   POST /r/:id/book       | CSRF value) which must match the access token's csrf claim, whatever
 *   POST /r/:id/check-out  | JWT_CSRF_CHECK_FORM says (see verifyFormAccess), then 303 back
 *   POST /r/:id/logout     |
 * A refused form post renders the page again with the message and the error's status.
 *
 * The login form has no session yet to tie a CSRF token to, so it double-submits a random nonce:
 * an httpOnly SameSite=Lax cookie set by the GET, echoed in a hidden field. A page on another
 * site can neither read the field nor make the browser send the cookie with its POST, so it
 * cannot log a visitor into an account of its choosing. Login attempts here share the rate limit
 * of POST /auth/login (same rule, per IP + name).
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { clientIp } from '../../lib/client-ip'
import { HttpError, NotFound, CsrfError } from '../../lib/errors'
import { actorFor, pageViewer, verifyFormAccess } from '../../plugins/auth'
import { formNonce, nonceMatches, type NonceCookie } from '../../plugins/login-nonce'
import { metaOf } from '../../plugins/request-context'
import type { Actor } from '../../core/identity/actors'
import { clearedCookies, sessionCookies } from '../../plugins/session-cookies'
import * as authService from '../../core/identity/accounts'
import { frontendRoomUrl } from '../../core/qr/codes'
import { esc } from '../../lib/html'
import { LOCAL_TIME_SCRIPT_HASH, renderScanPage } from './html'
import { requestLanguage } from '../../lib/i18n'
import { bookNow, checkIn, checkOut, scanPageView } from '../../core/bookings/checkin/checkin'
import { MAX_ID } from '../../lib/input'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'

const LOGIN_NONCE: NonceCookie = { name: 'qrbook_login_nonce', sameSite: 'Lax' }
const ROOM_ID = /^[1-9]\d{0,9}$/
const DONE = new Set(['checked_in', 'booked', 'checked_out', 'logged_in', 'logged_out'])
const LOGIN_EXPIRED = 'login form expired: try again'

/** The page's Content-Security-Policy: inline styles, and of scripts only LOCAL_TIME_SCRIPT (by its hash). */
const CSP = `default-src 'none'; script-src ${LOCAL_TIME_SCRIPT_HASH}; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`

type SetHeaders = { headers: Record<string, unknown>; status?: unknown }

function roomIdOf(raw: string): number {
  if (!ROOM_ID.test(raw) || Number(raw) > MAX_ID) throw new NotFound('room not found')
  return Number(raw)
}

function reservationIdOf(raw: unknown): number {
  if (typeof raw !== 'string' || !ROOM_ID.test(raw) || Number(raw) > MAX_ID) throw new NotFound('reservation not found')
  return Number(raw)
}

const keyOf = (raw: unknown) => (typeof raw === 'string' ? raw.slice(0, 64) : '')

/** The logged-in viewer of a page request, or undefined (no token, or one that no longer works). */
/** Back to the page after a successful form post (303, relative, so path prefixes survive). */
function backToPage(set: SetHeaders, id: number, k: string, done: string, cookies: string[] = []) {
  set.status = 303
  set.headers.location = `../${id}?${new URLSearchParams({ ...(k ? { k } : {}), done })}`
  set.headers['cache-control'] = 'no-store'
  if (cookies.length) set.headers['set-cookie'] = cookies
  return ''
}

function htmlHeaders(set: SetHeaders, lang: string) {
  set.headers['content-type'] = 'text/html; charset=utf-8'
  set.headers['cache-control'] = 'no-store'
  set.headers['content-language'] = lang
  set.headers.vary = 'Accept-Language, Cookie'
  set.headers['content-security-policy'] = CSP
  set.headers['referrer-policy'] = 'same-origin'
}

/** Renders the page for this request (status 200, or an error's status with its message). */
async function renderPage(
  ctx: Ctx,
  request: Request,
  set: SetHeaders,
  rawId: string,
  k: string,
  notice: { done?: string; error?: HttpError; viewer?: 'anonymous' } = {},
): Promise<string> {
  const lang = requestLanguage(request)
  htmlHeaders(set, lang)
  const viewer = notice.viewer === 'anonymous' ? undefined : await pageViewer(ctx, request)
  let view
  try {
    view = await scanPageView(ctx, viewer?.actor, roomIdOf(rawId), k)
  } catch (error) {
    if (!(error instanceof NotFound)) throw error
    set.status = 404
    return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>QRBOOK</title></head>`
      + `<body style="font-family:system-ui,sans-serif;padding:16px"><h1>${lang === 'ru' ? 'Аудитория не найдена' : 'Room not found'}</h1><p>${esc(error.message)}</p></body></html>`
  }
  let loginNonce: string | undefined
  if (!viewer) {
    const { nonce, setCookie } = formNonce(ctx, request, LOGIN_NONCE)
    loginNonce = nonce
    if (setCookie) set.headers['set-cookie'] = [...((set.headers['set-cookie'] as string[] | undefined) ?? []), setCookie]
  }
  set.status = notice.error?.status ?? 200
  return renderScanPage({
    lang,
    // APP_TIMEZONE unset: the times are the device's own (decision 029)
    timeZone: ctx.config.appTimezoneExplicit ? ctx.config.appTimezone : null,
    now: ctx.clock.now(),
    view,
    k,
    viewerName: viewer?.actor.name,
    csrf: viewer?.csrf,
    loginNonce,
    done: notice.done && DONE.has(notice.done) ? notice.done : undefined,
    error: notice.error?.message,
    frontendUrl: frontendRoomUrl(ctx.config, view.room.id),
  })
}

const PageParams = t.Object({ id: t.String({ maxLength: 12 }) })
const field = (maxLength: number) => t.Optional(t.String({ maxLength }))
const FormBody = t.Object({
  k: field(64), csrf_token: field(200), reservation_id: field(12), minutes: field(4),
})
const LoginForm = t.Object({ k: field(64), nonce: field(64), name: field(200), password: field(1024) })
/** Not in the API document. A fresh object per route: Elysia merges a macro's detail into the route's own. */
const hidden = () => ({ detail: { hide: true } })

/** Runs a form action for the logged-in viewer; a refusal renders the page with its message. */
async function formAction(
  ctx: Ctx, request: Request, set: SetHeaders, rawId: string, body: { k?: string; csrf_token?: string },
  done: string, act: (actor: Actor, roomId: number) => Promise<unknown>,
) {
  const k = keyOf(body.k)
  try {
    const roomId = roomIdOf(rawId)
    const actor = await actorFor(ctx, await verifyFormAccess(ctx, request, body.csrf_token))
    await act(actor, roomId)
    return backToPage(set, roomId, k, done)
  } catch (error) {
    if (!(error instanceof HttpError)) throw error
    return renderPage(ctx, request, set, rawId, k, { error })
  }
}

export const scanPageRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/r/:id', ({ params, query, request, set }) =>
      renderPage(ctx, request, set, params.id, keyOf(query.k), { done: typeof query.done === 'string' ? query.done : undefined }), {
      params: PageParams,
      query: t.Object({ k: t.Optional(t.String()), done: t.Optional(t.String()) }),
      ...hidden(),
    })

    .post('/r/:id/login', async ({ params, body, request, set }) => {
      const k = keyOf(body.k)
      try {
        const roomId = roomIdOf(params.id)
        if (!nonceMatches(request, LOGIN_NONCE, body.nonce)) throw new HttpError(403, LOGIN_EXPIRED)
        const { pair } = await authService.login(ctx, { name: body.name, password: body.password }, clientIp(request, metaOf(request).socketIp, ctx.config.trustProxy))
        return backToPage(set, roomId, k, 'logged_in', sessionCookies(ctx.config, pair))
      } catch (error) {
        if (!(error instanceof HttpError)) throw error
        return renderPage(ctx, request, set, params.id, k, { error, viewer: 'anonymous' })
      }
    }, { params: PageParams, body: LoginForm, limit: perMinute('login', 6, 'login'), ...hidden() }) // the budget of POST /auth/login

    .post('/r/:id/check-in', ({ params, body, request, set }) =>
      formAction(ctx, request, set, params.id, body, 'checked_in', (actor) =>
        checkIn(ctx, actor, reservationIdOf(body.reservation_id), keyOf(body.k))), { params: PageParams, body: FormBody, ...hidden() })

    .post('/r/:id/book', ({ params, body, request, set }) =>
      formAction(ctx, request, set, params.id, body, 'booked', (actor, roomId) =>
        bookNow(ctx, actor, roomId, keyOf(body.k), body.minutes)), { params: PageParams, body: FormBody, ...hidden() })

    .post('/r/:id/check-out', ({ params, body, request, set }) =>
      formAction(ctx, request, set, params.id, body, 'checked_out', (actor) =>
        checkOut(ctx, actor, reservationIdOf(body.reservation_id))), { params: PageParams, body: FormBody, ...hidden() })

    .post('/r/:id/logout', async ({ params, body, request, set }) => {
      const k = keyOf(body.k)
      try {
        const roomId = roomIdOf(params.id)
        // A session that no longer works is simply forgotten; a working one needs its CSRF token.
        const claims = await verifyFormAccess(ctx, request, body.csrf_token).catch((error) => {
          if (error instanceof CsrfError) throw error
          return undefined
        })
        await authService.logout(ctx, claims)
        return backToPage(set, roomId, k, 'logged_out', clearedCookies(ctx.config))
      } catch (error) {
        if (!(error instanceof HttpError)) throw error
        return renderPage(ctx, request, set, params.id, k, { error })
      }
    }, { params: PageParams, body: FormBody, ...hidden() })
