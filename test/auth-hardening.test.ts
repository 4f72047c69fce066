/**
 * Issue 12, defect 3 and the auth weaknesses (docs/decisions/014-auth-hardening.md):
 * - a password change or admin reset refuses every older token, even one issued in the same second;
 * - logout and session revocation reach access tokens (at once here, within 30 s elsewhere);
 * - new passwords: not only spaces, not the name, not a common password, on every path;
 * - failed logins capped per client IP across names; wrong current passwords capped per session.
 * The clock is fixed: "the same second" is literally the same instant.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { RedisClient } from 'bun'
import { eq } from 'drizzle-orm'
import { SignJWT } from 'jose'
import { createApp } from '../src/app'
import { sessions, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { silentLogger } from '../src/lib/log'
import { hashPassword } from '../src/lib/passwords'
import { createMemoryStore, createRedisStore } from '../src/lib/rate-limit-store'
import { ACTOR_CACHE_TTL_MS, createActorCache } from '../src/core/identity/actors'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'
import { stampedUser } from './helpers/db'

setDefaultTimeout(60_000) // see test/setup.ts; these tests hash many passwords

const shifted = timeShifter('2026-11-26T10:00:00Z')
const clock = fixedClock(shifted('2026-11-26T10:00:00.250Z'))
let t: TestApp
const opened: TestApp[] = []

beforeAll(async () => {
  t = await testApp({ clock })
})
afterAll(async () => {
  await Promise.all([t, ...opened].map((app) => app.close()))
})

/** A client that sends only this access token (Bearer), as an API client or a copied token would. */
function bearer(app: TestApp['app'], token: string): Client {
  const client = new Client(app)
  client.bearer = token
  return client
}

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())

async function signup(name: string, password: string): Promise<Client> {
  const client = new Client(t.app)
  const reply = await client.post('/api/auth/signup', { name, password }, { csrf: false })
  expect(reply.status).toBe(201)
  return client
}

