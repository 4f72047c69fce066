/**
 * A fresh, migrated database for one test file.
 * - Default: PGlite in memory. One template is migrated per test process and cloned per call,
 *   which takes a fraction of a second instead of seconds.
 * - TEST_DATABASE_URL=postgres://.../postgres: a new database on that server per call, dropped by
 *   drop(). .ci/run sets it to run the whole suite again on real PostgreSQL.
 */
import { PGlite } from '@electric-sql/pglite'
import postgres from 'postgres'
import { createDb, type Database, type DbOptions } from '../../src/db/client'
import { pgliteExtensions, wrapPglite } from '../../src/db/pglite'
import { migrate } from '../../src/db/migrate'

export interface TestDatabase {
  database: Database
  /** postgres:// URL of this database, or undefined on PGlite */
  url?: string
  drop(): Promise<void>
}

const POSTGRES_ADMIN_URL = process.env.TEST_DATABASE_URL
export const onPostgres = Boolean(POSTGRES_ADMIN_URL)

/** The machine's PostgreSQL, used by PostgreSQL-only tests when TEST_DATABASE_URL is not set. */
export const LOCAL_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/postgres'
let serverUrl: Promise<string | undefined> | undefined

/**
 * The server that PostgreSQL-only tests (two-process races, WORKERS, a cut connection: all in the
 * system tier, test/system/) create their own databases on: TEST_DATABASE_URL, else the local
 * server if it answers, so that a plain `bun run test:system` runs them too. Undefined when there is no PostgreSQL at all, or with
 * TEST_LOCAL_POSTGRES=off (CI's embedded pass: they run once, in its PostgreSQL pass).
 */
export function postgresServerUrl(): Promise<string | undefined> {
  serverUrl ??= (async () => {
    if (POSTGRES_ADMIN_URL) return POSTGRES_ADMIN_URL
    if (process.env.TEST_LOCAL_POSTGRES === 'off') return undefined
    const sql = postgres(LOCAL_POSTGRES_URL, { max: 1, connect_timeout: 2, onnotice: () => {} })
    try {
      await sql`select 1`
      return LOCAL_POSTGRES_URL
    } catch {
      return undefined
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {})
    }
  })()
  return serverUrl
}

let template: Promise<PGlite> | undefined

async function migratedTemplate(): Promise<PGlite> {
  const client = await PGlite.create({ extensions: pgliteExtensions() })
  await migrate(wrapPglite(client))
  return client
}

export function databaseUrl(admin: string, name: string): string {
  const url = new URL(admin)
  url.pathname = `/${name}`
  return url.toString()
}

/** Creates an empty PostgreSQL database (not migrated) and returns its URL and a drop function. */
export async function createPostgresDatabase(prefix = 'qrbook_test', adminUrl = POSTGRES_ADMIN_URL): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  if (!adminUrl) throw new Error('TEST_DATABASE_URL is not set')
  const name = `${prefix}_${process.pid}_${crypto.randomUUID().slice(0, 8)}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database "${name}"`)
  await admin.end()
  return {
    url: databaseUrl(adminUrl, name),
    name,
    async drop() {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} })
      await sql.unsafe(`drop database if exists "${name}" with (force)`)
      await sql.end()
    },
  }
}

export async function testDatabase(options: DbOptions = {}): Promise<TestDatabase> {
  if (POSTGRES_ADMIN_URL) {
    const created = await createPostgresDatabase()
    const database = await createDb({ kind: 'postgres', url: created.url }, options)
    await migrate(database)
    return {
      database,
      url: created.url,
      async drop() {
        await database.close()
        await created.drop()
      },
    }
  }
  template ??= migratedTemplate()
  const clone = (await (await template).clone()) as PGlite
  const database = wrapPglite(clone, options)
  return { database, drop: () => database.close() }
}

/**
 * Timestamps for rows a test inserts directly. The schema has no database defaults for times the
 * application decides (they come from its clock), so fixtures must say when they were made; the
 * value is irrelevant to the tests that use this.
 */
const FIXTURE_TIME = new Date('2020-01-01T00:00:00Z')
export function stamped<T extends object>(row: T, at: Date = FIXTURE_TIME): T & { createdAt: Date; updatedAt: Date } {
  return { ...row, createdAt: at, updatedAt: at }
}
/** A user row for a direct insert: stamped, with password_changed_at at the same instant. */
export function stampedUser<T extends object>(row: T, at: Date = FIXTURE_TIME): T & { createdAt: Date; updatedAt: Date; passwordChangedAt: Date } {
  return { ...stamped(row, at), passwordChangedAt: at }
}
