/**
 * The release sweeper under concurrency, and its wiring in the process:
 * - two sweeps at once (on PostgreSQL on separate connections) release each booking once, with one
 *   audit row; a held sweep lock makes the other instance skip its round;
 * - two transactions releasing the same room at once (no advisory lock: a booking's own releaseDue)
 *   never release twice and never wait on each other (FOR UPDATE SKIP LOCKED);
 * - two sweepers running side by side while time passes release every booking exactly once;
 * - the migration adds the enum values and the policy to an existing database (one transaction).
 * That `bun src/index.ts` sweeps every SWEEP_INTERVAL_S, also with WORKERS=2 on PostgreSQL, is in
 * the system tier: test/system/sweeper-process.test.ts.
 */
import { setDefaultTimeout, afterAll, describe, expect, test } from 'bun:test'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { eq, inArray } from 'drizzle-orm'
import postgres from 'postgres'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import { ConfigError, loadConfig } from '../src/config'
import { createDb, rowsOf, sql, type Database } from '../src/db/client'
import { pgliteExtensions, wrapPglite } from '../src/db/pglite'
import { MIGRATIONS_FOLDER } from '../src/db/migrate'
import { seed } from '../src/db/seed'
import { changes, reservations, rooms } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { silentLogger } from '../src/lib/log'
import { releaseDue, startSweeper, sweepOnce, SWEEP_LOCK_KEY } from '../src/core/bookings/checkin/sweeper'
import { createPostgresDatabase, onPostgres, testDatabase, type TestDatabase, stamped } from './helpers/db'
import { timeShifter } from './helpers/clock'
import { writeTransaction } from '../src/core/changes'

setDefaultTimeout(60_000) // Bun's 5 s default is too short for tests that start databases and processes

const MIN = 60_000
/** Instants of this file, moved into TEST_CLOCK_YEAR when CI sets it (test/helpers/clock.ts). */
const shifted = timeShifter('2030-05-06T09:00:00Z')
const NOW = shifted('2030-05-06T09:00:00Z')

const cleanups: (() => Promise<unknown> | unknown)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

/** A seeded test database (PGlite in memory, or a new PostgreSQL database) and its URL. */
async function seeded(): Promise<TestDatabase> {
  const t = await testDatabase()
  cleanups.push(() => t.drop())
  await seed(t.database.db, fixedClock(NOW))
  return t
}

/** n one-hour bookings needing a check-in, none checked in, the newest started `agoMin` minutes before `now`, 2 h apart. */
async function noShows(database: Database, n: number, now: Date, agoMin: number): Promise<number[]> {
  const [room] = await database.db.select().from(rooms).where(eq(rooms.name, 'B102'))
  const rows = await database.db.insert(reservations).values(Array.from({ length: n }, (_, i) => stamped({
    roomId: room!.id,
    userId: 3,
    startTime: new Date(now.getTime() - agoMin * MIN - i * 120 * MIN),
    endTime: new Date(now.getTime() - agoMin * MIN - i * 120 * MIN + 60 * MIN),
    checkInRequired: true,
  }))).returning({ id: reservations.id })
  return rows.map((r) => r.id)
}

async function releaseAudits(database: Database, ids: number[]) {
  const rows = await database.db.select().from(changes).where(eq(changes.event, 'reservation.released'))
  const byId = new Map<number, number>()
  for (const row of rows) {
    const id = (row.data as { reservation_id: number }).reservation_id
    if (ids.includes(id)) byId.set(id, (byId.get(id) ?? 0) + 1)
  }
  return ids.map((id) => byId.get(id) ?? 0)
}

/** A second, independent handle on the same database (its own connection on PostgreSQL). */
async function secondHandle(t: TestDatabase): Promise<Database> {
  if (!t.url) return t.database
  const other = await createDb({ kind: 'postgres', url: t.url })
  cleanups.push(() => other.close())
  return other
}

describe('SWEEP_INTERVAL_S', () => {
  test('30 s by default, 0 turns the sweeper off, anything else is refused naming the variable', () => {
    const base = { SECRET_KEY: 'x'.repeat(40), JWT_SECRET_KEY: 'y'.repeat(40) }
    expect(loadConfig(base).sweepIntervalS).toBe(30)
    expect(loadConfig({ ...base, SWEEP_INTERVAL_S: '0' }).sweepIntervalS).toBe(0)
    expect(loadConfig({ ...base, SWEEP_INTERVAL_S: '5' }).sweepIntervalS).toBe(5)
    for (const bad of ['-1', 'abc', '1.5', '3601']) {
      expect(() => loadConfig({ ...base, SWEEP_INTERVAL_S: bad })).toThrow(ConfigError)
      expect(() => loadConfig({ ...base, SWEEP_INTERVAL_S: bad })).toThrow(/^SWEEP_INTERVAL_S: expected a whole number from 0 to 3600/)
    }
  })
})