describe('a password change or reset refuses every older token, even from the same second', () => {
  test('change-password: the other session\'s access and refresh tokens and the caller\'s old token are refused; the new ones work', async () => {
    const mine = await signup('same-second', 'first-secret-9')
    const other = await loggedIn(t.app, 'same-second', 'first-secret-9')
    const oldAccess = mine.cookies.get('access_token_cookie')!
    const otherAccess = other.cookies.get('access_token_cookie')!
    const otherRefresh = other.cookies.get('refresh_token_cookie')!
    // Warm the actor cache with the old generation, as a busy instance would have it.
    expect((await bearer(t.app, otherAccess).get('/api/reservations/mine')).status).toBe(200)

    // No clock movement: the change happens in the very second the tokens were issued.
    const changed = await mine.post('/api/auth/change-password', { current_password: 'first-secret-9', new_password: 'second-secret-9' })
    expect(changed.status).toBe(200)
    const newAccess = mine.cookies.get('access_token_cookie')!
    expect(claimsOf(newAccess).iat).toBe(claimsOf(otherAccess).iat) // same second indeed

    for (const token of [otherAccess, oldAccess]) {
      for (const path of ['/api/reservations/mine', '/api/auth/me']) {
        const refused = await bearer(t.app, token).get(path)
        expect(refused.status).toBe(401)
        expect(refused.body).toEqual({ msg: 'token has been revoked' })
      }
    }
    const refresh = await bearer(t.app, otherRefresh).post('/api/auth/refresh', undefined, { csrf: false })
    expect(refresh.status).toBe(401)
    expect(refresh.body.msg).toBe('token has been revoked')

    expect((await bearer(t.app, newAccess).get('/api/reservations/mine')).status).toBe(200)
    expect((await mine.get('/api/auth/me')).body.name).toBe('same-second')
    const rotated = await bearer(t.app, mine.cookies.get('refresh_token_cookie')!).post('/api/auth/refresh', undefined, { csrf: false })
    expect(rotated.status).toBe(200)
    expect(claimsOf(rotated.body.access_token).ver).toBe(1)
  })

  test('admin reset: a token from the same second is refused, a login after the reset works, other users are untouched', async () => {
    await signup('reset-me', 'before-reset-9')
    const victim = await loggedIn(t.app, 'reset-me', 'before-reset-9')
    const bystander = await loggedIn(t.app, 'student')
    const token = victim.cookies.get('access_token_cookie')!
    const refreshToken = victim.cookies.get('refresh_token_cookie')!
    expect((await bearer(t.app, token).get('/api/reservations/mine')).status).toBe(200)

    const admin = await loggedIn(t.app, 'admin')
    const [row] = await t.database.db.select().from(users).where(eq(users.name, 'reset-me'))
    expect((await admin.post(`/api/admin/users/${row!.id}/reset-password`, { password: 'after-reset-99' })).status).toBe(200)

    expect((await bearer(t.app, token).get('/api/reservations/mine')).status).toBe(401)
    expect((await bearer(t.app, refreshToken).post('/api/auth/refresh', undefined, { csrf: false })).status).toBe(401)
    const again = await loggedIn(t.app, 'reset-me', 'after-reset-99')
    expect(claimsOf(again.cookies.get('access_token_cookie')!).iat).toBe(claimsOf(token).iat)
    expect((await again.get('/api/reservations/mine')).status).toBe(200)
    expect((await bystander.get('/api/reservations/mine')).status).toBe(200)
  })

  test('a refresh token of the caller\'s own, replaced session is refused after a change in the same second', async () => {
    const mine = await signup('refresh-gen', 'refresh-gen-pw-1')
    const before = mine.cookies.get('refresh_token_cookie')!
    expect((await mine.post('/api/auth/change-password', { current_password: 'refresh-gen-pw-1', new_password: 'refresh-gen-pw-2' })).status).toBe(200)
    const replay = await bearer(t.app, before).post('/api/auth/refresh', undefined, { csrf: false })
    expect(replay.status).toBe(401)
    expect(replay.body.msg).toBe('token has been revoked')
  })

  test('tokens issued before the generation existed (no `ver`) follow the old time rule', async () => {
    const [student] = await t.database.db.select().from(users).where(eq(users.name, 'guest'))
    const key = new TextEncoder().encode(t.config.jwtSecretKey)
    const legacy = async (iat: number) => new SignJWT({ sub: String(student!.id), role: 'student', csrf: 'c', jti: crypto.randomUUID(), type: 'access', iat, exp: iat + 3600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key)
    const changedAt = Math.floor(student!.passwordChangedAt.getTime() / 1000)
    expect((await bearer(t.app, await legacy(changedAt)).get('/api/reservations/mine')).status).toBe(200)
    expect((await bearer(t.app, await legacy(changedAt - 1)).get('/api/reservations/mine')).status).toBe(401)
  })
})

describe('logout and session revocation reach access tokens', () => {
  test('after logout the session\'s access token is refused at once on this instance; the user\'s other sessions work', async () => {
    const phone = await loggedIn(t.app, 'teacher')
    const laptop = await loggedIn(t.app, 'teacher')
    const token = phone.cookies.get('access_token_cookie')!
    expect((await bearer(t.app, token).get('/api/reservations/mine')).status).toBe(200) // cached now

    expect((await phone.post('/api/auth/logout')).status).toBe(200)
    for (const path of ['/api/reservations/mine', '/api/auth/me']) {
      const refused = await bearer(t.app, token).get(path)
      expect(refused.status).toBe(401)
      expect(refused.body).toEqual({ msg: 'token has been revoked' })
    }
    expect((await laptop.get('/api/reservations/mine')).status).toBe(200)
  })

  test('another instance (its own cache) refuses the token once its 30 s cache window has passed', async () => {
    const other = createApp({ config: t.config, database: t.database, clock, log: silentLogger, startedAt: Date.now() }).app
    const client = await loggedIn(t.app, 'guest')
    const token = client.cookies.get('access_token_cookie')!
    expect((await bearer(other, token).get('/api/reservations/mine')).status).toBe(200) // the other instance caches the user

    expect((await client.post('/api/auth/logout')).status).toBe(200)
    expect((await bearer(t.app, token).get('/api/reservations/mine')).status).toBe(401)
    try {
      clock.advance(ACTOR_CACHE_TTL_MS - 1000)
      expect((await bearer(other, token).get('/api/reservations/mine')).status).toBe(200) // still within the window
      clock.advance(1000)
      const refused = await bearer(other, token).get('/api/reservations/mine')
      expect(refused.status).toBe(401)
      expect(refused.body.msg).toBe('token has been revoked')
    } finally {
      clock.advance(-ACTOR_CACHE_TTL_MS)
    }
  })

  test('a session revoked for a replayed refresh token loses its access tokens too', async () => {
    const client = await loggedIn(t.app, 'student')
    const first = client.cookies.get('refresh_token_cookie')!
    const refreshed = await client.post('/api/auth/refresh', undefined, { csrf: client.cookies.get('csrf_refresh_token')! })
    expect(refreshed.status).toBe(200)
    const access = refreshed.body.access_token as string
    expect((await bearer(t.app, access).get('/api/reservations/mine')).status).toBe(200)
    clock.advance(11_000) // past the grace for racing tabs: a replay is theft
    try {
      expect((await bearer(t.app, first).post('/api/auth/refresh', undefined, { csrf: false })).status).toBe(401)
      expect((await bearer(t.app, access).get('/api/reservations/mine')).status).toBe(401)
    } finally {
      clock.advance(-11_000)
    }
  })

  test('the cache loads only sessions revoked within the access-token lifetime', async () => {
    await signup('many-sessions', 'many-sessions-pw')
    const [user] = await t.database.db.select().from(users).where(eq(users.name, 'many-sessions'))
    const now = clock.now().getTime()
    const session = (revokedAgoMs: number) => ({
      userId: user!.id, refreshTokenHash: 'x', expiresAt: new Date(now + 86400_000), createdAt: new Date(now - 86400_000),
      lastUsedAt: new Date(now - 86400_000), revokedAt: new Date(now - revokedAgoMs),
    })
    // Revoked more than an hour ago: every access token of those sessions has expired, so they are not loaded.
    await t.database.db.insert(sessions).values([...Array.from({ length: 50 }, () => session(2 * 3600_000)), session(60_000)])
    const cache = createActorCache(t.database.db, clock, t.config.accessTokenTtlS)
    const actor = await cache.get(user!.id)
    expect(actor!.revokedSessions.size).toBe(1)
  })
})

describe('password rules on every path that sets one', () => {
  const BAD: [string, (name: string) => string, RegExp][] = [
    ['too short', () => 'short', /at least 8 characters/],
    ['only spaces', () => '          ', /must not be only spaces/],
    ['only whitespace', () => ' \t  \u00a0   ', /must not be only spaces/],
    ['the name', (name) => name.toUpperCase(), /must not be the same as the name/],
    ['a common password', () => 'Password123', /most common passwords/],
    ['a common password with spaces around', () => ' qwerty123 ', /most common passwords/],
    ['another common password', () => 'iloveyou2', /most common passwords/],
  ]

  test('signup, register, admin create, change-password, admin reset: 400 {msg}, nothing written', async () => {
    const admin = await loggedIn(t.app, 'admin')
    const mine = await signup('rules-owner', 'rules-owner-pw-1')
    const [owner] = await t.database.db.select().from(users).where(eq(users.name, 'rules-owner'))
    for (const [what, password, message] of BAD) {
      const name = `rules-${what.replace(/\W+/g, '-')}`
      const attempts = [
        await new Client(t.app).post('/api/auth/signup', { name, password: password(name) }, { csrf: false }),
        await admin.post('/api/auth/register', { name, password: password(name) }),
        await admin.post('/api/admin/users', { name, password: password(name) }),
        await mine.post('/api/auth/change-password', { current_password: 'rules-owner-pw-1', new_password: password('rules-owner') }),
        await admin.post(`/api/admin/users/${owner!.id}/reset-password`, { password: password('rules-owner') }),
      ]
      for (const reply of attempts) {
        expect(reply.status, `${what}: ${reply.text}`).toBe(400)
        expect(Object.keys(reply.body)).toEqual(['msg'])
        expect(reply.body.msg).toMatch(message)
      }
      expect(await t.database.db.select().from(users).where(eq(users.name, name))).toHaveLength(0)
    }
    // The owner's password never changed: nothing was accepted.
    expect((await new Client(t.app).post('/api/auth/login', { name: 'rules-owner', password: 'rules-owner-pw-1' }, { csrf: false })).status).toBe(200)
  })

  test('passwords like the contract suite\'s pass; a name inside a longer password is fine', async () => {
    const run = 'mf3k2a1x9'
    const admin = await loggedIn(t.app, 'admin')
    for (const [name, password] of [[`acc_${run}_a`, `Pw-${run}-secret`], [`acc_${run}_b`, `Pw-${run}-secret-new`], ['longname', 'longname-and-more']]) {
      expect((await admin.post('/api/admin/users', { name, password })).status).toBe(201)
    }
  })

  test('existing accounts keep working: login never checks strength (seeded and weak old passwords)', async () => {
    await t.database.db.insert(users).values(stampedUser({ name: 'weak-old', passwordHash: await hashPassword('password', t.config.passwordHashCost), role: 'student' as const }))
    expect((await new Client(t.app).post('/api/auth/login', { name: 'weak-old', password: 'password' }, { csrf: false })).status).toBe(200)
    expect((await new Client(t.app).post('/api/auth/login', { name: 'admin', password: 'admin1234' }, { csrf: false })).status).toBe(200)
  })
})

describe('guessing limits (RATELIMIT_ENABLED=true)', () => {
  /** An app with limits on, its counters on the test clock so windows can be skipped. */
  async function limited(env: Record<string, string> = {}) {
    const app = await testApp({ clock, env: { RATELIMIT_ENABLED: 'true', TRUST_PROXY: '1', ...env }, rateLimitStore: createMemoryStore(() => clock.now().getTime()) })
    opened.push(app)
    return app
  }
  const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } })
  const login = (app: TestApp, ip: string, name: string, password: string) =>
    new Client(app.app).post('/api/auth/login', { name, password }, { csrf: false, ...from(ip) })

  test('30 failed logins per IP across names, then 429 even for the right password; successes do not count', async () => {
    const app = await limited()
    const ip = '203.0.113.7'
    for (let i = 0; i < 29; i++) expect((await login(app, ip, `sprayed-${i}`, 'Summer2026!')).status).toBe(401)
    for (const name of ['admin', 'teacher', 'student']) expect((await login(app, ip, name, `${name}1234`)).status).toBe(200)
    expect((await login(app, ip, 'sprayed-29', 'Summer2026!')).status).toBe(401) // the 30th failure
    const blocked = await login(app, ip, 'guest', 'guest1234')
    expect(blocked.status).toBe(429)
    expect(blocked.body.msg).toMatch(/too many failed logins from this address; try again in 10 minutes/)
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await login(app, '198.51.100.9', 'guest', 'guest1234')).status).toBe(200) // another address

    clock.advance(10 * 60_000)
    try {
      expect((await login(app, ip, 'guest', 'guest1234')).status).toBe(200)
    } finally {
      clock.advance(-10 * 60_000)
    }
  })

  test('a parallel burst cannot outrun the cap: at most 30 attempts are checked', async () => {
    const app = await limited()
    const replies = await Promise.all(Array.from({ length: 45 }, (_, i) => login(app, '203.0.113.8', `burst-${i}`, 'Winter2026!')))
    const statuses = replies.map((r) => r.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(30)
    expect(statuses.filter((s) => s === 429)).toHaveLength(15)
  })

  test('RATELIMIT_LOGIN_FAILURES sets the cap; RATELIMIT_ENABLED=false turns it off', async () => {
    const app = await limited({ RATELIMIT_LOGIN_FAILURES: '2 per minute' })
    expect((await login(app, '203.0.113.9', 'x1', 'nope-nope-1')).status).toBe(401)
    expect((await login(app, '203.0.113.9', 'x2', 'nope-nope-1')).status).toBe(401)
    expect((await login(app, '203.0.113.9', 'x3', 'nope-nope-1')).status).toBe(429)
    for (let i = 0; i < 35; i++) expect((await login(t, '203.0.113.9', `off-${i}`, 'nope-nope-1')).status).toBe(401)
    expect((await login(t, '203.0.113.9', 'guest', 'guest1234')).status).toBe(200)
  })

  test('on Redis, two instances share one failed-login budget; a success is refunded', async () => {
    const REDIS_URL = 'redis://127.0.0.1:6379'
    const stores = [createRedisStore(REDIS_URL, silentLogger), createRedisStore(REDIS_URL, silentLogger)]
    const ip = `203.0.113.${100 + Math.floor(Math.random() * 100)}`
    const redis = new RedisClient(REDIS_URL)
    try {
      const env = { RATELIMIT_ENABLED: 'true', TRUST_PROXY: '1', RATELIMIT_STORAGE_URI: REDIS_URL, RATELIMIT_LOGIN_FAILURES: '4 per minute' }
      const [one, two] = [await testApp({ env, rateLimitStore: stores[0] }), await testApp({ env, rateLimitStore: stores[1] })]
      opened.push(one, two)
      await redis.send('DEL', [`rl:login-failures:4/60:ip:${ip}`])
      expect((await login(one, ip, 'r1', 'nope-nope-1')).status).toBe(401)
      expect((await login(two, ip, 'r2', 'nope-nope-1')).status).toBe(401)
      expect((await login(two, ip, 'student', 'student1234')).status).toBe(200) // refunded
      expect((await login(one, ip, 'r3', 'nope-nope-1')).status).toBe(401)
      expect(Number(await redis.send('GET', [`rl:login-failures:4/60:ip:${ip}`]))).toBe(3)
      expect((await login(two, ip, 'r4', 'nope-nope-1')).status).toBe(401)
      expect((await login(one, ip, 'student', 'student1234')).status).toBe(429)
    } finally {
      await redis.send('DEL', [`rl:login-failures:4/60:ip:${ip}`])
      redis.close()
      await Promise.all(stores.map((store) => store.close()))
    }
  })

  test('change-password: 5 wrong current passwords per session in 15 minutes, then 429; other sessions keep their own budget', async () => {
    const app = await limited()
    await new Client(app.app).post('/api/auth/signup', { name: 'guessed', password: 'guessed-pw-123' }, { csrf: false, ...from('192.0.2.1') })
    const thief = await loggedIn(app.app, 'guessed', 'guessed-pw-123')
    const owner = await loggedIn(app.app, 'guessed', 'guessed-pw-123')
    for (let i = 0; i < 5; i++) {
      const wrong = await thief.post('/api/auth/change-password', { current_password: `guess-${i}-xyz`, new_password: 'taken-over-pw-1' })
      expect(wrong.status).toBe(400)
      expect(wrong.body.msg).toBe('current password is incorrect')
    }
    const refused = await thief.post('/api/auth/change-password', { current_password: 'guessed-pw-123', new_password: 'taken-over-pw-1' })
    expect(refused.status).toBe(429)
    expect(refused.body.msg).toMatch(/too many wrong current passwords; try again in 15 minutes/)
    expect(refused.headers.get('retry-after')).toBe(String(15 * 60))

    // Another session of the same user has a budget of its own.
    expect((await owner.post('/api/auth/change-password', { current_password: 'wrong-guess-1', new_password: 'owner-new-pw-1' })).status).toBe(400)

    clock.advance(15 * 60_000)
    try {
      const later = await thief.post('/api/auth/change-password', { current_password: 'guessed-pw-123', new_password: 'changed-later-1' })
      expect(later.status).toBe(200)
    } finally {
      clock.advance(-15 * 60_000)
    }
  })
})
