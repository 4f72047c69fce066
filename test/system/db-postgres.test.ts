/**
 * The database layer's PostgreSQL specifics, each on its own database on the local server (or
 * TEST_DATABASE_URL's): postgresql:// URLs, the advisory lock, and connecting with retries through
 * a TCP proxy that refuses. Migrations and the exclusion constraint: test/db.test.ts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { loadConfig } from '../../src/config'
import { createDb, rowsOf, sql, type Database } from '../../src/db/client'
import { createLogger } from '../../src/lib/log'
import { openDatabase } from '../../src/startup'
import { createPostgresDatabase, postgresServerUrl } from '../helpers/db'
import { startTcpProxy } from '../helpers/tcp-proxy'

setDefaultTimeout(30_000) // see test/setup.ts

const PG = await postgresServerUrl()

async function query<T = Record<string, unknown>>(database: Database, text: string): Promise<T[]> {
  return rowsOf<T>(await database.db.execute(sql.raw(text)))
}

describe.skipIf(!PG)('PostgreSQL specifics (own database on the local server)', () => {
  let created: Awaited<ReturnType<typeof createPostgresDatabase>>
  beforeAll(async () => {
    created = await createPostgresDatabase('qrbook_db', PG)
  })
  afterAll(async () => {
    await created?.drop()
  })

  test("Railway's postgresql:// URLs connect like postgres:// ones", async () => {
    const url = created.url.replace(/^postgres:/, 'postgresql:')
    expect(url.startsWith('postgresql://')).toBe(true)
    const config = loadConfig({ DATABASE_URL: url })
    const database = await createDb(config.database)
    try {
      await database.ping()
      const [row] = await query<{ db: string }>(database, 'select current_database() as db')
      expect(row!.db).toBe(created.name)
    } finally {
      await database.close()
    }
  })

  test('withAdvisoryLock makes a second holder wait until the first is done', async () => {
    const a = await createDb({ kind: 'postgres', url: created.url })
    const b = await createDb({ kind: 'postgres', url: created.url })
    const order: string[] = []
    try {
      let release!: () => void
      const held = new Promise<void>((resolve) => (release = resolve))
      let entered!: () => void
      const aInside = new Promise<void>((resolve) => (entered = resolve))
      const first = a.withAdvisoryLock(4242, async () => {
        order.push('a:in')
        entered()
        await held
        order.push('a:out')
      })
      await aInside
      const second = b.withAdvisoryLock(4242, async () => {
        order.push('b:in')
      })
      await Bun.sleep(300)
      expect(order).toEqual(['a:in']) // b is waiting for the lock
      release()
      await Promise.all([first, second])
      expect(order).toEqual(['a:in', 'a:out', 'b:in'])
      // the lock is released after an error too
      await expect(a.withAdvisoryLock(4242, async () => { throw new Error('boom') })).rejects.toThrow('boom')
      expect(await b.withAdvisoryLock(4242, async () => 'free')).toBe('free')
    } finally {
      await a.close()
      await b.close()
    }
  })

  test('the smallest pool still runs work inside the advisory lock (one connection holds the lock)', async () => {
    const database = await createDb({ kind: 'postgres', url: created.url }, { poolSize: 1 })
    try {
      const answer = await database.withAdvisoryLock(4243, async () => {
        await database.ping(3000)
        return 'done'
      })
      expect(answer).toBe('done')
    } finally {
      await database.close()
    }
  })

  test('openDatabase retries with back-off until PostgreSQL comes up (Railway starts the app first)', async () => {
    const pg = new URL(created.url)
    const proxy = startTcpProxy({ hostname: pg.hostname, port: Number(pg.port || 5432) })
    const lines: string[] = []
    try {
      proxy.setMode('refuse')
      const config = loadConfig({ DATABASE_URL: proxy.urlFor(created.url), DB_CONNECT_TIMEOUT: '20' })
      const opening = openDatabase(config, createLogger('info', (line) => lines.push(line)))
      await Bun.sleep(1200)
      proxy.setMode('pass')
      const database = await opening
      try {
        await database.ping()
      } finally {
        await database.close()
      }
      const logs = lines.map((l) => JSON.parse(l))
      const retries = logs.filter((l) => l.msg === 'database not reachable yet, retrying')
      expect(retries.length).toBeGreaterThanOrEqual(2)
      expect(retries[0]).toMatchObject({ level: 'warn', attempt: 1, retry_in_ms: 250 })
      expect(retries[1]).toMatchObject({ attempt: 2, retry_in_ms: 500 }) // back-off doubles
      expect(logs.at(-1)).toMatchObject({ msg: 'database is up', attempt: retries.length + 1 })
    } finally {
      proxy.close()
    }
  })

  test('openDatabase gives up after DB_CONNECT_TIMEOUT with a clear error', async () => {
    const pg = new URL(created.url)
    const proxy = startTcpProxy({ hostname: pg.hostname, port: Number(pg.port || 5432) })
    proxy.setMode('refuse')
    try {
      const config = loadConfig({ DATABASE_URL: proxy.urlFor(created.url), DB_CONNECT_TIMEOUT: '1' })
      const started = Date.now()
      await expect(openDatabase(config, createLogger('error', () => {}))).rejects.toThrow(/^database not reachable after \d+ attempts: /)
      expect(Date.now() - started).toBeLessThan(5000)
      expect(proxy.accepted).toBeGreaterThanOrEqual(2)
    } finally {
      proxy.close()
    }
  })
})
