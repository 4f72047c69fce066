/**
 * Issue 17: the room list and room views served from memory, never stale. In-process on a fake
 * clock (both databases): ETag / 304 / gzip, a write read back at once, a status that flips at the
 * exact instant a booking starts and ends, a change made behind the app's back (another instance)
 * arriving by NOTIFY, a rename, and no cache while the live feed is down. Across server processes
 * on PostgreSQL with the real clock: the system tier, test/system/room-view-cache-processes.test.ts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { recordChange, writeTransaction, type Change } from '../src/core/changes'
import type { Executor } from '../src/db/client'
import { reservations, rooms, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(60_000) // see test/setup.ts

const shifted = timeShifter('2030-09-10T08:00:00Z')
const START = new Date(shifted('2030-09-10T08:00:00Z'))
const SEC = 1000
const MIN = 60 * SEC
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z')

describe('in process (fake clock)', () => {
  let t: TestApp
  let clock: ReturnType<typeof fixedClock>
  let admin: Client, student: Client
  let roomId: number
  const stats = () => t.ctx.roomViews.stats()
  const get = (path: string, headers: Record<string, string> = {}) => t.app.handle(new Request(`http://localhost${path}`, { headers }))
  const listed = async () => ((await (await get('/api/rooms')).json()) as { rooms: any[] }).rooms.find((r) => r.id === roomId)

  beforeAll(async () => {
    clock = fixedClock(START)
    t = await testApp({ clock })
    ;[admin, student] = await Promise.all(['admin', 'student'].map((n) => loggedIn(t.app, n))) as [Client, Client]
    const created = await admin.post('/api/admin/rooms', { name: 'C1', requires_check_in: false })
    roomId = created.body.room.id
  }, 120_000)
  afterAll(() => t.close())

  test('ETag and Cache-Control: no-cache; If-None-Match answers 304 without a body; gzip when accepted', async () => {
    const first = await get('/api/rooms')
    expect(first.status).toBe(200)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/)
    expect(first.headers.get('cache-control')).toBe('no-cache')
    expect(first.headers.get('content-type')).toStartWith('application/json')
    expect(first.headers.get('vary')).toContain('Accept-Encoding')
    const body = await first.text()
    expect(JSON.parse(body).rooms.length).toBeGreaterThan(1)

    const again = await get('/api/rooms', { 'if-none-match': etag })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    expect(again.headers.get('etag')).toBe(etag)
    expect((await get('/api/rooms', { 'if-none-match': `"other", W/${etag}` })).status).toBe(304)
    expect((await get('/api/rooms', { 'if-none-match': '"other"' })).status).toBe(200)

    const zipped = await get('/api/rooms', { 'accept-encoding': 'gzip, br' })
    expect(zipped.headers.get('content-encoding')).toBe('gzip')
    const raw = new Uint8Array(await zipped.arrayBuffer())
    expect(raw.length).toBeLessThan(body.length)
    expect(new TextDecoder().decode(Bun.gunzipSync(raw))).toBe(body)
    expect((await get('/api/rooms', { 'accept-encoding': 'gzip;q=0' })).headers.get('content-encoding')).toBeNull()
    // the same at the legacy mount, and a room view too; an unknown room is still 404
    expect((await get('/rooms', { 'if-none-match': etag })).status).toBe(304)
    const detail = await get(`/api/rooms/${roomId}`)
    expect(detail.headers.get('etag')).toBeTruthy()
    expect((await get(`/api/rooms/${roomId}`, { 'if-none-match': detail.headers.get('etag')! })).status).toBe(304)
    expect((await get('/api/rooms/999999')).status).toBe(404)
    // security headers and CORS are kept
    const cors = await get('/api/rooms', { origin: 'http://frontend.test' })
    expect(cors.headers.get('access-control-allow-origin')).toBe('http://frontend.test')
    expect(cors.headers.get('x-content-type-options')).toBe('nosniff')
  })

  test('served from memory: repeated reads hit; a write of this process is read back at once, and drops only what it changed', async () => {
    await get('/api/rooms')
    const before = stats()
    expect(before.live).toBe(true)
    await get('/api/rooms')
    await get('/api/rooms')
    expect(stats().hits).toBe(before.hits + 2)
    const old = (await get('/api/rooms')).headers.get('etag')

    // another room's view, cached: a booking in this room leaves it alone (its own NOTIFY drops
    // only this room and the list, and the answer waits for it)
    const other = (await admin.post('/api/admin/rooms', { name: 'C2', requires_check_in: false })).body.room.id
    await get(`/api/rooms/${other}`)
    const start = START.getTime() + 3 * 3600 * SEC
    const booked = await student.post(`/api/rooms/${roomId}/reserve`, { start_time: iso(start), end_time: iso(start + 30 * MIN) })
    expect(booked.status).toBe(201)
    const hitsBefore = stats().hits
    await get(`/api/rooms/${other}`)
    expect(stats().hits).toBe(hitsBefore + 1)
    const after = await get('/api/rooms', { 'if-none-match': old! })
    expect(after.status).toBe(200)
    expect((await after.json() as any).rooms.find((r: any) => r.id === roomId).next_reservation).toMatchObject({ id: booked.body.reservation.id })
    const detail = await (await get(`/api/rooms/${roomId}`)).json() as any
    expect(detail.schedule.map((e: any) => e.id)).toContain(booked.body.reservation.id)
    await student.delete(`/api/reservations/${booked.body.reservation.id}`)
    expect((await listed()).next_reservation).toBeNull()
  })

  test('after a booking the kept list is patched (only the changed room read again), byte for byte what a whole build gives; a new room rebuilds it', async () => {
    await get('/api/rooms')
    const start = START.getTime() + 5 * 3600 * SEC
    const booked = await student.post(`/api/rooms/${roomId}/reserve`, { start_time: iso(start), end_time: iso(start + 30 * MIN) })
    expect(booked.status).toBe(201)
    try {
      const before = stats()
      const patched = await (await get('/api/rooms')).text()
      expect(stats().patches).toBe(before.patches + 1)
      expect(JSON.parse(patched).rooms.find((r: any) => r.id === roomId).next_reservation).not.toBeNull()
      t.ctx.roomViews.invalidateAll()
      expect(await (await get('/api/rooms')).text()).toBe(patched)
      // a room created: its place in the list is the database's order by name, so a whole build
      const created = (await admin.post('/api/admin/rooms', { name: 'A0 patch', requires_check_in: false })).body.room.id
      const patches = stats().patches
      const rebuilt = JSON.parse(await (await get('/api/rooms')).text()).rooms
      expect(stats().patches).toBe(patches)
      expect(rebuilt[0].id).toBe(created)
    } finally {
      await student.delete(`/api/reservations/${booked.body.reservation.id}`)
    }
  })

  test('readers who miss at once share one build', async () => {
    t.ctx.roomViews.invalidateAll()
    const before = stats()
    const answers = await Promise.all(Array.from({ length: 20 }, () => get('/api/rooms')))
    expect(new Set(answers.map((a) => a.headers.get('etag'))).size).toBe(1)
    expect(stats().misses).toBe(before.misses + 20)
    expect(stats().builds).toBe(before.builds + 1)
  })

  test('a status flips at the exact instant a booking starts and ends, not a moment later', async () => {
    const start = START.getTime() + 10 * MIN
    const booked = await student.post(`/api/rooms/${roomId}/reserve`, { start_time: iso(start), end_time: iso(start + 30 * MIN) })
    expect(booked.status).toBe(201)
    try {
      expect((await listed()).status).toBe('available')
      clock.set(new Date(start - 1))
      expect((await listed()).status).toBe('available')
      const hits = stats().hits
      clock.set(new Date(start))
      expect(await listed()).toMatchObject({ status: 'occupied', current_reservation: { id: booked.body.reservation.id } })
      expect(stats().hits).toBe(hits) // rebuilt at the instant, not served from before it
      const view = await (await get(`/api/rooms/${roomId}`)).json() as any
      expect(view.room.status).toBe('occupied')
      clock.set(new Date(start + 30 * MIN))
      expect((await listed()).status).toBe('available')
      const later = await (await get(`/api/rooms/${roomId}`)).json() as any
      expect(later.schedule.find((e: any) => e.id === booked.body.reservation.id).status).toBe('finished')
      // free slots start at the instant asked, rounded up to the whole second (from the cached schedule);
      // within that second the same bytes are served, the next second brings the next start
      clock.set(new Date(start + 31 * MIN + 7))
      const first = await get(`/api/rooms/${roomId}`)
      expect((await first.json() as any).free_slots[0].start).toBe(new Date(start + 31 * MIN + 1000).toISOString().replace('.000Z', 'Z'))
      clock.set(new Date(start + 31 * MIN + 999))
      const same = await get(`/api/rooms/${roomId}`)
      expect(same.headers.get('etag')).toBe(first.headers.get('etag'))
      clock.set(new Date(start + 31 * MIN + 1001))
      const next = await get(`/api/rooms/${roomId}`)
      expect((await next.json() as any).free_slots[0].start).toBe(new Date(start + 31 * MIN + 2000).toISOString().replace('.000Z', 'Z'))
    } finally {
      clock.set(START)
    }
  })

  /** A write as another instance's core makes it: the row and its change record, in one transaction. */
  const elsewhere = (change: Pick<Change, 'event' | 'rooms'>, write: (tx: Executor) => Promise<unknown>) =>
    writeTransaction(t.database, async (tx) => {
      await write(tx)
      recordChange(tx, { ...change, actorId: null, description: 'written by another instance', at: clock.now() })
    })

  test('a change another instance records arrives by NOTIFY; the next read sees it; a rename drops every view', async () => {
    await get('/api/rooms')
    await elsewhere({ event: 'room.blocked', rooms: [roomId] }, (tx) => tx.update(rooms).set({ isBlocked: true }).where(eq(rooms.id, roomId)))
    expect((await listed()).status).toBe('blocked')
    await elsewhere({ event: 'room.unblocked', rooms: [roomId] }, (tx) => tx.update(rooms).set({ isBlocked: false }).where(eq(rooms.id, roomId)))
    expect((await listed()).status).toBe('available')

    const start = START.getTime() + 2 * 3600 * SEC
    const booked = await student.post(`/api/rooms/${roomId}/reserve`, { start_time: iso(start), end_time: iso(start + 10 * MIN) })
    expect(booked.status).toBe(201)
    expect((await listed()).next_reservation.user_name).toBe('student')
    const [row] = await t.database.db.select().from(users).where(eq(users.name, 'student'))
    await elsewhere({ event: 'user.updated', rooms: 'all' }, (tx) => tx.update(users).set({ name: 'student-renamed' }).where(eq(users.id, row!.id)))
    try {
      expect((await listed()).next_reservation?.user_name).toBe('student-renamed')
    } finally {
      await t.database.db.update(users).set({ name: 'student' }).where(eq(users.id, row!.id))
      await t.database.db.delete(reservations).where(eq(reservations.id, booked.body.reservation.id))
    }
  })

  test('while the live feed is down nothing is kept: every read is built afresh', async () => {
    await t.ctx.events.stop()
    expect(stats().live).toBe(false)
    const misses = stats().misses
    await t.database.db.update(rooms).set({ isBlocked: true }).where(eq(rooms.id, roomId))
    // no NOTIFY is heard now, yet the very next read sees it
    expect((await listed()).status).toBe('blocked')
    await t.database.db.update(rooms).set({ isBlocked: false }).where(eq(rooms.id, roomId))
    expect((await listed()).status).toBe('available')
    expect(stats().misses).toBe(misses + 2)
    expect(stats().details).toBe(0)
  })
})
