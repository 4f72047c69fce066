/**
 * The start-up steps before the server listens: open the database (retrying while it is not up
 * yet, as on Railway where the app can start before PostgreSQL), then migrate, seed and fill the
 * lookalike keys of user names that lack one (src/db/name-keys.ts) under one advisory lock.
 */
import type { Config } from './config'
import { createDb, type Database, type DbOptions } from './db/client'
import { migrate, MIGRATION_LOCK_KEY } from './db/migrate'
import { backfillNameKeys } from './db/name-keys'
import { inArray } from 'drizzle-orm'
import { SEED_ACCOUNTS, seed } from './db/seed'
import { users } from './db/schema'
import { verifyPassword } from './lib/passwords'
import type { Clock } from './lib/clock'
import type { Logger } from './lib/log'

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

export async function prepareDatabase(database: Database, clock: Clock, log: Logger): Promise<void> {
  await database.withAdvisoryLock(MIGRATION_LOCK_KEY, async () => {
    await migrate(database)
    if (await seed(database.db, clock)) log.info('seeded the demo accounts, rooms and reservations')
    await backfillNameKeys(database.db, log)
  })
}

/** In production, names every seeded account that still has its published default password. */
export async function warnAboutDefaultPasswords(database: Database, log: Logger): Promise<string[]> {
  const names = SEED_ACCOUNTS.map((a) => a.name)
  const rows = await database.db.select({ name: users.name, hash: users.passwordHash }).from(users).where(inArray(users.name, names))
  const weak: string[] = []
  for (const account of SEED_ACCOUNTS) {
    const row = rows.find((r) => r.name === account.name)
    if (row && (await verifyPassword(account.password, row.hash))) weak.push(account.name)
  }
  for (const name of weak)
    log.warn(`seeded account "${name}" still has its default password; change it with \`bun run set-password ${name}\``, { account: name })
  return weak
}
