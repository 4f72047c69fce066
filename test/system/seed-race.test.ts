/**
 * Two real server processes starting at once on one fresh PostgreSQL database: the advisory lock
 * serializes migrate + seed, so the data is created exactly once and both serve. seed() itself:
 * test/seed.test.ts.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createDb } from '../../src/db/client'
import { createPostgresDatabase, postgresServerUrl } from '../helpers/db'
import { appliedMigrations, counts, MIGRATION_COUNT, seededData } from '../helpers/db-state'
import { killAll, processEnv, spawnServer } from '../helpers/process'

setDefaultTimeout(30_000) // see test/setup.ts

const PG = await postgresServerUrl()

afterAll(killAll)


describe.skipIf(!PG)('two server processes starting at once on one fresh PostgreSQL database', () => {
  test('migrate and seed exactly once; both serve', async () => {
    const created = await createPostgresDatabase('qrbook_seed_race', PG)
    try {
      const env = processEnv({ DATABASE_URL: created.url })
      const servers = [spawnServer({ env }), spawnServer({ env })]
      await Promise.all(servers.map((s) => s.waitForLog('listening')))

      for (const server of servers) {
        const res = await fetch(`${server.base}/health`)
        expect(res.status).toBe(200)
        expect(await res.json()).toMatchObject({ status: 'healthy', database: 'connected' })
      }
      // exactly one of them seeded, the other found the users already there
      const seededBy = servers.filter((s) => s.logs().some((l) => l.seed === 'demo'))
      expect(seededBy).toHaveLength(1)

      const database = await createDb({ kind: 'postgres', url: created.url })
      try {
        expect(await counts(database)).toEqual({ users: 4, rooms: 4, reservations: 3 })
        const data = await seededData(database)
        expect(data.users.map((u) => u.name)).toEqual(['admin', 'teacher', 'student', 'guest'])
        expect(data.rooms.map((r) => r.name)).toEqual(['B101', 'B102', 'A200', 'S001'])
        expect(await appliedMigrations(database)).toBe(MIGRATION_COUNT)
      } finally {
        await database.close()
      }

      expect(await Promise.all(servers.map((s) => s.stop('SIGTERM')))).toEqual([0, 0])
    } finally {
      await killAll()
      await created.drop()
    }
  })
})
