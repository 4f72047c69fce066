/**
 * API documentation: OpenAPI 3.1 at /swagger/json and Swagger UI at /swagger, with every asset
 * served by the app itself from swagger-ui-dist so the page works with no internet access.
 * Only the canonical /api/... routes are documented; the legacy aliases are left out.
 * The document is built from the routes by @elysiajs/openapi's toOpenAPISchema, then given names,
 * errors and security by enrichDocument (src/plugins/openapi-enrich.ts), its schemas made OpenAPI
 * 3.1's by openApi31Schemas (src/plugins/openapi-31.ts).
 */
import path from 'node:path'
import { toOpenAPISchema } from '@elysiajs/openapi'
import { Elysia, type AnyElysia } from 'elysia'
import pkg from '../../package.json'
import type { Clock } from '../lib/clock'
import { formatUtc } from '../lib/time'
import { openApi31Schemas } from './openapi-31'
import { enrichDocument } from './openapi-enrich'

const ASSET_DIR = path.dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
/** The files served from swagger-ui-dist, by name, with their types. A Map: the name comes from the URL. */
const ASSETS = new Map<string, string>([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
])

const API_TAGS = [
  { name: 'Health', description: 'Liveness and database connectivity' },
  { name: 'Auth', description: 'Log in, sessions, accounts. Cookie sessions need X-CSRF-TOKEN on writes; Bearer tokens do not.' },
  { name: 'Rooms', description: 'Rooms, their status now, schedules and booking' },
  { name: 'Reservations', description: 'Your bookings; rescheduling and history for teachers' },
  { name: 'Series', description: 'Recurring bookings (a timetable\'s lessons): an RRULE kept in APP_TIMEZONE, each occurrence an ordinary reservation' },
  { name: 'Closures', description: 'Rooms closed for a period (holidays, maintenance, exams): the public list, and the admin\'s writes and iCalendar import' },
  { name: 'Policies', description: 'Fair use: your booking limits; the admin\'s booking policies, approvals and no-show suspensions' },
  { name: 'Scan', description: 'What the QR code on a room door opens: the room now, and booking it on the spot' },
  { name: 'Calendar', description: 'iCalendar: personal and room feeds behind secret tokens, one booking\'s .ics' },
  { name: 'Notifications', description: 'Your notices in the app and by e-mail, their preferences and the unsubscribe link; failed e-mails for admins' },
  { name: 'Admin', description: 'Administration (admin role): rooms, reservations, users, settings, statistics, the audit log, terms, the timetable import, webhooks' },
  { name: 'QR', description: 'QR codes on room doors: printable posters and the door display\'s link' },
]

const INFO = {
  title: 'QRBOOK API',
  version: pkg.version,
  description: 'Classroom booking behind the QR code on every room door.\n\n'
    + 'Try it: run **POST /api/auth/login** with `{"username":"admin","password":"admin1234"}` (a seeded account), '
    + 'copy `access_token` from the answer, press **Authorize** and paste it as the bearer token.\n\n'
    + 'Every route is also served without the `/api` prefix for the existing frontend. '
    + 'Errors are JSON `{"msg": "..."}`; times are ISO 8601, answered in UTC with a trailing `Z`.',
}

const SECURITY_SCHEMES = {
  bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'access_token from POST /api/auth/login' },
  cookie: { type: 'apiKey', in: 'cookie', name: 'access_token_cookie', description: 'Set by login. Writes also need the X-CSRF-TOKEN header.' },
  csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-TOKEN', description: 'csrf_token from the login answer (the csrf_access_token cookie)' },
}

