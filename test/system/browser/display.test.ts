/**
 * The door display in a real browser: /display/<id> stays open while bookings are made and
 * cancelled and the room is blocked through the API, and the page follows each change by itself.
 * Paired with the room's display link it shows the rotating check-in code (decision 013), read back
 * from the screen's pixels, and a new one every period (DISPLAY_CODE_PERIOD_S=10 here).
 * Screenshots of each state go to docs/screenshots/.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import path from 'node:path'
import jsQR from 'jsqr'
import type { Browser, Page } from 'playwright-core'
import { PNG } from 'pngjs'
import { hasChromium, launchBrowser, SCREENSHOT_DIR } from '../../helpers/browser'
import { killAll, processEnv, ROOT, spawnServer, type ServerProcess } from '../../helpers/process'

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

/** What a phone camera reads from the code on the display's screen. */
async function codeOnScreen(page: Page): Promise<string> {
  const png = PNG.sync.read(await page.locator('#code').screenshot())
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)!.data
}

describe.skipIf(!hasChromium)('door display', () => {
  beforeAll(async () => {
    server = spawnServer({ env: processEnv({ DATABASE_URL: 'memory://', RATELIMIT_ENABLED: 'false', DISPLAY_CODE_PERIOD_S: '10', APP_TIMEZONE: 'Europe/Moscow' }) })
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

    // The tablet's own zone is not the college's: the page must show the college's (APP_TIMEZONE).
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, timezoneId: 'America/New_York' })
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
    const moscow = (iso: string) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Moscow', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso))
    const { start_time, end_time } = booked.body.reservation
    expect(await statusOf(page)).toBe(`BUSY until ${moscow(end_time)} UTC+3`)
    expect(await page.locator('#status .ru').textContent()).toBe(`ЗАНЯТА до ${moscow(end_time)} UTC+3`)
    // the labelled line still fits its box
    expect(await page.$eval('#status', (box) => box.scrollWidth <= box.clientWidth)).toBe(true)
    expect(await page.locator('#upcoming').textContent()).toContain(`${moscow(start_time)}–${moscow(end_time)} UTC+3 student`)
    // and the same labels when the server renders the page (a reload)
    const html = await (await fetch(`${server.base}/display/${room.id}`)).text()
    expect(html).toContain(`BUSY until ${moscow(end_time)} <span class="zone">UTC+3</span>`)
    expect(html).toContain(`${moscow(start_time)}–${moscow(end_time)} UTC+3</span> student`)
    await page.screenshot({ path: path.join(SHOTS, 'display-busy.png') })

    expect((await api('DELETE', `/api/reservations/${booked.body.reservation.id}`, student)).status).toBe(200)
    await page.waitForFunction(() => document.querySelector('#status .en')?.textContent === 'FREE', undefined, { timeout: 5000 })

    expect((await api('PATCH', `/api/admin/rooms/${room.id}`, admin, { is_blocked: true })).status).toBe(200)
    await page.waitForFunction(() => document.querySelector('#status .en')?.textContent === 'BLOCKED', undefined, { timeout: 5000 })
    await page.screenshot({ path: path.join(SHOTS, 'display-blocked.png') })
    expect(reloads).toBe(1)

    // Without the display link the QR code is the room's public code: the scan page, no key.
    const qr = await page.locator('aside img').getAttribute('src')
    expect(qr).toBe(`/static/qr/${room.id}.svg`)
    expect((await fetch(`${server.base}${qr}`)).headers.get('content-type')).toContain('image/svg+xml')
    expect(await codeOnScreen(page)).toMatch(new RegExp(`/r/${room.id}$`))
  })

  test('paired with the display link it shows the rotating check-in code, a new one every period', async () => {
    const admin = await login('admin')
    const student = await login('student')
    const rooms = (await api('GET', '/api/rooms', student)).body.rooms as any[]
    const room = rooms.find((r) => r.name === 'A200')!
    const link = await api('GET', `/api/admin/rooms/${room.id}/display-link`, admin)
    expect(link.status).toBe(200)
    expect(link.body.code_period_s).toBe(10)
    const { pathname, search } = new URL(link.body.display_url)

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    await page.goto(`${server.base}${pathname}${search}`)
    // The stream's first code event (pushed at once) marks the step on the page.
    await page.waitForFunction(() => document.body.dataset.codeStep !== undefined, undefined, { timeout: 5000 })
    const first = await codeOnScreen(page)
    expect(first).toMatch(new RegExp(`/r/${room.id}\\?k=[A-Za-z0-9_-]{12}$`))
    const k = new URL(first).searchParams.get('k')!
    const scan = await api('GET', `/api/scan/${room.id}?k=${k}`, student)
    expect(scan.body).toMatchObject({ key_status: 'valid', key_kind: 'display', proof_ok: true })
    await page.screenshot({ path: path.join(SHOTS, 'display-code.png') })

    const step = await page.evaluate(() => document.body.dataset.codeStep)
    await page.waitForFunction((s) => document.body.dataset.codeStep !== s, step, { timeout: 15_000 })
    const second = await codeOnScreen(page)
    expect(second).not.toBe(first)
    expect((await api('GET', `/api/scan/${room.id}?k=${new URL(second).searchParams.get('k')}`, student)).body.key_status).toBe('valid')
    // The public stream of the same room never carries the code.
    const open = await fetch(`${server.base}/api/rooms/${room.id}/events`)
    const reader = open.body!.getReader()
    const chunks: string[] = []
    const until = Date.now() + 11_000
    while (Date.now() < until) {
      const next = await Promise.race([reader.read(), Bun.sleep(until - Date.now()).then(() => undefined)])
      if (!next || next.done) break
      chunks.push(new TextDecoder().decode(next.value))
    }
    await reader.cancel()
    expect(chunks.join('')).toContain('event: snapshot')
    expect(chunks.join('')).not.toContain('event: code')
    await page.close()
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
