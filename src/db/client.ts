/**
 * Opens the database named by DATABASE_URL: postgres.js for postgres:// and postgresql:// URLs,
 * PGlite on disk for pglite://<dir> (the default, ./data/pglite), PGlite in memory for memory://.
 * Both give the same Drizzle API, run the same migrations and enforce the same constraints.
 */
import { sql } from 'drizzle-orm'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import postgres from 'postgres'
import type { DatabaseTarget } from '../config'
import * as schema from './schema'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>
/** The handle inside db.transaction(): the same query API. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
export type Executor = Db | Tx

export interface Database {
  db: Db
  kind: DatabaseTarget['kind']
  /** Answers `select 1` or throws; rejects after timeoutMs when the server does not answer. */
  ping(timeoutMs?: number): Promise<void>
  /** Runs fn while holding a PostgreSQL session advisory lock (a no-op lock on single-process PGlite). */
  withAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<T>
  /**
   * LISTEN on a channel: onPayload gets every NOTIFY payload, from any process on PostgreSQL
   * (postgres.js keeps a dedicated connection and re-listens after reconnecting), from this
   * process on PGlite. Resolves to a function that stops listening.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>
  close(): Promise<void>
}

export interface DbOptions {
  /** Called with the SQL text of every query Drizzle sends: lets tests count queries. */
  onQuery?: (query: string) => void
  /** PostgreSQL pool size (DB_POOL_SIZE); at least 2, since withAdvisoryLock holds one connection. */
  poolSize?: number
}

export async function createDb(target: DatabaseTarget, options: DbOptions = {}): Promise<Database> {
  if (target.kind === 'postgres') return createPostgresDb(target.url, options)
  // Loaded only when used: PGlite (WebAssembly PostgreSQL) costs memory a PostgreSQL deployment does not need.
  const { createPgliteDb } = await import('./pglite')
  return createPgliteDb(target, options)
}

function createPostgresDb(url: string, options: DbOptions): Database {
  const client = postgres(url, {
    // One connection is reserved while withAdvisoryLock holds the lock, and the work inside needs
    // another: a pool of 1 would wait forever at start-up.
    max: Math.max(2, options.poolSize ?? 10),
    connect_timeout: 5,
    idle_timeout: 60,
    onnotice: () => {},
    // Timestamps come back as Date objects; Drizzle maps them itself.
  })
  const db = drizzlePostgres({ client, schema, logger: queryLogger(options) }) as unknown as Db
  return {
    db,
    kind: 'postgres',
    ping: (timeoutMs = 2000) => withTimeout(client`select 1`.then(() => {}), timeoutMs),
    async withAdvisoryLock(key, fn) {
      // Session-level lock on one reserved connection; the work itself may use the pool.
      const conn = await client.reserve()
      try {
        await conn`select pg_advisory_lock(${key})`
        try {
          return await fn()
        } finally {
          await conn`select pg_advisory_unlock(${key})`
        }
      } finally {
        conn.release()
      }
    },
    async listen(channel, onPayload) {
      const { unlisten } = await client.listen(channel, onPayload)
      return async () => { await unlisten().catch(() => {}) }
    },
    close: () => client.end({ timeout: 5 }),
  }
}

export function queryLogger(options: DbOptions) {
  const onQuery = options.onQuery
  return onQuery ? { logQuery: (query: string) => onQuery(query) } : false
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The SQLSTATE of a database error, also when Drizzle wraps it in a DrizzleQueryError. */
export function pgErrorCode(error: unknown): string | undefined {
  let current: any = error
  for (let depth = 0; current && depth < 4; depth++) {
    if (typeof current.code === 'string' && /^[0-9A-Z]{5}$/.test(current.code)) return current.code
    current = current.cause
  }
  return undefined
}

/** The constraint name of a database error (e.g. which UNIQUE was violated). */
export function pgConstraint(error: unknown): string | undefined {
  let current: any = error
  for (let depth = 0; current && depth < 4; depth++) {
    const name = current.constraint_name ?? current.constraint
    if (typeof name === 'string') return name
    current = current.cause
  }
  return undefined
}

/** Rows of a raw `db.execute(sql...)`: postgres.js returns an array, PGlite an object with rows. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[]
}

export { sql }
