/**
 * Headless Chromium for browser tests, through playwright-core and Debian's chromium package
 * (never a downloaded browser). When Chromium is absent the browser tests are skipped with a
 * message saying how to get it; .ci/run installs it, so CI always runs them.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM_PATH)

/**
 * Where the browser tests save their screenshots: an ignored folder, so that `bun test` leaves the
 * work tree clean; with UPDATE_SCREENSHOTS=1 the pictures in docs/screenshots (docs/api.md shows them).
 */
export const SCREENSHOT_DIR = path.resolve(import.meta.dir, '../..', process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'data/screenshots')

if (!hasChromium)
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`)

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  })
}
