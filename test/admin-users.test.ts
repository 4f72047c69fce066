import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { desc, eq } from 'drizzle-orm'
import { changes, users } from '../src/db/schema'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
let admin: Client

beforeAll(async () => {
  t = await testApp()
  admin = await loggedIn(t.app, 'admin')
})
afterAll(() => t.close())

const db = () => t.database.db
async function lastAudit() {
  const [row] = await db().select().from(changes).orderBy(desc(changes.position)).limit(1)
  return row!
}
async function auditCount() {
  return (await db().select({ id: changes.position }).from(changes)).length
}

describe('access', () => {
  test('anonymous 401, student and teacher 403 on every admin user route', async () => {
    const anon = new Client(t.app)
    expect((await anon.get('/api/admin/users')).status).toBe(401)
    for (const name of ['student', 'teacher']) {
      const c = await loggedIn(t.app, name)
      expect((await c.get('/api/admin/users')).status).toBe(403)
      expect((await c.get('/api/admin/users')).body).toEqual({ msg: 'insufficient permissions' })
      expect((await c.post('/api/admin/users', { name: 'x1', password: 'plum-tree-41' })).status).toBe(403)
      expect((await c.patch('/api/admin/users/1', { name: 'x2' })).status).toBe(403)
      expect((await c.post('/api/admin/users/1/reset-password', { password: 'plum-tree-41' })).status).toBe(403)
    }
  })

  test('cookie writes need the CSRF header', async () => {
    const r = await admin.post('/api/admin/users', { name: 'nocsrf', password: 'plum-tree-41' }, { csrf: false })
    expect(r.status).toBe(401)
    expect(r.body.msg).toBe('Missing CSRF token')
  })
})

describe('GET /admin/users', () => {
  test('lists users with pagination, ordered by id', async () => {
    const r = await admin.get('/api/admin/users')
    expect(r.status).toBe(200)
    expect(r.body.users.map((u: any) => u.name)).toEqual(['admin', 'teacher', 'student', 'guest'])
    expect(r.body.pagination).toEqual({ page: 1, per_page: 20, total: 4, pages: 1 })
    const u = r.body.users[0]
    expect(Object.keys(u).sort()).toEqual(['created_at', 'email', 'id', 'name', 'role', 'teacher_pending', 'updated_at']) // teacher_pending: issue 16.3; email: issue 28
    expect(u.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/)
  })

  test('page and per_page', async () => {
    const r = await admin.get('/api/admin/users?per_page=3&page=2')
    expect(r.body.users.map((u: any) => u.name)).toEqual(['guest'])
    expect(r.body.pagination).toEqual({ page: 2, per_page: 3, total: 4, pages: 2 })
    const past = await admin.get('/api/admin/users?per_page=3&page=9')
    expect(past.status).toBe(200)
    expect(past.body.users).toEqual([])
    expect(past.body.pagination).toEqual({ page: 9, per_page: 3, total: 4, pages: 2 })
    const clamped = await admin.get('/api/admin/users?per_page=1000')
    expect(clamped.body.pagination.per_page).toBe(100)
  })

  test('bad pagination values are 400', async () => {
    for (const q of ['page=0', 'page=abc', 'per_page=0', 'per_page=-5', 'page=1.5']) {
      const r = await admin.get(`/api/admin/users?${q}`)
      expect(r.status).toBe(400)
      expect(typeof r.body.msg).toBe('string')
    }
  })

  test('q filters by name, case-insensitive; wildcards are literal', async () => {
    const r = await admin.get('/api/admin/users?q=TEACH')
    expect(r.body.users.map((u: any) => u.name)).toEqual(['teacher'])
    expect((await admin.get('/api/admin/users?q=%25')).body.users).toEqual([])
    expect((await admin.get('/api/admin/users?q=_')).body.users).toEqual([])
  })

  test('role filter: single, repeated, comma-separated; bad role 400', async () => {
    const one = await admin.get('/api/admin/users?role=student')
    expect(one.body.users.map((u: any) => u.name)).toEqual(['student', 'guest'])
    expect(one.body.pagination.total).toBe(2)
    const many = await admin.get('/api/admin/users?role=admin&role=teacher')
    expect(many.body.users.map((u: any) => u.name)).toEqual(['admin', 'teacher'])
    const comma = await admin.get('/api/admin/users?role=admin,teacher')
    expect(comma.body.users.map((u: any) => u.name)).toEqual(['admin', 'teacher'])
    const bad = await admin.get('/api/admin/users?role=wizard')
    expect(bad.status).toBe(400)
    expect(bad.body.msg).toContain('role')
  })

  test('legacy path without /api', async () => {
    const r = await admin.get('/admin/users?q=guest')
    expect(r.status).toBe(200)
    expect(r.body.users.map((u: any) => u.name)).toEqual(['guest'])
  })
})

