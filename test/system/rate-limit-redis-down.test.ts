/**
 * Rate limits fail open: with RATELIMIT_STORAGE_URI on a Redis that does not answer, every request
 * is served (each hit waits for the store's own timeout, so this takes seconds). The rate limits
 * themselves: test/rate-limit.test.ts.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createRedisStore } from '../../src/lib/rate-limit-store'
import { silentLogger } from '../../src/lib/log'
import { Client, limitedApps } from '../helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

const apps = limitedApps()
afterAll(apps.close)
const limitedApp = apps.open

describe('Redis storage', () => {
  test('an unreachable Redis fails open: requests are served', async () => {
    const store = createRedisStore('redis://127.0.0.1:1', silentLogger)
    try {
      const t = await limitedApp({ RATELIMIT_DEFAULTS: '1 per minute' }, { rateLimitStore: store })
      for (let i = 0; i < 3; i++) expect((await new Client(t.app).get('/api/auth/me')).status).toBe(401)
    } finally {
      await store.close()
    }
  })
})
