/**
 * Issue 28.3, the waitlist that books by itself: two students wait for a taken slot; its holder
 * cancels; the first gets the booking (in their /reservations/mine) and the second keeps waiting;
 * with the first over their weekly limit, the second gets it instead. Joining is checked as a
 * booking (a free slot is refused, fair use binds), entries expire at their start, leaving is
 * one's own, a released no-show and a lifted closure free the slot too, two fills at once book a
 * waiter once, and the reservation.created change names the waitlist entry (waitlist_entry_id).
 * On both databases, on a fixed clock moved into TEST_CLOCK_YEAR; the service is not started
 * (testApp): each test drains it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { sweepOnce } from '../src/core/bookings/checkin/sweeper'
import { fill } from '../src/core/bookings/waitlist/waitlist'
import { bookingPolicies, changes, reservations, users, waitlistEntries } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(60_000) // see test/setup.ts

const shifted = timeShifter('2030-08-14T08:00:00Z')
const START = shifted('2030-08-14T08:00:00Z') // a Wednesday
/** An instant written for 14-16 August 2030, moved with the clock. */
const at = (iso: string) => shifted(iso)
const slot = (from: string, to: string) => ({ start_time: at(from), end_time: at(to) })

const clock = fixedClock(START)
let t: TestApp
let admin: Client, teacher: Client, ann: Client, bob: Client
const ids: Record<string, number> = {}
let rooms = 0

/** A fresh room (one per test, so that tests do not meet each other's bookings). */
async function room(options: Record<string, unknown> = {}): Promise<number> {
  const created = await admin.post('/api/admin/rooms', { name: `W${++rooms}`, requires_check_in: false, ...options })
  expect(created.status).toBe(201)
  return created.body.room.id
}
const reserve = (c: Client, roomId: number, s: { start_time: string; end_time: string }) => c.post(`/api/rooms/${roomId}/reserve`, s)
const join = (c: Client, roomId: number, s: { start_time: string; end_time: string }) => c.post(`/api/rooms/${roomId}/waitlist`, s)
const mine = async (c: Client) => (await c.get('/api/reservations/mine')).body.reservations as { id: number; room_id: number; start_time: string; end_time: string; status: string }[]
const waits = async (c: Client) => (await c.get('/api/me/waitlist')).body.entries as { id: number; status: string; reservation_id: number | null; position: number | null }[]
const entryOf = async (c: Client, id: number) => (await waits(c)).find((e) => e.id === id)

beforeAll(async () => {
  t = await testApp({ clock })
  admin = await loggedIn(t.app, 'admin')
  for (const name of ['ann', 'bob'])
    expect((await admin.post('/api/admin/users', { name, password: `${name}-password-1234`, role: 'student' })).status).toBe(201)
  for (const u of await t.database.db.select().from(users)) ids[u.name] = u.id
}, 120_000)
afterAll(() => t.close())
beforeEach(async () => {
  clock.set(START)
  await t.database.db.delete(bookingPolicies)
  // no test meets another's waiters (drain fills every room) or bookings (weekly limits)
  await t.database.db.update(reservations).set({ status: 'cancelled' }).where(eq(reservations.status, 'active'))
  await t.database.db.update(waitlistEntries).set({ status: 'left' }).where(eq(waitlistEntries.status, 'waiting'))
  // tokens follow the fake clock: log in afresh at START
  ;[admin, teacher, ann, bob] = await Promise.all([
    loggedIn(t.app, 'admin'), loggedIn(t.app, 'teacher'), loggedIn(t.app, 'ann', 'ann-password-1234'), loggedIn(t.app, 'bob', 'bob-password-1234'),
  ])
})

