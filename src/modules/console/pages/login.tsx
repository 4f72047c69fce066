/**
 * Signing in and out of the console, and the language switch.
 *   GET  /console/login    the form (an already signed-in viewer goes on to `next`)
 *   POST /console/login    name + password: the same login as POST /api/auth/login (its rate limit,
 *                          its throttle), sets the same session cookies, 303 to `next`
 *   POST /console/logout   ends the session (its csrf_token required while the session works)
 *   GET  /console/lang     ?to=ru|en&next=...: remembers the choice (a cookie), back to `next`
 *
 * The sign-in form has no session to tie a CSRF token to, so it double-submits a random nonce (an
 * httpOnly SameSite=Strict cookie set by the GET, echoed in a hidden field): another site can
 * neither read the field nor make the browser send the cookie, so it cannot sign a visitor in to
 * an account of its choosing.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../../context'
import { clientIp } from '../../../lib/client-ip'
import { serializeCookie } from '../../../lib/cookies'
import { HttpError, CsrfError } from '../../../lib/errors'
import type { Lang } from '../../../lib/i18n'
import * as accounts from '../../../core/identity/accounts'
import { accessToken, verifyFormAccess } from '../../../plugins/auth'
import { formNonce, nonceMatches, type NonceCookie } from '../../../plugins/login-nonce'
import { metaOf } from '../../../plugins/request-context'
import { perMinute } from '../../../plugins/rate-limit'
import { routeRules } from '../../../plugins/route-rules'
import { clearedCookies, sessionCookies } from '../../../plugins/session-cookies'
import { consoleLanguage, consolePath, hidden, htmlHeaders, LANG_COOKIE, redirect, refusal, type SetLike } from '../kit'
import { SimplePage } from '../layout'
import { words } from '../text'
import { CSRF_FIELD } from '../forms'

const NONCE: NonceCookie = { name: 'qrbook_console_nonce', sameSite: 'Strict', path: '/console' }
const FORM_EXPIRED = 'login form expired: try again'

const text = words({
  en: { title: 'Sign in', name: 'Name', password: 'Password', submit: 'Sign in', expired: 'The form has expired: please try again.', lead: 'The console of QRBOOK for administrators and teachers.' },
  ru: { title: 'Вход', name: 'Имя', password: 'Пароль', submit: 'Войти', expired: 'Форма устарела: попробуйте ещё раз.', lead: 'Консоль QRBOOK для администраторов и преподавателей.' },
})

function loginPage(ctx: Ctx, request: Request, set: SetLike, next: string, error?: string, status = 200, name = ''): Promise<string> | string {
  const lang = consoleLanguage(request)
  const words = text(lang)
  const { nonce, setCookie } = formNonce(ctx, request, NONCE)
  htmlHeaders(set, lang, status)
  if (setCookie) set.headers['set-cookie'] = [setCookie]
  const other: Lang = lang === 'ru' ? 'en' : 'ru'
  return (
    <SimplePage lang={lang} title={words.title}>
      <p class="brand-line">QRBOOK <a class="lang" href={`/console/lang?${new URLSearchParams({ to: other, next: `/console/login?${new URLSearchParams({ next })}` })}`} lang={other}>{other === 'ru' ? 'Русский' : 'English'}</a></p>
      <h1 safe>{words.title}</h1>
      <p class="muted" safe>{words.lead}</p>
      {error ? <p class="flash error" role="alert" safe>{error}</p> : ''}
      <form method="post" action="/console/login" class="stack">
        <input type="hidden" name="nonce" value={nonce} />
        <input type="hidden" name="next" value={next} />
        <label>{words.name as 'safe'}<input name="name" autocomplete="username" required maxlength="200" value={name} /></label>
        <label>{words.password as 'safe'}<input name="password" type="password" autocomplete="current-password" required maxlength="1024" /></label>
        <button type="submit" class="primary" safe>{words.submit}</button>
      </form>
    </SimplePage>
  )
}

const LoginForm = t.Object({ nonce: t.Optional(t.String({ maxLength: 64 })), next: t.Optional(t.String({ maxLength: 500 })), name: t.Optional(t.String({ maxLength: 200 })), password: t.Optional(t.String({ maxLength: 1024 })) })
const LogoutForm = t.Object({ ...CSRF_FIELD })

export const loginPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/login', async ({ request, query, set }) => {
      const next = consolePath(query.next)
      if (await accessToken(ctx, request).catch(() => undefined)) return redirect(set, next)
      return loginPage(ctx, request, set, next)
    }, { query: t.Object({ next: t.Optional(t.String()) }), ...hidden() })

    .post('/console/login', async ({ request, body, set }) => {
      const next = consolePath(body.next)
      const lang = consoleLanguage(request)
      try {
        if (!nonceMatches(request, NONCE, body.nonce)) throw new HttpError(403, FORM_EXPIRED)
        const { pair } = await accounts.login(ctx, { name: body.name, password: body.password }, clientIp(request, metaOf(request).socketIp, ctx.config.trustProxy))
        return redirect(set, next, sessionCookies(ctx.config, pair))
      } catch (error) {
        if (!(error instanceof HttpError)) throw error
        const message = error.message === FORM_EXPIRED ? text(lang).expired : refusal(ctx, error, lang)
        return loginPage(ctx, request, set, next, message, error.status, body.name ?? '')
      }
    }, { body: LoginForm, limit: perMinute('login', 6, 'login'), ...hidden() }) // the budget of POST /auth/login

    .post('/console/logout', async ({ request, body, set }) => {
      // A session that no longer works is simply forgotten; a working one needs its CSRF token.
      const claims = await verifyFormAccess(ctx, request, body.csrf_token).catch((error) => {
        if (error instanceof CsrfError) throw error
        return undefined
      })
      await accounts.logout(ctx, claims)
      return redirect(set, '/console/login', clearedCookies(ctx.config))
    }, { body: LogoutForm, ...hidden() })

    .get('/console/lang', ({ query, set }) => {
      const to = query.to === 'ru' ? 'ru' : 'en'
      return redirect(set, consolePath(query.next), [serializeCookie(LANG_COOKIE, to, { httpOnly: true, secure: ctx.config.jwtCookieSecure, sameSite: 'Lax', maxAge: 365 * 86400, path: '/' })])
    }, { query: t.Object({ to: t.Optional(t.String()), next: t.Optional(t.String()) }), ...hidden() })
