/**
 * bun run set-password <name>
 * Sets a user's password from standard input (first line), e.g. to replace a seeded default:
 *   printf '%s\n' 'a-long-new-password' | bun run set-password admin
 * Uses DATABASE_URL like the server. Ends the user's sessions, as a reset through the API does.
 * It signs nothing, so it needs no SECRET_KEY or JWT_SECRET_KEY, in production either: DATABASE_URL
 * is enough (on Railway, the Postgres service's DATABASE_PUBLIC_URL from your machine, or the
 * service's own variables inside its container with `railway ssh`).
 */
import { eq } from 'drizzle-orm'
import { ConfigError, loadConfig } from '../src/config'
import { buildContext } from '../src/context'
import { users } from '../src/db/schema'
import { systemClock } from '../src/lib/clock'
import { createLogger } from '../src/lib/log'
import { HttpError } from '../src/lib/errors'
import { recordChange, writeTransaction } from '../src/core/changes'
import { setPassword } from '../src/core/identity/users'
import { openDatabase, prepareDatabase } from '../src/startup'

function fail(message: string): never {
  console.error(`set-password: ${message}`)
  process.exit(1)
}

const name = process.argv[2]
if (!name) fail('usage: bun run set-password <name>   (the new password is read from standard input)')

let config
try {
  // Only the database, the seed mode and the hash cost matter here; no rate limits (nor Redis) either.
  config = { ...loadConfig(process.env, { signing: false }), rateLimitEnabled: false }
} catch (error) {
  fail(error instanceof ConfigError ? `invalid configuration: ${error.message}` : String(error))
}

const input = await Bun.stdin.text()
const password = input.split(/\r?\n/)[0] ?? ''

const log = createLogger('warn')
// On the embedded database this fails at once while the server holds the directory (data-dir-lock.ts).
const database = await openDatabase(config, log).catch((error: Error) => fail(error.message))
try {
  await prepareDatabase(database, systemClock, log, config.seed, config.passwordHashCost)
  const ctx = buildContext({ config, database, clock: systemClock, log, startedAt: Date.now() })
  const [user] = await database.db.select().from(users).where(eq(users.name, name))
  if (!user) fail(`no user named "${name}"`)
  await writeTransaction(database, async (tx) => {
    await setPassword(ctx, tx, user, password)
    recordChange(tx, { at: systemClock.now(), actorId: null, event: 'user.password_reset', description: `password of ${user.name} set from the command line`, data: { user_id: user.id, via: 'cli' } })
  })
  console.log(`password of "${name}" updated; their sessions were ended`)
} catch (error) {
  fail(error instanceof HttpError ? error.message : (error as Error).message)
} finally {
  await database.close()
}
