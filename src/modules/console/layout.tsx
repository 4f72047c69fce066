/**
 * The frame of every console page: a header with the navigation the viewer's role may use, the
 * language switch and sign-out, the one-time notice of the last form post, and a footer naming the
 * time zone the times are in. No inline script or style (the page's CSP forbids them): the look
 * is /console/assets/console.css, the few behaviours /console/assets/console.js, and the menu on a
 * phone is a <details> element, which works without either.
 */
import type { Lang } from '../../lib/i18n'
import { zoneLabel } from '../../lib/time'
import type { Flash, PageEnv } from './env'
import { common, fill } from './text'
import { CsrfField } from './forms'

export type NavKey = 'overview' | 'term' | 'calendar' | 'closures' | 'policies' | 'approvals' | 'users' | 'rooms' | 'audit' | 'reports' | 'lessons'

const ADMIN_NAV: readonly NavKey[] = ['overview', 'term', 'calendar', 'closures', 'policies', 'approvals', 'users', 'rooms', 'audit', 'reports']
// No approvals: the core has no teacher approvers yet (approvals are an admin's, as in the API).
const TEACHER_NAV: readonly NavKey[] = ['overview', 'lessons', 'calendar']

const NAV_PATHS: Record<NavKey, string> = {
  overview: '/console', term: '/console/term', calendar: '/console/calendar', closures: '/console/closures', policies: '/console/policies',
  approvals: '/console/approvals', users: '/console/users', rooms: '/console/rooms', audit: '/console/audit', reports: '/console/reports',
  lessons: '/console/lessons',
}

function Head(props: { lang: Lang; title: string }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title safe>{props.title}</title>
      <link rel="stylesheet" href="/console/assets/console.css" />
      <script src="/console/assets/console.js" defer></script>
    </head>
  )
}

/** A page outside the frame: sign-in, 403, 404. */
export function SimplePage(props: { lang: Lang; title: string; children?: JSX.Element | JSX.Element[] }) {
  return (
    <>
      {'<!doctype html>'}
      <html lang={props.lang}>
        <Head lang={props.lang} title={`${props.title} · QRBOOK`} />
        <body class="simple">
          <main class="card narrow">{props.children as 'safe'}</main>
        </body>
      </html>
    </>
  )
}

function LanguageSwitch(props: { lang: Lang; here: string }) {
  const other: Lang = props.lang === 'ru' ? 'en' : 'ru'
  return (
    <a class="lang" href={`/console/lang?${new URLSearchParams({ to: other, next: props.here })}`} hreflang={other} lang={other}>
      {other === 'ru' ? 'Русский' : 'English'}
    </a>
  )
}

/** "Europe/Moscow (UTC+3)"; plain "UTC" where the zone is UTC itself. */
function zoneName(timeZone: string, now: Date): string {
  const offset = zoneLabel(now, timeZone)
  return offset === timeZone ? timeZone : `${timeZone} (${offset})`
}

export function Layout(props: { env: PageEnv; title: string; active: NavKey; flash?: Flash; children?: JSX.Element | JSX.Element[] }) {
  const { env } = props
  const t = common(env.lang)
  const nav = env.viewer.actor.role === 'admin' ? ADMIN_NAV : TEACHER_NAV
  const here = env.url.pathname + env.url.search
  return (
    <>
      {'<!doctype html>'}
      <html lang={env.lang}>
        <Head lang={env.lang} title={`${props.title} · ${t.product}`} />
        <body>
          <a class="skip" href="#main" safe>{t.skip}</a>
          <header class="top">
            <a class="brand" href="/console">QRBOOK</a>
            <details class="menu">
              <summary safe>{t.menu}</summary>
              <nav aria-label={t.menu}>
                {nav.map((key) => (
                  <a href={NAV_PATHS[key]} aria-current={key === props.active ? 'page' : undefined} safe>{t[key]}</a>
                ))}
              </nav>
            </details>
            <div class="who">
              <span safe>{fill(t.loggedInAs, { name: env.viewer.actor.name, role: t[`role_${env.viewer.actor.role}`] })}</span>
              <LanguageSwitch lang={env.lang} here={here} />
              <form method="post" action="/console/logout" class="inline">
                <CsrfField csrf={env.viewer.csrf} />
                <button type="submit" class="link" safe>{t.logout}</button>
              </form>
            </div>
          </header>
          <main id="main">
            <h1 safe>{props.title}</h1>
            {props.flash ? <p class={`flash ${props.flash.kind}`} role={props.flash.kind === 'error' ? 'alert' : 'status'} safe>{props.flash.text}</p> : ''}
            {props.children as 'safe'}
          </main>
          <footer safe>{fill(t.timesIn, { zone: zoneName(env.timeZone, env.now) })}</footer>
        </body>
      </html>
    </>
  )
}
