/**
 * The door display in a real browser: /display/<id> stays open while bookings are made and
 * cancelled and the room is blocked through the API, and the page follows each change by itself.
 * Paired with the room's display link it shows the rotating check-in code (decision 013), read back
 * from the screen's pixels, and a new one every period (DISPLAY_CODE_PERIOD_S=10 here).
 * In Russian on a 1080x1920 and a 1920x1080 screen and an 800x1280 tablet (decision 029): the QR
 * code large, the clock and the state line apart, nothing off the screen, no student's name.
 * Screenshots of each state go to docs/screenshots/ (UPDATE_SCREENSHOTS=1, test/helpers/browser.ts).
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import path from 'node:path'
import jsQR from 'jsqr'
import type { Browser, Page } from 'playwright-core'
import { PNG } from 'pngjs'
import { hasChromium, launchBrowser, SCREENSHOT_DIR } from '../../helpers/browser'
import { localTime } from '../../helpers/local-time'
import { killAll, processEnv, ROOT, spawnServer, type ServerProcess } from '../../helpers/process'

setDefaultTimeout(60_000) // starts a server and a browser

/** The page's document and window, inside functions that page.waitForFunction runs in the browser. */
declare const document: any
declare function getComputedStyle(element: unknown): { fontSize: string }

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

