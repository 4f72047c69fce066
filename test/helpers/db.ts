/**
 * A fresh, migrated database for one test file.
 * - Default: PGlite in memory. One template is migrated per test process and cloned per call,
 *   which takes a fraction of a second instead of seconds; a dropped one is reset to the
 *   template's state and handed to the next call (idle pool below), which takes milliseconds.
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
  const client = idle.pop() ?? ((await (await template).clone()) as PGlite)
  // The wrapper's close (a test may close its database on purpose) closes the instance for good;
  // drop() hands an open one back to the pool instead.
  const database = wrapPglite(client, options)
  return { database, drop: () => release(client) }
}

/**
 * PGlite instances dropped by earlier tests, reset to the migrated template's state. Starting an
 * instance (loading a 40 MB data directory into WebAssembly PostgreSQL) takes 0.6-1.1 s on a
 * 2-core machine, and the fast tier asks for about 70 of them; resetting one takes milliseconds.
 */
const idle: PGlite[] = []
const MAX_IDLE = 4
let templateFingerprint: Promise<string> | undefined

/**
 * Everything a test could change besides table rows, as one hash: relations, columns and their
 * types, constraints, triggers, functions, types and enum labels, extensions, database settings
 * and the applied migrations. An instance whose hash differs from the template's is closed, not
 * reused.
 */
const FINGERPRINT = `
  with ns as (select oid, nspname from pg_namespace
    where nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and nspname not like 'pg_temp%' and nspname not like 'pg_toast_temp%')
  select md5(coalesce(string_agg(x, ',' order by x), '')) as hash from (
    select 'rel:' || ns.nspname || '.' || c.relname || ':' || c.relkind::text from pg_class c join ns on ns.oid = c.relnamespace
    union all select 'col:' || a.attrelid::regclass || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod) || ':' || a.attnotnull || ':' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
      from pg_attribute a join pg_class c on c.oid = a.attrelid join ns on ns.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum where a.attnum > 0 and not a.attisdropped
    union all select 'con:' || conrelid::regclass || '.' || conname || ':' || pg_get_constraintdef(oid) from pg_constraint where connamespace in (select oid from ns)
    union all select 'trg:' || tgrelid::regclass || '.' || tgname || ':' || tgenabled::text from pg_trigger where not tgisinternal
    union all select 'fn:' || p.oid::regprocedure || ':' || md5(p.prosrc) from pg_proc p join ns on ns.oid = p.pronamespace
    union all select 'type:' || t.oid::regtype from pg_type t join ns on ns.oid = t.typnamespace
    union all select 'enum:' || enumtypid::regtype || '.' || enumlabel || ':' || enumsortorder from pg_enum
    union all select 'ext:' || extname || ':' || extversion from pg_extension
    union all select 'set:' || array_to_string(setconfig, ';') from pg_db_role_setting
    union all select 'migrations:' || count(*) from drizzle.__drizzle_migrations
  ) facts(x)`

async function fingerprint(client: PGlite): Promise<string> {
  return (await client.query<{ hash: string }>(FINGERPRINT)).rows[0]!.hash
}

/** Empties every table but the migrations' own, restarts every sequence but theirs, and forgets the session. */
async function resetToTemplate(client: PGlite): Promise<boolean> {
  // Listeners first, by PGlite's own API: they live in the instance, not only in the backend.
  for (const { channel } of (await client.query<{ channel: string }>('select pg_listening_channels() as channel')).rows) await client.unlisten(channel)
  await client.exec('discard all')
  templateFingerprint ??= template!.then(fingerprint)
  const [mine, original] = await Promise.all([fingerprint(client), templateFingerprint])
  if (mine !== original) return false
  const { rows: tables } = await client.query<{ name: string }>(`
    select format('%I.%I', schemaname, tablename) as name from pg_tables
    where schemaname not in ('pg_catalog', 'information_schema', 'drizzle')`)
  const { rows: sequences } = await client.query<{ name: string }>(`
    select format('%I.%I', schemaname, sequencename) as name from pg_sequences where schemaname <> 'drizzle'`)
  await client.exec([
    tables.length ? `truncate ${tables.map((t) => t.name).join(', ')} restart identity cascade` : '',
    ...sequences.map((s) => `alter sequence ${s.name} restart`),
  ].join(';\n'))
  return true
}

async function release(client: PGlite): Promise<void> {
  if (client.closed) return
  const reusable = idle.length < MAX_IDLE && (await resetToTemplate(client).catch(() => false))
  if (reusable) idle.push(client)
  else await client.close()
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