describe('the waitlist books by itself', () => {
  test('the holder cancels: the first waiter gets the booking, the second keeps waiting', async () => {
    const r = await room()
    const wanted = slot('2030-08-15T10:00:00Z', '2030-08-15T11:00:00Z')
    const held = await reserve(teacher, r, wanted)
    expect(held.status).toBe(201)

    const a = await join(ann, r, wanted)
    expect(a.status).toBe(201)
    expect(a.body.entry).toMatchObject({ room_id: r, ...wanted, status: 'waiting', reservation_id: null, position: 1 })
    const b = await join(bob, r, wanted)
    expect(b.status).toBe(201)
    expect(b.body.entry).toMatchObject({ status: 'waiting', position: 2 })

    // nothing frees while the slot is held
    await t.ctx.waitlist.drain()
    expect((await entryOf(ann, a.body.entry.id))!.status).toBe('waiting')

    expect((await teacher.delete(`/api/reservations/${held.body.reservation.id}`)).status).toBe(200)
    await t.ctx.waitlist.drain()

    const booked = (await mine(ann)).filter((x) => x.room_id === r)
    expect(booked).toHaveLength(1)
    expect(booked[0]).toMatchObject({ ...wanted, status: 'active' })
    expect(await entryOf(ann, a.body.entry.id)).toMatchObject({ status: 'booked', reservation_id: booked[0]!.id, position: null })
    expect((await mine(bob)).filter((x) => x.room_id === r)).toEqual([])
    expect(await entryOf(bob, b.body.entry.id)).toMatchObject({ status: 'waiting', reservation_id: null, position: 1 })

    // the change says it was the waitlist's: what the notifier tells the user
    const [created] = await t.database.db.select().from(changes)
      .where(and(eq(changes.event, 'reservation.created'), eq(changes.actorId, ids.ann!)))
    expect(created!.data).toMatchObject({ reservation_id: booked[0]!.id, user_id: ids.ann, room_id: r, waitlist_entry_id: a.body.entry.id })
    expect(created!.userIds).toEqual([ids.ann!])

    // draining again books nothing more
    await t.ctx.waitlist.drain()
    expect((await mine(bob)).filter((x) => x.room_id === r)).toEqual([])
  })

  test('the first waiter is over their weekly limit: the second gets the slot, the first keeps waiting', async () => {
    const r = await room()
    const other = await room()
    const wanted = slot('2030-08-15T10:00:00Z', '2030-08-15T11:00:00Z')
    const held = await reserve(teacher, r, wanted)
    expect(held.status).toBe(201)
    expect((await admin.post('/api/admin/policies', { role: 'student', max_minutes_per_week: 120 })).status).toBe(201)

    const a = await join(ann, r, wanted)
    const b = await join(bob, r, wanted)
    expect([a.status, b.status]).toEqual([201, 201])
    // ann uses up her week meanwhile
    expect((await reserve(ann, other, slot('2030-08-16T10:00:00Z', '2030-08-16T12:00:00Z'))).status).toBe(201)
    // waiting is bound by the same rules: another wait of ann's is refused as her booking would be
    const refused = await join(ann, other, slot('2030-08-16T11:00:00Z', '2030-08-16T12:00:00Z'))
    expect(refused.status).toBe(403)
    expect(refused.body.msg).toBe('weekly limit reached: 2 of 2 hours used')

    expect((await teacher.delete(`/api/reservations/${held.body.reservation.id}`)).status).toBe(200)
    await t.ctx.waitlist.drain()

    expect((await mine(ann)).filter((x) => x.room_id === r)).toEqual([])
    expect(await entryOf(ann, a.body.entry.id)).toMatchObject({ status: 'waiting', reservation_id: null })
    const bobs = (await mine(bob)).filter((x) => x.room_id === r)
    expect(bobs).toHaveLength(1)
    expect(bobs[0]).toMatchObject({ ...wanted, status: 'active' })
    expect(await entryOf(bob, b.body.entry.id)).toMatchObject({ status: 'booked', reservation_id: bobs[0]!.id })
    // the refused attempt left nothing behind: ann holds exactly her one booking in `other`
    const annRows = await t.database.db.select().from(reservations).where(and(eq(reservations.userId, ids.ann!), eq(reservations.roomId, r)))
    expect(annRows).toEqual([])
  })
})

