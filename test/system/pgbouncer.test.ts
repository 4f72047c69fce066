/**
 * QRBOOK behind PgBouncer in transaction mode (what Railway's PgBouncer template and most hosts
 * put in front of PostgreSQL): DATABASE_URL goes through a pgbouncer this file starts
 * (test/helpers/pgbouncer.ts, 8 server connections), DATABASE_DIRECT_URL to PostgreSQL itself for
 * what needs a session (the LISTEN connections, the start-up advisory lock: src/db/client.ts).
 * Two server processes start at once on a fresh database: they migrate and seed once, serve, book,
 * answer GET /reservations/mine (a named prepared statement on a direct connection) again and
 * again, carry the live feed from one to the other, and sweep no-shows once. A process killed
 * (-9) mid-bookings loses no acknowledged booking and leaves no lock behind in the pooler's server
 * connections. The storm through PgBouncer: pgbouncer-storm.test.ts. Skipped without PostgreSQL
 * or without pgbouncer.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import postgres from 'postgres'
import { loadConfig } from '../../src/config'
import { createDb, rowsOf, sql } from '../../src/db/client'
import { changes, reservations, rooms } from '../../src/db/schema'
import { createPostgresDatabase, postgresServerUrl, stamped } from '../helpers/db'
import { appliedMigrations, counts, MIGRATION_COUNT } from '../helpers/db-state'
import { hasPgbouncer, startPgbouncer, type Pgbouncer } from '../helpers/pgbouncer'
import { killAll, processEnv, spawnServer } from '../helpers/process'
import { SseReader } from '../helpers/sse'

setDefaultTimeout(60_000) // test/setup.ts's preloaded timeout reaches only the first file (oven-sh/bun#43787)

const PG = await postgresServerUrl()
const SECRETS = { SECRET_KEY: 'pooler-secret-key-0123456789abcdefghijklmn', JWT_SECRET_KEY: 'pooler-jwt-secret-key-0123456789abcdefghij' }
const MIN = 60_000
const iso = (ms: number) => new Date(ms).toISOString()

const cleanups: (() => Promise<unknown>)[] = []
afterAll(async () => {
  await killAll()
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
})

/** A fresh database and a pgbouncer in front of its server; both go at the end of the file. */
async function pooledDatabase(prefix: string): Promise<{ pooler: Pgbouncer; direct: string; pooled: string; name: string }> {
  const created = await createPostgresDatabase(prefix, PG)
  cleanups.push(() => created.drop())
  const pooler = await startPgbouncer(PG!)
  cleanups.push(() => pooler.stop())
  return { pooler, direct: created.url, pooled: pooler.urlFor(created.url), name: created.name }
}

async function login(base: string, name: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) })
  expect(res.status).toBe(200)
  return ((await res.json()) as { access_token: string }).access_token
}