describe('POST /admin/users', () => {
  test('creates a user (default student) with an audit row', async () => {
    const before = await auditCount()
    const r = await admin.post('/api/admin/users', { name: 'newbie', password: 'plum-tree-42' })
    expect(r.status).toBe(201)
    expect(r.body.user).toMatchObject({ name: 'newbie', role: 'student' })
    const [row] = await db().select().from(users).where(eq(users.id, r.body.user.id))
    expect(row!.role).toBe('student')
    expect(await auditCount()).toBe(before + 1)
    const audit = await lastAudit()
    expect(audit.event).toBe('user.created')
    expect(audit.data).toMatchObject({ user_id: r.body.user.id, role: 'student' })
    expect(audit.actorId).toBe(1)
    await loggedIn(t.app, 'newbie', 'plum-tree-42')
  })

  test('creates a teacher via the legacy path', async () => {
    const r = await admin.post('/admin/users', { name: 'teach2', password: 'plum-tree-42', role: 'teacher' })
    expect(r.status).toBe(201)
    expect(r.body.user.role).toBe('teacher')
  })

  test('duplicate name 409, short password 400, bad role 400, missing fields 400; nothing written', async () => {
    const before = await auditCount()
    const dup = await admin.post('/api/admin/users', { name: 'teacher', password: 'plum-tree-42' })
    expect(dup.status).toBe(409)
    expect(dup.body).toEqual({ msg: 'user already exists' })
    const short = await admin.post('/api/admin/users', { name: 'shorty', password: 'short' })
    expect(short.status).toBe(400)
    expect(short.body.msg).toContain('at least 8')
    const role = await admin.post('/api/admin/users', { name: 'roley', password: 'plum-tree-42', role: 'king' })
    expect(role.status).toBe(400)
    expect((await admin.post('/api/admin/users', { password: 'plum-tree-42' })).status).toBe(400)
    expect((await admin.post('/api/admin/users', { name: '   ', password: 'plum-tree-42' })).status).toBe(400)
    expect(await auditCount()).toBe(before)
    expect((await db().select().from(users).where(eq(users.name, 'shorty'))).length).toBe(0)
  })
})

