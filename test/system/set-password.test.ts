/**
 * `bun run set-password <name>` as a process on an embedded database directory: sets the password
 * read from stdin and ends the user's sessions; refuses short or common passwords and unknown users.
 * The production warning about seeded default passwords: test/set-password.test.ts.
 */
import { setDefaultTimeout, afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { createDb } from '../../src/db/client'
import { sessions, users } from '../../src/db/schema'
import { verifyPassword } from '../../src/lib/passwords'
import { ROOT } from '../helpers/process'

setDefaultTimeout(30_000) // see test/setup.ts

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
