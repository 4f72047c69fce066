/** Section 2 of the contract: login, cookies, CSRF, refresh rotation, logout, signup, register, roles. */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { and, eq, isNull } from 'drizzle-orm'
import { changes, sessions, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { stampedUser } from './helpers/db'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
/** Instants of this file, moved into TEST_CLOCK_YEAR when CI sets it (test/helpers/clock.ts). */
const shifted = timeShifter('2026-11-26T10:00:00Z')
const clock = fixedClock(shifted('2026-11-26T10:00:00Z'))

beforeAll(async () => {
  t = await testApp({ clock })
})
afterAll(() => t.close())

const cookieHeader = (reply: { headers: Headers }, name: string) =>
  reply.headers.getSetCookie().find((c) => c.startsWith(`${name}=`))

describe('login', () => {
  test('the frontend logs in with name; four cookies with the contract flags', async () => {
    const client = new Client(t.app)
    const reply = await client.post('/auth/login', { name: 'student', password: 'student1234' }, { csrf: false })
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({ msg: 'login successful', role: 'student', user: { name: 'student', role: 'student' } })
    expect(typeof reply.body.access_token).toBe('string')
    expect(reply.body.csrf_token).toBe(client.cookies.get('csrf_access_token')!)
    const access = cookieHeader(reply, 'access_token_cookie')!
    expect(access).toContain('HttpOnly')
    expect(access).toContain('Path=/')
    expect(access).toContain('SameSite=Lax')
    expect(access).not.toContain('Secure')
    expect(cookieHeader(reply, 'refresh_token_cookie')).toContain('HttpOnly')
    expect(cookieHeader(reply, 'csrf_access_token')).not.toContain('HttpOnly')
    expect(cookieHeader(reply, 'csrf_refresh_token')).not.toContain('HttpOnly')
    const [claims] = [JSON.parse(Buffer.from(reply.body.access_token.split('.')[1], 'base64url').toString())]
    expect(claims).toMatchObject({ sub: String(reply.body.user.id), role: 'student', type: 'access' })
    expect(claims.exp - claims.iat).toBe(3600)
    expect(claims.csrf).toBe(reply.body.csrf_token)
  })

  test('the deployment guide logs in with username at /api/auth/login', async () => {
    const reply = await new Client(t.app).post('/api/auth/login', { username: 'admin', password: 'admin1234' }, { csrf: false })
    expect(reply.status).toBe(200)
    expect(reply.body.role).toBe('admin')
  })

  test('wrong password and unknown user are both 401 invalid credentials', async () => {
    for (const body of [{ name: 'admin', password: 'wrong-password' }, { name: 'nobody', password: 'whatever1' }]) {
      const reply = await new Client(t.app).post('/api/auth/login', body, { csrf: false })
      expect(reply.status).toBe(401)
      expect(reply.body).toEqual({ msg: 'invalid credentials' })
    }
  })

  test('missing fields are 400', async () => {
    for (const body of [{}, { name: 'admin' }, { password: 'admin1234' }, { name: '  ', password: 'x' }]) {
      const reply = await new Client(t.app).post('/api/auth/login', body, { csrf: false })
      expect(reply.status).toBe(400)
      expect(reply.body.msg).toBe('name and password are required')
    }
  })

  test('malformed JSON and wrong types are 400 with a msg, never 500', async () => {
    const client = new Client(t.app)
    const raw = await client.request('POST', '/api/auth/login', { body: '{"name":', headers: { 'content-type': 'application/json' } })
    expect(raw.status).toBe(400)
    expect(raw.body.msg).toBeString()
    const typed = await client.post('/api/auth/login', { name: 1, password: [] }, { csrf: false })
    expect(typed.status).toBe(400)
    expect(typed.body.errors.length).toBeGreaterThan(0)
  })

  test('a successful login is audited', async () => {
    await loggedIn(t.app, 'teacher')
    const [teacher] = await t.database.db.select().from(users).where(eq(users.name, 'teacher'))
    const rows = await t.database.db.select().from(changes).where(and(eq(changes.event, 'user.logged_in'), eq(changes.actorId, teacher!.id)))
    expect(rows.length).toBeGreaterThan(0)
  })
})

describe('the browser flow', () => {
  test('me -> CSRF on writes -> refresh -> logout -> the old refresh token is refused', async () => {
    const client = await loggedIn(t.app, 'admin')
    const me = await client.get('/auth/me')
    expect(me.status).toBe(200)
    expect(me.body).toEqual({ id: expect.any(Number), name: 'admin', role: 'admin' })

    const body = { name: 'flow-user', password: 'plum-tree-42' }
    const noCsrf = await client.post('/api/auth/register', body, { csrf: false })
    expect(noCsrf.status).toBe(401)
    expect(noCsrf.body.msg).toBe('Missing CSRF token')
    expect(noCsrf.body.hint).toContain('X-CSRF-TOKEN')
    const wrongCsrf = await client.post('/api/auth/register', body, { csrf: 'not-the-token' })
    expect(wrongCsrf.status).toBe(401)
    expect(wrongCsrf.body).toEqual({ msg: 'CSRF double submit tokens do not match' })
    // The alternative header name Flask-WTF clients use is accepted too.
    const altHeader = await client.post('/api/auth/register', body, { csrf: false, headers: { 'X-CSRFToken': client.cookies.get('csrf_access_token')! } })
    expect(altHeader.status).toBe(201)
    expect(await t.database.db.select().from(users).where(eq(users.name, 'flow-user'))).toHaveLength(1)

    const oldRefresh = client.cookies.get('refresh_token_cookie')!
    const refreshNoCsrf = await client.post('/auth/refresh', undefined, { csrf: false })
    expect(refreshNoCsrf.status).toBe(401)
    expect(refreshNoCsrf.body.msg).toBe('Missing CSRF token')
    // The access CSRF token is not the refresh one.
    const refreshWrong = await client.post('/auth/refresh', undefined, { csrf: true })
    expect(refreshWrong.status).toBe(401)
    const refreshed = await client.post('/auth/refresh', undefined, { csrf: client.cookies.get('csrf_refresh_token')! })
    expect(refreshed.status).toBe(200)
    expect(refreshed.body.msg).toBe('token refreshed')
    expect(client.cookies.get('refresh_token_cookie')).not.toBe(oldRefresh)
    expect((await client.get('/auth/me')).status).toBe(200)

    const loggedOut = await client.post('/auth/logout')
    expect(loggedOut.status).toBe(200)
    expect(loggedOut.body).toEqual({ msg: 'logout successful' })
    expect(loggedOut.headers.getSetCookie().filter((c) => c.includes('Max-Age=0'))).toHaveLength(4)
    expect(client.cookies.size).toBe(0)
    expect((await client.get('/auth/me')).status).toBe(401)

    const replay = new Client(t.app)
    replay.bearer = oldRefresh
    const refused = await replay.post('/auth/refresh', undefined, { csrf: false })
    expect(refused.status).toBe(401)
    expect(refused.body.msg).toBe('token has been revoked')
  })

  test('reusing a rotated refresh token revokes the whole session', async () => {
    const client = await loggedIn(t.app, 'teacher')
    const first = client.cookies.get('refresh_token_cookie')!
    expect((await client.post('/auth/refresh', undefined, { csrf: client.cookies.get('csrf_refresh_token')! })).status).toBe(200)
    const second = client.cookies.get('refresh_token_cookie')!

    clock.advance(11_000) // past the grace period for racing tabs
    const thief = new Client(t.app)
    thief.bearer = first
    expect((await thief.post('/auth/refresh', undefined, { csrf: false })).status).toBe(401)
    // The legitimate holder of the newest token is cut off as well: the session is gone.
    const owner = new Client(t.app)
    owner.bearer = second
    const after = await owner.post('/auth/refresh', undefined, { csrf: false })
    expect(after.status).toBe(401)
    expect(after.body.msg).toBe('token has been revoked')
  })

  test('two tabs refreshing at once: the loser gets 401, the session survives', async () => {
    const client = await loggedIn(t.app, 'student')
    const first = client.cookies.get('refresh_token_cookie')!
    expect((await client.post('/auth/refresh', undefined, { csrf: client.cookies.get('csrf_refresh_token')! })).status).toBe(200)
    const tab = new Client(t.app)
    tab.bearer = first
    const raced = await tab.post('/auth/refresh', undefined, { csrf: false })
    expect(raced.status).toBe(401)
    expect(raced.body).toEqual({ msg: 'token has already been refreshed' })
    expect((await client.post('/auth/refresh', undefined, { csrf: client.cookies.get('csrf_refresh_token')! })).status).toBe(200)
  })

  test('50 parallel refreshes of one token: exactly one rotation, the others 401, no 5xx', async () => {
    const client = await loggedIn(t.app, 'teacher')
    const token = client.cookies.get('refresh_token_cookie')!
    const replies = await Promise.all(Array.from({ length: 50 }, () => {
      const tab = new Client(t.app)
      tab.bearer = token
      return tab.post('/auth/refresh', undefined, { csrf: false })
    }))
    const statuses = replies.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(1)
    expect(statuses.filter((s) => s === 401)).toHaveLength(49)
    for (const reply of replies.filter((r) => r.status === 401)) expect(reply.body.msg).toBeString()
    // The winner's new token still works: a race is not treated as theft.
    const winner = new Client(t.app)
    winner.bearer = replies.find((r) => r.status === 200)!.headers.getSetCookie()
      .find((c) => c.startsWith('refresh_token_cookie='))!.split(';')[0]!.split('=')[1]!
    expect((await winner.post('/auth/refresh', undefined, { csrf: false })).status).toBe(200)
  })

  test('logout without any token still answers 200 and clears cookies', async () => {
    const reply = await new Client(t.app).post('/auth/logout', undefined, { csrf: false })
    expect(reply.status).toBe(200)
    expect(reply.body.msg).toBe('logout successful')
  })

  test('a cookie logout needs the CSRF token like any write', async () => {
    const client = await loggedIn(t.app, 'guest')
    const reply = await client.post('/auth/logout', undefined, { csrf: false })
    expect(reply.status).toBe(401)
    expect(reply.body.msg).toBe('Missing CSRF token')
  })
})

describe('tokens', () => {
  test('Bearer works without CSRF', async () => {
    const login = await new Client(t.app).login('admin')
    const api = new Client(t.app)
    api.bearer = login.body.access_token
    expect((await api.get('/api/auth/me')).body.name).toBe('admin')
    const created = await api.post('/api/auth/register', { name: 'bearer-made', password: 'plum-tree-42' }, { csrf: false })
    expect(created.status).toBe(201)
    expect(created.body).toEqual({ msg: 'user created', id: expect.any(Number) })
  })

  test('missing, expired and tampered tokens', async () => {
    const anonymous = await new Client(t.app).get('/api/auth/me')
    expect(anonymous.status).toBe(401)
    expect(anonymous.body.msg).toBe('missing authorization')

    const login = await new Client(t.app).login('student')
    const api = new Client(t.app)
    const [header, payload, signature] = login.body.access_token.split('.')
    const forged = JSON.parse(Buffer.from(payload, 'base64url').toString())
    forged.role = 'admin'
    api.bearer = `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`
    const tampered = await api.get('/api/auth/me')
    expect(tampered.status).toBe(422)
    expect(tampered.body).toEqual({ msg: 'token invalid' })
    api.bearer = 'not-a-jwt'
    expect((await api.get('/api/auth/me')).status).toBe(422)

    api.bearer = login.body.access_token
    clock.advance(3601_000)
    try {
      const expired = await api.get('/api/auth/me')
      expect(expired.status).toBe(401)
      expect(expired.body).toEqual({ msg: 'token has expired' })
    } finally {
      clock.advance(-3601_000)
    }
  })

  test('a refresh token is not an access token', async () => {
    const client = await loggedIn(t.app, 'student')
    const api = new Client(t.app)
    api.bearer = client.cookies.get('refresh_token_cookie')!
    expect((await api.get('/api/auth/me')).status).toBe(422)
  })
})

describe('signup and register', () => {
  test('signup creates a student, logs in, 409 on a taken name, 403 for admin', async () => {
    const client = new Client(t.app)
    const reply = await client.post('/api/auth/signup', { name: 'newbie', password: 'plum-tree-42' }, { csrf: false })
    expect(reply.status).toBe(201)
    expect(reply.body).toEqual({ id: expect.any(Number), name: 'newbie', role: 'student' })
    expect(client.cookies.has('access_token_cookie')).toBe(true)
    expect((await client.get('/auth/me')).body.name).toBe('newbie')

    const taken = await new Client(t.app).post('/auth/signup', { name: 'newbie', password: 'plum-tree-42' }, { csrf: false })
    expect(taken.status).toBe(409)
    expect(taken.body).toEqual({ msg: 'user already exists' })
    const admin = await new Client(t.app).post('/auth/signup', { name: 'sneaky', password: 'plum-tree-42', role: 'admin' }, { csrf: false })
    expect(admin.status).toBe(403)
    expect(admin.body).toEqual({ msg: 'role not allowed for self-signup' })
    const teacher = await new Client(t.app).post('/auth/signup', { name: 'prof', password: 'plum-tree-42', role: 'teacher' }, { csrf: false })
    expect(teacher.body.role).toBe('teacher')
    const short = await new Client(t.app).post('/auth/signup', { name: 'shorty', password: 'short' }, { csrf: false })
    expect(short.status).toBe(400)
    expect(short.body.msg).toContain('at least 8')
    expect(await t.database.db.select().from(users).where(eq(users.name, 'shorty'))).toHaveLength(0)
    const [row] = await t.database.db.select().from(users).where(eq(users.name, 'newbie'))
    expect(row!.passwordHash.startsWith('$argon2id$')).toBe(true)
  })

  test('register is admin-only, validates role and password, 409 on duplicates', async () => {
    const student = await loggedIn(t.app, 'student')
    const forbidden = await student.post('/api/auth/register', { name: 'x-user', password: 'plum-tree-42' })
    expect(forbidden.status).toBe(403)
    expect(forbidden.body).toEqual({ msg: 'insufficient permissions' })

    const admin = await loggedIn(t.app, 'admin')
    const created = await admin.post('/api/auth/register', { name: 'made-teacher', password: 'plum-tree-42', role: 'teacher' })
    expect(created.status).toBe(201)
    const [row] = await t.database.db.select().from(users).where(eq(users.id, created.body.id))
    expect(row!.role).toBe('teacher')
    const audit = await t.database.db.select().from(changes).where(eq(changes.event, 'user.created'))
    expect(audit.some((a) => (a.data as any).user_id === created.body.id)).toBe(true)

    expect((await admin.post('/api/auth/register', { name: 'made-teacher', password: 'plum-tree-42' })).status).toBe(409)
    expect((await admin.post('/api/auth/register', { name: 'bad-role', password: 'plum-tree-42', role: 'janitor' })).status).toBe(400)
    expect((await admin.post('/api/auth/register', { name: 'short-pw', password: '1234567' })).status).toBe(400)
  })

  test('a teacher passes a student route but not an admin one (student < teacher < admin)', async () => {
    const teacher = await loggedIn(t.app, 'teacher')
    expect((await teacher.post('/auth/change-password', { current_password: 'wrong-one', new_password: 'whatever12' })).status).toBe(400)
    expect((await teacher.post('/api/auth/register', { name: 'nope-user', password: 'plum-tree-42' })).status).toBe(403)
  })
})

describe('passwords and sessions', () => {
  test('change-password keeps this session, ends the others, and the old password stops working', async () => {
    const signup = new Client(t.app)
    await signup.post('/auth/signup', { name: 'changer', password: 'first-password' }, { csrf: false })
    const other = await loggedIn(t.app, 'changer', 'first-password')
    clock.advance(2000) // tokens issued in an earlier second than the change

    const changed = await signup.post('/api/auth/change-password', { current_password: 'first-password', new_password: 'second-password' })
    expect(changed.status).toBe(200)
    expect(changed.body).toEqual({ msg: 'password changed' })
    expect((await signup.get('/auth/me')).status).toBe(200)

    // Every token of the other session is refused, /auth/me included (it used to read the claims only).
    const otherMe = await other.get('/auth/me')
    expect(otherMe.status).toBe(401)
    expect(otherMe.body.msg).toBe('token has been revoked')
    const otherWrite = await other.post('/auth/change-password', { current_password: 'second-password', new_password: 'third-password' })
    expect(otherWrite.status).toBe(401)
    expect(otherWrite.body.msg).toBe('token has been revoked')
    const otherRefresh = await other.post('/auth/refresh', undefined, { csrf: other.cookies.get('csrf_refresh_token')! })
    expect(otherRefresh.status).toBe(401)

    expect((await new Client(t.app).post('/auth/login', { name: 'changer', password: 'first-password' }, { csrf: false })).status).toBe(401)
    expect((await new Client(t.app).post('/auth/login', { name: 'changer', password: 'second-password' }, { csrf: false })).status).toBe(200)
  })

  test('a bcrypt hash from the Flask database verifies and is upgraded to argon2id', async () => {
    const bcrypt = await Bun.password.hash('legacy-password', { algorithm: 'bcrypt', cost: 4 })
    for (const [name, hash] of [['legacy-2b', bcrypt], ['legacy-2a', `$2a$${bcrypt.slice(4)}`]] as const) {
      await t.database.db.insert(users).values(stampedUser({ name, passwordHash: hash, role: 'student' }))
      expect((await new Client(t.app).post('/auth/login', { name, password: 'wrong-password' }, { csrf: false })).status).toBe(401)
      const ok = await new Client(t.app).post('/auth/login', { name, password: 'legacy-password' }, { csrf: false })
      expect(ok.status).toBe(200)
      const [row] = await t.database.db.select().from(users).where(eq(users.name, name))
      expect(row!.passwordHash.startsWith('$argon2id$')).toBe(true)
      expect((await new Client(t.app).post('/auth/login', { name, password: 'legacy-password' }, { csrf: false })).status).toBe(200)
    }
  })

  test('a demoted admin loses admin routes within 60 s, a deleted user at once after the cache', async () => {
    const boss = new Client(t.app)
    await (await loggedIn(t.app, 'admin')).post('/api/auth/register', { name: 'temp-admin', password: 'plum-tree-42', role: 'admin' })
    await boss.login('temp-admin', 'plum-tree-42')
    expect((await boss.post('/api/auth/register', { name: 'by-temp-admin', password: 'plum-tree-42' })).status).toBe(201)

    await t.database.db.update(users).set({ role: 'student' }).where(eq(users.name, 'temp-admin'))
    clock.advance(60_000)
    const demoted = await boss.post('/api/auth/register', { name: 'by-temp-admin-2', password: 'plum-tree-42' })
    expect(demoted.status).toBe(403)

    await t.database.db.delete(users).where(eq(users.name, 'temp-admin'))
    clock.advance(60_000)
    const gone = await boss.post('/auth/change-password', { current_password: 'plum-tree-42', new_password: 'plum-tree-43' })
    expect(gone.status).toBe(401)
    const me = await boss.get('/auth/me')
    expect(me.status).toBe(404)
    expect(me.body).toEqual({ msg: 'user not found' })
  })

  test('sessions are stored hashed, never as the token itself', async () => {
    const client = await loggedIn(t.app, 'guest')
    const token = client.cookies.get('refresh_token_cookie')!
    const rows = await t.database.db.select().from(sessions).where(isNull(sessions.revokedAt))
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.some((r) => r.refreshTokenHash === token)).toBe(false)
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.refreshTokenHash))).toBe(true)
  })
})

