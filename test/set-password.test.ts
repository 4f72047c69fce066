/**
 * The production warning about seeded default passwords (it tells the operator to run
 * `bun run set-password`). The command itself, run as a process: test/system/set-password.test.ts.
 */
import { setDefaultTimeout, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { loadConfig } from '../src/config'
import { seed } from '../src/db/seed'
import { users } from '../src/db/schema'
import { systemClock } from '../src/lib/clock'
import { createLogger } from '../src/lib/log'
import { hashPassword } from '../src/lib/passwords'
import { warnAboutDefaultPasswords } from '../src/startup'
import { TEST_ENV } from './helpers/app'
import { testDatabase } from './helpers/db'

setDefaultTimeout(30_000) // see test/setup.ts

describe('default-password warning', () => {
  test('names each seeded account that still has its default password', async () => {
    const { database, drop } = await testDatabase()
    try {
      // the tests' cheap hashing (TEST_ENV): what is checked is which hash matches, not its cost
      const cost = loadConfig(TEST_ENV).passwordHashCost
      await seed(database.db, systemClock, 'demo', cost)
      const lines: string[] = []
      const log = createLogger('info', (line) => lines.push(line))
      expect(await warnAboutDefaultPasswords(database, log)).toEqual(['admin', 'teacher', 'student', 'guest'])
      expect(lines.filter((l) => l.includes('still has its default password'))).toHaveLength(4)

      await database.db.update(users).set({ passwordHash: await hashPassword('changed-password', cost) }).where(eq(users.name, 'admin'))
      expect(await warnAboutDefaultPasswords(database, log)).toEqual(['teacher', 'student', 'guest'])
    } finally {
      await drop()
    }
  })
})