describe('two sweeps at once', () => {
  test('release each booking once, with one audit row each', async () => {
    const t = await seeded()
    const clock = fixedClock(shifted('2030-05-20T12:00:00Z'))
    const ids = await noShows(t.database, 12, clock.now(), 20)
    const other = await secondHandle(t)
    const [a, b] = await Promise.all([
      sweepOnce({ database: t.database, clock }),
      sweepOnce({ database: other, clock }),
    ])
    const released = [...a.released, ...b.released].map((r) => r.id).filter((id) => ids.includes(id))
    expect(released.sort((x, y) => x - y)).toEqual(ids)
    expect(await releaseAudits(t.database, ids)).toEqual(ids.map(() => 1))
    const statuses = await t.database.db.select({ status: reservations.status }).from(reservations).where(inArray(reservations.id, ids))
    expect(statuses.every((s) => s.status === 'released')).toBe(true)
    // Idempotent: nothing left to do.
    expect((await sweepOnce({ database: other, clock })).released).toEqual([])
  })

  test.skipIf(!onPostgres)('an instance that cannot take the sweep lock skips its round', async () => {
    const t = await seeded()
    const clock = fixedClock(shifted('2030-05-20T12:00:00Z'))
    const ids = await noShows(t.database, 3, clock.now(), 20)
    const holder = postgres(t.url!, { max: 1, onnotice: () => {} })
    cleanups.push(() => holder.end({ timeout: 1 }))
    await holder`select pg_advisory_lock(${SWEEP_LOCK_KEY})`
    const skipped = await sweepOnce({ database: t.database, clock })
    expect(skipped).toEqual({ skipped: true, released: [], finished: 0 })
    expect(await releaseAudits(t.database, ids)).toEqual([0, 0, 0])
    await holder`select pg_advisory_unlock(${SWEEP_LOCK_KEY})`
    expect((await sweepOnce({ database: t.database, clock })).released.map((r) => r.id).filter((id) => ids.includes(id))).toEqual(ids)
  })

  test.skipIf(!onPostgres)('releaseDue in two open transactions: the second skips the rows the first holds, no waiting', async () => {
    const t = await seeded()
    const clock = fixedClock(shifted('2030-05-20T12:00:00Z'))
    const ids = await noShows(t.database, 4, clock.now(), 20)
    const other = await secondHandle(t)
    let releaseFirst!: () => void
    const firstHolds = new Promise<void>((resolve) => { releaseFirst = resolve })
    let firstDone!: () => void
    const firstReleased = new Promise<void>((resolve) => { firstDone = resolve })
    const first = writeTransaction(t.database, async (tx) => {
      const released = await releaseDue({ clock }, tx)
      firstDone()
      await firstHolds // keep the row locks while the other transaction runs
      return released
    })
    await firstReleased
    const started = performance.now()
    const second = await writeTransaction(other, (tx) => releaseDue({ clock }, tx))
    expect(performance.now() - started).toBeLessThan(2000)
    expect(second).toEqual([])
    releaseFirst()
    expect((await first).map((r) => r.id).filter((id) => ids.includes(id))).toEqual(ids)
    expect(await releaseAudits(t.database, ids)).toEqual(ids.map(() => 1))
  })

  test('two sweepers side by side while time passes: every no-show released exactly once', async () => {
    const t = await seeded()
    const clock = fixedClock(shifted('2030-05-07T09:00:00Z'))
    // Bookings starting every 2 minutes from 09:00; each is due 15 minutes after its start.
    const [room] = await t.database.db.select().from(rooms).where(eq(rooms.name, 'B102'))
    const rows = await t.database.db.insert(reservations).values(Array.from({ length: 10 }, (_, i) => stamped({
      roomId: room!.id, userId: 4, checkInRequired: true,
      startTime: new Date(Date.parse(shifted('2030-05-07T09:00:00Z')) + i * 2 * MIN),
      endTime: new Date(Date.parse(shifted('2030-05-07T09:00:00Z')) + i * 2 * MIN + 2 * MIN),
    }))).returning({ id: reservations.id })
    const ids = rows.map((r) => r.id)
    const other = await secondHandle(t)
    const a = startSweeper({ database: t.database, clock, log: silentLogger }, 0.01)
    const b = startSweeper({ database: other, clock, log: silentLogger }, 0.01)
    // Waits (instead of sleeping) until both have swept at the clock's time: runNow() joins a sweep
    // under way, which may have read the time before it was moved, so each runs twice, at once.
    const bothSweptNow = async () => {
      for (let i = 0; i < 2; i++) await Promise.all([a.runNow(), b.runNow()])
    }
    for (let minute = 0; minute <= 40; minute++) {
      clock.set(new Date(Date.parse(shifted('2030-05-07T09:00:00Z')) + minute * MIN))
      await bothSweptNow()
    }
    await Promise.all([a.stop(), b.stop()])
    expect(await releaseAudits(t.database, ids)).toEqual(ids.map(() => 1))
  })
})

