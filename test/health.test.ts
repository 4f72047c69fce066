/**
 * GET /health and GET /api/health: 200 with the contract's shape while the database answers, 503
 * "disconnected" when its connection is closed. A real outage (a TCP proxy between the app and
 * PostgreSQL that the test stalls or cuts: 503 within ~2 s, back to 200 when it recovers) is in
 * the system tier: test/system/health-outage.test.ts. An admin's session also gets the configuration
 * warnings (`warnings`); every other caller the contract's answer, unchanged.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { testDatabase } from './helpers/db'
import { appOn, expectDown, expectHealthy, get } from './helpers/health'

setDefaultTimeout(30_000) // see test/setup.ts

describe('while the database answers', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await testApp()
  })
  afterAll(async () => {
    await t?.close()
  })

  for (const path of ['/health', '/api/health']) {
    test(`GET ${path}: 200 with status, database, version and uptime`, async () => {
      const reply = await get(t.app, path)
      expectHealthy(reply)
      expect(reply.body.uptime_s as number).toBeGreaterThanOrEqual(0)
      expect(Number.isInteger(reply.body.uptime_s)).toBe(true)
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff')
      expect(reply.headers.get('x-frame-options')).toBe('DENY')
      expect(reply.headers.get('x-request-id')).toBeTruthy()
    })
  }

  test('an admin\'s session (cookies or bearer) also gets the configuration warnings; nobody else does', async () => {
    // TEST_ENV: the backend is http://qrbook.test/, CORS_ORIGINS http://frontend.test, cookies SameSite=Lax
    const admin = await loggedIn(t.app, 'admin')
    for (const path of ['/health', '/api/health']) {
      const reply = await admin.get(path)
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({ status: 'healthy', database: 'connected' })
      expect(reply.body.warnings).toEqual([expect.stringContaining('CORS_ORIGINS names another site than this backend (http://frontend.test;')])
      expect(reply.body.warnings[0]).toContain('JWT_COOKIE_SAMESITE=None with JWT_COOKIE_SECURE=true')
      expect(reply.headers.get('cache-control')).toBe('no-store')
    }
    const bearer = new Client(t.app)
    bearer.bearer = (await admin.login('admin')).body.access_token
    expect((await bearer.get('/health')).body.warnings).toHaveLength(1)

    // a student, a bad token and no token at all: the contract's answer, never an error
    for (const client of [await loggedIn(t.app, 'student'), Object.assign(new Client(t.app), { bearer: 'not-a-token' }), new Client(t.app)]) {
      const reply = await client.get('/health')
      expect(reply.status).toBe(200)
      expect(reply.body).toEqual({ status: 'healthy', database: 'connected', version: expect.any(String), uptime_s: expect.any(Number) })
    }
  })

  test('with nothing to warn about an admin gets an empty list', async () => {
    const quiet = await testApp({ env: { CORS_ORIGINS: 'http://rooms.qrbook.test' } })
    try {
      const reply = await (await loggedIn(quiet.app, 'admin')).get('/health')
      expect(reply.body.warnings).toEqual([])
    } finally {
      await quiet.close()
    }
  })

  test('uptime counts from the process start handed to createApp', async () => {
    const database = (await testDatabase())
    try {
      const reply = await get(appOn(database.database), '/health')
      expectHealthy(reply)
      expect(reply.body.uptime_s).toBe(5)
    } finally {
      await database.drop()
    }
  })
})

test('a closed database connection gives 503 disconnected on both paths', async () => {
  const t = await testDatabase()
  const app = appOn(t.database)
  try {
    expectHealthy(await get(app, '/health'))
    await t.database.close()
    expectDown(await get(app, '/health'))
    expectDown(await get(app, '/api/health'))
  } finally {
    await t.drop()
  }
})
