/**
 * Swagger UI in a real browser: it loads with every asset from the app itself (no request leaves
 * the origin, none fails), lists the API's tags, logs in through "Try it out", authorizes with the
 * returned bearer token and calls GET /api/auth/me successfully. Screenshots go to docs/screenshots.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { hasChromium, launchBrowser, SCREENSHOT_DIR } from '../../helpers/browser'
import { killAll, processEnv, ROOT, spawnServer, type ServerProcess } from '../../helpers/process'

setDefaultTimeout(30_000) // see test/setup.ts

const SHOTS = SCREENSHOT_DIR
let server: ServerProcess
let browser: Browser

describe.skipIf(!hasChromium)('Swagger UI', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true })
    server = spawnServer({ env: processEnv({ DATABASE_URL: 'memory://' }) })
    await server.waitForLog('listening')
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await killAll()
  })

  test('loads offline, logs in with Try it out, and calls /api/auth/me with the bearer token', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
    const foreign: string[] = []
    const failed: string[] = []
    page.on('request', (request) => {
      if (!request.url().startsWith(server.base) && !request.url().startsWith('data:')) foreign.push(request.url())
    })
    page.on('requestfailed', (request) => failed.push(`${request.url()} ${request.failure()?.errorText}`))
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.url()} ${response.status()}`)
    })

    await page.goto(`${server.base}/swagger`)
    await page.waitForSelector('.opblock-tag', { timeout: 15_000 })
    const tags = await page.$$eval('.opblock-tag', (nodes) => nodes.map((n) => n.getAttribute('data-tag')))
    for (const tag of ['Health', 'Auth', 'Rooms', 'Reservations', 'Admin']) expect(tags).toContain(tag)
    await page.screenshot({ path: path.join(SHOTS, 'swagger-overview.png') })

    const login = await tryItOut(page, 'operations-Auth-postApiAuthLogin', JSON.stringify({ username: 'admin', password: 'admin1234' }))
    expect(login.status).toBe('200')
    const token = JSON.parse(login.body).access_token as string
    expect(token.split('.')).toHaveLength(3)
    await page.locator('#operations-Auth-postApiAuthLogin').screenshot({ path: path.join(SHOTS, 'swagger-login.png') })

    await page.click('.auth-wrapper .authorize')
    const bearer = page.locator('.modal-ux .auth-container').filter({ hasText: 'bearer' }).first()
    await bearer.locator('input').fill(token)
    await bearer.locator('button.authorize').click()
    await page.click('.modal-ux .btn-done')

    const me = await tryItOut(page, 'operations-Auth-getApiAuthMe')
    expect(me.status).toBe('200')
    expect(JSON.parse(me.body)).toMatchObject({ name: 'admin', role: 'admin' })
    expect(me.curl).toContain('Authorization: Bearer')
    await page.locator('#operations-Auth-getApiAuthMe').screenshot({ path: path.join(SHOTS, 'swagger-me.png') })

    expect(foreign).toEqual([])
    expect(failed).toEqual([])
  })

  test("a newcomer's first try: login and reserve with the page's own defaults answer 200 and 201 (cookie session, CSRF header sent by the page)", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
    await page.goto(`${server.base}/swagger`)
    await page.waitForSelector('.opblock-tag', { timeout: 15_000 })

    const login = await tryItOut(page, 'operations-Auth-postApiAuthLogin')
    expect(login.status).toBe('200')
    expect(JSON.parse(login.body)).toMatchObject({ role: 'admin' })

    const reserveId = await page.$$eval('[id^="operations-Rooms-post"]', (nodes) => nodes.map((n) => n.id).find((id) => /Reserve$/.test(id)))
    expect(reserveId).toBeDefined()
    const reserve = await tryItOut(page, reserveId!)
    expect({ status: reserve.status, body: reserve.body }).toMatchObject({ status: '201' })
    const booked = JSON.parse(reserve.body).reservation
    expect(Date.parse(booked.start_time)).toBeGreaterThan(Date.now())
    expect(reserve.curl).toContain('X-CSRF-TOKEN')
    await page.locator(`#${reserveId}`).screenshot({ path: path.join(SHOTS, 'swagger-reserve.png') })
  }, 60_000) // its own waits add up to 35 s (page 15 s, two answers 10 s each): more than the default on a loaded machine
})


/** Expands an operation, presses "Try it out", optionally fills the JSON body, executes it. */
async function tryItOut(page: Page, id: string, body?: string) {
  const op = page.locator(`#${id}`)
  await op.locator('.opblock-summary').first().click()
  await op.locator('button.try-out__btn').click()
  if (body !== undefined) await op.locator('textarea.body-param__text').fill(body)
  await op.locator('button.execute').click()
  const status = op.locator('.live-responses-table tbody .response-col_status').first()
  await status.waitFor({ timeout: 10_000 })
  return {
    status: (await status.textContent())?.trim(),
    body: (await op.locator('.live-responses-table tbody .response-col_description pre.microlight').first().textContent()) ?? '',
    curl: (await op.locator('.curl-command').first().textContent()) ?? '',
  }
}
