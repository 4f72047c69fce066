/**
 * How every console page and form is served (decision 033): one function for a page (`page`),
 * one for a form post (`action`). Both find the signed-in viewer from the session cookie the API
 * uses; `page` sends an anonymous visitor to /console/login and a student to a 403 page; `action`
 * also requires the form's csrf_token to equal the session's CSRF value (verifyFormAccess), so a
 * post from another site is refused whatever it sends.
 *
 * After a form post the browser is sent back (303, Post/Redirect/Get) with a one-time notice in a
 * short-lived cookie, so reloading a page never repeats a write and no message travels in a URL.
 * A refusal from the core (HttpError) becomes that notice, in the viewer's language.
 */
import { parseCookies, serializeCookie } from '../../lib/cookies'
import { HttpError, CsrfError } from '../../lib/errors'
import { pickLanguage, translate, type Lang } from '../../lib/i18n'
import { hasRole, type Actor } from '../../core/identity/actors'
import type { Ctx } from '../../context'
import { actorFor, pageViewer, verifyFormAccess } from '../../plugins/auth'
import { Layout, SimplePage, type NavKey } from './layout'
import type { Flash, PageEnv, Viewer } from './env'
import { common } from './text'
import { CsrfField } from './forms'

export type SetLike = { headers: Record<string, unknown>; status?: unknown }

/** The console's own Content-Security-Policy: its stylesheet and script files only, no inline script or style. */
const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

export const LANG_COOKIE = 'qrbook_lang'
const FLASH_COOKIE = 'qrbook_console_flash'

export type { PageEnv } from './env'

/** The viewer's language: the switch (a cookie) first, then Accept-Language. */
export function consoleLanguage(request: Request): Lang {
  const chosen = parseCookies(request.headers.get('cookie'))[LANG_COOKIE]
  return chosen === 'ru' || chosen === 'en' ? chosen : pickLanguage(request.headers.get('accept-language'))
}

