/** `bun run set-password <name>` and the production warning about seeded default passwords. */
import { setDefaultTimeout, afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { createDb } from '../src/db/client'
import { seed } from '../src/db/seed'
import { sessions, users } from '../src/db/schema'
import { systemClock } from '../src/lib/clock'
import { createLogger } from '../src/lib/log'
import { verifyPassword } from '../src/lib/passwords'
import { warnAboutDefaultPasswords } from '../src/startup'
import { testDatabase } from './helpers/db'

setDefaultTimeout(30_000) // see test/setup.ts

const ROOT = path.resolve(import.meta.dir, '..')
const dir = mkdtempSync(path.join(tmpdir(), 'qrbook-setpw-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function run(args: string[], stdin: string) {
  return Bun.spawnSync(['bun', 'scripts/set-password.ts', ...args], {
    cwd: ROOT,
    stdin: new TextEncoder().encode(stdin),
    env: { ...process.env, DATABASE_URL: `pglite://${dir}`, NODE_ENV: 'development', LOG_LEVEL: 'error' },
  })
}

describe('set-password', () => {
  test('sets the password read from stdin, ends sessions, refuses short or common ones and unknown users', async () => {
    const ok = run(['admin'], 'a-much-better-password\n')
    expect(ok.stderr.toString()).toBe('')
    expect(ok.exitCode).toBe(0)
    expect(ok.stdout.toString()).toContain('password of "admin" updated')

    const short = run(['admin'], 'short\n')
    expect(short.exitCode).toBe(1)
    expect(short.stderr.toString()).toContain('at least 8 characters')
    // The same rules as the API: not a common password, not the name, not only spaces.
    const common = run(['admin'], 'Password123\n')
    expect(common.exitCode).toBe(1)
    expect(common.stderr.toString()).toContain('set-password: password is one of the most common passwords')
    const unknown = run(['nobody'], 'whatever-password\n')
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr.toString()).toContain('no user named "nobody"')
    const usage = run([], '')
    expect(usage.exitCode).toBe(1)
    expect(usage.stderr.toString()).toContain('usage')

    const database = await createDb({ kind: 'pglite', dir })
    try {
      const [admin] = await database.db.select().from(users).where(eq(users.name, 'admin'))
      expect(await verifyPassword('a-much-better-password', admin!.passwordHash)).toBe(true)
      expect(await verifyPassword('admin1234', admin!.passwordHash)).toBe(false)
      const live = await database.db.select().from(sessions).where(eq(sessions.userId, admin!.id))
      expect(live.every((s) => s.revokedAt !== null)).toBe(true)
    } finally {
      await database.close()
    }
  }, 120_000)
})

describe('default-password warning', () => {
  test('names each seeded account that still has its default password', async () => {
    const { database, drop } = await testDatabase()
    try {
      await seed(database.db, systemClock)
      const lines: string[] = []
      const log = createLogger('info', (line) => lines.push(line))
      expect(await warnAboutDefaultPasswords(database, log)).toEqual(['admin', 'teacher', 'student', 'guest'])
      expect(lines.filter((l) => l.includes('still has its default password'))).toHaveLength(4)

      await database.db.update(users).set({ passwordHash: await Bun.password.hash('changed-password') }).where(eq(users.name, 'admin'))
      expect(await warnAboutDefaultPasswords(database, log)).toEqual(['teacher', 'student', 'guest'])
    } finally {
      await drop()
    }
  })
})
