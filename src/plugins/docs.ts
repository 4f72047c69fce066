/**
 * API documentation: OpenAPI 3.1 at /swagger/json and Swagger UI at /swagger, with every asset
 * served by the app itself from swagger-ui-dist so the page works with no internet access.
 * Only the canonical /api/... routes are documented; the legacy aliases are left out.
 * The document is built from the routes by @elysiajs/openapi's toOpenAPISchema, then given names,
 * errors and security by enrichDocument (src/plugins/openapi-enrich.ts).
 */
import path from 'node:path'
import { toOpenAPISchema } from '@elysiajs/openapi'
import { Elysia, type AnyElysia } from 'elysia'
import pkg from '../../package.json'
import { namedSchemas } from './openapi-names'
import { enrichDocument } from './openapi-enrich'

const ASSET_DIR = path.dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
/** The files served from swagger-ui-dist, by name, with their types. A Map: the name comes from the URL. */
const ASSETS = new Map<string, string>([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
])

export const API_TAGS = [
  { name: 'Health', description: 'Liveness and database connectivity' },
  { name: 'Auth', description: 'Log in, sessions, accounts. Cookie sessions need X-CSRF-TOKEN on writes; Bearer tokens do not.' },
  { name: 'Rooms', description: 'Rooms, their status now, schedules and booking' },
  { name: 'Reservations', description: 'Your bookings; rescheduling and history for teachers' },
  { name: 'Admin', description: 'Administration (admin role)' },
  { name: 'QR', description: 'QR codes on room doors' },
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

export function buildDocument(app: AnyElysia) {
  namedSchemas() // make sure the shared schemas carry their names
  const { paths, components } = toOpenAPISchema(app, { paths: [/^(?!\/api\/)/], staticFile: false }, undefined, undefined, '3.1.2')
  return enrichDocument({
    openapi: '3.1.2',
    info: INFO,
    tags: API_TAGS,
    paths,
    components: { ...components, securitySchemes: SECURITY_SCHEMES },
  })
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
const INIT = `window.ui = SwaggerUIBundle({ url: '/swagger/json', dom_id: '#swagger-ui', persistAuthorization: true,
  deepLinking: true, displayRequestDuration: true, tryItOutEnabled: false, withCredentials: true })`

/** Serves the document and the UI; `root` is the whole app, whose routes the document describes. */
export const docs = (root: () => AnyElysia) => {
  let cached: { routes: number; document: ReturnType<typeof buildDocument> } | undefined
  return new Elysia()
    .get('/swagger', ({ set }) => {
      set.headers['content-type'] = 'text/html; charset=utf-8'
      return PAGE
    }, { detail: { hide: true } })
    .get('/swagger/json', () => {
      const app = root()
      if (!cached || cached.routes !== app.routes.length) cached = { routes: app.routes.length, document: buildDocument(app) }
      return cached.document
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
