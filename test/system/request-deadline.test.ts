/**
 * A 503 for a timeout means nothing of the request was kept (issue 24, finding 2).
 *
 * Before: with TIMEOUT=3 a 1,500-row timetable import was answered `503 request timed out` at
 * 3.0 s, and by 4.7 s its 1,500 series and bookings were committed; the deadline in server.ts raced
 * the handler but never ended its transaction. An admin who retried got duplicates or 409s.
 *
 * Here the real server (startServer, TIMEOUT=1) serves the app on either database. A transaction of
 * the test holds a room for 2 s (on PostgreSQL a row lock, on PGlite the engine's one connection),
 * so a write of that room waits past the deadline, gets its 503, and only then could go on: it must
 * roll back. A write that finishes in time is kept as ever.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq, sql } from 'drizzle-orm'
import { changes, reservations, rooms, series } from '../../src/db/schema'
import { Work } from '../../src/db/work-scope'
import { startServer, type RunningServer } from '../../src/server'
import { testApp, type TestApp } from '../helpers/app'

const TIMEOUT_S = 1
const HOLD_MS = 2200

let t: TestApp
let server: RunningServer
let base: string
let roomId: number

beforeAll(async () => {
  t = await testApp({ env: { BOOKING_HORIZON_DAYS: '3660', TIMEOUT: String(TIMEOUT_S) } })
  server = startServer(t.app, { ...t.config, port: 0, host: '127.0.0.1', timeoutS: TIMEOUT_S, workers: 1 })
  base = server.url.href.replace(/\/$/, '')
  ;[{ id: roomId }] = (await t.database.db.select({ id: rooms.id }).from(rooms).where(eq(rooms.name, 'B101'))) as [{ id: number }]
}, 60_000)
afterAll(async () => {
  await server?.stop(1000)
  await t?.close()
})

async function token(name: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: `${name}1234` }),
  })
  expect(res.status).toBe(200)
  return ((await res.json()) as { access_token: string }).access_token
}

/** Holds the room (and, on PGlite, the whole engine) in a transaction of its own for `ms`. */
function holdRoom(ms: number): { held: Promise<void>; released: Promise<void> } {
  let markHeld!: () => void
  const held = new Promise<void>((resolve) => (markHeld = resolve))
  const released = t.database.db.transaction(async (tx) => {
    await tx.execute(sql`select id from rooms where id = ${roomId} for update`)
    markHeld()
    await Bun.sleep(ms)
  })
  return { held, released }
}

async function send(path: string, auth: string, body: string, contentType = 'application/json') {
  const started = performance.now()
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${auth}`, 'content-type': contentType }, body })
  return { status: res.status, body: (await res.json()) as { msg?: string }, ms: performance.now() - started }
}

/** After the holder let go, the abandoned request's transaction has had every chance to commit. */
async function afterRelease(released: Promise<void>) {
  await released
  await Bun.sleep(500)
}

const at = (days: number, hour: number) => new Date(Date.UTC(2031, 5, 2 + days, hour)).toISOString() // June 2031: after the imported term

describe('a write answered 503 for its deadline keeps nothing', () => {
  test('a booking that waits for its room past TIMEOUT: 503 request timed out, and no row, no audit entry, afterwards', async () => {
    const student = await token('student')
    const { held, released } = holdRoom(HOLD_MS)
    await held
    const reply = await send(`/api/rooms/${roomId}/reserve`, student, JSON.stringify({ start_time: at(0, 9), end_time: at(0, 10) }))
    expect({ status: reply.status, msg: reply.body.msg }).toEqual({ status: 503, msg: 'request timed out' })
    expect(reply.ms).toBeLessThan(TIMEOUT_S * 1000 + 700)
    await afterRelease(released)
    const stored = await t.database.db.select().from(reservations).where(eq(reservations.startTime, new Date(at(0, 9))))
    expect(stored).toEqual([])
    const audits = await t.database.db.select().from(changes).where(eq(changes.event, 'reservation.created'))
    expect(audits.filter((a) => JSON.stringify(a.data).includes(at(0, 9).replace('.000Z', 'Z')))).toEqual([])
  })

  test('a timetable import that waits past TIMEOUT: 503, and afterwards no series and no lesson of it exist', async () => {
    const admin = await token('admin')
    const rows = Array.from({ length: 60 }, (_, i) => `B101;teacher;${(i % 5) + 1};${String(8 + Math.floor(i / 5)).padStart(2, '0')}:00;${String(8 + Math.floor(i / 5)).padStart(2, '0')}:45;2031-03-03;2031-05-25;Lesson ${i}`)
    const csv = ['room;teacher;weekday;start;end;from;until;title', ...rows].join('\n')
    const { held, released } = holdRoom(HOLD_MS)
    await held
    const reply = await send('/api/admin/timetable/import', admin, csv, 'text/csv')
    expect({ status: reply.status, msg: reply.body.msg }).toEqual({ status: 503, msg: 'request timed out' })
    await afterRelease(released)
    expect(await t.database.db.select().from(series)).toEqual([])
    expect((await t.database.db.select().from(reservations).where(eq(reservations.title, 'Lesson 0'))).length).toBe(0)

    // The same import, unhindered, is kept whole: the admin's retry gets what the first try was refused.
    const retry = await send('/api/admin/timetable/import', admin, csv, 'text/csv')
    expect(retry.status).toBe(201)
    expect((await t.database.db.select().from(series)).length).toBe(60)
  })

  test('a booking that finishes within TIMEOUT is answered and kept as ever', async () => {
    const student = await token('student')
    const reply = await send(`/api/rooms/${roomId}/reserve`, student, JSON.stringify({ start_time: at(1, 9), end_time: at(1, 10) }))
    expect(reply.status).toBe(201)
    expect((await t.database.db.select().from(reservations).where(eq(reservations.startTime, new Date(at(1, 9))))).length).toBe(1)
  })
})

describe('Work (db/work-scope.ts): when a deadline may still take a request back', () => {
  test('abandoned before any commit: nothing may start or commit any more', () => {
    const work = new Work()
    expect(work.abandon()).toBe(true)
    expect(() => work.assertActive()).toThrow(/rolled back/)
    expect(() => work.beginCommit()).toThrow(/rolled back/)
  })

  test('while a commit is under way, and after one was kept, the deadline cannot abandon it', () => {
    const work = new Work()
    work.beginCommit()
    expect(work.abandon()).toBe(false)
    work.endCommit(true)
    expect(work.abandon()).toBe(false)
    expect(work.abandoned).toBe(false)
  })

  test('a commit that failed keeps nothing: the work may still be abandoned', () => {
    const work = new Work()
    work.beginCommit()
    work.endCommit(false)
    expect(work.abandon()).toBe(true)
  })
})
