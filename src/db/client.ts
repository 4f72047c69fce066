/**
 * Opens the database named by DATABASE_URL: postgres.js for postgres:// and postgresql:// URLs,
 * PGlite on disk for pglite://<dir> (the default, ./data/pglite), PGlite in memory for memory://.
 * Both give the same Drizzle API, run the same migrations and enforce the same constraints.
 * On PostgreSQL every query and transaction goes through a circuit breaker (circuit-breaker.ts):
 * while the server cannot be reached, queries fail at once instead of queuing in the pool.
 *
 * Behind a transaction pooler (PgBouncer, pool_mode=transaction; DATABASE_DIRECT_URL set) each
 * transaction, or each statement outside one, may run on another server connection. So the pool
 * sends no named prepared statements (one parsed on a server connection is unknown to the next),
 * and what needs one session across statements goes to the direct URL: the LISTEN connections
 * and the advisory lock held over migrations and the seed. Transaction-level advisory locks
 * (pg_advisory_xact_lock: the change record, the sweeper) and NOTIFY work through the pooler.
 */
import { sql } from 'drizzle-orm'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import type { DatabaseTarget } from '../config'
import { createCircuitBreaker, type CircuitBreaker, type RunHandle } from './circuit-breaker'
import { queryLogger, withTimeout, type Database, type Db, type DbOptions, type Listening } from './database'
import { DatabaseUnavailableError, isConnectionFailure } from './errors'
import { AbandonedWorkError, statementOfWork, transactionOfWork, type Work } from './work-scope'
import * as schema from './schema'

export { pgErrorCode } from './errors'

export type { Database, Db, DbOptions, Executor, Listening } from './database'


/** Seconds postgres.js waits for a TCP connection and the start-up handshake. */
const CONNECT_TIMEOUT_S = 3
/** How long a LISTEN may take to be set up. */
const LISTEN_TIMEOUT_MS = 5000
/**
 * How often the LISTEN connection is asked `select 1`. Each answer proves that every NOTIFY
 * committed before the question was sent has arrived (PostgreSQL hands notifications to an idle
 * session before it reads the next command), so it is what lets the cached room views be trusted
 * (Listening.heardUpTo, the events bus's liveness: decision 025).
 */
const LISTEN_HEARTBEAT_MS = 250
/** A heartbeat without an answer this long: the connection counts as lost and is replaced. */
const LISTEN_HEARTBEAT_TIMEOUT_MS = 1000

/**
 * postgres.js's delay before reconnecting a pool connection after a failed attempt (seconds).
 * Its default grows to 10-20 s during an outage and is not reset until a connection succeeds, so
 * the first queries after the server returned waited that long. The breaker keeps queries away
 * from the pool while the server is down, so a short delay costs nothing.
 */
function reconnectBackoff(retries: number): number {
  return Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2)
}

export async function createDb(target: DatabaseTarget, options: DbOptions = {}): Promise<Database> {
  if (target.kind === 'postgres') return createPostgresDb(target.url, target.directUrl, options)
  // Loaded only when used: PGlite (WebAssembly PostgreSQL) costs memory a PostgreSQL deployment does not need.
  const { createPgliteDb } = await import('./pglite')
  return createPgliteDb(target, options)
}

function createPostgresDb(url: string, directUrl: string | undefined, options: DbOptions): Database {
  const pooled = directUrl !== undefined
  /** this instance's LISTEN connections, all of them: one instance to the others (see LISTEN_APPLICATION_NAME) */
  const listenName = `${LISTEN_APPLICATION_NAME}:${crypto.randomUUID().slice(0, 12)}`
  const client = postgres(url, {
    // Named prepared statements only on a connection of our own: through a transaction pooler the
    // next use of one may land on a server connection that never parsed it (PgBouncer 1.18).
    prepare: !pooled,
    // One connection is reserved while withAdvisoryLock holds the lock, and the work inside needs
    // another: a pool of 1 would wait forever at start-up.
    max: Math.max(2, options.poolSize ?? 10),
    connect_timeout: CONNECT_TIMEOUT_S,
    idle_timeout: 60,
    backoff: reconnectBackoff,
    onnotice: () => {},
    // Timestamps come back as Date objects; Drizzle maps them itself.
  })
  const breaker = createCircuitBreaker({ ...options.breaker, probe: (timeoutMs) => probePostgres(url, !pooled, timeoutMs), log: options.log })
  const db = drizzlePostgres({ client: guardClient(client, breaker), schema, logger: queryLogger(options) }) as unknown as Db
  return {
    db,
    kind: 'postgres',
    breaker,
    ping: (timeoutMs = 2000) => withTimeout(breaker.run(() => client`select 1`).then(() => {}), timeoutMs),
    async withAdvisoryLock(key, fn) {
      // Without a pooler: the lock on one reserved connection of the pool, the work on the pool.
      if (!pooled) return holdingAdvisoryLock(client, key, () => fn(db))
      // Through a pooler a session lock could be taken on one server connection and "released" on
      // another (and stay held), and migrations belong on PostgreSQL itself (as Railway's and
      // PgBouncer's guides say): lock and work both on direct connections, opened for this call
      // only (it runs at start-up).
      const direct = postgres(directUrl, { max: 2, connect_timeout: CONNECT_TIMEOUT_S, onnotice: () => {} })
      try {
        const directDb = drizzlePostgres({ client: direct, schema, logger: queryLogger(options) }) as unknown as Db
        return await holdingAdvisoryLock(direct, key, () => fn(directDb))
      } finally {
        await direct.end({ timeout: 5 })
      }
    },
    listen: (channel, onPayload, onLost) => listenPostgres(directUrl ?? url, listenName, channel, onPayload, onLost),
    async close() {
      breaker.stop()
      await client.end({ timeout: 5 })
    },
  }
}

