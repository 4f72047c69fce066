/**
 * The console's door and frame in Chromium (issue 27): an anonymous visitor lands on
 * /console/login, the seeded admin signs in and sees the overview in English and, after the
 * switch, in Russian; a student is refused with 403; signing out ends the session.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { hasChromium } from '../../helpers/browser'
import { openConsole, type ConsoleHarness } from '../../helpers/console'

setDefaultTimeout(60_000)
let c: ConsoleHarness

describe.skipIf(!hasChromium)('console: sign-in, overview, language, sign-out', () => {
  beforeAll(async () => { c = await openConsole() })
  afterAll(async () => { await c?.close() })

  test('an anonymous visitor is sent to the sign-in page, and back where they were going after it', async () => {
    const page = await c.newPage()
    await page.goto(`${c.base}/console/users`)
    expect(new URL(page.url()).pathname).toBe('/console/login')
    expect(new URL(page.url()).searchParams.get('next')).toBe('/console/users')
    await c.shoot(page, 'login')
    expect(await c.axe(page)).toEqual([])
    await page.locator('input[name=name]').fill('admin')
    await page.locator('input[name=password]').fill('wrong-password')
    await page.locator('form button[type=submit]').click()
    expect(await page.locator('.flash.error').textContent()).toBe('invalid credentials')
    await page.locator('input[name=password]').fill('admin1234')
    await Promise.all([page.waitForURL('**/console/users'), page.locator('form button[type=submit]').click()])
  })

  test('the admin sees the overview, switches to Russian and signs out', async () => {
    const page = await c.signedIn('admin')
    expect(new URL(page.url()).pathname).toBe('/console')
    expect(await page.locator('h1').textContent()).toBe('Overview')
    expect(await page.locator('.who').textContent()).toContain('Signed in as admin')
    await c.shoot(page, 'overview')
    expect(await c.axe(page)).toEqual([])
    await Promise.all([page.waitForURL('**/console'), page.locator('a.lang').click()])
    expect(await page.locator('h1').textContent()).toBe('Обзор')
    expect(await page.locator('html').getAttribute('lang')).toBe('ru')
    await c.shoot(page, 'overview-ru')
    await Promise.all([page.waitForURL('**/console/login'), page.locator('.who button').click()])
    await page.goto(`${c.base}/console`)
    expect(new URL(page.url()).pathname).toBe('/console/login')
  })

  test('a student gets 403 and a teacher the teacher\'s overview', async () => {
    const student = await c.signedIn('student')
    const res = await student.goto(`${c.base}/console`)
    expect(res!.status()).toBe(403)
    expect(await student.locator('h1').textContent()).toBe('Not for students')
    const teacher = await c.signedIn('teacher', { lang: 'ru' })
    expect(await teacher.locator('h1').textContent()).toBe('Обзор')
    expect(await teacher.locator('nav a').allTextContents()).not.toContain('Пользователи')
  })
})