describe.skipIf(!PG || !hasPgbouncer)('behind PgBouncer (transaction mode) with DATABASE_DIRECT_URL', () => {
  test('the start-up lock is a session lock on a direct connection: exclusive, and released afterwards', async () => {
    const { pooled, direct } = await pooledDatabase('qrbook_pooler_lock')
    const target = loadConfig({ ...SECRETS, DATABASE_URL: pooled, DATABASE_DIRECT_URL: direct }).database
    const [a, b] = [await createDb(target), await createDb(target)]
    const watcher = postgres(direct, { max: 1, onnotice: () => {} })
    try {
      const heldOn = () => watcher`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = 4244 and granted`.then((r) => r[0]!.n as number)
      const order: string[] = []
      let release!: () => void
      const first = a.withAdvisoryLock(4244, async (db) => {
        order.push('a in')
        // the handle it is given works (a direct connection, the lock's)
        expect(rowsOf(await db.execute(sql`select 1 as one`))).toEqual([{ one: 1 }])
        await new Promise<void>((resolve) => (release = resolve))
        order.push('a out')
      })
      while (order.length === 0) await Bun.sleep(20)
      expect(await heldOn()).toBe(1)
      const second = b.withAdvisoryLock(4244, async () => { order.push('b in') })
      await Bun.sleep(300)
      expect(order).toEqual(['a in'])
      release()
      await Promise.all([first, second])
      expect(order).toEqual(['a in', 'a out', 'b in'])
      // unlocked on the session that locked it: nothing left behind on any server connection
      expect(await heldOn()).toBe(0)
    } finally {
      await watcher.end()
      await Promise.all([a.close(), b.close()])
    }
  })

  test('two processes through PgBouncer: migrate and seed once, serve, book, /mine, the live feed across them, one sweep', async () => {
    const { pooler, direct, pooled, name } = await pooledDatabase('qrbook_pooler')
    const env = processEnv({ ...SECRETS, DATABASE_URL: pooled, DATABASE_DIRECT_URL: direct, RATELIMIT_ENABLED: 'false', SWEEP_INTERVAL_S: '1' })
    // Both at once on the fresh database: the migrations' lock (direct) serializes them.
    const [one, two] = [spawnServer({ env }), spawnServer({ env })]
    await Promise.all([one.waitForLog('listening'), two.waitForLog('listening')])
    expect([one, two].filter((s) => s.logs().some((l) => l.seed === 'demo'))).toHaveLength(1)
    // The test's own handle goes through the pooler as well.
    const database = await createDb(loadConfig({ ...SECRETS, DATABASE_URL: pooled, DATABASE_DIRECT_URL: direct }).database)
    cleanups.push(() => database.close())
    expect(await counts(database)).toEqual({ users: 4, rooms: 4, reservations: 3 })
    expect(await appliedMigrations(database)).toBe(MIGRATION_COUNT)
    for (const server of [one, two]) {
      const health = await fetch(`${server.base}/health`)
      expect(health.status).toBe(200)
      expect(await health.json()).toMatchObject({ status: 'healthy', database: 'connected' })
    }

    // The live feed of process two hears a booking made on process one (LISTEN on a direct connection).
    const stream = new SseReader(await fetch(`${two.base}/api/rooms/events`))
    cleanups.push(() => stream.close())
    const snapshot = await stream.next((e) => e.event === 'snapshot')
    const b102 = snapshot.data.rooms.find((r: any) => r.name === 'B102')
    const token = await login(one.base, 'guest', 'guest1234')
    const start = Math.ceil((Date.now() + 5 * MIN) / MIN) * MIN
    const booked = await fetch(`${one.base}/api/rooms/${b102.id}/reserve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ start_time: iso(start), end_time: iso(start + 30 * MIN) }),
    })
    expect(booked.status).toBe(201)
    const sent = Date.now()
    const event = await stream.next((e) => e.event === 'room' && e.data.room.id === b102.id, 1000)
    expect(Date.now() - sent).toBeLessThan(1000)
    expect(event.data.room.next_reservation.user_name).toBe('guest')

    // GET /reservations/mine is a named prepared statement without a pooler; through one, every
    // request on every connection answers (with it named, most were 503: "prepared statement
    // does not exist" on a server connection that never parsed it).
    const mine = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      fetch(`${(i % 2 ? two : one).base}/api/reservations/mine`, { headers: { authorization: `Bearer ${token}` } })
        .then(async (r) => `${r.status} ${(await r.json() as { reservations: unknown[] }).reservations?.length}`)))
    expect(new Set(mine)).toEqual(new Set(['200 2']))

    // No-shows inserted now are released by one sweep of one of the two processes, once each.
    // (in B102, a room that requires check-in, before the booking above)
    const [room] = await database.db.select().from(rooms).where(eq(rooms.name, 'B102'))
    const now = Date.now()
    const due = await database.db.insert(reservations).values([0, 1, 2].map((i) => stamped({
      roomId: room!.id, userId: 3, checkInRequired: true,
      startTime: new Date(now - (70 + i * 120) * MIN), endTime: new Date(now - (70 + i * 120) * MIN + 60 * MIN),
    }))).returning({ id: reservations.id })
    const ids = due.map((r) => r.id).sort((x, y) => x - y)
    const sweeps = () => [one, two].flatMap((s) => s.logs().filter((l) => l.msg === 'sweep' && (l.released as number[]).some((id) => ids.includes(id))))
    for (let waited = 0; sweeps().length === 0 && waited < 10_000; waited += 100) await Bun.sleep(100)
    await Bun.sleep(2500) // more rounds of both
    expect(sweeps().flatMap((l) => l.released as number[]).sort((x, y) => x - y)).toEqual(ids)
    const released = await database.db.select().from(changes).where(eq(changes.event, 'reservation.released'))
    expect(released.map((c) => (c.data as { reservation_id: number }).reservation_id).filter((id) => ids.includes(id)).sort((x, y) => x - y)).toEqual(ids)

    // It all went through PgBouncer, except the LISTEN connections, which are direct.
    const stats = (await pooler.admin('SHOW STATS')).find((r) => r.database === name)
    expect(Number(stats?.total_xact_count)).toBeGreaterThan(50)
    const clients = (await pooler.admin('SHOW CLIENTS')).filter((r) => r.database === name)
    expect(clients.length).toBeGreaterThan(0)
    expect(clients.filter((c) => String(c.application_name).startsWith('qrbook-listen'))).toEqual([])
    const watcher = postgres(direct, { max: 1, onnotice: () => {} })
    try {
      const [{ n }] = await watcher`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name like 'qrbook-listen%'` as any
      expect(n).toBeGreaterThanOrEqual(2)
    } finally {
      await watcher.end()
    }

    await stream.close()
    expect(await Promise.all([one.stop('SIGTERM'), two.stop('SIGTERM')])).toEqual([0, 0])
    // pgbouncer saw nothing it could not pass on (e.g. a notification for a client no longer linked)
    expect(pooler.log.split('\n').filter((l) => /WARNING|ERROR/.test(l))).toEqual([])
  })

  test('kill -9 of a process mid-bookings: every acknowledged booking is stored, and the other process books on at once', async () => {
    const { direct, pooled } = await pooledDatabase('qrbook_pooler_kill')
    // months ahead, in slots of their own: past the default booking horizon
    const env = processEnv({ ...SECRETS, DATABASE_URL: pooled, DATABASE_DIRECT_URL: direct, RATELIMIT_ENABLED: 'false', BOOKING_HORIZON_DAYS: '3660' })
    const victim = spawnServer({ env })
    await victim.waitForLog('listening')
    const survivor = spawnServer({ env })
    await survivor.waitForLog('listening')
    const token = await login(victim.base, 'student', 'student1234')
    const roomIds = ((await (await fetch(`${victim.base}/api/rooms`)).json()) as { rooms: { id: number; name: string }[] }).rooms
      .filter((r) => r.name === 'B101' || r.name === 'B102').map((r) => r.id)
    const first = Math.ceil((Date.now() + 200 * 24 * 60 * MIN) / (60 * MIN)) * 60 * MIN
    const slot = (n: number) => ({ roomId: roomIds[n % 2]!, start: first + Math.floor(n / 2) * 30 * MIN })
    const book = (base: string, n: number) => fetch(`${base}/api/rooms/${slot(n).roomId}/reserve`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ start_time: iso(slot(n).start), end_time: iso(slot(n).start + 30 * MIN) }),
      signal: AbortSignal.timeout(10_000),
    }).then(async (r) => ({ status: r.status, id: r.status === 201 ? ((await r.json()) as { reservation: { id: number } }).reservation.id : undefined }), () => ({ status: 0, id: undefined }))

    // 32 clients book distinct slots on the victim until it is killed mid-transaction
    let next = 0
    let stopped = false
    const acknowledged: { n: number; id: number }[] = []
    const refused: number[] = []
    const load = Promise.all(Array.from({ length: 32 }, async () => {
      while (!stopped) {
        const n = next++
        const reply = await book(victim.base, n)
        if (reply.status === 201) acknowledged.push({ n, id: reply.id! })
        else if (reply.status !== 0) refused.push(reply.status)
        else await Bun.sleep(20)
      }
    }))
    await Bun.sleep(2000)
    victim.proc.kill('SIGKILL')
    await victim.exited
    stopped = true
    await load
    expect(refused).toEqual([])
    expect(acknowledged.length).toBeGreaterThan(20)

    // the survivor books the next slots of the same rooms at once: no lock of the killed process's
    // transactions is left on a server connection of the pooler
    const after = await Promise.all([next, next + 1, next + 2, next + 3].map((n) => book(survivor.base, n)))
    expect(after.map((r) => r.status)).toEqual([201, 201, 201, 201])

    const watcher = postgres(direct, { max: 1, onnotice: () => {} })
    try {
      const rows = await watcher`select id, room_id, start_time from reservations where start_time >= ${new Date(first)} and status = 'active'`
      const stored = new Map(rows.map((r) => [r.id as number, `${r.room_id}@${(r.start_time as Date).getTime()}`]))
      // every 201 is there, as booked; nothing is there that no request asked for
      expect(acknowledged.filter((a) => stored.get(a.id) !== `${slot(a.n).roomId}@${slot(a.n).start}`)).toEqual([])
      const asked = new Set(Array.from({ length: next + 4 }, (_, n) => `${slot(n).roomId}@${slot(n).start}`))
      expect([...stored.values()].filter((k) => !asked.has(k))).toEqual([])
      console.log(`kill -9 through PgBouncer: ${acknowledged.length} acknowledged, ${rows.length - 4} stored (the rest of ${next} requests were in flight)`)
    } finally {
      await watcher.end()
    }
    expect(await survivor.stop('SIGTERM')).toBe(0)
  })
})
