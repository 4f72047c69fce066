/**
 * Applies drizzle/ migrations and seeds, under one advisory lock so that several instances
 * starting at once (WORKERS, or a rolling deploy) neither race on DDL nor seed twice.
 */
import path from 'node:path'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import type { Database } from './client'

export const MIGRATIONS_FOLDER = path.resolve(import.meta.dir, '../../drizzle')
/** Arbitrary constant shared by every QRBOOK process: "QRBK" in ASCII. */
export const MIGRATION_LOCK_KEY = 0x5152424b

/** database: an opened one, or (startup.ts, behind a pooler) its kind with a direct handle. */
export async function migrate(database: Pick<Database, 'kind' | 'db'>): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_FOLDER }
  if (database.kind === 'postgres') await migratePostgres(database.db as any, config)
  else {
    const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator')
    await migratePglite(database.db as any, config)
  }
}
