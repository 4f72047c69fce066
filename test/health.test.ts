/**
 * GET /health and GET /api/health: 200 with the contract's shape while the database answers, 503
 * "disconnected" when its connection is closed. A real outage (a TCP proxy between the app and
 * PostgreSQL that the test stalls or cuts: 503 within ~2 s, back to 200 when it recovers) is in
 * the system tier: test/system/health-outage.test.ts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { testApp, type TestApp } from './helpers/app'
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
