/**
 * GET / : a newcomer who opens the server's address gets a page saying what it is and where to go
 * (the API documentation, the health check, the frontend), instead of a JSON 404. Root only: /api
 * is the API itself. Every route of the contract has a path of its own, so nothing else answers /.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { esc } from '../../lib/html'
import pkg from '../../../package.json'

/** No script, no outside resources: only its own inline style. */
const HOME_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

function renderHome(links: { swagger: boolean; frontendBaseUrl?: string }): string {
  const items = [
    links.frontendBaseUrl ? `<li><a href="${esc(links.frontendBaseUrl)}">Open the booking app</a> (${esc(links.frontendBaseUrl)})</li>` : '',
    links.swagger ? '<li><a href="/swagger">API documentation</a> (Swagger UI; the OpenAPI document is <a href="/swagger/json">/swagger/json</a>)</li>' : '',
    '<li><a href="/health">Health check</a> (<code>/health</code>)</li>',
  ].filter(Boolean).join('\n      ')
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>QRBOOK</title>
  <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}h1{margin-bottom:.2rem}p.v{color:#666;margin-top:0}</style>
</head>
<body>
  <h1>QRBOOK</h1>
  <p class="v">Classroom booking backend, version ${esc(pkg.version)}</p>
  <p>This is the server of the room booking system: the API lives under <code>/api</code>, and each room's QR code opens its page at <code>/r/&lt;room id&gt;</code>.</p>
  <ul>
      ${items}
  </ul>
</body>
</html>
`
}

export const homeRoutes = (ctx: Ctx) => {
  const page = renderHome({ swagger: ctx.config.swaggerEnabled, frontendBaseUrl: ctx.config.frontendBaseUrl })
  return new Elysia().get('/', ({ set }) => {
    set.headers['content-type'] = 'text/html; charset=utf-8'
    set.headers['content-security-policy'] = HOME_CSP
    set.headers['cache-control'] = 'no-cache'
    return page
  }, { detail: { hide: true } })
}