describe('form CSRF field', () => {
  test('with JWT_CSRF_CHECK_FORM=true a form post may carry csrf_token', async () => {
    const formApp = await testApp({ env: { JWT_CSRF_CHECK_FORM: 'true' } })
    try {
      const client = await loggedIn(formApp.app, 'student')
      const form = (token: string) => new URLSearchParams({ current_password: 'student1234', new_password: 'student12345', csrf_token: token })
      const wrong = await client.request('POST', '/auth/change-password', { body: form('bad'), headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      expect(wrong.status).toBe(401)
      const ok = await client.request('POST', '/auth/change-password', {
        body: form(client.cookies.get('csrf_access_token')!), headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      expect(ok.status).toBe(200)
    } finally {
      await formApp.close()
    }
    // Without the setting the form field is ignored.
    const client = await loggedIn(t.app, 'student')
    const ignored = await client.request('POST', '/auth/change-password', {
      body: new URLSearchParams({ current_password: 'student1234', new_password: 'student12345', csrf_token: client.cookies.get('csrf_access_token')! }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(ignored.status).toBe(401)
    expect(ignored.body.msg).toBe('Missing CSRF token')
  })
})

describe('cookie flags from config', () => {
  test('SameSite=None forces Secure; JWT_COOKIE_SECURE adds HSTS', async () => {
    const secureApp = await testApp({ env: { JWT_COOKIE_SAMESITE: 'None' } })
    try {
      const reply = await new Client(secureApp.app).post('/auth/login', { name: 'admin', password: 'admin1234' }, { csrf: false })
      for (const cookie of reply.headers.getSetCookie()) {
        expect(cookie).toContain('SameSite=None')
        expect(cookie).toContain('Secure')
      }
      expect(reply.headers.get('strict-transport-security')).toContain('max-age=')
    } finally {
      await secureApp.close()
    }
  })
})
