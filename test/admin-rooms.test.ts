import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { desc, eq, gt, inArray } from 'drizzle-orm'
import { changes, reservations, rooms } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { stamped } from './helpers/db'

setDefaultTimeout(30_000) // see test/setup.ts

// Seeded: rooms A200 (admin, id 3), B101 (public, id 1, occupied now by teacher until 13:30),
// B102 (public, id 2, next reservation 14:00), S001 (service, id 4).
const clock = fixedClock('2030-03-10T12:00:00Z')
let t: TestApp
let admin: Client
let counting = false
const queries: string[] = []

beforeAll(async () => {
  t = await testApp({ clock, db: { onQuery: (q) => { if (counting) queries.push(q) } } })
  admin = await loggedIn(t.app, 'admin')
})
afterAll(() => t.close())

const db = () => t.database.db
const names = (r: { body: { rooms: { name: string }[] } }) => r.body.rooms.map((x) => x.name)
async function audits(action?: string) {
  const rows = await db().select().from(changes).orderBy(desc(changes.position))
  return action ? rows.filter((r) => r.event === action) : rows
}
async function roomRow(id: number) {
  const [row] = await db().select().from(rooms).where(eq(rooms.id, id))
  return row!
}

describe('access', () => {
  test('anonymous 401, student and teacher 403 on every admin room route', async () => {
    expect((await new Client(t.app).get('/api/admin/rooms')).status).toBe(401)
    for (const name of ['student', 'teacher']) {
      const c = await loggedIn(t.app, name)
      const replies = await Promise.all([
        c.get('/api/admin/rooms'),
        c.post('/api/admin/rooms', { name: 'X1' }),
        c.patch('/api/admin/rooms/1', { is_blocked: true }),
        c.post('/api/admin/rooms/bulk/block', { room_ids: [1], is_blocked: true }),
        c.post('/api/admin/rooms/1/generate-qr'),
        c.post('/api/admin/rooms/1/reserve', { user_id: 3, start_time: '2030-03-11T10:00:00Z', end_time: '2030-03-11T11:00:00Z' }),
      ])
      expect(replies.map((r) => r.status)).toEqual([403, 403, 403, 403, 403, 403])
    }
    expect((await roomRow(1)).isBlocked).toBe(false)
  })
})

