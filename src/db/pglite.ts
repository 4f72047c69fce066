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
  const db = drizzlePglite({ client: client as PGlite, schema, logger: queryLogger(options) }) as unknown as Db
  let closed = false
  return {
    db,
    kind: client.dataDir ? 'pglite' : 'memory',
    // In the process: it cannot become unreachable (only closed, at shutdown).
    breaker: alwaysClosedBreaker(),
    ping: (timeoutMs = 2000) => withTimeout(client.query('select 1').then(() => {}), timeoutMs),
    withAdvisoryLock: (_key, fn) => fn(),
    async listen(channel, onPayload) {
      const stop = await client.listen(channel, onPayload)
      return async () => { if (!closed) await stop() }
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