/** A path inside the console to come back to (never another site: "//evil" or "/console.evil"). */
export function consolePath(raw: unknown, fallback = '/console'): string {
  if (typeof raw !== 'string' || raw.length > 500) return fallback
  return /^\/console(?:[/?#]|$)/.test(raw) && !raw.includes('\\') ? raw : fallback
}

export function htmlHeaders(set: SetLike, lang: Lang, status = 200): void {
  set.status = status
  set.headers['content-type'] = 'text/html; charset=utf-8'
  set.headers['cache-control'] = 'no-store'
  set.headers['content-language'] = lang
  set.headers.vary = 'Accept-Language, Cookie'
  set.headers['content-security-policy'] = CONSOLE_CSP
  set.headers['referrer-policy'] = 'same-origin'
}

export function redirect(set: SetLike, location: string, cookies: string[] = []): string {
  set.status = 303
  set.headers.location = location
  set.headers['cache-control'] = 'no-store'
  if (cookies.length) set.headers['set-cookie'] = [...((set.headers['set-cookie'] as string[] | undefined) ?? []), ...cookies]
  return ''
}

function flashCookie(ctx: Ctx, flash: Flash | null): string {
  const value = flash ? Buffer.from(JSON.stringify(flash)).toString('base64url') : ''
  return serializeCookie(FLASH_COOKIE, value, { httpOnly: true, secure: ctx.config.jwtCookieSecure, sameSite: 'Lax', maxAge: flash ? 60 : 0, path: '/console' })
}

function readFlash(request: Request): Flash | undefined {
  const raw = parseCookies(request.headers.get('cookie'))[FLASH_COOKIE]
  if (!raw) return undefined
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Partial<Flash>
    if ((value.kind === 'done' || value.kind === 'error') && typeof value.text === 'string') return { kind: value.kind, text: value.text.slice(0, 2000) }
  } catch { /* a cookie it did not write: ignored */ }
  return undefined
}

/** A refusal in the viewer's language (the API's catalogue). */
export function refusal(ctx: Ctx, error: HttpError, lang: Lang): string {
  return translate(error.message, lang, { timeZone: ctx.config.appTimezone, now: ctx.clock.now(), params: error.params })
}

/** Who may open a page: the least role, and optionally a finer test (a teacher who approves rooms). */
interface Access { role: Extract<Actor['role'], 'teacher' | 'admin'>; allow?: (actor: Actor) => boolean | Promise<boolean> }

async function admitted(access: Access, actor: Actor): Promise<boolean> {
  return hasRole(actor, access.role) && (!access.allow || (await access.allow(actor)))
}

export interface PageOptions extends Access {
  /** the navigation entry it is under */
  active: NavKey
  title: (lang: Lang) => string
  render: (env: PageEnv) => JSX.Element | Promise<JSX.Element>
  /** for a page answering a form post directly */
  error?: string
  status?: number
}

function environment(ctx: Ctx, request: Request, lang: Lang, viewer: Viewer, error?: string): PageEnv {
  return { ctx, request, url: new URL(request.url), lang, viewer, timeZone: ctx.config.appTimezone, now: ctx.clock.now(), error }
}

/** Serves a console page: the viewer signed in with the role, the layout around what `render` draws. */
export async function page(ctx: Ctx, request: Request, set: SetLike, options: PageOptions): Promise<string> {
  const lang = consoleLanguage(request)
  const viewer = await pageViewer(ctx, request)
  const url = new URL(request.url)
  if (!viewer) return redirect(set, `/console/login?${new URLSearchParams({ next: url.pathname + url.search })}`)
  if (!(await admitted(options, viewer.actor))) return forbiddenPage(ctx, set, lang, viewer)
  const flash = readFlash(request)
  if (flash) set.headers['set-cookie'] = [flashCookie(ctx, null)]
  const env = environment(ctx, request, lang, viewer, options.error)
  // already escaped HTML: render() is JSX, whose values the xss check (bun run check:xss) requires safe
  const body = await options.render(env)
  htmlHeaders(set, lang, options.status ?? 200)
  return await (
    <Layout env={env} title={options.title(lang)} active={options.active} flash={options.error ? { kind: 'error', text: options.error } : flash}>
      {body as 'safe'}
    </Layout>
  )
}

function forbiddenPage(ctx: Ctx, set: SetLike, lang: Lang, viewer: Viewer): Promise<string> | string {
  const t = common(lang)
  htmlHeaders(set, lang, 403)
  return (
    <SimplePage lang={lang} title={t.forbiddenTitle}>
      <h1 safe>{t.forbiddenTitle}</h1>
      <p safe>{t.forbidden}</p>
      {ctx.config.frontendBaseUrl ? <p><a href={ctx.config.frontendBaseUrl} safe>{t.openApp}</a></p> : ''}
      <form method="post" action="/console/logout">
        <CsrfField csrf={viewer.csrf} />
        <button type="submit" safe>{t.logout}</button>
      </form>
    </SimplePage>
  )
}

/** What a form action returns: a notice and where to go back to, or a page to show at once. */
type ActionResult = { done?: string; back?: string } | { html: string } | void

export interface ActionOptions extends Access {
  /** where to go back to (a console path), unless the result says otherwise */
  back: string
  act: (env: PageEnv) => Promise<ActionResult>
}

/**
 * Runs a form post: the viewer signed in with the role, the form's csrf_token equal to the
 * session's; then `act`, whose refusal (HttpError) comes back as the notice of the page it returns to.
 */
export async function action(ctx: Ctx, request: Request, set: SetLike, csrfToken: unknown, options: ActionOptions): Promise<string> {
  const lang = consoleLanguage(request)
  let viewer: Viewer
  try {
    const claims = await verifyFormAccess(ctx, request, csrfToken)
    viewer = { actor: await actorFor(ctx, claims), csrf: claims.csrf }
  } catch (error) {
    if (error instanceof CsrfError) {
      htmlHeaders(set, lang, 403)
      return <SimplePage lang={lang} title="403"><h1>403</h1><p safe>{refusal(ctx, error, lang)}</p></SimplePage>
    }
    return redirect(set, `/console/login?${new URLSearchParams({ next: options.back })}`)
  }
  if (!(await admitted(options, viewer.actor))) return forbiddenPage(ctx, set, lang, viewer)
  try {
    const result = await options.act(environment(ctx, request, lang, viewer))
    if (result && 'html' in result) return result.html
    return redirect(set, consolePath(result?.back, options.back), [flashCookie(ctx, { kind: 'done', text: result?.done ?? common(lang).done })])
  } catch (error) {
    if (!(error instanceof HttpError)) throw error
    return redirect(set, options.back, [flashCookie(ctx, { kind: 'error', text: refusal(ctx, error, lang) })])
  }
}

/** Not in the API document: the console is pages, the API is /api. A fresh object per route. */
export const hidden = () => ({ detail: { hide: true } })