describe('PATCH /admin/users/:id', () => {
  test('renames a user, audited', async () => {
    const created = (await admin.post('/api/admin/users', { name: 'renameme', password: 'plum-tree-42' })).body.user
    const r = await admin.patch(`/api/admin/users/${created.id}`, { name: 'renamed' })
    expect(r.status).toBe(200)
    expect(r.body.user).toMatchObject({ id: created.id, name: 'renamed', role: 'student' })
    const audit = await lastAudit()
    expect(audit.event).toBe('user.updated')
    expect(audit.data).toEqual({ user_id: created.id, changes: { name: { from: 'renameme', to: 'renamed' } } })
  })

  test('unchanged values write no audit row', async () => {
    const before = await auditCount()
    const r = await admin.patch('/api/admin/users/3', { name: 'student', role: 'student' })
    expect(r.status).toBe(200)
    expect(await auditCount()).toBe(before)
  })

  test('errors: 404 unknown, 400 bad id / empty body / bad role / blank name, 409 taken name', async () => {
    const before = await auditCount()
    const missing = await admin.patch('/api/admin/users/99999', { name: 'ghost' })
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ msg: 'user not found' })
    expect((await admin.patch('/api/admin/users/abc', { name: 'x' })).status).toBe(400)
    expect((await admin.patch('/api/admin/users/3', {})).status).toBe(400)
    expect((await admin.patch('/api/admin/users/3', { role: 'root' })).status).toBe(400)
    expect((await admin.patch('/api/admin/users/3', { name: '' })).status).toBe(400)
    const taken = await admin.patch('/api/admin/users/3', { name: 'teacher' })
    expect(taken.status).toBe(409)
    expect(taken.body).toEqual({ msg: 'user already exists' })
    expect(await auditCount()).toBe(before)
  })

  test('a promoted user gains and a demoted admin loses admin routes at once', async () => {
    const created = (await admin.post('/api/admin/users', { name: 'boss2', password: 'plum-tree-42', role: 'student' })).body.user
    const boss = await loggedIn(t.app, 'boss2', 'plum-tree-42')
    expect((await boss.get('/api/admin/users')).status).toBe(403)
    const up = await admin.patch(`/api/admin/users/${created.id}`, { role: 'admin' })
    expect(up.status).toBe(200)
    expect(up.body.user.role).toBe('admin')
    expect((await boss.get('/api/admin/users')).status).toBe(200)
    const audit = await lastAudit()
    expect(audit.data).toEqual({ user_id: created.id, changes: { role: { from: 'student', to: 'admin' } } })

    const down = await admin.patch(`/api/admin/users/${created.id}`, { role: 'student' })
    expect(down.status).toBe(200)
    expect((await boss.get('/api/admin/users')).status).toBe(403)
    expect((await boss.get('/admin/stats')).status).toBe(403)
  })

  test('the last admin cannot be demoted (409)', async () => {
    const r = await admin.patch('/api/admin/users/1', { role: 'teacher' })
    expect(r.status).toBe(409)
    const [row] = await db().select().from(users).where(eq(users.id, 1))
    expect(row!.role).toBe('admin')
  })
})

describe('POST /admin/users/:id/reset-password', () => {
  test('sets the password, ends the user sessions, audited', async () => {
    const created = (await admin.post('/api/admin/users', { name: 'forgetful', password: 'plum-tree-42' })).body.user
    const session = await loggedIn(t.app, 'forgetful', 'plum-tree-42')
    const r = await admin.post(`/api/admin/users/${created.id}/reset-password`, { password: 'brand-new-pass' })
    expect(r.status).toBe(200)
    expect(r.body.user).toMatchObject({ id: created.id, name: 'forgetful', role: 'student' })
    // The user's sessions are revoked: their refresh token no longer works.
    const refresh = await session.post('/api/auth/refresh', undefined, { csrf: session.cookies.get('csrf_refresh_token')! })
    expect(refresh.status).toBe(401)
    const audit = await lastAudit()
    expect(audit.event).toBe('user.password_reset')
    expect(audit.data).toEqual({ user_id: created.id })
    expect(JSON.stringify(audit)).not.toContain('brand-new-pass')
    await expect(loggedIn(t.app, 'forgetful', 'plum-tree-42')).rejects.toThrow()
    await loggedIn(t.app, 'forgetful', 'brand-new-pass')
  })

  test('errors: 404 unknown, 400 short or missing password', async () => {
    const before = await auditCount()
    expect((await admin.post('/api/admin/users/99999/reset-password', { password: 'plum-tree-42' })).status).toBe(404)
    expect((await admin.post('/api/admin/users/3/reset-password', { password: 'short' })).status).toBe(400)
    expect((await admin.post('/api/admin/users/3/reset-password', {})).status).toBe(400)
    expect(await auditCount()).toBe(before)
    await loggedIn(t.app, 'student')
  })

  test('legacy path', async () => {
    expect((await admin.post('/admin/users/4/reset-password', { password: 'guest1234' })).status).toBe(200)
  })
})
