/**
 * The database layer: migrations (complete, recorded once, idempotent), the schema the contract
 * needs, and the exclusion constraint that makes double-booking impossible. The PostgreSQL
 * specifics (postgresql:// URLs, the advisory lock, connecting with retries) are in the system
 * tier: test/system/db-postgres.test.ts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createDb, pgErrorCode, rowsOf, sql, type Database } from '../src/db/client'
import { migrate } from '../src/db/migrate'
import { reservations, rooms, users } from '../src/db/schema'
import { createPostgresDatabase, onPostgres, testDatabase, type TestDatabase, stamped, stampedUser } from './helpers/db'
import { appliedMigrations, MIGRATION_COUNT } from './helpers/db-state'

setDefaultTimeout(30_000) // see test/setup.ts

async function query<T = Record<string, unknown>>(database: Database, text: string): Promise<T[]> {
  return rowsOf<T>(await database.db.execute(sql.raw(text)))
}

/** Schema objects that must exist after migrating, as one comparable snapshot. */
async function schemaSnapshot(database: Database) {
  const tables = await query<{ table_name: string }>(database,
    "select table_name from information_schema.tables where table_schema = 'public' order by table_name")
  const enums = await query<{ name: string; labels: string }>(database,
    `select t.typname as name, string_agg(e.enumlabel, ',' order by e.enumsortorder) as labels
       from pg_type t join pg_enum e on e.enumtypid = t.oid group by t.typname order by t.typname`)
  const constraints = await query<{ conname: string; contype: string }>(database,
    "select conname, contype::text as contype from pg_constraint where conrelid = to_regclass('public.reservations') order by conname")
  return { tables: tables.map((t) => t.table_name), enums, constraints }
}

let t: TestDatabase
beforeAll(async () => {
  t = await testDatabase()
})
afterAll(async () => {
  await t?.drop()
})

describe('migrations', () => {
  test('create every table, enum and constraint the contract needs', async () => {
    const snapshot = await schemaSnapshot(t.database)
    expect(snapshot.tables).toEqual(expect.arrayContaining(['changes', 'reservations', 'rooms', 'users']))
    expect(snapshot.tables).not.toContain('audit_logs') // read from the change record now (migration 0016)
    const enums = Object.fromEntries(snapshot.enums.map((e) => [e.name, e.labels.split(',')]))
    expect(enums.user_role).toEqual(['student', 'teacher', 'admin'])
    expect(enums.room_type).toEqual(['public', 'admin', 'service'])
    expect(enums.reservation_status).toEqual(expect.arrayContaining(['active', 'finished', 'cancelled']))
    expect(snapshot.constraints).toContainEqual({ conname: 'reservations_no_overlap', contype: 'x' })
    expect(snapshot.constraints).toContainEqual({ conname: 'reservations_time_order', contype: 'c' })

    const [ext] = await query<{ extname: string }>(t.database, "select extname from pg_extension where extname = 'btree_gist'")
    expect(ext?.extname).toBe('btree_gist')
    const timeTypes = await query<{ column_name: string; data_type: string }>(t.database,
      `select column_name, data_type from information_schema.columns
        where table_name = 'reservations' and column_name in ('start_time','end_time','created_at','updated_at') order by column_name`)
    expect(timeTypes.map((c) => c.data_type)).toEqual(Array(4).fill('timestamp with time zone'))
  })

  test('are recorded once each, and running them again changes nothing', async () => {
    expect(await appliedMigrations(t.database)).toBe(MIGRATION_COUNT)
    const before = await schemaSnapshot(t.database)
    await migrate(t.database)
    await migrate(t.database)
    expect(await appliedMigrations(t.database)).toBe(MIGRATION_COUNT)
    expect(await schemaSnapshot(t.database)).toEqual(before)
  })

  test('apply to an empty database twice in a row', async () => {
    const created = onPostgres ? await createPostgresDatabase('qrbook_migrate') : undefined
    const database = await createDb(created ? { kind: 'postgres', url: created.url } : { kind: 'memory' })
    try {
      expect((await schemaSnapshot(database)).tables).toEqual([])
      await migrate(database)
      const first = await schemaSnapshot(database)
      await migrate(database)
      expect(await schemaSnapshot(database)).toEqual(first)
      expect(first.tables).toContain('reservations')
      expect(await appliedMigrations(database)).toBe(MIGRATION_COUNT)
    } finally {
      await database.close()
      await created?.drop()
    }
  })
})