const statusOf = (page: Page) => page.locator('#status .main').textContent()

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
    expect(await statusOf(page)).toStartWith('Free')
    await page.waitForFunction(() => !document.body.classList.contains('offline') && document.body.dataset.status !== undefined)
    await page.screenshot({ path: path.join(SHOTS, 'display-free.png') })

    const start = Date.now() - 10_000 // "now": the API accepts a start a few seconds ago
    const booked = await api('POST', `/api/rooms/${room.id}/reserve`, student, {
      start_time: new Date(start).toISOString(), end_time: new Date(start + 30 * 60_000).toISOString(),
    })
    expect(booked.status).toBe(201)
    await page.waitForFunction(() => document.querySelector('#status .main')?.textContent?.startsWith('Occupied until'), undefined, { timeout: 5000 })
    const moscow = (iso: string) => localTime(iso, 'Europe/Moscow')
    const { start_time, end_time } = booked.body.reservation
    // The college's zone (APP_TIMEZONE), named once at the bottom, not beside every time.
    expect(await statusOf(page)).toBe(`Occupied until ${moscow(end_time)}`)
    expect(await page.locator('#status .second').textContent()).toBe(`Занята до ${moscow(end_time)}`)
    expect(await page.locator('#zone').textContent()).toBe('Times: Europe/Moscow (UTC+3)')
    expect(await page.$eval('#status', (box) => box.scrollWidth <= box.clientWidth)).toBe(true)
    // A student's booking: "occupied", never the name.
    expect(await page.locator('#now').textContent()).toBe(`Now · Сейчас${moscow(start_time)}–${moscow(end_time)}Occupied`)
    expect(await page.locator('body').textContent()).not.toContain('student')
    // and the same when the server renders the page (a reload)
    const html = await (await fetch(`${server.base}/display/${room.id}`)).text()
    expect(html).toContain(`Occupied until <time datetime="${end_time}">${moscow(end_time)}</time>`)
    expect(html).not.toContain('student')
    await page.screenshot({ path: path.join(SHOTS, 'display-busy.png') })

    expect((await api('DELETE', `/api/reservations/${booked.body.reservation.id}`, student)).status).toBe(200)
    await page.waitForFunction(() => document.querySelector('#status .main')?.textContent?.startsWith('Free'), undefined, { timeout: 5000 })

    expect((await api('PATCH', `/api/admin/rooms/${room.id}`, admin, { is_blocked: true })).status).toBe(200)
    await page.waitForFunction(() => document.querySelector('#status .main')?.textContent === 'Unavailable', undefined, { timeout: 5000 })
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
    expect(await statusOf(page)).toStartWith('Occupied until')
    expect((await fetch(`${server.base}/display/999999`)).status).toBe(404)
    await context.close()
  })

  test('in Russian at 1080x1920, 1920x1080 and 800x1280: large QR code, clock and state apart, nothing off the screen', async () => {
    const admin = await login('admin')
    const teacher = await login('teacher')
    const student = await login('student')
    const created = await api('POST', '/api/admin/rooms', admin, { name: 'А214', requires_check_in: false })
    expect(created.status).toBe(201)
    const id = created.body.room.id as number
    const at = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString()
    // A lesson now, a student's booking next, another lesson after it.
    const lesson = (title: string, from: number, to: number) => api('POST', '/api/series', teacher, {
      room_id: id, start_time: at(from), end_time: at(to), rrule: 'FREQ=DAILY;COUNT=1', title,
    })
    expect((await lesson('Математический анализ', -0.1, 40)).status).toBe(201)
    expect((await api('POST', `/api/rooms/${id}/reserve`, student, { start_time: at(45), end_time: at(75) })).status).toBe(201)
    expect((await lesson('Физика', 80, 120)).status).toBe(201)

    const context = await browser.newContext({ locale: 'ru-RU', timezoneId: 'Europe/Moscow' })
    const page = await context.newPage()
    for (const [width, height] of [[1080, 1920], [1920, 1080], [800, 1280]] as const) {
      await page.setViewportSize({ width, height })
      await page.goto(`${server.base}/display/${id}`)
      await page.waitForFunction(() => document.body.dataset.status === 'occupied' && !document.body.classList.contains('offline'))
      expect(await page.getAttribute('html', 'lang')).toBe('ru')
      // Russian first: the state in one line, and until when (with the day in front after midnight)
      expect(await statusOf(page)).toMatch(/^Занята до (\d{1,2} \S+ )?\d\d:\d\d$/)
      expect(await page.locator('#status .second').textContent()).toMatch(/^Occupied until (\d{1,2} \S+ )?\d\d:\d\d$/)
      expect(await page.locator('#now .what').textContent()).toBe('Математический анализ')
      expect(await page.locator('#now .who').textContent()).toBe('teacher')
      // The display lists the rest of the room's local day: late in the Moscow evening the
      // student's booking (in 45 minutes) is tomorrow's, and the screen rightly says nothing is left.
      const moscowDay = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Moscow' }).format(new Date(iso))
      expect(await page.locator('#next .what').textContent()).toBe(moscowDay(at(45)) === moscowDay(at(0)) ? 'Занято' : 'Сегодня больше ничего нет')
      expect(await page.locator('body').textContent()).not.toContain('student')

      const box = async (selector: string) => (await page.locator(selector).boundingBox())!
      const short = Math.min(width, height)
      const qr = await box('#code')
      expect(Math.min(qr.width, qr.height)).toBeGreaterThanOrEqual(0.4 * short)
      const clock = await box('#clock')
      const status = await box('#status')
      const overlap = (a: typeof qr, b: typeof qr) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
      expect(await page.locator('#clock').isVisible()).toBe(true)
      expect(await page.locator('#status').isVisible()).toBe(true)
      expect(overlap(clock, status)).toBe(false)
      for (const other of ['#status', '#now', '#next', 'h1']) expect(overlap(qr, await box(other))).toBe(false)
      // nothing off the screen, no scrolling
      for (const selector of ['h1', '#clock', '#status', '#now', '#next', '#code', 'aside .hint.second', '#zone']) {
        const b = await box(selector)
        expect({ selector, inside: b.x >= 0 && b.y >= 0 && b.x + b.width <= width + 0.5 && b.y + b.height <= height + 0.5 }).toEqual({ selector, inside: true })
      }
      expect(await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight])).toEqual([width, height])
      // readable from across the corridor: the state line at least 6% of the short side
      const size = await page.$eval('#status .main', (el: any) => parseFloat(getComputedStyle(el).fontSize))
      expect(size).toBeGreaterThanOrEqual(0.06 * short)
      // and the code scans
      expect(await codeOnScreen(page)).toMatch(new RegExp(`/r/${id}$`))
      await page.screenshot({ path: path.join(SHOTS, `display-${width}x${height}.png`) })
    }
    await context.close()
  })

  test('without APP_TIMEZONE the display shows the device\'s own clock, and says so', async () => {
    const utc = spawnServer({ env: processEnv({ DATABASE_URL: 'memory://', RATELIMIT_ENABLED: 'false' }) })
    await utc.waitForLog('listening')
    const rooms = (await (await fetch(`${utc.base}/api/rooms`)).json() as any).rooms as any[]
    const b101 = rooms.find((r) => r.name === 'B101')!
    const end = b101.current_reservation.end_time as string
    // the server's own HTML: UTC, named once
    const html = await (await fetch(`${utc.base}/display/${b101.id}`)).text()
    expect(html).toContain(`Occupied until <time datetime="${end}">${localTime(end, 'UTC')}</time>`)
    const context = await browser.newContext({ timezoneId: 'Asia/Yekaterinburg', locale: 'en-GB' })
    const page = await context.newPage()
    await page.goto(`${utc.base}/display/${b101.id}`)
    expect(await statusOf(page)).toBe(`Occupied until ${localTime(end, 'Asia/Yekaterinburg')}`)
    expect(await page.locator('#zone').textContent()).toBe("Times: this device's clock, Asia/Yekaterinburg (UTC+5)")
    await context.close()
    await utc.stop()
  })
})