describe('joining', () => {
  test('a free slot is refused (book it); nothing is written', async () => {
    const r = await room()
    const refused = await join(ann, r, slot('2030-08-15T10:00:00Z', '2030-08-15T11:00:00Z'))
    expect(refused.status).toBe(409)
    expect(refused.body.msg).toBe('the slot is free: book it instead of waiting')
    const rows = await t.database.db.select().from(waitlistEntries).where(eq(waitlistEntries.roomId, r))
    expect(rows).toEqual([])
    expect(await t.database.db.select().from(reservations).where(eq(reservations.roomId, r))).toEqual([])
  })

  test("checked as a booking: the booking's own answers; twice, or while holding, is refused", async () => {
    const r = await room({ booking_start: '08:00', booking_end: '20:00' })
    const wanted = slot('2030-08-15T10:00:00Z', '2030-08-15T11:00:00Z')
    expect((await reserve(teacher, r, wanted)).status).toBe(201)
    const bad = [
      [slot('2030-08-15T11:00:00Z', '2030-08-15T10:00:00Z'), 400, 'Invalid time range: start must be before end'],
      [slot('2030-08-13T10:00:00Z', '2030-08-13T11:00:00Z'), 400, 'Cannot create reservation in the past'],
      [slot('2030-08-15T06:00:00Z', '2030-08-15T11:00:00Z'), 400, 'Reservation starts before allowed time'],
      [{ start_time: 'tomorrow', end_time: at('2030-08-15T11:00:00Z') }, 400, 'Invalid datetime format. Use ISO 8601.'],
    ] as const
    for (const [body, status, msg] of bad) {
      const reply = await join(ann, r, body)
      expect({ status: reply.status, msg: reply.body.msg }).toEqual({ status, msg })
    }
    expect((await join(ann, 999_999, wanted)).body).toEqual({ msg: 'room not found' })
    expect((await join(ann, r, wanted)).status).toBe(201)
    const again = await join(ann, r, slot('2030-08-15T10:30:00Z', '2030-08-15T11:30:00Z'))
    expect(again.status).toBe(409)
    expect(again.body.msg).toBe('you are already waiting for an overlapping slot in this room')
    const holding = await join(teacher, r, wanted)
    expect(holding.status).toBe(409)
    expect(holding.body.msg).toBe('you already have a booking in this room at this time')
    // a write like any other: without the CSRF header (cookie session) it is refused, signed out too
    expect((await ann.post(`/api/rooms/${r}/waitlist`, wanted, { csrf: false })).status).toBe(401)
    const anonymous = await t.app.handle(new Request(`http://localhost/api/rooms/${r}/waitlist`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(wanted),
    }))
    expect(anonymous.status).toBe(401)
    // the change record has the join
    const joined = await t.database.db.select().from(changes).where(and(eq(changes.event, 'waitlist.joined'), eq(changes.actorId, ids.ann!)))
    expect(joined.some((c) => c.data.room_id === r)).toBe(true)
  })

  test('in Russian with Accept-Language: ru', async () => {
    const r = await room()
    const reply = await ann.post(`/api/rooms/${r}/waitlist`, slot('2030-08-15T10:00:00Z', '2030-08-15T11:00:00Z'), { headers: { 'accept-language': 'ru' } })
    expect(reply.status).toBe(409)
    expect(reply.body.msg).toBe('это время свободно: забронируйте его, ждать не нужно')
  })

  test('at most 10 waits at a time', async () => {
    const r = await room()
    for (let i = 0; i < 11; i++) {
      const s = slot(`2030-08-15T${String(8 + i).padStart(2, '0')}:00:00Z`, `2030-08-15T${String(8 + i).padStart(2, '0')}:30:00Z`)
      expect((await reserve(teacher, r, s)).status).toBe(201)
      const reply = await join(bob, r, s)
      if (i < 10) expect(reply.status).toBe(201)
      else expect(reply.body).toEqual({ msg: 'waitlist limit reached: at most 10 slots waited for at a time' })
    }
  })
})

describe('leaving and expiry', () => {
  test('leaving is one\'s own and idempotent; a left entry is not booked', async () => {
    const r = await room()
    const wanted = slot('2030-08-15T10:00:00Z', '2030-08-15T11:00:00Z')
    const held = await reserve(teacher, r, wanted)
    const a = await join(ann, r, wanted)
    expect(a.status).toBe(201)
    const id = a.body.entry.id
    // another user cannot delete it: as if it did not exist
    const theirs = await bob.delete(`/api/me/waitlist/${id}`)
    expect(theirs.status).toBe(404)
    expect(theirs.body.msg).toBe('waitlist entry not found')
    expect((await entryOf(ann, id))!.status).toBe('waiting')
    expect((await ann.delete(`/api/me/waitlist/${id}`, { csrf: false })).status).toBe(401)

    const left = await ann.delete(`/api/me/waitlist/${id}`)
    expect(left.status).toBe(200)
    expect(left.body.entry).toMatchObject({ id, status: 'left', position: null })
    const again = await ann.delete(`/api/me/waitlist/${id}`)
    expect(again.status).toBe(200)
    expect(again.body.entry.status).toBe('left')
    expect((await ann.delete('/api/me/waitlist/999999')).status).toBe(404)
    expect(await t.database.db.select().from(changes).where(and(eq(changes.event, 'waitlist.left'), eq(changes.actorId, ids.ann!)))).toHaveLength(1)

    await teacher.delete(`/api/reservations/${held.body.reservation.id}`)
    await t.ctx.waitlist.drain()
    expect((await mine(ann)).filter((x) => x.room_id === r)).toEqual([])
  })

  test('an entry expires at its start: the slot freed later is not booked for it', async () => {
    const r = await room()
    const wanted = slot('2030-08-14T09:00:00Z', '2030-08-14T10:00:00Z')
    const held = await reserve(teacher, r, wanted)
    const a = await join(ann, r, wanted)
    expect(a.status).toBe(201)

    clock.set(at('2030-08-14T09:00:00Z'))
    ann = await loggedIn(t.app, 'ann', 'ann-password-1234')
    // reported expired at once, stored so by the next pass, with its change
    expect((await entryOf(ann, a.body.entry.id))!.status).toBe('expired')
    await t.ctx.waitlist.drain()
    const [row] = await t.database.db.select().from(waitlistEntries).where(eq(waitlistEntries.id, a.body.entry.id))
    expect(row!.status).toBe('expired')
    const expired = await t.database.db.select().from(changes).where(eq(changes.event, 'waitlist.expired'))
    expect(expired.filter((c) => c.data.waitlist_entry_id === a.body.entry.id)).toHaveLength(1)

    teacher = await loggedIn(t.app, 'teacher')
    expect((await teacher.delete(`/api/reservations/${held.body.reservation.id}`)).status).toBe(200)
    await t.ctx.waitlist.drain()
    expect((await mine(ann)).filter((x) => x.room_id === r)).toEqual([])
  })
})

