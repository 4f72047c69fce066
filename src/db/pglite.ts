/**
 * The embedded database: PGlite (PostgreSQL compiled to WebAssembly) with btree_gist, on disk for
 * pglite://<dir> or in memory for memory://. Imported lazily by createDb, so a PostgreSQL
 * deployment never loads it.
 */
import { PGlite, type PGliteInterface } from '@electric-sql/pglite'
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import type { DatabaseTarget } from '../config'
import { alwaysClosedBreaker } from './circuit-breaker'
import { lockDataDir } from './data-dir-lock'
import { queryLogger, withTimeout, type Database, type Db, type DbOptions } from './database'
import * as schema from './schema'
import { statementOfWork, transactionOfWork, type Work } from './work-scope'

export function pgliteExtensions() {
  return { btree_gist }
}

/** Opens PGlite; a directory is locked first (data-dir-lock.ts): one process per directory. */
export async function createPgliteDb(target: Exclude<DatabaseTarget, { kind: 'postgres' }>, options: DbOptions = {}): Promise<Database> {
  const lock = target.kind === 'pglite' ? lockDataDir(target.dir) : undefined
  try {
    const client = await PGlite.create({
      dataDir: target.kind === 'pglite' ? target.dir : undefined,
      extensions: pgliteExtensions(),
    })
    return wrapPglite(client, options, () => lock?.release())
  } catch (error) {
    lock?.release()
    throw error
  }
}

/** Wraps an already open PGlite (tests clone a migrated template instead of migrating each time). */
export function wrapPglite(client: PGlite | PGliteInterface, options: DbOptions = {}, onClosed?: () => void): Database {
  const db = drizzlePglite({ client: guardClient(client as PGlite), schema, logger: queryLogger(options) }) as unknown as Db
  let closed = false
  return {
    db,
    kind: client.dataDir ? 'pglite' : 'memory',
    // In the process: it cannot become unreachable (only closed, at shutdown).
    breaker: alwaysClosedBreaker(),
    ping: (timeoutMs = 2000) => withTimeout(client.query('select 1').then(() => {}), timeoutMs),
    withAdvisoryLock: (_key, fn) => fn(db),
    async listen(channel, onPayload) {
      const stop = await client.listen(channel, onPayload)
      // In the process: a NOTIFY is handed over at its commit, nothing can be in flight.
      return { stop: async () => { if (!closed) await stop() }, heardUpTo: () => performance.now(), peers: () => 0 }
    },
    close: async () => {
      if (closed) return
      closed = true
      try {
        await client.close()
      } finally {
        onClosed?.()
      }
    },
  }
}

type Query = PGlite['query']
type Transaction = Parameters<Parameters<PGlite['transaction']>[0]>[0]

/**
 * PGlite as Drizzle sees it: its queries and transactions belong to the request that sends them
 * (work-scope.ts), so a request answered 503 for its deadline keeps nothing, as on PostgreSQL.
 * Methods are bound to the real client (PGlite keeps private fields).
 */
function guardClient(client: PGlite): PGlite {
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'query') {
        return (...args: Parameters<Query>) => statementOfWork(String(args[0]), () => target.query(...args))
      }
      if (prop === 'transaction') {
        return <T>(fn: (tx: Transaction) => Promise<T>) =>
          transactionOfWork<Transaction, T>((body) => target.transaction(body), (tx, work) => fn(work ? guardTransaction(tx, work) : tx))
      }
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

/** Inside a transaction: no statement is sent once the request's deadline passed. */
function guardTransaction(tx: Transaction, work: Work): Transaction {
  return new Proxy(tx, {
    get(target, prop) {
      if (prop === 'query') {
        return (...args: Parameters<Transaction['query']>) => {
          work.assertActive()
          return target.query(...args)
        }
      }
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
