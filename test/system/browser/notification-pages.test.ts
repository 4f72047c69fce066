/**
 * Issue 28 in a real browser: the two pages a person reaches from an e-mail. A notice's
 * List-Unsubscribe link asks first (a link checker's GET changes nothing) and turns that kind's
 * e-mail off with one press; the confirmation link of an address makes it the user's. On a phone,
 * in Russian and English; screenshots in data/screenshots (docs/screenshots with UPDATE_SCREENSHOTS=1).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import path from 'node:path'
import type { Browser } from 'playwright-core'
import { hasChromium, launchBrowser, SCREENSHOT_DIR } from '../../helpers/browser'
import { killAll, processEnv, spawnServer, type ServerProcess } from '../../helpers/process'
import { startSmtp, type TestSmtp } from '../../helpers/smtp'

setDefaultTimeout(60_000)

let server: ServerProcess
let smtp: TestSmtp
let browser: Browser

async function api(method: string, route: string, token?: string, body?: unknown) {
  const res = await fetch(`${server.base}${route}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: await res.json().catch(() => null) as any }
}
const login = async (name: string) => (await api('POST', '/api/auth/login', undefined, { name, password: `${name}1234` })).body.access_token as string
const phone = (locale: string) => browser.newContext({ viewport: { width: 390, height: 844 }, locale, deviceScaleFactor: 2 })

describe.skipIf(!hasChromium)('pages reached from an e-mail', () => {
  beforeAll(async () => {
    smtp = await startSmtp()
    server = spawnServer({ env: processEnv({ DATABASE_URL: 'memory://', RATELIMIT_ENABLED: 'false', SMTP_URL: smtp.url, APP_TIMEZONE: 'Europe/Moscow', FRONTEND_BASE_URL: 'http://frontend.test' }) })
    await server.waitForLog('listening')
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await killAll()
    await smtp?.stop()
  })

  test('the unsubscribe link asks, then stops that kind of e-mail (Russian)', async () => {
    const admin = await login('admin'), student = await login('student'), teacher = await login('teacher')
    const me = (await api('GET', '/api/auth/me', student)).body
    expect((await api('PATCH', `/api/admin/users/${me.id}`, admin, { email: 'student@college.test' })).status).toBe(200)
    const room = (await api('GET', '/api/rooms')).body.rooms.find((r: { name: string }) => r.name === 'B102')
    const start = Math.ceil((Date.now() + 2 * 24 * 3600_000) / 3600_000) * 3600_000
    const slot = { start_time: new Date(start).toISOString(), end_time: new Date(start + 3600_000).toISOString() }
    expect((await api('POST', `/api/rooms/${room.id}/reserve`, student, slot)).status).toBe(201)
    expect((await api('POST', `/api/rooms/${room.id}/reserve`, teacher, { ...slot, bump: true })).status).toBe(201)
    const [mail] = await smtp.waitFor(1)
    const link = mail!.headerLines.find((h) => h.key === 'list-unsubscribe')!.line.replace(/^List-Unsubscribe:\s*<|>$/gi, '')
    // the link names the server's public base; the page is this server's
    const url = new URL(link)
    const context = await phone('ru-RU')
    const page = await context.newPage()
    await page.goto(`${server.base}${url.pathname}${url.search}`)
    expect(await page.locator('h1').textContent()).toBe('Отписка от писем')
    expect(await page.locator('body').textContent()).toContain('Больше не присылать письма этого вида?')
    expect(await page.getByRole('link', { name: 'Открыть QRBOOK' }).getAttribute('href')).toBe('http://frontend.test/')
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'unsubscribe-ru-phone.png') })
    // nothing changed by opening it
    expect((await api('GET', '/api/me/notification-preferences', student)).body.preferences.find((p: { kind: string }) => p.kind === 'bumped').email).toBe(true)
    await page.getByRole('button', { name: 'Отписаться' }).click()
    await page.waitForSelector('text=Готово')
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'unsubscribe-ru-done.png') })
    expect((await api('GET', '/api/me/notification-preferences', student)).body.preferences.find((p: { kind: string }) => p.kind === 'bumped')).toEqual({ kind: 'bumped', in_app: true, email: false })
    await context.close()
  })

  test('the confirmation link of an address makes it the user\'s (English); a used link says so', async () => {
    const guest = await login('guest')
    expect((await api('POST', '/api/me/email', guest, { email: 'guest@college.test' })).status).toBe(202)
    const mail = (await smtp.waitFor(2)).find((m) => (m.to as { text: string }).text === 'guest@college.test')!
    const link = new URL(mail.text!.match(/https?:\/\/\S+\/api\/me\/email\/verify\?token=\S+/)![0])
    const context = await phone('en-GB')
    const page = await context.newPage()
    const response = await page.goto(`${server.base}${link.pathname}${link.search}`)
    expect(response!.status()).toBe(200)
    expect(await page.locator('h1').textContent()).toBe('Address confirmed')
    expect(await page.locator('body').textContent()).toContain('Notices will be sent to guest@college.test.')
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'email-confirmed-en-phone.png') })
    expect((await api('GET', '/api/me/notification-preferences', guest)).body.email).toBe('guest@college.test')
    const again = await page.goto(`${server.base}${link.pathname}${link.search}`)
    expect(again!.status()).toBe(404)
    expect(await page.locator('h1').textContent()).toBe('This link does not work')
    await context.close()
  })
})
