/**
 * Start-up as an operator meets it, from outside: real `bun src/index.ts` and
 * `bun scripts/set-password.ts` processes, their exit codes and the lines they print.
 * - a database that refuses us for good stops the process at once with one line (issue 13.4)
 * - one process per embedded data directory; a dead owner's lock is taken over (13.5)
 * - development keys kept in the data directory survive restarts (13.6)
 * - the human start-up line and GET / (13.7)
 * - SEED=demo|accounts|none and production's start-up warnings (13.8, 13.1, 13.9), among them a
 *   frontend on another site while the cookies are SameSite=Lax (26.6)
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { randomSecret } from '../../scripts/secrets'
import { LOCK_FILE } from '../../src/db/data-dir-lock'
import { DEV_SECRETS_FILE } from '../../src/dev-secrets'
import { databaseUrl, postgresServerUrl } from '../helpers/db'
import { freePort, killAll, processEnv, ROOT, spawnServer, type ServerProcess } from '../helpers/process'

setDefaultTimeout(60_000) // see test/setup.ts

const PG = await postgresServerUrl()
const work = mkdtempSync(path.join(tmpdir(), 'qrbook-startup-'))
afterAll(async () => {
  await killAll()
  rmSync(work, { recursive: true, force: true })
})

/** Runs the process to its end: exit code, output, and how long it took. */
async function runToExit(env: Record<string, string>, cmd = [process.execPath, 'src/index.ts'], stdin?: string) {
  const started = performance.now()
  const proc = Bun.spawn(cmd, { cwd: ROOT, env, stdin: stdin === undefined ? 'ignore' : new TextEncoder().encode(stdin), stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr, seconds: (performance.now() - started) / 1000 }
}

function setPassword(dir: string, name: string, password: string) {
  return runToExit(processEnv({ DATABASE_URL: `pglite://${dir}`, LOG_LEVEL: 'error' }), [process.execPath, 'scripts/set-password.ts', name], `${password}\n`)
}

async function login(base: string, username: string, password: string) {
  return fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }),
  })
}

async function bearerOf(base: string, username: string, password: string): Promise<string> {
  const response = await login(base, username, password)
  expect(response.status).toBe(200)
  return ((await response.json()) as { access_token: string }).access_token
}

describe.skipIf(!PG)('a database that refuses us for good (needs PostgreSQL)', () => {
  test('a database that does not exist: one line naming it, at once, no retries', async () => {
    const missing = `qrbook_startup_missing_${process.pid}`
    const run = await runToExit(processEnv({ DATABASE_URL: databaseUrl(PG!, missing), DB_CONNECT_TIMEOUT: '30' }))
    expect(run.code).toBe(1)
    expect(run.seconds).toBeLessThan(10)
    expect(run.stderr.trim()).toStartWith(`qrbook: database "${missing}" does not exist on `)
    expect(run.stderr).toContain(`3D000`)
    expect(run.stderr).toContain(`createdb ${missing}`)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stdout).not.toContain('retrying')
  })

  test('a login the server refuses (SQLSTATE class 28): one line, at once, without the password', async () => {
    const url = new URL(PG!)
    url.username = 'qrbook_no_such_role'
    url.password = 'hunter2-very-secret'
    const run = await runToExit(processEnv({ DATABASE_URL: url.toString(), DB_CONNECT_TIMEOUT: '30' }))
    expect(run.code).toBe(1)
    expect(run.seconds).toBeLessThan(10)
    expect(run.stderr.trim()).toMatch(/^qrbook: PostgreSQL on .+ refused the login of user "qrbook_no_such_role" \(28\w{3} .*\): check the user name and password in DATABASE_URL$/)
    expect(run.stderr + run.stdout).not.toContain('hunter2-very-secret')
    expect(run.stdout).not.toContain('retrying')
  })

  test('a server that is not there (connection refused) is still waited for, then given up on', async () => {
    const run = await runToExit(processEnv({ DATABASE_URL: `postgres://postgres@127.0.0.1:${freePort()}/x`, DB_CONNECT_TIMEOUT: '2' }))
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('database not reachable yet, retrying')
    expect(run.stderr).toMatch(/^qrbook: database not reachable after \d+ attempts: .*ECONNREFUSED/)
  })
})

