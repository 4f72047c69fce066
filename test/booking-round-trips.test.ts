/**
 * What a booking sends to the database (issue 29), so that a regression shows here and not only in
 * the bench: the statements of `POST /rooms/:id/reserve` for a plain student (both databases), and
 * on PostgreSQL the times it waits for the server (round trips, counted by a proxy between the app
 * and PostgreSQL: a client message sent after the server last spoke starts one). The figures
 * themselves are measured in bench/ (`bun bench/run.ts --only bookings`), never timed here.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Socket } from 'bun'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { createDb, type Database } from '../src/db/client'
import { migrate } from '../src/db/migrate'
import { seed } from '../src/db/seed'
import { fixedClock } from '../src/lib/clock'
import { silentLogger } from '../src/lib/log'
import { loggedIn, TEST_ENV, testApp, type Client, type TestApp } from './helpers/app'
import { createPostgresDatabase, onPostgres } from './helpers/db'

setDefaultTimeout(30_000) // see test/setup.ts

const clock = fixedClock('2030-03-10T12:00:00Z')
/** A free half hour in B101 (room 1), `n` hours after the seeded bookings. */
const slot = (n: number) => {
  const start = new Date(Date.UTC(2030, 2, 12, 0) + n * 3600_000)
  return { start_time: start.toISOString(), end_time: new Date(start.getTime() + 1800_000).toISOString() }
}

describe('statements of a booking', () => {
  let t: TestApp
  let student: Client
  let counting = false
  const queries: string[] = []
  beforeAll(async () => {
    t = await testApp({ clock, env: { NO_SHOW_STRIKES: '3' }, db: { onQuery: (q) => { if (counting) queries.push(q) } } })
    student = await loggedIn(t.app, 'student')
    expect((await student.post('/api/rooms/1/reserve', slot(0))).status).toBe(201) // the actor cache is warm
  })
  afterAll(() => t.close())

  test('a plain student booking: the room lock, five reads, the insert and the change record', async () => {
    counting = true
    const r = await student.post('/api/rooms/1/reserve', slot(2))
    counting = false
    expect(r.status).toBe(201)
    const kinds = queries.map((q) => {
      const s = q.replace(/\s+/g, ' ').trim()
      if (s.startsWith('select "id", "name", "type"') && s.endsWith('for no key update')) return 'room lock'
      if (s.includes('from "closures"')) return 'closures'
      if (s.includes('from booking_policies')) return 'fair-use facts'
      if (s.includes('"approval" = $1') && s.includes('skip locked')) return 'expired pending'
      if (s.includes('"rooms"."auto_release_after_min"') && s.includes('skip locked')) return 'due no-shows'
      if (s.includes('inner join "users"') && s.includes('"reservations"."start_time" <')) return 'slot holders'
      if (s.startsWith('insert into "reservations"')) return 'insert'
      if (s.includes('insert into changes')) return 'change record'
      return s.slice(0, 60)
    })
    // the lock first (every read is sent behind it: their order among themselves does not matter)
    expect(kinds[0]).toBe('room lock')
    expect(kinds.slice(1, 6).sort()).toEqual(['closures', 'due no-shows', 'expired pending', 'fair-use facts', 'slot holders'])
    expect(kinds.slice(6)).toEqual(['insert', 'change record'])
  })
})

/**
 * A TCP proxy in front of PostgreSQL that counts, per pool connection, the client's flights: bytes
 * sent after the server last sent some. The live feed's own connection (qrbook-listen) is left out.
 */
function countingProxy(target: { hostname: string; port: number }) {
  interface Pipe { upstream?: Socket<Pipe>; held: Uint8Array[]; app?: string; serverSpoke: boolean; client?: Socket<Pipe> }
  const state = { counting: false, flights: 0 }
  const server = Bun.listen<Pipe>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(client) {
        const pipe: Pipe = { held: [], serverSpoke: true, client }
        client.data = pipe
        void Bun.connect<Pipe>({
          ...target,
          socket: {
            open(upstream) {
              upstream.data = pipe
              pipe.upstream = upstream
              for (const chunk of pipe.held) upstream.write(chunk)
              pipe.held = []
            },
            data(_upstream, bytes) {
              pipe.serverSpoke = true
              pipe.client?.write(bytes)
            },
            close: () => { pipe.client?.end() },
            error: () => { pipe.client?.end() },
          },
        })
      },
      data(client, bytes) {
        const pipe = client.data
        pipe.app ??= /application_name\0([^\0]*)/.exec(Buffer.from(bytes).toString('latin1'))?.[1] ?? ''
        if (pipe.serverSpoke && state.counting && !pipe.app.startsWith('qrbook-listen')) state.flights++
        pipe.serverSpoke = false
        if (pipe.upstream) pipe.upstream.write(bytes)
        else pipe.held.push(new Uint8Array(bytes))
      },
      close: (client) => { client.data.upstream?.end() },
      error: (client) => { client.data.upstream?.end() },
    },
  })
  return { state, port: server.port, stop: () => server.stop(true) }
}

describe.skipIf(!onPostgres)('round trips of a booking (PostgreSQL)', () => {
  let created: Awaited<ReturnType<typeof createPostgresDatabase>>
  let proxy: ReturnType<typeof countingProxy>
  let database: Database
  let qrbook: ReturnType<typeof createApp>
  let student: Client
  beforeAll(async () => {
    created = await createPostgresDatabase()
    const url = new URL(created.url)
    proxy = countingProxy({ hostname: url.hostname, port: Number(url.port || 5432) })
    url.hostname = '127.0.0.1'
    url.port = String(proxy.port)
    database = await createDb({ kind: 'postgres', url: url.toString() })
    await migrate(database)
    const config = loadConfig({ ...TEST_ENV, NO_SHOW_STRIKES: '3', STATIC_QR_PATH: `${import.meta.dir}/../data/test-qr-rt-${process.pid}` })
    await seed(database.db, clock, 'demo', config.passwordHashCost)
    // not started: no follower or sweeper shares the pool while a booking is counted
    qrbook = createApp({ config, database, clock, log: silentLogger, startedAt: Date.now() })
    student = await loggedIn(qrbook.app, 'student')
    expect((await student.post('/api/rooms/1/reserve', slot(0))).status).toBe(201)
  })
  afterAll(async () => {
    await qrbook?.stop()
    await database?.close()
    proxy?.stop()
    await created?.drop()
    await Bun.$`rm -rf ${import.meta.dir}/../data/test-qr-rt-${process.pid}`.quiet().nothrow()
  })

  test('four waits: BEGIN, the lock with every read, the insert, the change record with COMMIT', async () => {
    proxy.state.flights = 0
    proxy.state.counting = true
    const r = await student.post('/api/rooms/1/reserve', slot(2))
    proxy.state.counting = false
    expect(r.status).toBe(201)
    expect(proxy.state.flights).toBe(4)
  })

  test('a refused booking (the slot is held, 409 with held_by) waits three times: BEGIN, the lock with every read, ROLLBACK', async () => {
    proxy.state.flights = 0
    proxy.state.counting = true
    const r = await student.post('/api/rooms/1/reserve', slot(2))
    proxy.state.counting = false
    expect(r.status).toBe(409)
    expect(r.body.held_by).toHaveLength(1)
    expect(proxy.state.flights).toBe(3)
  })
})
