/**
 * What every database of the app looks like, whichever engine is behind it (client.ts for
 * PostgreSQL, pglite.ts for the embedded one): the Drizzle handle, its transaction type and the
 * Database interface, plus two helpers both engines use. Its own file so that pglite.ts, loaded
 * lazily by client.ts, does not import client.ts back.
 */
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import type { DatabaseTarget } from '../config'
import type { Logger } from '../lib/log'
import type { BreakerOptions, CircuitBreaker } from './circuit-breaker'
import type * as schema from './schema'

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>
/** The handle inside db.transaction(): the same query API. */
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0]
export type Executor = Db | Tx

export interface Database {
  db: Db
  kind: DatabaseTarget['kind']
  /** Open while PostgreSQL cannot be reached: queries are refused at once (always closed on PGlite). */
  breaker: CircuitBreaker
  /** Answers `select 1` or throws; rejects after timeoutMs when the server does not answer. */
  ping(timeoutMs?: number): Promise<void>
  /**
   * Runs fn while holding a PostgreSQL session advisory lock (a no-op lock on single-process
   * PGlite). fn gets the handle to work with: `db` itself, or behind a transaction pooler a
   * handle on direct connections (DATABASE_DIRECT_URL), where the lock is.
   */
  withAdvisoryLock<T>(key: number, fn: (db: Db) => Promise<T>): Promise<T>
  /**
   * LISTEN on a channel: onPayload gets every NOTIFY payload, from any process on PostgreSQL
   * (on a dedicated connection), from this process on PGlite. Resolves to the Listening; rejects
   * when the LISTEN cannot be set up. If the connection is lost later, onLost is called once and
   * nothing more arrives: the caller listens again (and catches up on what it missed). PGlite's
   * never drops.
   */
  listen(channel: string, onPayload: (payload: string) => void, onLost?: (error: Error) => void): Promise<Listening>
  close(): Promise<void>
}

/** A LISTEN that runs. */
export interface Listening {
  stop(): Promise<void>
  /**
   * performance.now() of the latest instant known to be heard up to: every NOTIFY committed before
   * it has reached onPayload. On PostgreSQL the send time of the last heartbeat answered on the
   * LISTEN connection (a network partition stops it from moving); on PGlite, in the process, now.
   */
  heardUpTo(): number
  /**
   * How many other processes listen to this database with QRBOOK's feed (other instances or
   * workers), as the last heartbeat counted them; undefined before the first count. On PGlite 0:
   * the database belongs to this process.
   */
  peers(): number | undefined
}

export interface DbOptions {
  /** Called with the SQL text of every query Drizzle sends: lets tests count queries. */
  onQuery?: (query: string) => void
  /** PostgreSQL pool size (DB_POOL_SIZE); at least 2, since withAdvisoryLock may hold one connection. */
  poolSize?: number
  /** Where the circuit breaker reports outages (PostgreSQL). */
  log?: Logger
  /** Timings of the circuit breaker (tests shorten them). */
  breaker?: Omit<BreakerOptions, 'probe' | 'log'>
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

