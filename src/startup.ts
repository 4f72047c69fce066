/**
 * The start-up steps before the server listens: open the database (retrying while it is not up
 * yet, as on Railway where the app can start before PostgreSQL, but not when it answered with a
 * refusal no retry can change), then migrate, seed and fill the
 * lookalike keys of user names that lack one (src/db/name-keys.ts) under one advisory lock.
 */
import type { Config, SeedMode } from './config'
import { createDb, type Database, type DbOptions } from './db/client'
import { permanentConnectionProblem } from './db/errors'
import { migrate, MIGRATION_LOCK_KEY } from './db/migrate'
import { backfillNameKeys } from './db/name-keys'
import { inArray } from 'drizzle-orm'
import { SEED_ACCOUNTS, seed } from './db/seed'
import { users } from './db/schema'
import { DEFAULT_PASSWORD_HASH_COST, verifyPassword, type PasswordHashCost } from './lib/passwords'
import type { Clock } from './lib/clock'
import type { Logger } from './lib/log'

/** The database answered and refused us in a way no retry can change (src/db/errors.ts). */
class PermanentDatabaseError extends Error {
  override name = 'PermanentDatabaseError'
}

export async function openDatabase(config: Config, log: Logger, options: DbOptions = {}): Promise<Database> {
  const database = await createDb(config.database, { poolSize: config.dbPoolSize, log, ...options })
  const deadline = Date.now() + config.dbConnectTimeoutS * 1000
  let delayMs = 250
  for (let attempt = 1; ; attempt++) {
    try {
      await database.ping(5000)
      if (attempt > 1) log.info('database is up', { attempt })
      return database
    } catch (error) {
      const message = (error as Error).message
      const permanent = config.database.kind === 'postgres' ? permanentConnectionProblem(error, config.database.url) : undefined
      if (permanent !== undefined) {
        await database.close().catch(() => {})
        throw new PermanentDatabaseError(permanent)
      }
      if (Date.now() + delayMs > deadline) {
        await database.close().catch(() => {})
        throw new Error(`database not reachable after ${attempt} attempts: ${message}`)
      }
      log.warn('database not reachable yet, retrying', { attempt, retry_in_ms: delayMs, error: message })
      await Bun.sleep(delayMs)
      delayMs = Math.min(delayMs * 2, 4000)
    }
  }
}

const SEEDED: Record<SeedMode, string> = {
  demo: 'seeded the demo accounts, rooms and reservations (SEED=demo)',
  accounts: 'seeded the four accounts admin, teacher, student and guest, no rooms (SEED=accounts)',
  none: '',
}

export async function prepareDatabase(database: Database, clock: Clock, log: Logger, seedMode: SeedMode = 'demo', hashCost: PasswordHashCost = DEFAULT_PASSWORD_HASH_COST): Promise<void> {
  // db: where the lock is (direct connections behind a pooler: DDL and the seed's check-then-insert
  // stay on one server session each, client.ts).
  await database.withAdvisoryLock(MIGRATION_LOCK_KEY, async (db) => {
    await migrate({ kind: database.kind, db })
    if (await seed(db, clock, seedMode, hashCost)) log.info(SEEDED[seedMode], { seed: seedMode })
    await backfillNameKeys(db, log)
  })
}

/** The seeded accounts that still have their published default password, with that password. */
export async function accountsWithDefaultPasswords(database: Database): Promise<{ name: string; password: string }[]> {
  const names = SEED_ACCOUNTS.map((a) => a.name)
  const rows = await database.db.select({ name: users.name, hash: users.passwordHash }).from(users).where(inArray(users.name, names))
  const weak: { name: string; password: string }[] = []
  for (const account of SEED_ACCOUNTS) {
    const row = rows.find((r) => r.name === account.name)
    if (row && (await verifyPassword(account.password, row.hash))) weak.push({ name: account.name, password: account.password })
  }
  return weak
}

/** In production, names every seeded account that still has its published default password. */
export async function warnAboutDefaultPasswords(database: Database, log: Logger): Promise<string[]> {
  const weak = (await accountsWithDefaultPasswords(database)).map((a) => a.name)
  for (const name of weak)
    log.warn(`seeded account "${name}" still has its default password; change it with \`bun run set-password ${name}\``, { account: name })
  return weak
}