describe('reservations_no_overlap (exclusion constraint)', () => {
  let roomId: number
  let otherRoomId: number
  let userId: number
  const at = (hour: number, minute = 0) => new Date(Date.UTC(2031, 0, 15, hour, minute))

  beforeAll(async () => {
    const [user] = await t.database.db.insert(users).values(stampedUser({ name: 'overlap-user', passwordHash: 'x' })).returning()
    const [room, other] = await t.database.db.insert(rooms).values([stamped({ name: 'OVL-1' }), stamped({ name: 'OVL-2' })]).returning()
    userId = user!.id
    roomId = room!.id
    otherRoomId = other!.id
  })

  const book = (start: Date, end: Date, status: 'active' | 'cancelled' | 'finished' = 'active', room = roomId) =>
    t.database.db.insert(reservations).values(stamped({ roomId: room, userId, startTime: start, endTime: end, status })).returning()

  async function failure(promise: Promise<unknown>): Promise<string | undefined> {
    try {
      await promise
    } catch (error) {
      return pgErrorCode(error)
    }
    return undefined
  }

  async function activeRows(room = roomId) {
    const rows = await t.database.db.select().from(reservations)
    return rows.filter((r) => r.roomId === room && r.status === 'active')
      .map((r) => [r.startTime.toISOString(), r.endTime.toISOString()]).sort()
  }

  test('two overlapping active reservations of one room: the second fails with 23P01', async () => {
    await book(at(9), at(11))
    expect(await failure(book(at(10), at(12)))).toBe('23P01') // overlaps the end
    expect(await failure(book(at(8), at(9, 30)))).toBe('23P01') // overlaps the start
    expect(await failure(book(at(9, 30), at(10)))).toBe('23P01') // inside
    expect(await failure(book(at(8), at(12)))).toBe('23P01') // around
    expect(await failure(book(at(9), at(11)))).toBe('23P01') // identical
    expect(await activeRows()).toEqual([[at(9).toISOString(), at(11).toISOString()]])
  })

  test('touching intervals are fine (half-open ranges)', async () => {
    await book(at(11), at(12)) // starts when 9-11 ends
    await book(at(8), at(9)) // ends when 9-11 starts
    expect(await activeRows()).toHaveLength(3)
  })

  test('cancelled and finished rows never block a slot, and may overlap each other', async () => {
    await book(at(13), at(15), 'cancelled')
    await book(at(13), at(15), 'cancelled')
    await book(at(14), at(16), 'finished')
    const [active] = await book(at(13), at(15))
    expect(active!.status).toBe('active')
    // reactivating an overlapping cancelled row is refused too
    const [cancelled] = await book(at(14), at(15), 'cancelled')
    expect(await failure(
      t.database.db.update(reservations).set({ status: 'active' }).where(sql`${reservations.id} = ${cancelled!.id}`),
    )).toBe('23P01')
  })

  test('the same time in another room is fine', async () => {
    const [row] = await book(at(9), at(11), 'active', otherRoomId)
    expect(row!.roomId).toBe(otherRoomId)
  })

  test('concurrent overlapping inserts: exactly one wins, the rest fail with 23P01', async () => {
    const attempts = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => book(at(18, i), at(19, i))))
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1)
    expect(attempts.filter((a) => a.status === 'rejected').map((a) => pgErrorCode((a as PromiseRejectedResult).reason)))
      .toEqual(Array(5).fill('23P01'))
  })

  test('start must be before end (check constraint, 23514)', async () => {
    expect(await failure(book(at(20), at(20)))).toBe('23514')
    expect(await failure(book(at(21), at(20)))).toBe('23514')
  })
})
