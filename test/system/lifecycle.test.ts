/**
 * The process lifecycle, end to end with real `bun src/index.ts` processes: start-up order
 * (config -> database -> migrate + seed -> listen), persistence across restarts on one PGlite
 * directory, graceful SIGTERM/SIGINT, clear one-line failures, TIMEOUT, and WORKERS.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createDb } from '../../src/db/client'
import { rooms } from '../../src/db/schema'
import { createPostgresDatabase, postgresServerUrl, stamped } from '../helpers/db'
import { appliedMigrations, counts, MIGRATION_COUNT } from '../helpers/db-state'
import { alive, freePort, killAll, processEnv, spawnServer, type ServerProcess } from '../helpers/process'
import { startTcpProxy } from '../helpers/tcp-proxy'

setDefaultTimeout(30_000) // see test/setup.ts

const PG = await postgresServerUrl()
const SECRETS = { SECRET_KEY: 'lifecycle-secret-key-0123456789abcdefghij', JWT_SECRET_KEY: 'lifecycle-jwt-key-0123456789abcdefghijklm' }
const SEEDED = 'seeded the demo accounts, rooms and reservations (SEED=demo)'

const tempDirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'qrbook-lifecycle-'))
  tempDirs.push(dir)
  return dir
}
afterAll(async () => {
  await killAll()
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

async function health(server: ServerProcess) {
  const res = await fetch(`${server.base}/health`)
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> }
}

/** Runs a process that must fail at start; returns its exit code and output. */
async function failedStart(env: Record<string, string>) {
  const server = spawnServer({ env })
  const code = await server.exited
  return { code, stdout: server.stdout, stderr: server.stderr }
}

describe('on the embedded database (pglite://<dir>)', () => {
  test('starts, migrates, seeds, then listens; a restart on the same directory keeps all data', async () => {
    const dir = path.join(tempDir(), 'pglite')
    const env = processEnv({ ...SECRETS, DATABASE_URL: `pglite://${dir}` })

    const first = spawnServer({ env })
    const [listening] = await first.waitForLog('listening')
    expect(listening).toMatchObject({ level: 'info', database: 'pglite', pid: first.proc.pid })
    const messages = first.logs().map((l) => l.msg)
    expect(messages.indexOf(SEEDED)).toBeGreaterThanOrEqual(0)
    expect(messages.indexOf(SEEDED)).toBeLessThan(messages.indexOf('listening')) // seeded before listening

    const reply = await health(first)
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({ status: 'healthy', database: 'connected' })
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff')
    const requestId = reply.headers.get('x-request-id')
    expect(requestId).toBeTruthy()
    // one JSON access-log line per request, carrying the same request id (written after the
    // answer: waited for, not slept for, so a busy machine does not fail it)
    const loggedLine = () => first.logs().find((l) => l.msg === 'request' && l.id === requestId)
    for (const until = Date.now() + 5000; !loggedLine() && Date.now() < until;) await Bun.sleep(20)
    const logged = loggedLine()
    expect(logged).toMatchObject({
      method: 'GET', path: '/health', status: 200, ms: expect.any(Number),
    })

    expect(await first.stop('SIGTERM')).toBe(0)
    expect(first.logs().slice(-2).map((l) => l.msg)).toEqual(['shutting down', 'stopped'])

    // the data is on disk: add rows while no server runs
    let database = await createDb({ kind: 'pglite', dir })
    try {
      expect(await counts(database)).toEqual({ users: 4, rooms: 4, reservations: 3 })
      await database.db.insert(rooms).values(stamped({ name: 'PERSISTED-1', type: 'service' }))
    } finally {
      await database.close()
    }

    const second = spawnServer({ env })
    await second.waitForLog('listening')
    expect(second.logs().some((l) => l.msg === SEEDED)).toBe(false) // users exist: no second seed
    expect((await health(second)).status).toBe(200)
    expect(await second.stop('SIGINT')).toBe(0)
    expect(second.logs().find((l) => l.msg === 'shutting down')).toMatchObject({ signal: 'SIGINT' })

    database = await createDb({ kind: 'pglite', dir })
    try {
      expect(await counts(database)).toEqual({ users: 4, rooms: 5, reservations: 3 })
      expect((await database.db.select().from(rooms)).map((r) => r.name)).toContain('PERSISTED-1')
      expect(await appliedMigrations(database)).toBe(MIGRATION_COUNT)
    } finally {
      await database.close()
    }
  })

  test('WORKERS=2 is refused on PGlite with one line naming WORKERS, before touching the database', async () => {
    const dir = path.join(tempDir(), 'never-created')
    for (const env of [
      processEnv({ ...SECRETS, WORKERS: '2', DATABASE_URL: `pglite://${dir}` }),
      processEnv({ ...SECRETS, WORKERS: '2', DATABASE_URL: 'memory://' }),
    ]) {
      const result = await failedStart(env)
      expect(result.code).toBe(1)
      expect(result.stderr.trim().split('\n')).toEqual([
        'qrbook: invalid configuration: WORKERS: must be 1 on the embedded database (PGlite is single-process); use a postgres:// DATABASE_URL for more (got "2")',
      ])
      expect(result.stdout).toBe('')
    }
    expect(existsSync(dir)).toBe(false)
  })
})