describe('the embedded data directory', () => {
  const dir = path.join(work, 'pglite')
  const env = (extra: Record<string, string> = {}) => processEnv({ DATABASE_URL: `pglite://${dir}`, SWEEP_INTERVAL_S: '0', ...extra })
  let server: ServerProcess

  test('first start: development keys created in the directory (0600), the human line, and GET /', async () => {
    server = spawnServer({ env: env({ LOG_FORMAT: 'pretty' }) })
    await server.waitForLog('listening')
    const keys = path.join(dir, DEV_SECRETS_FILE)
    expect(statSync(keys).mode & 0o777).toBe(0o600)
    expect(Object.keys(JSON.parse(readFileSync(keys, 'utf8')))).toEqual(['SECRET_KEY', 'JWT_SECRET_KEY'])
    expect(server.logs().some((l) => l.level === 'warn' && l.msg.includes(`development keys created now in ${keys}`))).toBe(true)

    expect(await server.waitForLine('QRBOOK is running')).toBe(
      `QRBOOK is running at http://127.0.0.1:${server.port} | API docs: http://127.0.0.1:${server.port}/swagger | sign in as admin / admin1234, teacher / teacher1234, student / student1234, guest / guest1234 (default passwords: change them)`,
    )

    const home = await fetch(`${server.base}/`)
    expect(home.status).toBe(200)
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = await home.text()
    expect(html).toContain('href="/swagger"')
    expect(html).toContain('href="/health"')
    expect(html).not.toContain('booking app') // no FRONTEND_BASE_URL
  })

  test('a second process on the same directory gets one clear line and changes nothing', async () => {
    const setPw = await setPassword(dir, 'admin', 'a-new-long-password-1')
    expect(setPw.code).toBe(1)
    expect(setPw.stderr.trim()).toBe(`set-password: the server is running on this data directory (${dir}, pid ${server.proc.pid}); stop it, or use POST /api/admin/users/:id/reset-password`)
    const second = await runToExit(env())
    expect(second.code).toBe(1)
    expect(second.stderr.trim()).toBe(`qrbook: the server is running on this data directory (${dir}, pid ${server.proc.pid}); stop it, or use POST /api/admin/users/:id/reset-password`)
    // The running server still owns it and still has the old password.
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(server.proc.pid))
    expect((await login(server.base, 'admin', 'admin1234')).status).toBe(200)
  })

  test('after a stop: the lock is gone, set-password works, and the sessions and display links of the first run still work', async () => {
    const token = await bearerOf(server.base, 'teacher', 'teacher1234')
    const adminToken = await bearerOf(server.base, 'admin', 'admin1234')
    const link = async (base: string, bearer: string) =>
      ((await (await fetch(`${base}/api/admin/rooms/1/display-link`, { headers: { authorization: `Bearer ${bearer}` } })).json()) as { display_url: string }).display_url
    const firstLink = await link(server.base, adminToken)
    expect(await server.stop('SIGTERM')).toBe(0)
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false)

    const setPw = await setPassword(dir, 'admin', 'a-new-long-password-1')
    expect(setPw.stderr).toBe('')
    expect(setPw.code).toBe(0)

    server = spawnServer({ env: env({ LOG_FORMAT: 'pretty' }) })
    await server.waitForLog('listening')
    expect(server.logs().some((l) => l.msg.includes(`development keys kept in ${path.join(dir, DEV_SECRETS_FILE)}`))).toBe(true)
    // The access token signed before the restart is still valid: the keys were kept.
    const me = await fetch(`${server.base}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ name: 'teacher', role: 'teacher' })
    expect((await login(server.base, 'admin', 'admin1234')).status).toBe(401)
    const newAdmin = await bearerOf(server.base, 'admin', 'a-new-long-password-1')
    expect(new URL(await link(server.base, newAdmin)).search).toBe(new URL(firstLink).search) // the same key
    // admin no longer has a default password, so the line no longer offers it
    const human = await server.waitForLine('QRBOOK is running')
    expect(human).toContain('sign in as teacher / teacher1234, student / student1234, guest / guest1234')
    expect(human).not.toContain('admin /')
  })

  test('a lock left by a killed server (kill -9) is taken over', async () => {
    const pid = server.proc.pid
    await server.stop('SIGKILL')
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(pid))
    const setPw = await setPassword(dir, 'admin', 'a-new-long-password-2')
    expect(setPw.code).toBe(0)
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false)
  })
})

describe('output without a terminal', () => {
  test('without LOG_FORMAT, a process whose stdout is a pipe prints only JSON lines', async () => {
    const server = spawnServer({ env: processEnv({ DATABASE_URL: 'memory://', SWEEP_INTERVAL_S: '0' }) })
    await server.waitForLog('listening')
    await fetch(`${server.base}/health`)
    await server.stop()
    const lines = server.stdout.split('\n').filter(Boolean)
    expect(lines.length).toBeGreaterThan(2)
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    // memory:// keeps nothing, so its keys are random per run and the warning says so
    expect(server.logs().some((l) => l.msg.includes('using random keys for this run'))).toBe(true)
  })
})

describe('SEED', () => {
  async function started(extra: Record<string, string>) {
    const server = spawnServer({ env: processEnv({ DATABASE_URL: 'memory://', SWEEP_INTERVAL_S: '0', ...extra }) })
    await server.waitForLog('listening')
    return server
  }
  const roomsOf = async (server: ServerProcess, bearer: string) =>
    ((await (await fetch(`${server.base}/api/rooms`, { headers: { authorization: `Bearer ${bearer}` } })).json()) as { rooms: { name: string; qr_code_url: string }[] }).rooms

  test('demo (the development default): the four accounts, four rooms', async () => {
    const server = await started({})
    expect(server.logs().find((l) => l.seed)).toMatchObject({ seed: 'demo' })
    expect((await roomsOf(server, await bearerOf(server.base, 'guest', 'guest1234'))).map((r) => r.name).sort()).toEqual(['A200', 'B101', 'B102', 'S001'])
    await server.stop()
  })

  test('accounts: the four accounts and no rooms', async () => {
    const server = await started({ SEED: 'accounts' })
    expect(server.logs().find((l) => l.seed)).toMatchObject({ seed: 'accounts' })
    for (const [name, password] of [['admin', 'admin1234'], ['teacher', 'teacher1234'], ['student', 'student1234'], ['guest', 'guest1234']])
      expect((await login(server.base, name!, password!)).status).toBe(200)
    expect(await roomsOf(server, await bearerOf(server.base, 'admin', 'admin1234'))).toEqual([])
    await server.stop()
  })

  test('none: nothing, nobody can sign in', async () => {
    const server = await started({ SEED: 'none' })
    expect(server.logs().some((l) => l.seed)).toBe(false)
    expect((await login(server.base, 'admin', 'admin1234')).status).toBe(401)
    await server.stop()
  })

  test('a value it does not know stops the start with one line', async () => {
    const run = await runToExit(processEnv({ DATABASE_URL: 'memory://', SEED: 'everything' }))
    expect(run.code).toBe(1)
    expect(run.stderr.trim()).toBe('qrbook: invalid configuration: SEED: expected one of demo, accounts, none (got "everything")')
  })

  const production = (extra: Record<string, string>) => ({
    NODE_ENV: 'production', SECRET_KEY: randomSecret(), JWT_SECRET_KEY: randomSecret(), DATABASE_URL: 'memory://', ...extra,
  })

  test('production defaults to accounts, and warns about codes pointing at localhost and an unset APP_TIMEZONE', async () => {
    const server = await started(production({}))
    expect(server.logs().find((l) => l.seed)).toMatchObject({ seed: 'accounts' })
    const warnings = server.logs().filter((l) => l.level === 'warn').map((l) => l.msg)
    expect(warnings).toContain(`QR codes and posters point at http://localhost:${server.port}/, this machine, not the public server: set SERVER_EXTERNAL_BASE=https://<your-backend-domain>/ (on Railway, generate a domain: RAILWAY_PUBLIC_DOMAIN is then used)`)
    expect(warnings.some((w) => w.startsWith('APP_TIMEZONE is not set'))).toBe(true)
    expect(warnings.filter((w) => w.includes('still has its default password'))).toHaveLength(4)
    expect(await roomsOf(server, await bearerOf(server.base, 'admin', 'admin1234'))).toEqual([])
    await server.stop()
  })

  test('production on Railway: the public base comes from RAILWAY_PUBLIC_DOMAIN, no localhost or time zone warning', async () => {
    const server = await started(production({ RAILWAY_PUBLIC_DOMAIN: 'qrbook-test.up.railway.app', APP_TIMEZONE: 'Europe/Moscow' }))
    const warnings = server.logs().filter((l) => l.level === 'warn').map((l) => l.msg)
    expect(warnings.filter((w) => w.includes('localhost') || w.includes('APP_TIMEZONE'))).toEqual([])
    const admin = await bearerOf(server.base, 'admin', 'admin1234')
    const created = await fetch(`${server.base}/api/rooms`, {
      method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'K1', room_type: 'public' }),
    })
    expect(created.status).toBe(201)
    expect(((await created.json()) as { room: { qr_code_url: string } }).room.qr_code_url).toMatch(/^https:\/\/qrbook-test\.up\.railway\.app\/static\/qr\/\d+\.png$/)
    await server.stop()
  })

  test('a frontend on another *.up.railway.app domain: a warning at start while cookies are SameSite=Lax, none with None', async () => {
    const railway = { RAILWAY_PUBLIC_DOMAIN: 'qrbook-test.up.railway.app', APP_TIMEZONE: 'Europe/Moscow', CORS_ORIGINS: 'https://qrbook-front.up.railway.app' }
    const lax = await started(production(railway))
    const warnings = lax.logs().filter((l) => l.level === 'warn' && l.msg.startsWith('CORS_ORIGINS names another site')).map((l) => l.msg)
    expect(warnings).toEqual([expect.stringContaining('(https://qrbook-front.up.railway.app; the backend is https://qrbook-test.up.railway.app/) while the session cookies are SameSite=Lax')])
    expect(warnings[0]).toContain('set JWT_COOKIE_SAMESITE=None with JWT_COOKIE_SECURE=true')
    // and an admin reads it in GET /health
    const health = await fetch(`${lax.base}/health`, { headers: { authorization: `Bearer ${await bearerOf(lax.base, 'admin', 'admin1234')}` } })
    expect(((await health.json()) as { warnings: string[] }).warnings).toEqual(warnings)
    await lax.stop()

    const none = await started(production({ ...railway, JWT_COOKIE_SAMESITE: 'None', JWT_COOKIE_SECURE: 'true' }))
    expect(none.logs().filter((l) => l.level === 'warn' && l.msg.includes('CORS_ORIGINS'))).toEqual([])
    await none.stop()
  })
})
