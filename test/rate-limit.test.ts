/** Section 7 rate limits: Flask-Limiter syntax, per-route and default limits, Redis sharing, fail-open. */
import { setDefaultTimeout, afterAll, describe, expect, test } from 'bun:test'
import { RedisClient } from 'bun'
import { createRedisStore } from '../src/lib/rate-limit-store'
import { parseRateLimit, parseRateLimits } from '../src/lib/rate-limit-spec'
import { silentLogger } from '../src/lib/log'
import { Client, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // Bun's 5 s default is too short for tests that start databases and processes

const REDIS_URL = 'redis://127.0.0.1:6379'
const opened: TestApp[] = []
afterAll(async () => {
  await Promise.all(opened.map((t) => t.close()))
})

async function limitedApp(env: Record<string, string> = {}, extra: Partial<Parameters<typeof testApp>[0]> = {}) {
  const t = await testApp({ env: { RATELIMIT_ENABLED: 'true', ...env }, ...extra })
  opened.push(t)
  return t
}

const randomIp = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`

describe('Flask-Limiter syntax', () => {
  test('parses the forms the old config used', () => {
    expect(parseRateLimits('6000 per hour;100000 per day')).toEqual([{ limit: 6000, windowS: 3600 }, { limit: 100000, windowS: 86400 }])
    expect(parseRateLimit('6/minute')).toEqual({ limit: 6, windowS: 60 })
    expect(parseRateLimit('10 per second')).toEqual({ limit: 10, windowS: 1 })
    expect(parseRateLimit('5 per 10 minutes')).toEqual({ limit: 5, windowS: 600 })
    expect(() => parseRateLimit('lots per hour')).toThrow()
    expect(() => parseRateLimits('')).toThrow()
  })
})

describe('per-route limits', () => {
  test('the 7th login attempt in a minute for one name is 429 with Retry-After; other names are unaffected', async () => {
    const t = await limitedApp()
    const client = new Client(t.app)
    for (let i = 0; i < 6; i++) {
      const reply = await client.post('/api/auth/login', { name: 'Admin', password: 'wrong-password' }, { csrf: false })
      expect(reply.status).toBe(401)
      expect(reply.headers.get('x-ratelimit-limit')).toBe('6')
      expect(reply.headers.get('x-ratelimit-remaining')).toBe(String(5 - i))
    }
    // The name is lower-cased for the key, and the right password does not bypass the limit.
    const seventh = await client.post('/auth/login', { name: 'admin', password: 'admin1234' }, { csrf: false })
    expect(seventh.status).toBe(429)
    expect(seventh.body.msg).toBe('rate limit exceeded: 6 per minute')
    expect(Number(seventh.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(Number(seventh.headers.get('retry-after'))).toBeLessThanOrEqual(60)
    expect(seventh.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(Number(seventh.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000)

    expect((await client.post('/auth/login', { name: 'student', password: 'student1234' }, { csrf: false })).status).toBe(200)
  })
})

describe('RATELIMIT_DEFAULTS', () => {
  test('applies to every route per client, not to /health', async () => {
    const t = await limitedApp({ RATELIMIT_DEFAULTS: '5 per minute;1000 per day' })
    const client = new Client(t.app)
    for (let i = 0; i < 5; i++) expect((await client.get('/api/auth/me')).status).toBe(401)
    const sixth = await client.get('/api/nothing-here')
    expect(sixth.status).toBe(429)
    expect(sixth.body.msg).toBe('rate limit exceeded: 5 per minute')
    for (let i = 0; i < 8; i++) expect((await client.get('/health')).status).toBe(200)
  })

  test('a logged-in user spends their own budget, not the IP one', async () => {
    const t = await limitedApp({ RATELIMIT_DEFAULTS: '4 per minute' })
    const login = await new Client(t.app).post('/auth/login', { name: 'student', password: 'student1234' }, { csrf: false })
    const user = new Client(t.app)
    user.bearer = login.body.access_token
    for (let i = 0; i < 4; i++) expect((await user.get('/api/auth/me')).status).toBe(200)
    expect((await user.get('/api/auth/me')).status).toBe(429)
    // The anonymous budget of the same address spent one request on the login only.
    expect((await new Client(t.app).get('/api/auth/me')).status).toBe(401)
  })

  test('X-Forwarded-For counts only with TRUST_PROXY', async () => {
    const untrusted = await limitedApp({ RATELIMIT_DEFAULTS: '3 per minute' })
    const client = new Client(untrusted.app)
    for (let i = 0; i < 3; i++) await client.get('/api/auth/me', { headers: { 'x-forwarded-for': randomIp() } })
    expect((await client.get('/api/auth/me', { headers: { 'x-forwarded-for': randomIp() } })).status).toBe(429)

    const trusted = await limitedApp({ RATELIMIT_DEFAULTS: '3 per minute', TRUST_PROXY: '1' })
    const proxied = new Client(trusted.app)
    const ip = randomIp()
    for (let i = 0; i < 3; i++) await proxied.get('/api/auth/me', { headers: { 'x-forwarded-for': `1.2.3.4, ${ip}` } })
    expect((await proxied.get('/api/auth/me', { headers: { 'x-forwarded-for': `9.9.9.9, ${ip}` } })).status).toBe(429)
    expect((await proxied.get('/api/auth/me', { headers: { 'x-forwarded-for': randomIp() } })).status).toBe(401)
  })
})

describe('Redis storage', () => {
  test('two app instances on one Redis share a counter', async () => {
    const env = { RATELIMIT_DEFAULTS: '4 per minute', RATELIMIT_STORAGE_URI: REDIS_URL, TRUST_PROXY: '1' }
    const stores = [createRedisStore(REDIS_URL, silentLogger), createRedisStore(REDIS_URL, silentLogger)]
    try {
      const [one, two] = [await limitedApp(env, { rateLimitStore: stores[0] }), await limitedApp(env, { rateLimitStore: stores[1] })]
      const ip = randomIp()
      const headers = { 'x-forwarded-for': ip }
      const statuses: number[] = []
      for (let i = 0; i < 3; i++) {
        statuses.push((await new Client(one!.app).get('/api/auth/me', { headers })).status)
        statuses.push((await new Client(two!.app).get('/api/auth/me', { headers })).status)
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429])
      const redis = new RedisClient(REDIS_URL)
      const keys = await redis.send('KEYS', [`rl:default:4/60:ip:${ip}`])
      expect(keys).toHaveLength(1)
      await redis.send('DEL', keys)
      redis.close()
    } finally {
      await Promise.all(stores.map((s) => s.close()))
    }
  })

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