/** Session-level lock on one reserved connection of `client` while fn runs. */
async function holdingAdvisoryLock<T>(client: Sql, key: number, fn: () => Promise<T>): Promise<T> {
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
}

/**
 * One `select 1` on a connection of its own (never queued behind the pool), closed afterwards.
 * It asks where the queries go (through the pooler, if there is one).
 */
async function probePostgres(url: string, prepare: boolean, timeoutMs: number): Promise<void> {
  const probe = postgres(url, {
    max: 1,
    prepare,
    connect_timeout: timeoutMs / 1000,
    idle_timeout: 0,
    max_lifetime: 0,
    fetch_types: false,
    backoff: () => 0.05,
    onnotice: () => {},
    connection: { application_name: 'qrbook-probe' },
  })
  try {
    await withTimeout(probe`select 1`.then(() => {}), timeoutMs)
  } finally {
    void probe.end({ timeout: 0 }).catch(() => {})
  }
}

/**
 * The application_name of every LISTEN connection is this prefix and the instance's own id
 * (`qrbook-listen:<id>`): how instances count each other (peers). One instance listens on two
 * connections (the live feed, the notices' push), so connections are not instances: counted as
 * connections, each of an instance's own listeners was the other's "peer", every cached read of a
 * lone instance asked the database first, and the served room list fell from ~15,000 to ~1,300
 * requests a second (docs/performance.md). A bare `qrbook-listen` (versions before the id) counts
 * as one more instance.
 */
const LISTEN_APPLICATION_NAME = 'qrbook-listen'

/** LISTEN on a dedicated connection that reports its loss instead of reconnecting by itself. */
async function listenPostgres(url: string, applicationName: string, channel: string, onPayload: (payload: string) => void, onLost?: (error: Error) => void): Promise<Listening> {
  let listening = false
  let stopped = false
  let heardUpTo = performance.now()
  const connection = postgres(url, {
    max: 1,
    connect_timeout: CONNECT_TIMEOUT_S,
    idle_timeout: 0,
    max_lifetime: 0,
    fetch_types: false,
    onnotice: () => {},
    connection: { application_name: applicationName },
    // not in postgres.js's types, but read by its connections (its own listen() uses it)
    ...{ onnotify: (name: string, payload: string) => {
      if (name === channel && !stopped) onPayload(payload)
    } },
    onclose: () => {
      if (!listening) return
      lost(new Error('the LISTEN connection closed'))
    },
  })
  const lost = (error: Error) => {
    if (stopped) return
    stopped = true
    clearInterval(heartbeat)
    void connection.end({ timeout: 0 }).catch(() => {})
    onLost?.(error)
  }
  let heartbeat: ReturnType<typeof setInterval> | undefined
  let peers: number | undefined
  // The other instances listening to this database (each instance's LISTEN connections carry its
  // own application_name): counted by every heartbeat, so a new instance is known within one.
  const countPeers = () => connection.unsafe(`select count(distinct application_name)::int - 1 as peers from pg_stat_activity
    where (application_name = '${LISTEN_APPLICATION_NAME}' or application_name like '${LISTEN_APPLICATION_NAME}:%') and datname = current_database()`)
    .then((rows) => { peers = Number((rows as unknown as { peers: number }[])[0]?.peers ?? 0) })
  try {
    const sent = performance.now()
    await withTimeout(connection.unsafe(`listen "${channel.replace(/"/g, '""')}"`).then(countPeers), LISTEN_TIMEOUT_MS)
    heardUpTo = sent
    listening = true
  } catch (error) {
    stopped = true
    void connection.end({ timeout: 0 }).catch(() => {})
    throw error
  }
  // A connection that hangs (a network partition) never closes: without a question now and then,
  // the listener would wait forever while the room views it keeps exact went stale. Each answer
  // moves heardUpTo to when its question was sent; a question unanswered for
  // LISTEN_HEARTBEAT_TIMEOUT_MS makes the connection count as lost.
  heartbeat = setInterval(() => {
    const sent = performance.now()
    withTimeout(countPeers(), LISTEN_HEARTBEAT_TIMEOUT_MS)
      .then(() => { heardUpTo = Math.max(heardUpTo, sent) })
      .catch((error: Error) => lost(new Error(`the LISTEN connection stopped answering: ${error.message}`)))
  }, LISTEN_HEARTBEAT_MS)
  return {
    heardUpTo: () => heardUpTo,
    peers: () => peers,
    async stop() {
      if (stopped) return
      stopped = true
      clearInterval(heartbeat)
      await connection.end({ timeout: 1 }).catch(() => {})
    },
  }
}

