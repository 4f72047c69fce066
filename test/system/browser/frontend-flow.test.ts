/**
 * The existing React frontend's exact flow, run by Chromium from a page served on another origin
 * (another port, as the real frontend is on another host): fetch with credentials: 'include', login
 * with `name`, read csrf_access_token from document.cookie, list rooms, book a slot with
 * X-CSRF-TOKEN, list mine, cancel, logout. A page on an origin missing from CORS_ORIGINS is blocked.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Browser } from 'playwright-core'
import type { Server } from 'bun'
import { hasChromium, launchBrowser } from '../../helpers/browser'
import { freePort, killAll, processEnv, spawnServer, type ServerProcess } from '../../helpers/process'

setDefaultTimeout(30_000) // see test/setup.ts

let api: ServerProcess
let browser: Browser
let allowedPage: Server<undefined>
let otherPage: Server<undefined>

/** What the frontend does, written as it is in its api client: fetch + credentials + CSRF header. */
const FRONTEND_SCRIPT = `
const API = window.API_BASE
const csrf = () => document.cookie.split('; ').find((c) => c.startsWith('csrf_access_token='))?.split('=')[1]
async function call(method, path, body) {
  const headers = { 'Content-Type': 'application/json' }
  if (method !== 'GET') headers['X-CSRF-TOKEN'] = csrf()
  const res = await fetch(API + path, { method, headers, credentials: 'include', body: body ? JSON.stringify(body) : undefined })
  return { status: res.status, body: await res.json() }
}
window.runFlow = async () => {
  const steps = {}
  steps.login = await call('POST', '/auth/login', { name: 'student', password: 'student1234' })
  steps.csrfReadable = Boolean(csrf())
  steps.rooms = await call('GET', '/rooms')
  const room = steps.rooms.body.rooms.find((r) => r.type === 'public' && !r.is_blocked)
  const start = new Date(Math.ceil(Date.now() / 3600000) * 3600000 + 30 * 3600000)
  const end = new Date(start.getTime() + 3600000)
  steps.reserve = await call('POST', '/rooms/' + room.id + '/reserve', { start_time: start.toISOString(), end_time: end.toISOString() })
  steps.mine = await call('GET', '/reservations/mine')
  steps.cancel = await call('DELETE', '/reservations/' + steps.reserve.body.reservation.id)
  steps.mineAfter = await call('GET', '/reservations/mine')
  steps.logout = await call('POST', '/auth/logout')
  steps.meAfter = await call('GET', '/auth/me')
  return steps
}
window.tryLogin = async () => {
  try {
    await fetch(API + '/auth/login', { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'student', password: 'student1234' }) })
    return 'reachable'
  } catch (error) {
    return 'blocked: ' + error.message
  }
}`

function frontendServer(port: number, apiBase: string) {
  const html = `<!doctype html><html><head><title>frontend</title></head><body><h1>QRBOOK frontend</h1>
<script>window.API_BASE = ${JSON.stringify(apiBase)};</script><script>${FRONTEND_SCRIPT}</script></body></html>`
  return Bun.serve({ hostname: '127.0.0.1', port, fetch: () => new Response(html, { headers: { 'content-type': 'text/html' } }) })
}

describe.skipIf(!hasChromium)('the frontend flow across origins', () => {
  beforeAll(async () => {
    const [allowedPort, otherPort] = [freePort(), freePort()]
    api = spawnServer({
      env: processEnv({ DATABASE_URL: 'memory://', LOG_LEVEL: 'warn', CORS_ORIGINS: `http://127.0.0.1:${allowedPort}/` }),
    })
    for (let i = 0; i < 120 && !(await fetch(`${api.base}/health`).then((r) => r.ok).catch(() => false)); i++) await Bun.sleep(250)
    // The legacy paths (no /api prefix) are what the frontend calls.
    allowedPage = frontendServer(allowedPort, api.base)
    otherPage = frontendServer(otherPort, api.base)
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    allowedPage?.stop(true)
    otherPage?.stop(true)
    await killAll()
  })

  test('login, rooms, book, mine, cancel, logout from an allowed origin', async () => {
    const page = await browser.newPage()
    await page.goto(allowedPage.url.href)
    const steps = await page.evaluate(() => (globalThis as any).runFlow())
    expect(steps.login.status).toBe(200)
    expect(steps.login.body.msg).toBe('login successful')
    expect(steps.csrfReadable).toBe(true)
    expect(steps.rooms.status).toBe(200)
    expect(steps.rooms.body.rooms.length).toBeGreaterThan(0)
    expect(steps.reserve.status).toBe(201)
    expect(steps.mine.status).toBe(200)
    expect(steps.mine.body.reservations.map((r: any) => r.id)).toContain(steps.reserve.body.reservation.id)
    expect(steps.cancel.status).toBe(200)
    expect(steps.cancel.body).toEqual({ status: 'cancelled' })
    const cancelled = steps.mineAfter.body.reservations.find((r: any) => r.id === steps.reserve.body.reservation.id)
    expect(cancelled.status).toBe('cancelled')
    expect(steps.logout.status).toBe(200)
    expect(steps.meAfter.status).toBe(401)
  })

  test('the CORS preflight passes for the allowed origin and fails for another', async () => {
    const preflight = (origin: string) => fetch(`${api.base}/rooms/1/reserve`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-csrf-token' },
    })
    const ok = await preflight(allowedPage.url.origin)
    expect(ok.headers.get('access-control-allow-origin')).toBe(allowedPage.url.origin)
    const refused = await preflight(otherPage.url.origin)
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()

    const page = await browser.newPage()
    await page.goto(otherPage.url.href)
    expect(await page.evaluate(() => (globalThis as any).tryLogin())).toStartWith('blocked')
    const allowed = await browser.newPage()
    await allowed.goto(allowedPage.url.href)
    expect(await allowed.evaluate(() => (globalThis as any).tryLogin())).toBe('reachable')
  })
})
