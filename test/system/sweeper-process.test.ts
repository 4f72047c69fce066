/**
 * The release sweeper wired into the process: `bun src/index.ts` sweeps every SWEEP_INTERVAL_S on
 * PGlite, and with WORKERS=2 on PostgreSQL both workers sweep while each booking is released once.
 * The sweeper itself under concurrency: test/sweeper.test.ts.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { loadConfig } from '../../src/config'
import type { Database } from '../../src/db/client'
import { changes, reservations, rooms } from '../../src/db/schema'
import { systemClock } from '../../src/lib/clock'
import { silentLogger } from '../../src/lib/log'
import { openDatabase, prepareDatabase } from '../../src/startup'
import { createPostgresDatabase, postgresServerUrl, stamped } from '../helpers/db'
import { killAll, processEnv, spawnServer } from '../helpers/process'

setDefaultTimeout(60_000) // Bun's 5 s default is too short for tests that start databases and processes

const MIN = 60_000
const PG = await postgresServerUrl()

const cleanups: (() => Promise<unknown> | unknown)[] = []
afterAll(async () => {
  await killAll()
  for (const cleanup of cleanups.reverse()) await cleanup()
})

async function releaseAudits(database: Database, ids: number[]) {
  const rows = await database.db.select().from(changes).where(eq(changes.event, 'reservation.released'))
  const byId = new Map<number, number>()
  for (const row of rows) {
    const id = (row.data as { reservation_id: number }).reservation_id
    if (ids.includes(id)) byId.set(id, (byId.get(id) ?? 0) + 1)
  }
  return ids.map((id) => byId.get(id) ?? 0)
}

describe('the server process sweeps', () => {
  const SECRETS = { SECRET_KEY: 'sweeper-secret-key-0123456789abcdefghijkl', JWT_SECRET_KEY: 'sweeper-jwt-key-0123456789abcdefghijklmno' }

  async function dueBookings(database: Database, n: number): Promise<number[]> {
    const now = new Date()
    const [room] = await database.db.select().from(rooms).where(eq(rooms.name, 'B102'))
    const rows = await database.db.insert(reservations).values(Array.from({ length: n }, (_, i) => stamped({
      roomId: room!.id, userId: 3, checkInRequired: true,
      startTime: new Date(now.getTime() - (20 + i * 120) * MIN),
      endTime: new Date(now.getTime() - (20 + i * 120) * MIN + 60 * MIN),
    }))).returning({ id: reservations.id })
    return rows.map((r) => r.id)
  }

  test('every SWEEP_INTERVAL_S on PGlite; the seeded checked-in booking stays', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qrbook-sweeper-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const config = loadConfig({ ...SECRETS, DATABASE_URL: `pglite://${dir}` })
    let database = await openDatabase(config, silentLogger)
    await prepareDatabase(database, systemClock, silentLogger)
    const ids = await dueBookings(database, 2)
    await database.close()

    const server = spawnServer({ env: processEnv({ ...SECRETS, DATABASE_URL: `pglite://${dir}`, SWEEP_INTERVAL_S: '1' }) })
    const [line] = await server.waitForLog('sweep')
    expect(line!.released).toEqual(ids)
    // The contract routes report the released no-shows in the original's vocabulary (issue 11):
    // cancelled (the room's public schedule without the reason: test/schedule-privacy.test.ts);
    // the journal under cancel_reservation.
    const detail = await (await fetch(`${server.base}/api/rooms/2`)).json() as { schedule: { id: number; status: string; cancel_reason: string | null }[] }
    expect(detail.schedule.filter((e) => ids.includes(e.id)).map((e) => [e.status, e.cancel_reason])).toEqual(ids.map(() => ['cancelled', null]))
    for (const e of detail.schedule) expect(['active', 'finished', 'cancelled']).toContain(e.status)
    expect(await server.stop('SIGTERM')).toBe(0)

    database = await openDatabase(config, silentLogger)
    try {
      expect(await releaseAudits(database, ids)).toEqual([1, 1])
      const [b101] = await database.db.select().from(reservations).where(eq(reservations.roomId, 1))
      expect(b101).toMatchObject({ status: 'active' })
      expect(b101!.checkedInAt).not.toBeNull()
    } finally {
      await database.close()
    }
  })

  test.skipIf(!PG)('WORKERS=2 on PostgreSQL: both sweep, each booking is released once', async () => {
    const created = await createPostgresDatabase('qrbook_sweep_workers', PG)
    cleanups.push(() => created.drop())
    const config = loadConfig({ ...SECRETS, DATABASE_URL: created.url })
    const database = await openDatabase(config, silentLogger)
    cleanups.push(() => database.close())
    await prepareDatabase(database, systemClock, silentLogger)
    const ids = await dueBookings(database, 5)

    const server = spawnServer({ env: processEnv({ ...SECRETS, DATABASE_URL: created.url, WORKERS: '2', SWEEP_INTERVAL_S: '1' }) })
    await server.waitForLog('listening', 2)
    const [line] = await server.waitForLog('sweep')
    expect(line!.released).toEqual(ids)
    await Bun.sleep(2500) // several more rounds of both workers
    expect(await server.stop('SIGTERM')).toBe(0)
    expect(server.logs().filter((l) => l.msg === 'sweep')).toHaveLength(1)
    expect(await releaseAudits(database, ids)).toEqual(ids.map(() => 1))
  })
})