function buildDocument(app: AnyElysia) {
  const { paths, components } = toOpenAPISchema(app, { paths: [/^(?!\/api\/)/], staticFile: false }, undefined, undefined, '3.1.2')
  return openApi31Schemas(enrichDocument({
    openapi: '3.1.2',
    info: INFO,
    tags: API_TAGS,
    paths,
    components: { ...components, securitySchemes: SECURITY_SCHEMES },
  }))
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>QRBOOK API</title>
  <link rel="icon" href="/swagger/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/swagger/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/swagger/assets/swagger-ui-bundle.js"></script>
  <script src="/swagger/assets/init.js"></script>
</body>
</html>`

// A separate file rather than inline script, so a strict Content-Security-Policy stays possible.
// A cookie session's writes need X-CSRF-TOKEN (the API's CSRF check): like the React frontend,
// the page copies the csrf_access_token cookie into it. Only a page of this origin can read the
// cookie, so this proves what the header is meant to prove.
const INIT = `function csrfCookie() {
  var match = document.cookie.match(/(?:^|; )csrf_access_token=([^;]*)/)
  return match ? decodeURIComponent(match[1]) : null
}
window.ui = SwaggerUIBundle({ url: '/swagger/json', dom_id: '#swagger-ui', persistAuthorization: true,
  deepLinking: true, displayRequestDuration: true, tryItOutEnabled: false, withCredentials: true,
  requestInterceptor: function (request) {
    var token = csrfCookie()
    if (token && !/^(GET|HEAD|OPTIONS)$/i.test(request.method || 'GET')) request.headers['X-CSRF-TOKEN'] = token
    return request
  } })`

/**
 * Every example time in the models is written relative to this instant. When the document is
 * served they are moved so that it falls 4 hours after the next full hour of the clock: the
 * reserve example (10:00-11:00 here) is then bookable when the page is opened (in the future, within
 * the booking horizon and a student's limit, clear of the seeded bookings of a fresh start, which
 * end within 4 hours), and the other examples keep their order and distances.
 */
const EXAMPLE_ANCHOR = Date.parse('2026-11-26T10:00:00Z')
const HOUR = 3_600_000
const ISO_INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/

/**
 * A clock reading at which the served examples are exactly as written (the shift is zero): the
 * published openapi.json (`bun run openapi`) is the document served at this instant, so it does not
 * change with the day it is generated on.
 */
export const EXAMPLES_AS_WRITTEN_AT = new Date(EXAMPLE_ANCHOR - 5 * HOUR)

function exampleShiftMs(now: Date): number {
  const nextFullHour = Math.floor(now.getTime() / HOUR) * HOUR + HOUR
  return nextFullHour + 4 * HOUR - EXAMPLE_ANCHOR
}

/** A copy of the document with every ISO instant value moved by shiftMs (descriptions are longer strings: untouched). */
function withExampleTimes<T>(node: T, shiftMs: number): T {
  if (typeof node === 'string') return (ISO_INSTANT.test(node) ? formatUtc(new Date(Date.parse(node) + shiftMs)) : node) as T
  if (Array.isArray(node)) return node.map((n) => withExampleTimes(n, shiftMs)) as T
  if (!node || typeof node !== 'object') return node
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withExampleTimes(v, shiftMs)])) as T
}

/** Serves the document and the UI; `root` is the whole app, whose routes the document describes. */
export const docs = (root: () => AnyElysia, clock: Clock) => {
  let cached: { routes: number; document: ReturnType<typeof buildDocument> } | undefined
  return new Elysia()
    .get('/swagger', ({ set }) => {
      set.headers['content-type'] = 'text/html; charset=utf-8'
      return PAGE
    }, { detail: { hide: true } })
    .get('/swagger/json', () => {
      const app = root()
      if (!cached || cached.routes !== app.routes.length) cached = { routes: app.routes.length, document: buildDocument(app) }
      return withExampleTimes(cached.document, exampleShiftMs(clock.now()))
    }, { detail: { hide: true } })
    .get('/swagger/assets/:file', ({ params, set }) => {
      if (params.file === 'init.js') {
        set.headers['content-type'] = 'text/javascript; charset=utf-8'
        return INIT
      }
      const type = ASSETS.get(params.file)
      if (type === undefined) {
        set.status = 404
        return { msg: 'not found' }
      }
      set.headers['content-type'] = type
      set.headers['cache-control'] = 'public, max-age=86400'
      return Bun.file(path.join(ASSET_DIR, params.file))
    }, { detail: { hide: true } })
}