describe('other ways a slot frees', () => {
  test('a no-show released by the sweeper frees the rest of its slot for a waiter', async () => {
    const r = await room({ requires_check_in: true, auto_release_after_min: 15 })
    const held = await reserve(bob, r, slot('2030-08-14T08:30:00Z', '2030-08-14T11:00:00Z'))
    expect(held.status).toBe(201)
    const wanted = slot('2030-08-14T10:00:00Z', '2030-08-14T11:00:00Z')
    const a = await join(ann, r, wanted)
    expect(a.status).toBe(201)

    clock.set(at('2030-08-14T08:50:00Z'))
    const swept = await sweepOnce(t.ctx)
    expect(swept.released.map((x) => x.id)).toContain(held.body.reservation.id)
    await t.ctx.waitlist.drain()
    ann = await loggedIn(t.app, 'ann', 'ann-password-1234')
    const booked = (await mine(ann)).filter((x) => x.room_id === r)
    expect(booked).toHaveLength(1)
    expect(booked[0]).toMatchObject({ ...wanted, status: 'active' })
    expect(await entryOf(ann, a.body.entry.id)).toMatchObject({ status: 'booked', reservation_id: booked[0]!.id })
  })

  test('a slot in a closure can be waited for; lifting the closure books it', async () => {
    const r = await room()
    const wanted = slot('2030-08-15T10:00:00Z', '2030-08-15T11:00:00Z')
    const closure = await admin.post('/api/admin/closures', { room_ids: [r], kind: 'maintenance', reason: 'Painting', ...slot('2030-08-15T08:00:00Z', '2030-08-15T12:00:00Z') })
    expect(closure.status).toBe(201)
    expect((await reserve(ann, r, wanted)).status).toBe(409)
    const a = await join(ann, r, wanted)
    expect(a.status).toBe(201)
    await t.ctx.waitlist.drain()
    expect((await entryOf(ann, a.body.entry.id))!.status).toBe('waiting')

    expect((await admin.delete(`/api/admin/closures/${closure.body.closure.id}`)).status).toBe(200)
    await t.ctx.waitlist.drain()
    expect(await entryOf(ann, a.body.entry.id)).toMatchObject({ status: 'booked' })
    expect((await mine(ann)).filter((x) => x.room_id === r && x.status === 'active')).toHaveLength(1)
  })

  test('two fills of one room at once book the waiter once', async () => {
    const r = await room()
    const wanted = slot('2030-08-15T10:00:00Z', '2030-08-15T11:00:00Z')
    const held = await reserve(teacher, r, wanted)
    const a = await join(ann, r, wanted)
    expect(a.status).toBe(201)
    await teacher.delete(`/api/reservations/${held.body.reservation.id}`)
    const results = await Promise.all([fill(t.ctx, r), fill(t.ctx, r), t.ctx.waitlist.drain()])
    expect(results[0].booked.length + results[1].booked.length).toBeLessThanOrEqual(1)
    const rows = await t.database.db.select().from(reservations).where(and(eq(reservations.roomId, r), eq(reservations.userId, ids.ann!)))
    expect(rows).toHaveLength(1)
    const created = await t.database.db.select().from(changes).where(eq(changes.event, 'reservation.created'))
    expect(created.filter((c) => c.data.waitlist_entry_id === a.body.entry.id)).toHaveLength(1)
  })
})

describe('the running service', () => {
  test('started (as the app starts it), it books a waiter after the freeing change without a drain', async () => {
    const r = await room()
    const wanted = slot('2030-08-15T10:00:00Z', '2030-08-15T11:00:00Z')
    const held = await reserve(teacher, r, wanted)
    const a = await join(ann, r, wanted)
    expect(a.status).toBe(201)
    expect(await t.ctx.events.start()).toBe(true)
    t.ctx.waitlist.start()
    expect((await teacher.delete(`/api/reservations/${held.body.reservation.id}`)).status).toBe(200)
    const deadline = Date.now() + 10_000
    while ((await entryOf(ann, a.body.entry.id))!.status === 'waiting' && Date.now() < deadline) await Bun.sleep(20)
    expect(await entryOf(ann, a.body.entry.id)).toMatchObject({ status: 'booked' })
    expect((await mine(ann)).filter((x) => x.room_id === r && x.status === 'active')).toHaveLength(1)
  })
})
