import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { AUDIT_ACTIONS } from '../src/core/audit/vocabulary'
import { CHANGE_EVENTS, recordChanges, writeTransaction, type Change } from '../src/core/changes'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
let admin: Client
/** Changes recorded as the core records them (the audit log reads the change record). */
const record = (changes: Change[]) => writeTransaction(t.database, async (tx) => recordChanges(tx, changes))

beforeAll(async () => {
  t = await testApp()
  admin = await loggedIn(t.app, 'admin')
  // 250 older rows, one second apart, plus the admin's login row (the newest).
  const base = Date.now() - 3600_000
  await record(Array.from({ length: 250 }, (_, i) => ({
    actorId: 2,
    event: 'room.updated' as const,
    description: `entry ${i}`,
    data: { n: i },
    at: new Date(base + i * 1000),
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
    expect(Object.keys(first).sort()).toEqual(['action', 'actor_id', 'created_at', 'description', 'event', 'id', 'payload'])
    expect(first.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/)
    // Newest first: login rows of this test file are newer than the 250 inserted ones.
    expect(first).toMatchObject({ action: 'login', event: 'user.logged_in' })
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

  test("every event is reported with one of the original's actions and its precise name", async () => {
    // one change of every event, newer than the rest
    const at = new Date(Date.now() + 3600_000)
    await record(CHANGE_EVENTS.map((event, i) => ({
      actorId: 1, event, description: `kind ${i}`, at: new Date(at.getTime() + i),
      data: event === 'room.blocked' || event === 'room.unblocked' ? { room_id: 1, is_blocked: event === 'room.blocked' } : {},
    })))
    const logs = (await admin.get(`/api/admin/audit/logs?per_page=${CHANGE_EVENTS.length}`)).body.logs.reverse()
    const reported = Object.fromEntries(logs.map((l: any) => [l.event, l.action]))
    expect(reported).toEqual({
      'reservation.created': 'create_reservation',
      'reservation.cancelled': 'cancel_reservation',
      'reservation.bumped': 'cancel_reservation',
      'reservation.updated': 'update_reservation',
      'room.created': 'update_room',
      'room.updated': 'update_room',
      'room.blocked': 'update_room',
      'room.unblocked': 'update_room',
      'room.qr_regenerated': 'update_room',
      'user.created': 'create_user',
      'user.updated': 'create_user',
      'user.password_reset': 'create_user',
      'user.password_changed': 'create_user',
      'user.signed_up': 'create_user',
      'user.logged_in': 'login',
      'user.logged_out': 'logout',
      'reservation.checked_in': 'update_reservation',
      'reservation.checked_out': 'update_reservation',
      'reservation.released': 'cancel_reservation',
      // timetables (issue 15)
      'series.created': 'create_reservation',
      'series.updated': 'update_reservation',
      'series.cancelled': 'cancel_reservation',
      'closure.created': 'update_room',
      'closure.updated': 'update_room',
      'closure.deleted': 'update_room',
      'term.created': 'update_room',
      'reservation.approved': 'update_reservation',
      'reservation.rejected': 'cancel_reservation',
      'policy.created': 'create_user',
      'policy.updated': 'create_user',
      'policy.deleted': 'create_user',
      'user.suspension_lifted': 'create_user',
      // the rooms' time zone (issue 26)
      'settings.updated': 'update_room',
      // webhook endpoints (issue 28): configuration, as the settings
      'webhook.created': 'update_room',
      'webhook.updated': 'update_room',
      'webhook.deleted': 'update_room',
      // the waitlist (issue 28): requests for a booking
      'waitlist.joined': 'update_reservation',
      'waitlist.left': 'update_reservation',
      'waitlist.expired': 'update_reservation',
    })
    // the default answer (newest 200) only ever holds the original's actions
    for (const l of (await admin.get('/api/admin/audit/logs')).body.logs) expect(AUDIT_ACTIONS).toContain(l.action)
  })

  test('action filter takes the original names and matches every event under them; event filter the precise kinds', async () => {
    const byAction = (await admin.get('/api/admin/audit/logs?action=update_room&per_page=200')).body
    expect(new Set(byAction.logs.map((l: any) => l.action))).toEqual(new Set(['update_room']))
    expect(new Set(byAction.logs.map((l: any) => l.event))).toEqual(new Set([
      'room.created', 'room.updated', 'room.blocked', 'room.unblocked', 'room.qr_regenerated',
      'closure.created', 'closure.updated', 'closure.deleted', 'term.created', 'settings.updated',
      'webhook.created', 'webhook.updated', 'webhook.deleted',
    ]))
    expect(byAction.pagination.total).toBe(250 + 13) // the 250 above, and one row of each of the 13 kinds reported as update_room
    const two = (await admin.get('/api/admin/audit/logs?action=create_user&action=logout')).body.logs
    expect(new Set(two.map((l: any) => l.event))).toEqual(new Set([
      'user.created', 'user.updated', 'user.password_reset', 'user.password_changed', 'user.signed_up', 'user.logged_out',
      'policy.created', 'policy.updated', 'policy.deleted', 'user.suspension_lifted',
    ]))
    const cancels = (await admin.get('/api/admin/audit/logs?action=cancel_reservation')).body.logs
    expect(cancels.map((l: any) => l.event).sort()).toEqual(['reservation.bumped', 'reservation.cancelled', 'reservation.rejected', 'reservation.released', 'series.cancelled'])

    expect((await admin.get('/api/admin/audit/logs?event=room.unblocked')).body.logs.map((l: any) => l.payload)).toEqual([{ room_id: 1, is_blocked: false }])
    expect((await admin.get('/api/admin/audit/logs?event=room.blocked')).body.logs.map((l: any) => l.payload)).toEqual([{ room_id: 1, is_blocked: true }])
    const precise = (await admin.get('/api/admin/audit/logs?event=reservation.released&event=user.signed_up')).body.logs
    expect(precise.map((l: any) => l.event).sort()).toEqual(['reservation.released', 'user.signed_up'])
    expect((await admin.get('/api/admin/audit/logs?action=update_room&event=user.signed_up')).body.logs).toEqual([])

    for (const q of ['action=auto_release', 'action=update_user', 'action=nope', 'event=room', 'event=auto_release']) {
      const r = await admin.get(`/api/admin/audit/logs?${q}`)
      expect({ q, status: r.status }).toEqual({ q, status: 400 })
    }
    expect((await admin.get('/api/admin/audit/logs?action=nope')).body.msg).toBe(
      "invalid action 'nope': expected create_reservation, cancel_reservation, update_reservation, update_room, create_user, login, logout")
  })

  test('legacy path', async () => {
    const r = await admin.get('/admin/audit/logs?per_page=1')
    expect(r.status).toBe(200)
    expect(r.body.logs).toHaveLength(1)
  })
})