describe('start-up failures: exit non-zero with one clear line', () => {
  test('a bad config value names the variable and what it expects', async () => {
    const results = await Promise.all([
      failedStart(processEnv({ ...SECRETS, DATABASE_URL: 'memory://', PORT: 'eighty' })),
      failedStart(processEnv({ ...SECRETS, DATABASE_URL: 'memory://', JWT_COOKIE_SECURE: 'sometimes' })),
      failedStart(processEnv({ DATABASE_URL: 'postgres://db.internal/app', FLASK_ENV: 'production' })),
      failedStart(processEnv({ ...SECRETS, NODE_ENV: 'production' })),
    ])
    expect(results.map((r) => r.code)).toEqual([1, 1, 1, 1])
    expect(results.map((r) => r.stderr.trim().split('\n'))).toEqual([
      ['qrbook: invalid configuration: PORT: expected a whole number from 1 to 65535 (got "eighty")'],
      ['qrbook: invalid configuration: JWT_COOKIE_SECURE: expected true or false (got "sometimes")'],
      ['qrbook: invalid configuration: SECRET_KEY: is required in production; generate one with `bun run secrets`'],
      ['qrbook: invalid configuration: DATABASE_URL: is required in production (a postgres:// URL, or pglite://<dir> to use the embedded database on purpose)'],
    ])
    expect(results.map((r) => r.stdout)).toEqual(['', '', '', ''])
  })

  test('an unreachable database: retries for DB_CONNECT_TIMEOUT, then one line and exit 1', async () => {
    const closedPort = freePort()
    const server = spawnServer({ env: processEnv({ ...SECRETS, DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/qrbook`, DB_CONNECT_TIMEOUT: '1' }) })
    expect(await server.exited).toBe(1)
    const lines = server.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^qrbook: database not reachable after \d+ attempts: /)
    expect(server.logs().filter((l) => l.msg === 'database not reachable yet, retrying').length).toBeGreaterThanOrEqual(1)
    expect(server.logs().some((l) => l.msg === 'listening')).toBe(false)
  })
})

describe.skipIf(!PG)('on PostgreSQL (own database on the local server)', () => {
  test('SIGTERM: stops accepting, finishes the in-flight request, closes the database, exits 0', async () => {
    const created = await createPostgresDatabase('qrbook_sigterm', PG)
    const pg = new URL(created.url)
    const proxy = startTcpProxy({ hostname: pg.hostname, port: Number(pg.port || 5432) })
    try {
      const server = spawnServer({ env: processEnv({ ...SECRETS, DATABASE_URL: proxy.urlFor(created.url) }) })
      await server.waitForLog('listening')
      expect((await health(server)).status).toBe(200)

      // A slow database makes /health a slow request: it waits for PostgreSQL's answer.
      proxy.setMode('stall')
      const started = performance.now()
      const inFlight = fetch(`${server.base}/health`)
      await Bun.sleep(300)
      server.proc.kill('SIGTERM')
      await server.waitForLog('shutting down')
      await Bun.sleep(100)
      // no new connections once shutting down ...
      const refused = await fetch(`${server.base}/health`).then(() => 'answered', (error) => String(error))
      expect(refused).not.toBe('answered')
      expect(server.proc.exitCode).toBeNull() // ... but still running for the request in flight
      proxy.setMode('pass')

      const res = await inFlight
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ status: 'healthy', database: 'connected' })
      expect(performance.now() - started).toBeGreaterThan(400)
      expect(await server.exited).toBe(0)
      // after the signal: the in-flight request is answered and logged, then the process stops
      const logs = server.logs()
      const after = logs.slice(logs.findIndex((l) => l.msg === 'shutting down'))
      expect(after.map((l) => l.msg)).toEqual(['shutting down', 'request', 'stopped'])
      expect(after[1]).toMatchObject({ path: '/health', status: 200 })
    } finally {
      await killAll()
      proxy.close()
      await created.drop()
    }
  })

  test('TIMEOUT bounds a request: 503 {"msg":"request timed out"} with the request id', async () => {
    const created = await createPostgresDatabase('qrbook_timeout', PG)
    const pg = new URL(created.url)
    const proxy = startTcpProxy({ hostname: pg.hostname, port: Number(pg.port || 5432) })
    try {
      const server = spawnServer({ env: processEnv({ ...SECRETS, DATABASE_URL: proxy.urlFor(created.url), TIMEOUT: '1' }) })
      await server.waitForLog('listening')
      proxy.setMode('stall') // /health would wait 2 s for the database; TIMEOUT=1 answers first
      const started = performance.now()
      const res = await fetch(`${server.base}/health`, { headers: { 'x-request-id': 'slow-health-1' } })
      const elapsed = performance.now() - started
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ msg: 'request timed out', request_id: 'slow-health-1' })
      expect(res.headers.get('x-request-id')).toBe('slow-health-1')
      expect(elapsed).toBeGreaterThanOrEqual(950)
      expect(elapsed).toBeLessThan(1900)
      proxy.setMode('pass')
      expect(await server.stop('SIGTERM')).toBe(0)
    } finally {
      await killAll()
      proxy.close()
      await created.drop()
    }
  })

  test('WORKERS=2: the primary migrates and seeds once, two worker processes share the port', async () => {
    const created = await createPostgresDatabase('qrbook_workers', PG)
    try {
      const server = spawnServer({ env: processEnv({ ...SECRETS, DATABASE_URL: created.url, WORKERS: '2' }) })
      const listening = await server.waitForLog('listening', 2)
      const workerPids = listening.map((l) => l.pid as number)
      expect(new Set(workerPids).size).toBe(2)
      expect(workerPids).not.toContain(server.proc.pid)
      expect(server.logs().find((l) => l.msg === 'started workers')).toMatchObject({ workers: expect.arrayContaining(workerPids) })
      expect(server.logs().filter((l) => l.msg === SEEDED)).toHaveLength(1)

      const replies = await Promise.all(Array.from({ length: 20 }, () => health(server)))
      expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200))

      const database = await createDb({ kind: 'postgres', url: created.url })
      try {
        expect(await counts(database)).toEqual({ users: 4, rooms: 4, reservations: 3 })
      } finally {
        await database.close()
      }

      expect(await server.stop('SIGTERM')).toBe(0)
      expect(workerPids.filter(alive)).toEqual([])
      expect(server.logs().filter((l) => l.msg === 'stopped')).toHaveLength(2)
    } finally {
      await killAll()
      await created.drop()
    }
  })

  test('WORKERS=2: if a worker dies, the primary stops the other and exits 1 (the platform restarts it)', async () => {
    const created = await createPostgresDatabase('qrbook_workers_die', PG)
    try {
      const server = spawnServer({ env: processEnv({ ...SECRETS, DATABASE_URL: created.url, WORKERS: '2' }) })
      const listening = await server.waitForLog('listening', 2)
      const [victim, survivor] = listening.map((l) => l.pid as number)
      process.kill(victim!, 'SIGKILL')
      expect(await server.exited).toBe(1)
      expect(server.logs().find((l) => l.msg === 'a worker exited unexpectedly; stopping the others')).toMatchObject({ level: 'error', pid: victim })
      expect(alive(survivor!)).toBe(false)
    } finally {
      await killAll()
      await created.drop()
    }
  })
})
