/**
 * The door display in a real browser: /display/<id> stays open while bookings are made and
 * cancelled and the room is blocked through the API, and the page follows each change by itself.
 * Screenshots of each state go to docs/screenshots/.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { hasChromium, launchBrowser, SCREENSHOT_DIR } from '../helpers/browser'
import { killAll, processEnv, ROOT, spawnServer, type ServerProcess } from '../helpers/process'

setDefaultTimeout(60_000) // starts a server and a browser

/** The page's document, inside functions that page.waitForFunction runs in the browser. */
declare const document: any

const SHOTS = SCREENSHOT_DIR
let server: ServerProcess
let browser: Browser

async function api(method: string, route: string, token: string, body?: unknown) {
  const res = await fetch(`${server.base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as any }
}

async function login(name: string) {
  const res = await fetch(`${server.base}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: `${name}1234` }),
  })
  return ((await res.json()) as { access_token: string }).access_token
}

const statusOf = (page: Page) => page.locator('#status .en').textContent()

describe.skipIf(!hasChromium)('door display', () => {
  beforeAll(async () => {
    server = spawnServer({ env: processEnv({ DATABASE_URL: 'memory://', RATELIMIT_ENABLED: 'false' }) })
    await server.waitForLog('listening')
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await killAll()
  })

  test('follows a booking, its cancellation and a block without reloading', async () => {
    const student = await login('student')
    const admin = await login('admin')
    const rooms = (await api('GET', '/api/rooms', student)).body.rooms as any[]
    const room = rooms.find((r) => r.name === 'B102')!
    expect(room.status).toBe('available')

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    let reloads = 0
    page.on('load', () => reloads++)
    await page.goto(`${server.base}/display/${room.id}`)
    expect(await statusOf(page)).toBe('FREE')
    await page.waitForFunction(() => !document.body.classList.contains('offline') && document.body.dataset.status !== undefined)
    await page.screenshot({ path: path.join(SHOTS, 'display-free.png') })

    const start = Date.now() - 10_000 // "now": the API accepts a start a few seconds ago
    const booked = await api('POST', `/api/rooms/${room.id}/reserve`, student, {
      start_time: new Date(start).toISOString(), end_time: new Date(start + 30 * 60_000).toISOString(),
    })
    expect(booked.status).toBe(201)
    await page.waitForFunction(() => document.querySelector('#status .en')?.textContent?.startsWith('BUSY until'), undefined, { timeout: 5000 })
    const until = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(booked.body.reservation.end_time))
    expect(await statusOf(page)).toBe(`BUSY until ${until}`)
    expect(await page.locator('#upcoming').textContent()).toContain('student')
    await page.screenshot({ path: path.join(SHOTS, 'display-busy.png') })

    expect((await api('DELETE', `/api/reservations/${booked.body.reservation.id}`, student)).status).toBe(200)
    await page.waitForFunction(() => document.querySelector('#status .en')?.textContent === 'FREE', undefined, { timeout: 5000 })

    expect((await api('PATCH', `/api/admin/rooms/${room.id}`, admin, { is_blocked: true })).status).toBe(200)
    await page.waitForFunction(() => document.querySelector('#status .en')?.textContent === 'BLOCKED', undefined, { timeout: 5000 })
    await page.screenshot({ path: path.join(SHOTS, 'display-blocked.png') })
    expect(reloads).toBe(1)

    // The QR code on the display is the room's signed scan code, served by the app.
    const qr = await page.locator('aside img').getAttribute('src')
    expect((await fetch(`${server.base}${qr}`)).headers.get('content-type')).toContain('image/svg+xml')
  })

  test('the page is server-rendered: without JavaScript it still shows the truth', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false })
    const page = await context.newPage()
    const rooms = (await (await fetch(`${server.base}/api/rooms`)).json() as any).rooms as any[]
    const b101 = rooms.find((r) => r.name === 'B101')!
    await page.goto(`${server.base}/display/${b101.id}`)
    expect(await statusOf(page)).toStartWith('BUSY until')
    expect((await fetch(`${server.base}/display/999999`)).status).toBe(404)
    await context.close()
  })
})