describe('migrating an existing database', () => {
  /** The migrations folder cut after its first `n` entries. */
  function firstMigrations(n: number): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'qrbook-migrations-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    cpSync(MIGRATIONS_FOLDER, dir, { recursive: true })
    const journalPath = path.join(dir, 'meta/_journal.json')
    const journal = JSON.parse(readFileSync(journalPath, 'utf8'))
    journal.entries = journal.entries.slice(0, n)
    writeFileSync(journalPath, JSON.stringify(journal))
    return dir
  }

  test('public rooms start requiring check-in; existing bookings are never released; the new values work at once', async () => {
    let database: Database
    let run: (folder: string) => Promise<void>
    if (onPostgres) {
      const created = await createPostgresDatabase('qrbook_checkin_migrate')
      cleanups.push(() => created.drop())
      database = await createDb({ kind: 'postgres', url: created.url })
      run = (folder) => migratePostgres(database.db as any, { migrationsFolder: folder })
    } else {
      const client = await PGlite.create({ extensions: pgliteExtensions() })
      database = wrapPglite(client)
      run = (folder) => migratePglite(database.db as any, { migrationsFolder: folder })
    }
    cleanups.push(() => database.close())
    // The database as the previous release left it (before check-in), with data.
    await run(firstMigrations(2))
    await database.db.execute(sql`insert into users (name, password_hash, role) values ('u', 'x', 'student')`)
    await database.db.execute(sql`insert into rooms (name, type) values ('P1', 'public'), ('S1', 'service')`)
    await database.db.execute(sql`insert into reservations (room_id, user_id, start_time, end_time)
      select id, (select id from users), now() - interval '1 hour', now() + interval '1 hour' from rooms where name = 'P1'`)
    await database.db.execute(sql`insert into audit_logs (actor_id, action, description, payload)
      select id, 'create_reservation', 'u booked P1', jsonb_build_object('room_id', (select id from rooms where name = 'P1'), 'user_id', id) from users`)
    // Upgrade: every later migration in one run (one transaction), then use the new values.
    await run(MIGRATIONS_FOLDER)
    const roomRows = rowsOf<{ name: string; requires_check_in: boolean; qr_version: number; check_in_opens_min: number; auto_release_after_min: number }>(
      await database.db.execute(sql`select name, requires_check_in, qr_version, check_in_opens_min, auto_release_after_min from rooms order by name`))
    expect(roomRows).toEqual([
      { name: 'P1', requires_check_in: true, qr_version: 1, check_in_opens_min: 10, auto_release_after_min: 15 },
      { name: 'S1', requires_check_in: false, qr_version: 1, check_in_opens_min: 10, auto_release_after_min: 15 },
    ])
    const [old] = rowsOf<{ check_in_required: boolean; checked_in_at: Date | null }>(
      await database.db.execute(sql`select check_in_required, checked_in_at from reservations`))
    expect(old).toEqual({ check_in_required: false, checked_in_at: null })
    // The booking made before the room required check-in is not released, however late it is.
    const sweep = await sweepOnce({ database, clock: fixedClock(new Date(Date.now() + 30 * MIN)) })
    expect(sweep.released).toEqual([])
    await database.db.execute(sql`update reservations set status = 'released'`)
    // The audit rows became the first changes of the record (migration 0015), with their rooms and users.
    const carried = rowsOf<{ position: string; event: string; room_ids: number[]; user_ids: number[] }>(
      await database.db.execute(sql`select position, event, room_ids, user_ids from changes order by position`))
    const [p1] = rowsOf<{ id: number }>(await database.db.execute(sql`select id from rooms where name = 'P1'`))
    expect(carried.map((c) => ({ ...c, position: Number(c.position) }))).toEqual([{ position: 1, event: 'reservation.created', room_ids: [p1!.id], user_ids: [expect.any(Number)] }])
    await database.db.execute(sql`insert into changes (position, event, description, at)
      values (nextval('changes_position_seq'), 'reservation.released', 'x', now()), (nextval('changes_position_seq'), 'reservation.checked_in', 'y', now())`)
    const [newest] = rowsOf<{ position: string }>(await database.db.execute(sql`select max(position) as position from changes`))
    expect(Number(newest!.position)).toBe(3)
  })
})