type Sql = ReturnType<typeof postgres>
type Thenable = PromiseLike<unknown> & { values(): unknown }

/**
 * The postgres.js client as Drizzle sees it: every query (`unsafe`, which is all Drizzle calls)
 * and every transaction (`begin`) runs through the breaker. Nothing is sent while it is open.
 */
function guardClient(client: Sql, breaker: CircuitBreaker): Sql {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'unsafe') {
        return (...args: Parameters<Sql['unsafe']>) => {
          const query = target.unsafe(...args)
          return deferred(query, () => statementOfWork(String(args[0]), () => breaker.run(() => query)))
        }
      }
      if (prop === 'begin') {
        return (...args: unknown[]) => {
          const fn = args.pop() as (sql: unknown) => unknown
          return breaker.run((handle) => transactionOfWork<Sql, unknown>(
            (body) => (target.begin as (...a: unknown[]) => Promise<unknown>)(...args, body),
            async (sql, work) => {
              if (handle.abandoned) throw abandonedError()
              handle.progress() // BEGIN was answered
              const result = await fn(guardTransaction(sql, handle, work))
              // The caller was answered 503 meanwhile: roll back rather than commit behind its back.
              if (handle.abandoned) throw abandonedError()
              return result
            },
          ))
        }
      }
      return Reflect.get(target, prop, receiver)
    },
  })
}

/**
 * Inside a transaction: each statement restarts the deadline, and none is sent once the caller has
 * gone (released by the breaker, or its request's deadline passed: work-scope.ts).
 */
function guardTransaction(sql: Sql, handle: RunHandle, work: Work | undefined): Sql {
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === 'unsafe') {
        return (...args: Parameters<Sql['unsafe']>) => {
          const query = target.unsafe(...args)
          return deferred(query, () => {
            if (handle.abandoned) return Promise.reject(abandonedError())
            if (work?.abandoned) return Promise.reject(new AbandonedWorkError())
            return query.then(
              (value) => (handle.progress(), value),
              (error) => {
                if (!isConnectionFailure(error)) handle.progress()
                throw error
              },
            )
          })
        }
      }
      if (prop === 'savepoint') {
        return (...args: unknown[]) => {
          const fn = args.pop() as (sql: unknown) => unknown
          return ((target as unknown as { savepoint: (...a: unknown[]) => Promise<unknown> }).savepoint)(...args, (inner: Sql) => fn(guardTransaction(inner, handle, work)))
        }
      }
      return Reflect.get(target, prop, receiver)
    },
  })
}

/**
 * A postgres.js query that starts only through `start` when awaited. Drizzle calls `.values()`
 * (rows as arrays) and awaits; a postgres.js query is lazy, so one refused by the breaker is
 * never sent.
 */
function deferred(query: Thenable, start: () => PromiseLike<unknown>): Thenable {
  const wrapper: Thenable = {
    values() {
      query.values()
      return wrapper
    },
    then(onFulfilled, onRejected) {
      return start().then(onFulfilled, onRejected)
    },
  }
  return wrapper
}

function abandonedError() {
  return new DatabaseUnavailableError('database unavailable: the transaction was abandoned and rolled back')
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
