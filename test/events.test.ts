/**
 * Live room events (SSE): a snapshot on connect, then an event for every change of a room's
 * status, current or next booking, made through the API; resuming with Last-Event-ID. A change
 * made on one instance reaching a subscriber of another (two server processes on PostgreSQL) is in
 * the system tier: test/system/events-across-instances.test.ts.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { rooms, users } from '../src/db/schema'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { SseReader } from './helpers/sse'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
let admin: Client
let roomId: (name: string) => Promise<number>
const readers: SseReader[] = []

beforeAll(async () => {
  t = await testApp()
  admin = await loggedIn(t.app, 'admin')
  roomId = async (name) => (await t.database.db.select().from(rooms).where(eq(rooms.name, name)))[0]!.id
})
afterAll(async () => {
  await Promise.all(readers.map((r) => r.close()))
  await t.close()
})

async function subscribe(path: string, headers: Record<string, string> = {}) {
  const response = await t.app.handle(new Request(`http://localhost${path}`, { headers }))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('text/event-stream')
  const reader = new SseReader(response)
  readers.push(reader)
  return reader
}

const hour = 3600_000
const iso = (ms: number) => new Date(ms).toISOString()

describe('GET /api/rooms/events', () => {
  test('a snapshot of every room, then an event within 1 s of a booking and of its cancellation', async () => {
    const stream = await subscribe('/api/rooms/events')
    const snapshot = await stream.next((e) => e.event === 'snapshot')
    expect(snapshot.data.rooms.map((r: any) => r.name)).toEqual(['A200', 'B101', 'B102', 'S001'])
    expect(snapshot.id).toBeString()

    const s001 = await roomId('S001')
    const [student] = await t.database.db.select().from(users).where(eq(users.name, 'student'))
    const start = Date.now() + hour
    const booked = await admin.post(`/api/admin/rooms/${s001}/reserve`, { user_id: student!.id, start_time: iso(start), end_time: iso(start + hour) })
    expect(booked.status).toBe(201)
    const started = Date.now()
    const created = await stream.next((e) => e.event === 'room' && e.data.room.id === s001, 1000)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(created.data.room.next_reservation).toMatchObject({ id: booked.body.reservation_id, user_name: 'student' })

    expect((await admin.delete(`/api/reservations/${booked.body.reservation_id}`)).status).toBe(200)
    const cancelled = await stream.next((e) => e.event === 'room' && e.data.room.id === s001, 1000)
    expect(cancelled.data.room.next_reservation).toBeNull()
  })

  test('blocking a room and unrelated writes: only real changes are sent', async () => {
    const stream = await subscribe('/rooms/events') // the legacy path works too
    await stream.next((e) => e.event === 'snapshot')
    const a200 = await roomId('A200')
    expect((await admin.patch(`/api/admin/rooms/${a200}`, { is_blocked: true })).status).toBe(200)
    const blocked = await stream.next((e) => e.event === 'room', 1000)
    expect(blocked.data.room).toMatchObject({ id: a200, status: 'blocked', is_blocked: true })
    // A rename is a change too; a no-op PATCH is not.
    expect((await admin.patch(`/api/admin/rooms/${a200}`, { is_blocked: true })).status).toBe(200)
    expect((await admin.patch(`/api/admin/rooms/${a200}`, { is_blocked: false })).status).toBe(200)
    const unblocked = await stream.next((e) => e.event === 'room', 1000)
    expect(unblocked.data.room.status).not.toBe('blocked')
  })

  test('Last-Event-ID resumes with the missed events; an unknown one gets a fresh snapshot', async () => {
    const first = await subscribe('/api/rooms/events')
    const snapshot = await first.next((e) => e.event === 'snapshot')
    await first.close()
    // A second subscriber stays connected only to tell when the event has been published.
    const witness = await subscribe('/api/rooms/events')
    await witness.next((e) => e.event === 'snapshot')

    const b102 = await roomId('B102')
    expect((await admin.patch(`/api/admin/rooms/${b102}`, { is_blocked: true })).status).toBe(200)
    await witness.next((e) => e.event === 'room' && e.data.room.id === b102, 1000)
    const resumed = await subscribe('/api/rooms/events', { 'last-event-id': snapshot.id! })
    const missed = await resumed.next(() => true, 1000)
    expect(missed.event).toBe('room')
    expect(missed.data.room).toMatchObject({ id: b102, status: 'blocked' })
    await admin.patch(`/api/admin/rooms/${b102}`, { is_blocked: false })

    const stale = await subscribe('/api/rooms/events', { 'last-event-id': 'somewhere-else-12' })
    expect((await stale.next(() => true)).event).toBe('snapshot')
  })
})

describe('GET /api/rooms/:id/events', () => {
  test("one room's state with its remaining bookings today; other rooms' changes are not sent", async () => {
    const b101 = await roomId('B101')
    const stream = await subscribe(`/api/rooms/${b101}/events`)
    const snapshot = await stream.next((e) => e.event === 'snapshot')
    expect(snapshot.data.room).toMatchObject({ id: b101, name: 'B101', status: 'occupied' })
    expect(snapshot.data.upcoming[0]).toMatchObject({ user_name: 'teacher' })

    await admin.patch(`/api/admin/rooms/${await roomId('S001')}`, { is_blocked: true })
    await admin.patch(`/api/admin/rooms/${b101}`, { is_blocked: true })
    const event = await stream.next(() => true, 1000)
    expect(event.data.room).toMatchObject({ id: b101, status: 'blocked' })
    await admin.patch(`/api/admin/rooms/${b101}`, { is_blocked: false })
  })

  test('an unknown room is 404 {msg}, not a stream', async () => {
    const response = await t.app.handle(new Request('http://localhost/api/rooms/999999/events'))
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({ msg: 'room not found' })
  })
})
