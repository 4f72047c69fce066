/**
 * `bun run set-password <name>` as a process on an embedded database directory: sets the password
 * read from stdin and ends the user's sessions; refuses short or common passwords and unknown users.
 * In production it needs DATABASE_URL and nothing else: it signs nothing, so the documented command
 * works without SECRET_KEY and JWT_SECRET_KEY (as from a machine with the database's public URL).
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
import { processEnv, ROOT } from '../helpers/process'

setDefaultTimeout(30_000) // see test/setup.ts

const dir = mkdtempSync(path.join(tmpdir(), 'qrbook-setpw-'))
const productionDir = mkdtempSync(path.join(tmpdir(), 'qrbook-setpw-production-'))
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  rmSync(productionDir, { recursive: true, force: true })
})

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

  test('in production the documented command needs DATABASE_URL alone, no SECRET_KEY or JWT_SECRET_KEY', async () => {
    // As the README says: printf '%s\n' 'a-new-long-password' | bun run set-password admin, with the
    // server's DATABASE_URL. A clean environment: no secrets, no test settings, nothing but these.
    const documented = (env: Record<string, string>) => Bun.spawnSync(['bun', 'run', 'set-password', 'admin'], {
      cwd: ROOT,
      stdin: new TextEncoder().encode('a-new-long-password\n'),
      env: processEnv({ DATABASE_URL: `pglite://${productionDir}`, LOG_LEVEL: 'error', HOST: undefined, ...env }),
    })
    for (const mode of [{ NODE_ENV: 'production' }, { FLASK_ENV: 'production' }] as Record<string, string>[]) {
      const run = documented(mode)
      // (`bun run` itself echoes the script's command line on stderr)
      expect(run.stderr.toString()).not.toContain('set-password:')
      expect({ mode, code: run.exitCode }).toEqual({ mode, code: 0 })
      expect(run.stdout.toString()).toContain('password of "admin" updated; their sessions were ended')
    }
    // still refused in production: no DATABASE_URL (the embedded default would be a new, empty database)
    const noDatabase = Bun.spawnSync(['bun', 'run', 'set-password', 'admin'], {
      cwd: ROOT, stdin: new TextEncoder().encode('a-new-long-password\n'), env: processEnv({ NODE_ENV: 'production', HOST: undefined }),
    })
    expect(noDatabase.exitCode).toBe(1)
    expect(noDatabase.stderr.toString()).toContain('set-password: invalid configuration: DATABASE_URL: is required in production')

    const database = await createDb({ kind: 'pglite', dir: productionDir })
    try {
      // production seeded the accounts alone on this first use, and admin's password is the new one
      const [admin] = await database.db.select().from(users).where(eq(users.name, 'admin'))
      expect(await verifyPassword('a-new-long-password', admin!.passwordHash)).toBe(true)
      expect(await verifyPassword('admin1234', admin!.passwordHash)).toBe(false)
    } finally {
      await database.close()
    }
  }, 120_000)
})