describe('GET /admin/rooms', () => {
  test('Room JSON by name, with pagination', async () => {
    const r = await admin.get('/api/admin/rooms')
    expect(r.status).toBe(200)
    expect(names(r)).toEqual(['A200', 'B101', 'B102', 'S001'])
    expect(r.body.pagination).toEqual({ page: 1, per_page: 20, total: 4, pages: 1 })
    const b101 = r.body.rooms[1]
    expect(b101).toEqual({
      id: 1, name: 'B101', type: 'public', is_blocked: false,
      qr_code_url: 'http://qrbook.test/static/qr/1.png',
      status: 'occupied',
      current_reservation: {
        id: 1, user_id: 2, user_name: 'teacher', end_time: '2030-03-10T13:30:00Z', check_in_required: true, checked_in_at: '2030-03-10T11:30:00Z',
      },
      next_reservation: null,
      booking_window: { start: null, end: null },
      requires_check_in: true, check_in_opens_min: 10, auto_release_after_min: 15, check_in_proof: 'poster', series_require_check_in: false, closure: null,
    })
    expect(r.body.rooms[2].next_reservation).toEqual({ id: 2, start_time: '2030-03-10T14:00:00Z', user_name: 'student' })
  })

  test('filters: q, type (single, repeated), status, is_blocked', async () => {
    expect(names(await admin.get('/api/admin/rooms?q=b1'))).toEqual(['B101', 'B102'])
    expect(names(await admin.get('/api/admin/rooms?type=public'))).toEqual(['B101', 'B102'])
    expect(names(await admin.get('/api/admin/rooms?type=admin&type=service'))).toEqual(['A200', 'S001'])
    expect(names(await admin.get('/api/admin/rooms?status=occupied'))).toEqual(['B101'])
    expect(names(await admin.get('/api/admin/rooms?status=available'))).toEqual(['A200', 'B102', 'S001'])
    expect(names(await admin.get('/api/admin/rooms?is_blocked=false&type=public&q=2'))).toEqual(['B102'])
    expect(names(await admin.get('/api/admin/rooms?is_blocked=true'))).toEqual([])
    // the filter is bool-ish too; an empty value is no filter
    expect(names(await admin.get('/api/admin/rooms?is_blocked=0&type=public&q=2'))).toEqual(['B102'])
    expect(names(await admin.get('/api/admin/rooms?is_blocked=1'))).toEqual([])
    expect(names(await admin.get('/api/admin/rooms?is_blocked='))).toEqual(['A200', 'B101', 'B102', 'S001'])
    const filtered = await admin.get('/api/admin/rooms?status=available&per_page=2&page=2')
    expect(names(filtered)).toEqual(['S001'])
    expect(filtered.body.pagination).toEqual({ page: 2, per_page: 2, total: 3, pages: 2 })
  })

  test('bad filter values are 400, never 500', async () => {
    for (const q of ['type=lab', 'type=public&type=lab', 'status=busy', 'is_blocked=maybe', 'is_blocked=yes', 'is_blocked=2', 'page=x', 'per_page=0']) {
      const r = await admin.get(`/api/admin/rooms?${q}`)
      expect(r.status).toBe(400)
      expect(typeof r.body.msg).toBe('string')
    }
    expect((await admin.get('/api/admin/rooms?is_blocked=maybe')).body.msg).toBe('is_blocked must be true or false')
  })

  test('pagination edges', async () => {
    const p = await admin.get('/api/admin/rooms?per_page=3&page=2')
    expect(names(p)).toEqual(['S001'])
    expect(p.body.pagination).toEqual({ page: 2, per_page: 3, total: 4, pages: 2 })
    const past = await admin.get('/api/admin/rooms?per_page=3&page=5')
    expect(past.body.rooms).toEqual([])
    expect(past.body.pagination).toEqual({ page: 5, per_page: 3, total: 4, pages: 2 })
    expect((await admin.get('/api/admin/rooms?per_page=500')).body.pagination.per_page).toBe(100)
  })

  test('legacy path', async () => {
    expect(names(await admin.get('/admin/rooms?type=service'))).toEqual(['S001'])
  })
})

describe('POST /admin/rooms', () => {
  test('creates a room with its QR code; audited', async () => {
    const r = await admin.post('/api/admin/rooms', { name: 'C300', type: 'service', booking_start: '08:00', booking_end: '20:00' })
    expect(r.status).toBe(201)
    expect(r.body.room).toMatchObject({
      name: 'C300', type: 'service', is_blocked: false, status: 'available',
      booking_window: { start: '08:00', end: '20:00' },
      qr_code_url: `http://qrbook.test/static/qr/${r.body.room.id}.png`,
    })
    expect(existsSync(join(t.config.staticQrPath, `${r.body.room.id}.png`))).toBe(true)
    const [audit] = await audits()
    expect(audit!.event).toBe('room.created')
    expect(audit!.data).toMatchObject({ room_id: r.body.room.id, name: 'C300', type: 'service' })
    // reported with the original's action name (it logged room creation as update_room)
    const [log] = (await admin.get('/api/admin/audit/logs?per_page=1')).body.logs
    expect(log).toMatchObject({ action: 'update_room', event: 'room.created', payload: { room_id: r.body.room.id } })
  })

  test('defaults to public; room_type synonym; legacy path', async () => {
    expect((await admin.post('/api/admin/rooms', { name: 'C301' })).body.room.type).toBe('public')
    const legacy = await admin.post('/admin/rooms', { name: 'C302', room_type: 'admin' })
    expect(legacy.status).toBe(201)
    expect(legacy.body.room.type).toBe('admin')
  })

  test('duplicate name 409; bad input 400; nothing written', async () => {
    const before = (await audits()).length
    const dup = await admin.post('/api/admin/rooms', { name: 'B101' })
    expect(dup.status).toBe(409)
    expect(dup.body).toEqual({ msg: 'room already exists' })
    for (const body of [{}, { name: '  ' }, { name: 'C9', type: 'lab' }, { name: 'C9', booking_start: '25:00' }, { name: 5 }])
      expect((await admin.post('/api/admin/rooms', body)).status).toBe(400)
    expect((await audits()).length).toBe(before)
    expect(await db().select().from(rooms).where(eq(rooms.name, 'C9'))).toEqual([])
  })
})

