/**
 * The scan flow on a phone (Chromium, 390x844, JavaScript off): the public QR code from
 * qr_code_url is decoded and opened while logged out; the visitor logs in on the page, which says
 * to scan the poster (the public code proves nothing, decision 013); the code of the printed
 * poster (rendered in the browser and read back from pixels) offers "Check in" for the in-progress
 * booking, and the page shows it checked in. Then a room switched to `display` proof: its door
 * display (paired with the admin's display link) shows the rotating code, the phone reads it off
 * the screen and books "now" for 30 minutes, checked in at once. Runs against a real
 * `bun src/index.ts` (with its sweeper). Screenshots go to docs/screenshots/scan-*.png.
 *
 * The seeded in-progress B101 booking is seeded as checked in (issue 7), so before starting the
 * server this test takes it back to "not checked in yet" and gives B101 a 60-minute release delay,
 * so that the booking, which began 30 minutes ago, is still inside its check-in window.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import jsQR from 'jsqr'
import type { Browser, BrowserContext } from 'playwright-core'
import { PNG } from 'pngjs'
import { loadConfig } from '../../../src/config'
import { reservations, rooms } from '../../../src/db/schema'
import { systemClock } from '../../../src/lib/clock'
import { silentLogger } from '../../../src/lib/log'
import { openDatabase, prepareDatabase } from '../../../src/startup'
import { hasChromium, launchBrowser, SCREENSHOT_DIR } from '../../helpers/browser'
import { localTime } from '../../helpers/local-time'
import { freePort, killAll, processEnv, ROOT, spawnServer, type ServerProcess } from '../../helpers/process'

setDefaultTimeout(60_000) // Bun's 5 s default is too short for tests that start databases and processes

const SHOTS = SCREENSHOT_DIR
const SECRETS = { SECRET_KEY: 'scan-flow-secret-key-0123456789abcdefghijk', JWT_SECRET_KEY: 'scan-flow-jwt-key-0123456789abcdefghijklmn' }
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, javaScriptEnabled: false }

let dir: string
let server: ServerProcess
let browser: Browser
let base: string

function decode(bytes: Uint8Array): string {
  const png = PNG.sync.read(Buffer.from(bytes))
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)!.data
}

async function roomOf(roomName: string): Promise<{ id: number; name: string; qr_code_url: string }> {
  const list = (await (await fetch(`${base}/api/rooms`)).json()) as { rooms: { id: number; name: string; qr_code_url: string }[] }
  return list.rooms.find((r) => r.name === roomName)!
}

/** What a phone camera reads from the room's public QR code (the PNG at its qr_code_url). */
async function scan(roomName: string): Promise<string> {
  return decode(new Uint8Array(await (await fetch((await roomOf(roomName)).qr_code_url)).arrayBuffer()))
}

async function adminToken(): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: 'admin1234' }),
  })
  return ((await res.json()) as { access_token: string }).access_token
}

/** What a phone camera reads from the printed poster: the admin's poster SVG, drawn by the browser. */
async function scanPoster(roomName: string): Promise<string> {
  const room = await roomOf(roomName)
  const svg = await (await fetch(`${base}/api/admin/rooms/${room.id}/poster.svg`, { headers: { authorization: `Bearer ${await adminToken()}` } })).text()
  const page = await browser.newPage({ viewport: { width: 800, height: 1140 } })
  await page.setContent(`<!doctype html><body style="margin:0;background:#fff">${svg.replace(/^<\?xml[^>]*>/, '')}</body>`)
  const url = decode(await page.screenshot())
  await page.close()
  return url
}

