import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { auditLogs } from '../src/db/schema'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
let admin: Client

beforeAll(async () => {
  t = await testApp()
  admin = await loggedIn(t.app, 'admin')
  // 250 older rows, one second apart, plus the admin's login row (the newest).
  const base = Date.now() - 3600_000
  await t.database.db.insert(auditLogs).values(Array.from({ length: 250 }, (_, i) => ({
    actorId: 2,
    action: 'update_room' as const,
    description: `entry ${i}`,
    payload: { n: i },
    createdAt: new Date(base + i * 1000),
  })))
})
afterAll(() => t.close())

describe('GET /admin/audit/logs', () => {
  test('non-admins are refused', async () => {
    expect((await new Client(t.app).get('/api/admin/audit/logs')).status).toBe(401)
    expect((await (await loggedIn(t.app, 'teacher')).get('/api/admin/audit/logs')).status).toBe(403)
    expect((await (await loggedIn(t.app, 'student')).get('/admin/audit/logs')).status).toBe(403)
  })

  test('default: the newest 200, newest first, with the contract shape', async () => {
    const r = await admin.get('/api/admin/audit/logs')
    expect(r.status).toBe(200)
    expect(r.body.logs).toHaveLength(200)
    expect(r.body.pagination).toBeUndefined()
    const first = r.body.logs[0]
    expect(Object.keys(first).sort()).toEqual(['action', 'actor_id', 'created_at', 'description', 'id', 'payload'])
    expect(first.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    // Newest first: login rows of this test file are newer than the 250 inserted ones.
    expect(first.action).toBe('login')
    const seeded = r.body.logs.filter((l: any) => l.action === 'update_room')
    expect(seeded[0]).toMatchObject({ description: 'entry 249', payload: { n: 249 }, actor_id: 2 })
    const times = r.body.logs.map((l: any) => l.created_at)
    expect([...times].sort().reverse()).toEqual(times)
  })

  test('page / per_page paginate and add pagination', async () => {
    const all = (await admin.get('/api/admin/audit/logs?per_page=200&page=1')).body
    const total = all.pagination.total
    expect(total).toBeGreaterThanOrEqual(251)
    const p2 = await admin.get('/api/admin/audit/logs?page=2&per_page=10')
    expect(p2.status).toBe(200)
    expect(p2.body.logs).toHaveLength(10)
    expect(p2.body.pagination).toEqual({ page: 2, per_page: 10, total, pages: Math.ceil(total / 10) })
    const p1 = await admin.get('/api/admin/audit/logs?page=1&per_page=10')
    expect(p1.body.logs[9].id).toBeGreaterThan(p2.body.logs[0].id)
    const defaults = await admin.get('/api/admin/audit/logs?page=1')
    expect(defaults.body.logs).toHaveLength(20)
    const past = await admin.get('/api/admin/audit/logs?page=1000&per_page=50')
    expect(past.body.logs).toEqual([])
    const clamped = await admin.get('/api/admin/audit/logs?per_page=5000')
    expect(clamped.body.pagination.per_page).toBe(200)
  })

  test('bad pagination values are 400', async () => {
    for (const q of ['page=0', 'per_page=x', 'page=-1']) {
      const r = await admin.get(`/api/admin/audit/logs?${q}`)
      expect(r.status).toBe(400)
      expect(typeof r.body.msg).toBe('string')
    }
  })

  test('legacy path', async () => {
    const r = await admin.get('/admin/audit/logs?per_page=1')
    expect(r.status).toBe(200)
    expect(r.body.logs).toHaveLength(1)
  })
})