describe('PATCH /admin/rooms/:id', () => {
  test('changes fields; one audit row listing them', async () => {
    const r = await admin.patch('/api/admin/rooms/4', { name: 'S002', type: 'public', booking_start: '07:30', booking_end: null, is_blocked: true })
    expect(r.status).toBe(200)
    expect(r.body.room).toMatchObject({
      id: 4, name: 'S002', type: 'public', is_blocked: true, status: 'blocked', booking_window: { start: '07:30', end: null },
    })
    const row = await roomRow(4)
    expect(row).toMatchObject({ name: 'S002', type: 'public', isBlocked: true, bookingStart: '07:30:00', bookingEnd: null })
    const [audit] = await audits()
    expect(audit!.event).toBe('room.updated')
    const [log] = (await admin.get('/api/admin/audit/logs?per_page=1')).body.logs
    expect(log).toMatchObject({ action: 'update_room', event: 'room.updated' })
    expect(audit!.data).toEqual({
      room_id: 4,
      changes: {
        name: { from: 'S001', to: 'S002' }, type: { from: 'service', to: 'public' },
        is_blocked: { from: false, to: true }, booking_start: { from: null, to: '07:30' },
      },
    })
    expect(names(await admin.get('/api/admin/rooms?status=blocked'))).toEqual(['S002'])
  })

  test('unchanged values write no audit row; legacy path', async () => {
    const before = (await audits()).length
    const r = await admin.patch('/admin/rooms/4', { name: 'S002', is_blocked: true, booking_start: '07:30' })
    expect(r.status).toBe(200)
    expect((await audits()).length).toBe(before)
  })

  test('errors: 409 taken name, 404 unknown, 400 bad input', async () => {
    const before = (await audits()).length
    const dup = await admin.patch('/api/admin/rooms/4', { name: 'B101' })
    expect(dup.status).toBe(409)
    expect(dup.body).toEqual({ msg: 'room already exists' })
    const missing = await admin.patch('/api/admin/rooms/99999', { is_blocked: true })
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ msg: 'room not found' })
    for (const body of [{}, { name: '' }, { type: 'lab' }, { is_blocked: 'yes' }, { is_blocked: 'maybe' }, { is_blocked: 2 }, { is_blocked: null }, { booking_end: '8am' }])
      expect((await admin.patch('/api/admin/rooms/4', body)).status).toBe(400)
    expect((await admin.patch('/api/admin/rooms/4', { is_blocked: 'maybe' })).body.msg).toBe('is_blocked must be true or false')
    expect((await admin.patch('/api/admin/rooms/abc', { is_blocked: true })).status).toBe(400)
    expect((await audits()).length).toBe(before)
    expect((await roomRow(4)).name).toBe('S002')
  })
})

describe('PATCH /admin/rooms/:id is_blocked', () => {
  test('takes true, false, "true", "false", 1, 0, "1", "0"; a block alone is audited as room.blocked / room.unblocked', async () => {
    for (const [value, blocked] of [['true', true], [0, false], ['1', true], ['false', false], [1, true], ['0', false], [true, true], [false, false]] as const) {
      const r = await admin.patch('/api/admin/rooms/2', { is_blocked: value })
      expect({ value, status: r.status }).toEqual({ value, status: 200 })
      expect(r.body.room).toMatchObject({ is_blocked: blocked, status: blocked ? 'blocked' : 'available' })
    }
    const [audit] = await audits()
    expect(audit).toMatchObject({ event: 'room.unblocked', data: { room_id: 2, is_blocked: false, changes: { is_blocked: { from: true, to: false } } } })
    const logs = (await admin.get('/api/admin/audit/logs?per_page=2')).body.logs
    expect(logs.map((l: any) => [l.action, l.event])).toEqual([['update_room', 'room.unblocked'], ['update_room', 'room.blocked']])
  })
})

