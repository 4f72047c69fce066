/**
 * API documentation: OpenAPI 3.1 at /swagger/json and Swagger UI at /swagger, with every asset
 * served by the app itself from swagger-ui-dist so the page works with no internet access.
 * Only the canonical /api/... routes are documented; the legacy aliases are left out.
 */
import path from 'node:path'
import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import pkg from '../../package.json'

const ASSET_DIR = path.dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
}

export const API_TAGS = [
  { name: 'Health', description: 'Liveness and database connectivity' },
  { name: 'Auth', description: 'Log in, sessions, accounts. Cookie sessions need X-CSRF-TOKEN on writes; Bearer tokens do not.' },
  { name: 'Rooms', description: 'Rooms, their status now, schedules and booking' },
  { name: 'Reservations', description: 'Your bookings; rescheduling and history for teachers' },
  { name: 'Admin', description: 'Administration (admin role)' },
  { name: 'QR', description: 'QR codes on room doors' },
]

export const docs = () =>
  new Elysia()
    .get('/swagger/assets/:file', ({ params, set }) => {
      const type = ASSETS[params.file]
      if (!type) {
        set.status = 404
        return { msg: 'not found' }
      }
      set.headers['content-type'] = type
      set.headers['cache-control'] = 'public, max-age=86400'
      return Bun.file(path.join(ASSET_DIR, params.file))
    }, { detail: { hide: true } })
    .use(openapi({
      path: '/swagger',
      specPath: '/swagger/json',
      provider: 'swagger-ui',
      // Everything outside /api is a legacy alias (or the docs themselves).
      exclude: { paths: [/^(?!\/api\/)/] },
      swagger: {
        theme: '/swagger/assets/swagger-ui.css',
        cdn: '/swagger/assets/swagger-ui-bundle.js',
        persistAuthorization: true,
        autoDarkMode: false,
      } as any,
      documentation: {
        info: {
          title: 'QRBOOK API',
          version: pkg.version,
          description: 'Classroom booking behind the QR code on every room door. Log in with POST /api/auth/login, '
            + 'then press "Authorize" and paste the access_token from its answer as the Bearer token.',
        },
        tags: API_TAGS,
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'access_token from POST /api/auth/login' },
            cookie: { type: 'apiKey', in: 'cookie', name: 'access_token_cookie', description: 'Set by login. Writes also need the X-CSRF-TOKEN header (the csrf_access_token cookie).' },
            csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-TOKEN', description: 'csrf_token from the login answer; needed with the cookie on POST/PUT/PATCH/DELETE' },
          },
        },
        security: [{ bearer: [] }, { cookie: [], csrf: [] }],
      },
    }))
