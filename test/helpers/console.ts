/**
 * The console in a real browser (test/system/browser/console-*.test.ts): a test app (seeded, on the
 * run's database) served over HTTP in this process, so that a test drives Chromium through the
 * console and then reads the database itself (`qrbook.database.db`) to check what a step did.
 *
 *   const c = await openConsole()            // in beforeAll; c.close() in afterAll
 *   const page = await c.signedIn('admin')   // a page signed in through /console/login
 *   await c.shoot(page, 'users')             // docs/screenshots/console/users-{phone,desktop}.png
 *   expect(await c.axe(page)).toEqual([])    // no serious or critical axe-core violation
 *
 * Screenshots go to data/screenshots/console (ignored), or with UPDATE_SCREENSHOTS=1 to
 * docs/screenshots/console, where they are committed (test/helpers/browser.ts).
 */
import { mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { startServer, type RunningServer } from '../../src/server'
import { launchBrowser, SCREENSHOT_DIR } from './browser'
import { testApp, type TestApp } from './app'
import { freePort } from './process'

const PHONE = { width: 390, height: 844 }
const DESKTOP = { width: 1440, height: 900 }
const CONSOLE_SHOTS = path.join(SCREENSHOT_DIR, 'console')

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

export interface ConsoleHarness {
  base: string
  qrbook: TestApp
  browser: Browser
  /** A new browser context (its own cookies) with a page on it, in `lang` (Accept-Language). */
  newPage(options?: { lang?: 'en' | 'ru'; viewport?: { width: number; height: number } }): Promise<Page>
  /** A page signed in as a seeded user (password `<name>1234`) through the console's own form. */
  signedIn(name: string, options?: { lang?: 'en' | 'ru'; viewport?: { width: number; height: number } }): Promise<Page>
  signIn(page: Page, name: string, password?: string): Promise<void>
  /** Full-page screenshots of the page as it is, at 390x844 and 1440x900: `<name>-phone.png`, `<name>-desktop.png`. */
  shoot(page: Page, name: string): Promise<void>
  /** axe-core's serious and critical violations on the page: `["rule: target", ...]`. */
  axe(page: Page): Promise<string[]>
  close(): Promise<void>
}

export async function openConsole(env: Record<string, string> = {}): Promise<ConsoleHarness> {
  const qrbook = await testApp({ env: { APP_TIMEZONE: 'Europe/Moscow', ...env } })
  const port = freePort()
  const running: RunningServer = startServer(qrbook.app, { ...qrbook.config, port, host: '127.0.0.1', workers: 1 })
  const base = `http://127.0.0.1:${port}`
  const browser = await launchBrowser()
  const contexts: BrowserContext[] = []
  mkdirSync(CONSOLE_SHOTS, { recursive: true })

  async function newPage(options: { lang?: 'en' | 'ru'; viewport?: { width: number; height: number } } = {}) {
    const context = await browser.newContext({
      viewport: options.viewport ?? DESKTOP, locale: options.lang === 'ru' ? 'ru-RU' : 'en-GB', timezoneId: 'America/New_York',
      extraHTTPHeaders: { 'accept-language': options.lang === 'ru' ? 'ru-RU,ru;q=0.9' : 'en-GB,en;q=0.9' },
      acceptDownloads: true,
    })
    contexts.push(context)
    return context.newPage()
  }

  async function signIn(page: Page, name: string, password = `${name}1234`) {
    await page.goto(`${base}/console/login`)
    await page.locator('input[name=name]').fill(name)
    await page.locator('input[name=password]').fill(password)
    await Promise.all([page.waitForURL((url) => !url.pathname.startsWith('/console/login')), page.locator('form button[type=submit]').click()])
  }

  return {
    base,
    qrbook,
    browser,
    newPage,
    signIn,
    async signedIn(name, options) {
      const page = await newPage(options)
      await signIn(page, name)
      return page
    },
    async shoot(page, name) {
      const original = page.viewportSize()
      for (const [suffix, size] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
        await page.setViewportSize(size)
        // as the page opens at that size: the menu folded on a phone, open on a desktop (console.js)
        await page.evaluate((open) => { const menu = (globalThis as any).document.querySelector('details.menu'); if (menu) menu.open = open }, suffix === 'desktop')
        await page.screenshot({ path: path.join(CONSOLE_SHOTS, `${name}-${suffix}.png`), fullPage: true })
      }
      if (original) await page.setViewportSize(original)
    },
    async axe(page) {
      // evaluate() runs outside the page's CSP (which allows no inline script), as @axe-core/playwright does
      await page.evaluate(AXE_SOURCE)
      return page.evaluate(async () => {
        const results = await (globalThis as any).axe.run(document, { resultTypes: ['violations'] })
        return (results.violations as { id: string; impact: string; nodes: { target: string[] }[] }[])
          .filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`))
      })
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {})
      await browser.close().catch(() => {})
      await running.stop(1000)
      await qrbook.close()
    },
  }
}

declare const document: unknown