describe('POST /admin/rooms/bulk/block', () => {
  // As the original (issue 11, decision 012): unknown ids are ignored, `updated` counts the rooms changed.
  test('unknown ids are ignored and listed; the known ones change', async () => {
    const r = await admin.post('/api/admin/rooms/bulk/block', { room_ids: [1, 99999], is_blocked: true })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ updated: 1, missing_ids: [99999] })
    expect((await roomRow(1)).isBlocked).toBe(true)
    const none = await admin.post('/api/admin/rooms/bulk/block', { room_ids: [99998, 99999], is_blocked: true })
    expect(none.status).toBe(200)
    expect(none.body).toEqual({ updated: 0, missing_ids: [99998, 99999] })
    expect((await admin.post('/api/admin/rooms/bulk/block', { room_ids: [1], is_blocked: false })).body).toEqual({ updated: 1, missing_ids: [] })
    expect((await roomRow(1)).isBlocked).toBe(false)
  })

  test('a body of the wrong shape is 400 naming the field, and changes nothing', async () => {
    const before = (await audits()).length
    const cases: [unknown, string][] = [
      [{ room_ids: '1', is_blocked: true }, 'room_ids'], // was read as [1] by Elysia's normaliser
      [{ room_ids: '12', is_blocked: true }, 'room_ids'], // was read as [1, 2]
      [{ room_ids: 1, is_blocked: true }, 'room_ids'],
      [{ room_ids: [], is_blocked: true }, 'room_ids'],
      [{ room_ids: ['x'], is_blocked: true }, 'room_ids'],
      [{ room_ids: ['1'], is_blocked: true }, 'room_ids'],
      [{ room_ids: [1.5], is_blocked: true }, 'room_ids'],
      [{ room_ids: [0], is_blocked: true }, 'room_ids'],
      [{ room_ids: [true], is_blocked: true }, 'room_ids'],
      [{ room_ids: null, is_blocked: true }, 'room_ids'],
      [{ is_blocked: true }, 'room_ids'],
      [{ room_ids: [1] }, 'is_blocked'],
      [{ room_ids: [1], is_blocked: null }, 'is_blocked'],
      [{ room_ids: [1], is_blocked: 'yes' }, 'is_blocked'],
      [{ room_ids: [1], is_blocked: 2 }, 'is_blocked'],
      [{ room_ids: [1], is_blocked: [true] }, 'is_blocked'],
    ]
    for (const [body, field] of cases) {
      const r = await admin.post('/api/admin/rooms/bulk/block', body)
      expect({ body, status: r.status }).toEqual({ body, status: 400 })
      expect(r.body.msg).toStartWith(`${field} must be `)
    }
    expect((await admin.post('/api/admin/rooms/bulk/block', {})).status).toBe(400)
    expect((await audits()).length).toBe(before)
    const rows = await db().select().from(rooms).where(inArray(rooms.id, [1, 2]))
    expect(rows.map((x) => x.isBlocked)).toEqual([false, false])
  })

  test('is_blocked takes the bool-ish values clients send', async () => {
    for (const [value, blocked] of [['true', true], [0, false], ['1', true], ['false', false], [1, true], ['0', false], [true, true], [false, false]] as const) {
      const r = await admin.post('/api/admin/rooms/bulk/block', { room_ids: [2], is_blocked: value })
      expect({ value, status: r.status }).toEqual({ value, status: 200 })
      expect((await roomRow(2)).isBlocked).toBe(blocked)
    }
  })

  test('blocks and unblocks; counts and audits only changed rooms', async () => {
    const before = (await audits('room.blocked')).length
    const r = await admin.post('/api/admin/rooms/bulk/block', { room_ids: [1, 2, 4, 2], is_blocked: true })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ updated: 2, missing_ids: [] }) // room 4 was already blocked
    const rows = await db().select().from(rooms).where(inArray(rooms.id, [1, 2, 3, 4]))
    expect(Object.fromEntries(rows.map((x) => [x.id, x.isBlocked]))).toEqual({ 1: true, 2: true, 3: false, 4: true })
    const blocks = await audits('room.blocked')
    expect(blocks.length).toBe(before + 2)
    expect(blocks.slice(0, 2).map((a) => a.data.room_id).sort()).toEqual([1, 2])
    expect(names(await admin.get('/api/admin/rooms?is_blocked=true'))).toEqual(['B101', 'B102', 'S002'])
    // The journal reports them with the original's action and the precise event.
    const logs = (await admin.get('/api/admin/audit/logs?per_page=2')).body.logs
    expect(logs.map((l: any) => [l.action, l.event])).toEqual([['update_room', 'room.blocked'], ['update_room', 'room.blocked']])

    const un = await admin.post('/admin/rooms/bulk/block', { room_ids: [1, 2, 4], is_blocked: false })
    expect(un.body).toEqual({ updated: 3, missing_ids: [] })
    expect(names(await admin.get('/api/admin/rooms?status=blocked'))).toEqual([])
    const [last] = (await admin.get('/api/admin/audit/logs?per_page=1')).body.logs
    expect(last).toMatchObject({ action: 'update_room', event: 'room.unblocked', payload: { is_blocked: false, bulk: true } })
  })
})