describe.skipIf(!hasChromium)('scanning a room QR code on a phone', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'qrbook-scan-'))
    const port = freePort()
    base = `http://127.0.0.1:${port}`
    const env = { ...SECRETS, DATABASE_URL: `pglite://${dir}`, PORT: String(port), SERVER_EXTERNAL_BASE: `${base}/`, FRONTEND_BASE_URL: 'http://frontend.example' }
    const database = await openDatabase(loadConfig(env), silentLogger)
    await prepareDatabase(database, systemClock, silentLogger)
    const [b101] = await database.db.select().from(rooms).where(eq(rooms.name, 'B101'))
    await database.db.update(rooms).set({ autoReleaseAfterMin: 60 }).where(eq(rooms.id, b101!.id))
    await database.db.update(reservations).set({ checkedInAt: null }).where(eq(reservations.roomId, b101!.id))
    await database.close()
    server = spawnServer({ env: processEnv({ ...env, LOG_LEVEL: 'info' }) })
    await server.waitForLog('listening')
    browser = await launchBrowser()
    mkdirSync(SHOTS, { recursive: true })
  })
  afterAll(async () => {
    await browser?.close()
    await killAll()
    rmSync(dir, { recursive: true, force: true })
  })

  test('log in from the public code, check in with the poster, then book a display room now from its screen', async () => {
    const url = await scan('B101')
    expect(url).toMatch(new RegExp(`^${base}/r/\\d+$`))
    const context: BrowserContext = await browser.newContext({ ...PHONE, locale: 'en-US' })
    const page = await context.newPage()

    await page.goto(url)
    expect(await page.locator('h1').textContent()).toBe('B101')
    await page.getByText('Log in to check in or book').waitFor()
    await page.screenshot({ path: path.join(SHOTS, 'scan-1-login.png') })

    await page.fill('#name', 'teacher')
    await page.fill('#password', 'teacher1234')
    await Promise.all([page.waitForURL(/done=logged_in/), page.getByRole('button', { name: 'Log in' }).click()])
    await page.getByText('Logged in as teacher').waitFor()
    // The public code proves nothing: the page says what to scan.
    await page.getByText('To check in, scan the QR code on the poster on the room door.').waitFor()
    expect(await page.getByRole('button', { name: 'Check in' }).count()).toBe(0)
    await page.screenshot({ path: path.join(SHOTS, 'scan-2-scan-poster.png') })

    const posterUrl = await scanPoster('B101')
    expect(posterUrl).toMatch(new RegExp(`^${base}/r/\\d+\\?k=[A-Za-z0-9_-]{12}$`))
    await page.goto(posterUrl)
    const checkIn = page.getByRole('button', { name: 'Check in' })
    expect(await checkIn.isVisible()).toBe(true)
    // the deadline carries its day when it is tomorrow's in the college's zone (UTC here: after
    // midnight UTC the seeded booking's deadline is; failed in CI at 23:30 UTC)
    expect(await page.getByText(/Check in by (\d{1,2} \S+ )?\d\d:\d\d, or the booking is released\./).isVisible()).toBe(true)
    await page.screenshot({ path: path.join(SHOTS, 'scan-2-check-in.png') })

    await Promise.all([page.waitForURL(/done=checked_in/), checkIn.click()])
    await page.getByText('You are checked in.').waitFor()
    expect(await page.getByText(/You are checked in \(since \d\d:\d\d\)\./).isVisible()).toBe(true)
    expect(await page.locator('.badge', { hasText: 'checked in' }).count()).toBe(1)
    expect(await page.getByRole('button', { name: 'Check in' }).count()).toBe(0)
    await page.screenshot({ path: path.join(SHOTS, 'scan-3-checked-in.png') })
    const b101 = (await (await fetch(`${base}/api/rooms`)).json() as any).rooms.find((r: any) => r.name === 'B101')
    expect(b101.status).toBe('occupied')
    expect(b101.current_reservation).toMatchObject({ user_name: 'teacher', checked_in_at: expect.stringMatching(/Z$/) })

    // B102 (free until the student's booking in two hours) checks in with its door display.
    const admin = await adminToken()
    const b102 = await roomOf('B102')
    const patched = await fetch(`${base}/api/admin/rooms/${b102.id}`, {
      method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, body: JSON.stringify({ check_in_proof: 'display' }),
    })
    expect(patched.status).toBe(200)
    // From the public code, book now would not be checked in, and the page says what to scan.
    await page.goto(await scan('B102'))
    await page.getByText('to be checked in at once, scan the code on the door display first.').waitFor()

    const link = (await (await fetch(`${base}/api/admin/rooms/${b102.id}/display-link`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { display_url: string }
    const display = await browser.newPage({ viewport: { width: 1280, height: 800 } })
    const { pathname, search } = new URL(link.display_url)
    await display.goto(`${base}${pathname}${search}`)
    const screenUrl = decode(await display.locator('#code').screenshot())
    await display.close()
    expect(screenUrl).toMatch(new RegExp(`^${base}/r/${b102.id}\\?k=[A-Za-z0-9_-]{12}$`))

    await page.goto(screenUrl)
    expect(await page.locator('h1').textContent()).toBe('B102')
    await page.getByText('Book now').waitFor()
    await page.getByText('You will be checked in at once.').waitFor()
    expect(await page.locator('button[name=minutes]').count()).toBe(3)
    await page.screenshot({ path: path.join(SHOTS, 'scan-4-book-now.png') })
    await Promise.all([page.waitForURL(/done=booked/), page.locator('button[name=minutes][value="30"]').click()])
    await page.getByText('Booked. You are checked in.').waitFor()
    await page.screenshot({ path: path.join(SHOTS, 'scan-5-booked.png') })

    const detail = (await (await fetch(`${base}/api/rooms`)).json() as any).rooms.find((r: any) => r.name === 'B102')
    expect(detail.status).toBe('occupied')
    const current = detail.current_reservation
    expect(current.user_name).toBe('teacher')
    expect(current.checked_in_at).toMatch(/Z$/)
    expect(Math.round((Date.parse(current.end_time) - Date.parse(current.checked_in_at)) / 60_000)).toBe(30)
    expect(await page.locator('a', { hasText: 'Open the room in QRBOOK' }).getAttribute('href')).toBe(`http://frontend.example/rooms/${detail.id}`)
    await context.close()
  })

  test('in Russian for a Russian phone', async () => {
    const context = await browser.newContext({ ...PHONE, locale: 'ru-RU' })
    const page = await context.newPage()
    await page.goto(await scan('B101'))
    await page.getByText('Войдите, чтобы отметиться или забронировать').waitFor()
    expect(await page.getByRole('button', { name: 'Войти' }).isVisible()).toBe(true)
    // Without JavaScript (and without APP_TIMEZONE) the times are UTC, and the page says so once.
    expect(await page.locator('#zone').textContent()).toBe('Время: UTC')
    await page.screenshot({ path: path.join(SHOTS, 'scan-ru-login.png') })
    await context.close()
  })

  test("with JavaScript, the phone's own clock; a student's booking is 'Занято' (decision 029)", async () => {
    const context = await browser.newContext({ ...PHONE, javaScriptEnabled: true, locale: 'ru-RU', timezoneId: 'Europe/Moscow' })
    const page = await context.newPage()
    const b102 = await roomOf('B102')
    await page.goto(await scan('B102'))
    await page.getByText('Брони на сегодня').waitFor()
    expect(await page.locator('#zone').textContent()).toBe('Время: по часам устройства, Europe/Moscow (UTC+3)')
    const rooms = (await (await fetch(`${base}/api/rooms`)).json() as any).rooms as any[]
    const next = rooms.find((r) => r.id === b102.id).next_reservation
    const moscow = (iso: string) => localTime(iso, 'Europe/Moscow', 'ru')
    // The page lists the rest of the college's day (APP_TIMEZONE, UTC here): after 22:00 UTC the
    // seeded student's booking (in two hours) is tomorrow's, and rightly not listed (failed in CI
    // at 22:55 UTC).
    const utcDay = (iso: string) => iso.slice(0, 10)
    if (utcDay(next.start_time) === new Date().toISOString().slice(0, 10)) {
      // The seeded student's booking (the teacher's walk-up booking above may come first).
      const row = page.locator('li', { hasText: 'Занято' }).last()
      expect(await row.locator('time').first().textContent()).toBe(moscow(next.start_time))
    } else {
      expect(await page.locator('li', { hasText: 'Занято' }).count()).toBe(0)
    }
    expect(await page.locator('body').textContent()).not.toContain('student')
    await page.screenshot({ path: path.join(SHOTS, 'scan-ru-phone.png'), fullPage: true })
    await context.close()
  })
})
