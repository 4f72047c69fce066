/**
 * Section 7 rate limits: Flask-Limiter syntax, per-route and default limits, Redis sharing. That an
 * unreachable Redis fails open (a fault that takes its timeouts) is in the system tier:
 * test/system/rate-limit-redis-down.test.ts.
 */
import { setDefaultTimeout, afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { RedisClient } from 'bun'
import { createMemoryStore, createRedisStore } from '../src/lib/rate-limit-store'
import { parseRateLimit, parseRateLimits } from '../src/lib/rate-limit-spec'
import { silentLogger } from '../src/lib/log'
import { Client, limitedApps, loggedIn, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // Bun's 5 s default is too short for tests that start databases and processes

const REDIS_URL = 'redis://127.0.0.1:6379'

/** Whether a Redis answers PING (the Redis-sharing test is skipped, not silently passed, without one). */
async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new RedisClient(url, { connectionTimeout: timeoutMs, autoReconnect: false, enableOfflineQueue: false })
  client.onclose = () => {}
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), timeoutMs) })
    return (await Promise.race([client.connect().then(() => client.send('PING', [])), timeout])) === 'PONG'
  } catch {
    return false
  } finally {
    clearTimeout(timer)
    client.close()
  }
}
const redisUp = await redisAnswers(REDIS_URL)
const apps = limitedApps()
afterAll(apps.close)
const limitedApp = apps.open

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
  // One app for these tests, its counters on a fake clock: each test starts a minute later, with
  // fresh per-minute windows. TRUST_PROXY lets a test speak from several client addresses.
  let t: TestApp
  let now = Date.now()
  const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } })
  beforeAll(async () => {
    t = await limitedApp({ TRUST_PROXY: '1' }, { rateLimitStore: createMemoryStore(() => now) })
  }, 120_000) // a fresh database can take longer than one test's timeout on a loaded machine
  beforeEach(() => {
    now += 61_000
  })

  test("every route declares the original's limit in its own options, the same at both mounts (the scan page only at the root)", () => {
    // The original's Flask-Limiter decorators (api-contract.md section 7), per route: bucket, requests per minute, key.
    const original: Record<string, [string, number, string]> = {
      'POST /auth/login': ['login', 6, 'login'], 'POST /r/:id/login': ['login', 6, 'login'],
      'POST /auth/signup': ['signup', 10, 'ip'], 'POST /auth/logout': ['logout', 30, 'user'],
      'POST /auth/refresh': ['refresh', 30, 'user'], 'GET /auth/me': ['me', 120, 'user'], 'POST /auth/register': ['register', 20, 'user'],
      'GET /rooms': ['rooms.list', 1200, 'user'], 'GET /rooms/:id': ['rooms.detail', 600, 'user'],
      'POST /rooms/:id/reserve': ['rooms.reserve', 180, 'user'], 'POST /rooms': ['admin.rooms.create', 20, 'user'],
      'GET /reservations/mine': ['reservations.mine', 600, 'user'], 'PATCH /reservations/:id': ['reservations.update', 120, 'user'],
      'DELETE /reservations/:id': ['reservations.cancel', 180, 'user'], 'GET /reservations/room/:room_id/history': ['reservations.history', 180, 'user'],
      'GET /admin/rooms': ['admin.rooms.list', 60, 'user'], 'POST /admin/rooms': ['admin.rooms.create', 20, 'user'],
      'PATCH /admin/rooms/:id': ['admin.rooms.update', 30, 'user'], 'POST /admin/rooms/bulk/block': ['admin.rooms.bulk-block', 20, 'user'],
      'POST /admin/rooms/:id/generate-qr': ['admin.rooms.generate-qr', 20, 'user'], 'POST /admin/rooms/:id/reserve': ['admin.rooms.reserve', 30, 'user'],
      'GET /admin/reservations': ['admin.reservations.list', 60, 'user'], 'PATCH /admin/reservations/:id': ['admin.reservations.update', 40, 'user'],
      'POST /admin/reservations/bulk-cancel': ['admin.reservations.bulk-cancel', 20, 'user'],
      'GET /admin/users': ['admin.users.list', 60, 'user'], 'POST /admin/users': ['admin.users.create', 20, 'user'],
      'PATCH /admin/users/:id': ['admin.users.update', 30, 'user'], 'POST /admin/users/:id/reset-password': ['admin.users.reset-password', 20, 'user'],
      'GET /admin/audit/logs': ['admin.audit', 30, 'user'], 'GET /admin/stats': ['admin.stats', 30, 'user'],
    }
    const declared = new Map<string, unknown>()
    for (const route of t.app.routes as { method: string; path: string; hooks?: { detail?: Record<string, unknown> } }[]) {
      const rule = route.hooks?.detail?.['x-rate-limit'] as { bucket: string; key: string; limits: string[] } | undefined
      if (rule) declared.set(`${route.method} ${route.path}`, [rule.bucket, Number(rule.limits[0]!.split(' ')[0]), rule.key])
    }
    const expected = new Map<string, unknown>()
    for (const [key, rule] of Object.entries(original)) {
      const [method, path] = key.split(' ')
      expected.set(key, rule)
      if (!path!.startsWith('/r/')) expected.set(`${method} /api${path}`, rule)
    }
    const originalRoutes = (key: string) => expected.has(key)
    expect(Object.fromEntries([...declared].filter(([key]) => originalRoutes(key)).sort())).toEqual(Object.fromEntries([...expected].sort()))
    // Routes the original did not have (timetables, ...) declare limits of their own, the same at both mounts.
    for (const [key, rule] of declared) {
      if (originalRoutes(key) || !key.includes(' /api/')) continue
      expect(declared.get(key.replace(' /api/', ' /')), key).toEqual(rule)
    }
  })

  test('the 7th login attempt in a minute for one name is 429 with Retry-After; other names are unaffected', async () => {
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
    // The scan page's login form spends the same budget.
    const form = await client.request('POST', '/r/1/login', { body: new URLSearchParams({ name: 'ADMIN', password: 'admin1234', nonce: 'x' }) })
    expect(form.status).toBe(429)

    expect((await client.post('/auth/login', { name: 'student', password: 'student1234' }, { csrf: false })).status).toBe(200)
    // Another address has its own budget for the same name, and a minute later the window is new.
    expect((await client.post('/auth/login', { name: 'admin', password: 'admin1234' }, { csrf: false, ...from('10.0.0.7') })).status).toBe(200)
    now += 61_000
    expect((await client.post('/auth/login', { name: 'admin', password: 'admin1234' }, { csrf: false })).status).toBe(200)
  })

  test('invalid login bodies count too: the limit is spent before validation', async () => {
    const client = new Client(t.app)
    const ip = from(randomIp())
    for (let i = 0; i < 6; i++) expect((await client.post('/auth/login', { password: 'x' }, { csrf: false, ...ip })).status).toBe(400)
    expect((await client.post('/auth/login', {}, { csrf: false, ...ip })).status).toBe(429)
  })

  test('an admin working fast is not throttled across routes; the 21st room creation in a minute is 429', async () => {
    const admin = await loggedIn(t.app, 'admin')
    const run = crypto.randomUUID().slice(0, 8)
    const statuses: number[] = []
    const roomIds: number[] = []
    // 20 creations, alternating the two mounts: they share one bucket.
    for (let i = 0; i < 20; i++) {
      const reply = await admin.post(`${i % 2 ? '/api' : ''}/admin/rooms`, { name: `rl-${run}-${i}` })
      statuses.push(reply.status)
      if (reply.status === 201) roomIds.push(reply.body.room.id)
    }
    for (let i = 0; i < 30; i++) statuses.push((await admin.patch(`/api/admin/rooms/${roomIds[i % roomIds.length]}`, { name: `rl-${run}-renamed-${i}` })).status)
    for (let i = 0; i < 20; i++) statuses.push((await admin.post(`/admin/rooms/${roomIds[i]}/generate-qr`)).status)
    for (let i = 0; i < 20; i++) statuses.push((await admin.post('/api/admin/users', { name: `rl-${run}-user-${i}`, password: 'a-long-password' })).status)
    for (let i = 0; i < 10; i++) statuses.push((await admin.request('GET', '/admin/stats')).status)
    expect(statuses).toHaveLength(100)
    expect(statuses.filter((s) => s >= 300)).toEqual([])

    const more = await admin.post('/api/admin/rooms', { name: `rl-${run}-21` })
    expect(more.status).toBe(429)
    expect(more.body.msg).toBe('rate limit exceeded: 20 per minute')
    expect(Number(more.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(more.headers.get('x-ratelimit-limit')).toBe('20')
    // POST /rooms (the deployment guide's path) is the same operation, on the same budget.
    expect((await admin.post('/rooms', { name: `rl-${run}-22` })).status).toBe(429)
    // Every other route still has its own budget left.
    expect((await admin.patch(`/admin/rooms/${roomIds[0]}`, { name: `rl-${run}-last` })).status).toBe(429) // 30 spent above
    expect((await admin.request('GET', '/api/admin/rooms')).status).toBe(200)
    expect((await admin.post(`/admin/rooms/bulk/block`, { room_ids: [roomIds[0]], is_blocked: true })).status).toBe(200)

    now += 61_000
    expect((await admin.post('/api/admin/rooms', { name: `rl-${run}-21` })).status).toBe(201)
  }, 90_000) // 100-200 requests: slow on a loaded machine

  test('distinct buckets: spending one route does not touch another', async () => {
    const admin = await loggedIn(t.app, 'admin')
    for (let i = 0; i < 30; i++) {
      const reply = await admin.get('/api/admin/stats')
      expect(reply.status).toBe(200)
      expect(reply.headers.get('x-ratelimit-limit')).toBe('30')
      expect(reply.headers.get('x-ratelimit-remaining')).toBe(String(29 - i))
    }
    expect((await admin.get('/api/admin/stats')).status).toBe(429)
    expect((await admin.get('/api/admin/audit/logs')).status).toBe(200) // also 30/min, its own bucket
    expect((await admin.get('/api/admin/users')).status).toBe(200)
    expect((await admin.get('/api/auth/me')).status).toBe(200)
    // Routes the table does not list (check-in, events, posters, ...) have only the defaults.
    const poster = await admin.get('/api/admin/rooms/1/poster.svg')
    expect(poster.status).toBe(200)
    expect(Number(poster.headers.get('x-ratelimit-limit'))).toBe(6000)
  })

  test('both mounts spend the same bucket', async () => {
    const teacher = await loggedIn(t.app, 'teacher')
    for (let i = 0; i < 180; i++) expect((await teacher.get(`${i % 2 ? '/api' : ''}/reservations/room/1/history`)).status).toBe(200)
    expect((await teacher.get('/reservations/room/1/history')).status).toBe(429)
    expect((await teacher.get('/api/reservations/room/1/history')).status).toBe(429)
    expect((await teacher.get('/reservations/room/1/history/')).status).toBe(429)
  }, 90_000) // 100-200 requests: slow on a loaded machine

  test('per user when logged in, per IP otherwise', async () => {
    // Anonymous: the budget of GET /auth/me (120) belongs to the address.
    const [ipA, ipB] = [randomIp(), randomIp()]
    const anonymous = new Client(t.app)
    for (let i = 0; i < 120; i++) expect((await anonymous.get('/api/auth/me', from(ipA))).status).toBe(401)
    const refused = await anonymous.get('/auth/me', from(ipA))
    expect(refused.status).toBe(429)
    expect(refused.body.msg).toBe('rate limit exceeded: 120 per minute')
    expect((await anonymous.get('/api/auth/me', from(ipB))).status).toBe(401)
    // A logged-in user at the exhausted address spends their own budget...
    const student = await loggedIn(t.app, 'student')
    expect((await student.get('/api/auth/me', from(ipA))).status).toBe(200)

    // ...which follows them from address to address, and is not another user's.
    const admin = await loggedIn(t.app, 'admin')
    for (let i = 0; i < 30; i++) expect((await admin.get('/admin/audit/logs', from(randomIp()))).status).toBe(200)
    expect((await admin.get('/admin/audit/logs', from(randomIp()))).status).toBe(429)
    const login = await new Client(t.app).post('/api/auth/login', { name: 'admin', password: 'admin1234' }, { csrf: false })
    const sameAdminByBearer = new Client(t.app)
    sameAdminByBearer.bearer = login.body.access_token
    expect((await sameAdminByBearer.get('/admin/audit/logs', from(randomIp()))).status).toBe(429)
    const created = await admin.post('/api/admin/users', { name: `rl-admin-${crypto.randomUUID().slice(0, 8)}`, password: 'a-long-password', role: 'admin' })
    expect(created.status).toBe(201)
    const other = await loggedIn(t.app, created.body.user.name, 'a-long-password')
    expect((await other.get('/admin/audit/logs')).status).toBe(200)
  })

  test('signup is per address even for a logged-in client', async () => {
    const student = await loggedIn(t.app, 'student')
    const ip = from(randomIp())
    const run = crypto.randomUUID().slice(0, 8)
    for (let i = 0; i < 10; i++) expect((await new Client(t.app).post('/auth/signup', { name: `rl-${run}-${i}`, password: 'a-long-password' }, { csrf: false, ...ip })).status).toBe(201)
    expect((await student.post('/auth/signup', { name: `rl-${run}-x`, password: 'a-long-password' }, ip)).status).toBe(429)
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
  test.skipIf(!redisUp)('two app instances on one Redis share a counter (needs Redis at 127.0.0.1:6379)', async () => {
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
})