describe('POST /admin/rooms/:id/generate-qr', () => {
  test('renders the files again; audited; 404 unknown', async () => {
    const file = join(t.config.staticQrPath, '2.png')
    rmSync(file, { force: true })
    const r = await admin.post('/api/admin/rooms/2/generate-qr')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ qr_code_url: 'http://qrbook.test/static/qr/2.png' })
    expect(existsSync(file)).toBe(true)
    const png = await t.app.handle(new Request('http://localhost/static/qr/2.png'))
    expect(png.status).toBe(200)
    expect(png.headers.get('content-type')).toBe('image/png')
    const [audit] = await audits()
    expect(audit!.event).toBe('room.qr_regenerated')
    expect(audit!.data).toMatchObject({ room_id: 2 })
    const [log] = (await admin.get('/api/admin/audit/logs?per_page=1')).body.logs
    expect(log).toMatchObject({ action: 'update_room', event: 'room.qr_regenerated', payload: { room_id: 2 } })
    const missing = await admin.post('/api/admin/rooms/99999/generate-qr')
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ msg: 'room not found' })
    expect((await admin.post('/admin/rooms/2/generate-qr')).status).toBe(200)
  })
})

describe('POST /admin/rooms/:id/reserve', () => {
  const slot = { start_time: '2030-03-11T10:00:00Z', end_time: '2030-03-11T11:00:00Z' }

  test('books a blocked service room for a user; audited', async () => {
    await admin.post('/api/admin/rooms/bulk/block', { room_ids: [3], is_blocked: true })
    const r = await admin.post('/api/admin/rooms/3/reserve', { user_id: 3, ...slot })
    expect(r.status).toBe(201)
    expect(r.body).toEqual({ reservation_id: expect.any(Number) })
    const [row] = await db().select().from(reservations).where(eq(reservations.id, r.body.reservation_id))
    expect(row).toMatchObject({ roomId: 3, userId: 3, status: 'active' })
    expect(row!.startTime.toISOString()).toBe('2030-03-11T10:00:00.000Z')
    const [audit] = await audits()
    expect(audit!.event).toBe('reservation.created')
    expect(audit!.actorId).toBe(1)
    expect(audit!.data).toMatchObject({ reservation_id: r.body.reservation_id, user_id: 3, on_behalf: true })
  })

  test('errors: 409 overlap, 404 room or user, 400 bad input', async () => {
    const before = (await audits()).length
    const clash = await admin.post('/api/admin/rooms/3/reserve', { user_id: 4, start_time: '2030-03-11T10:30:00Z', end_time: '2030-03-11T12:00:00Z' })
    expect(clash.status).toBe(409)
    // the contract's message, and who holds the slot (issue 16)
    expect(clash.body).toEqual({ msg: 'Reservation conflicts with existing booking', held_by: [expect.objectContaining({ user_name: 'student' })] })
    const noRoom = await admin.post('/api/admin/rooms/99999/reserve', { user_id: 3, ...slot })
    expect(noRoom.status).toBe(404)
    expect(noRoom.body).toEqual({ msg: 'room not found' })
    const noUser = await admin.post('/api/admin/rooms/1/reserve', { user_id: 99999, ...slot })
    expect(noUser.status).toBe(404)
    expect(noUser.body).toEqual({ msg: 'user not found' })
    const cases: [unknown, string | undefined][] = [
      [{ ...slot }, undefined],
      [{ user_id: 3, start_time: 'tomorrow', end_time: slot.end_time }, 'Invalid datetime format. Use ISO 8601.'],
      [{ user_id: 3, end_time: slot.end_time }, 'datetime value is required'],
      [{ user_id: 3, start_time: slot.end_time, end_time: slot.start_time }, 'Invalid time range: start must be before end'],
      [{ user_id: 3, start_time: '2030-03-09T10:00:00Z', end_time: '2030-03-09T11:00:00Z' }, 'Cannot create reservation in the past'],
    ]
    for (const [body, msg] of cases) {
      const r = await admin.post('/api/admin/rooms/1/reserve', body)
      expect(r.status).toBe(400)
      if (msg) expect(r.body.msg).toBe(msg)
    }
    expect((await audits()).length).toBe(before)
  })

  test('legacy path', async () => {
    const r = await admin.post('/admin/rooms/1/reserve', { user_id: 2, ...slot })
    expect(r.status).toBe(201)
  })
})

describe('constant number of queries', () => {
  async function countQueries(path: string): Promise<number> {
    await admin.get(path) // warm the actor cache
    queries.length = 0
    counting = true
    try {
      const r = await admin.get(path)
      expect(r.status).toBe(200)
      return queries.length
    } finally {
      counting = false
    }
  }

  test('the admin room list runs the same number of queries with 5 and 200 rooms', async () => {
    // Back to five rooms: the four seeded ones and C300 (created above).
    await db().delete(rooms).where(gt(rooms.id, 5))
    const path = '/api/admin/rooms?per_page=100'
    expect((await admin.get(path)).body.pagination.total).toBe(5)
    const small = await countQueries(path)

    const added = await db().insert(rooms).values(Array.from({ length: 195 }, (_, i) => stamped({
      name: `Z${String(i).padStart(3, '0')}`, type: (['public', 'admin', 'service'] as const)[i % 3],
    }))).returning({ id: rooms.id })
    // Reservations on many of them, current and upcoming, so each room has something to look up.
    await db().insert(reservations).values(added.flatMap((room, i) => [
      stamped({ roomId: room.id, userId: 2 + (i % 3), startTime: new Date('2030-03-10T11:00:00Z'), endTime: new Date('2030-03-10T13:00:00Z') }),
      stamped({ roomId: room.id, userId: 3, startTime: new Date('2030-03-12T11:00:00Z'), endTime: new Date('2030-03-12T13:00:00Z') }),
    ]))
    const big = await admin.get(path)
    expect(big.body.pagination.total).toBe(200)
    expect(big.body.rooms).toHaveLength(100)
    expect(big.body.rooms.filter((r: any) => r.status === 'occupied').length).toBeGreaterThan(50)
    expect(await countQueries(path)).toBe(small)
    expect(await countQueries('/api/admin/rooms?per_page=100&page=2&status=occupied&type=public&type=admin')).toBe(small)
    expect(small).toBeLessThanOrEqual(2)
  })
})
