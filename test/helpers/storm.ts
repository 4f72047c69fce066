/**
 * The booking storm, as a suite two test files run: two app processes (WORKERS=2) on one
 * PostgreSQL database, 200 concurrent clients, 10 rooms, 15 s of random overlapping bookings,
 * reschedules (teachers) and cancellations. Afterwards, in SQL: no two active reservations of a
 * room overlap, every 201 has its row and its audit row, every refused request left nothing
 * behind, and nothing answered 5xx. test/system/reliability-storm.test.ts runs it on PostgreSQL
 * directly, test/system/pgbouncer-storm.test.ts through PgBouncer in transaction mode.
 *
 * Rate limits are off (RATELIMIT_ENABLED=false): this is a load test, and 200 clients from one IP
 * would spend the global per-IP budget.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import postgres from 'postgres'
import { DEFAULT_PASSWORD_HASH_COST, hashPassword } from '../../src/lib/passwords'
import { createPostgresDatabase } from './db'
import { hasPgbouncer, startPgbouncer, type Pgbouncer } from './pgbouncer'
import { alive, killAll, processEnv, spawnServer, type ServerProcess } from './process'

const SECRETS = { SECRET_KEY: 'storm-secret-key-0123456789abcdefghijklmn', JWT_SECRET_KEY: 'storm-jwt-secret-key-0123456789abcdefghij' }
const CLIENTS = 200
const TEACHERS = 20
const ROOMS = 10
const STORM_MS = 15_000
const QUARTER = 15 * 60_000
/** Bookings fall on 15-minute steps of a 12-hour window tomorrow: 10 rooms, 48 starts, heavy overlap. */
const WINDOW_START = Math.ceil((Date.now() + 36 * 3600_000) / 3600_000) * 3600_000
const PASSWORD = 'storm-password-1234'

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z')
const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!
function randomRange() {
  const start = WINDOW_START + Math.floor(Math.random() * 48) * QUARTER
  return { start, end: start + (1 + Math.floor(Math.random() * 6)) * QUARTER }
}

interface Client { name: string; id: number; role: 'student' | 'teacher'; token: string }
interface Created { id: number; roomId: number; userId: number; start: number; end: number }
interface Outcome { kind: 'reserve' | 'patch' | 'cancel'; status: number; ms: number }

export interface StormOptions {
  /** The PostgreSQL server the storm's database is created on (undefined: skipped). */
  pg: string | undefined
  /**
   * Through a PgBouncer of its own in transaction mode (test/helpers/pgbouncer.ts): DATABASE_URL
   * goes through it, DATABASE_DIRECT_URL to PostgreSQL itself. Skipped without pgbouncer.
   */
  pgbouncer?: boolean
}

/** The storm's suite: test/system/reliability-storm.test.ts (direct) and pgbouncer-storm.test.ts. */
export function stormSuite({ pg: PG, pgbouncer: viaPgbouncer = false }: StormOptions): void {
  describe.skipIf(!PG || (viaPgbouncer && !hasPgbouncer))(`booking storm: WORKERS=2 on one PostgreSQL${viaPgbouncer ? ' through PgBouncer (transaction mode)' : ''}, 200 clients, 10 rooms, 15 s`, () => {
    let db: Awaited<ReturnType<typeof createPostgresDatabase>>
    let pooler: Pgbouncer | undefined
    let sql: postgres.Sql
    let server: ServerProcess
    let roomIds: number[] = []
    let clients: Client[] = []
    let seeded = 0

    const created: Created[] = []
    /** successful reschedules per reservation id: the times each one set */
    const patched = new Map<number, { start: number; end: number }[]>()
    const cancelled = new Set<number>()
    const outcomes: Outcome[] = []
    const failures: string[] = []

    beforeAll(async () => {
      db = await createPostgresDatabase('qrbook_storm', PG)
      // Through the pooler: 2 workers x 10 client connections share its 8 server connections.
      pooler = viaPgbouncer ? await startPgbouncer(PG!) : undefined
      const urls = pooler ? { DATABASE_URL: pooler.urlFor(db.url), DATABASE_DIRECT_URL: db.url } : { DATABASE_URL: db.url }
      server = spawnServer({
        env: processEnv({ ...SECRETS, ...urls, WORKERS: '2', RATELIMIT_ENABLED: 'false', DB_POOL_SIZE: '10' }),
      })
      await server.waitForLog('listening', 2)
      sql = postgres(db.url, { max: 2, onnotice: () => {} })

      const rooms = await sql`
        insert into rooms (name, type, created_at, updated_at) select 'STORM' || lpad(i::text, 2, '0'), 'public', now(), now() from generate_series(1, ${ROOMS}::int) i
        returning id`
      roomIds = rooms.map((r) => r.id as number)
      const hash = await hashPassword(PASSWORD, DEFAULT_PASSWORD_HASH_COST) // the server's (default) cost
      const users = await sql`
        insert into users (name, password_hash, role, password_changed_at, created_at, updated_at)
        select 'storm' || lpad(i::text, 3, '0'), ${hash}, (case when i <= ${TEACHERS}::int then 'teacher' else 'student' end)::user_role, now(), now(), now()
        from generate_series(1, ${CLIENTS}::int) i
        returning id, name, role`
      seeded = Number((await sql`select count(*)::int as n from reservations`)[0]!.n)

      // Log every client in over HTTP (argon2id each), 25 at a time.
      for (let i = 0; i < users.length; i += 25) {
        clients.push(...await Promise.all(users.slice(i, i + 25).map(async (u) => {
          const res = await fetch(`${server.base}/api/auth/login`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: u.name, password: PASSWORD }),
          })
          if (res.status !== 200) throw new Error(`login ${u.name}: ${res.status} ${await res.text()}`)
          const body = (await res.json()) as { access_token: string }
          return { name: u.name as string, id: u.id as number, role: u.role as Client['role'], token: body.access_token }
        })))
      }
    })

    afterAll(async () => {
      await sql?.end({ timeout: 5 })
      // SIGTERM first: the primary forwards it to both workers (a SIGKILL would orphan them)
      if (server && server.proc.exitCode === null) await server.stop('SIGTERM')
      await killAll()
      await pooler?.stop()
      await db?.drop()
    })

    async function call(kind: Outcome['kind'], client: Client, method: string, path: string, body?: unknown) {
      const t0 = performance.now()
      let res: Response
      try {
        res = await fetch(`${server.base}${path}`, {
          method,
          headers: { authorization: `Bearer ${client.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        })
      } catch (error) {
        failures.push(`${method} ${path}: ${(error as Error).message}`)
        return undefined
      }
      const text = await res.text()
      outcomes.push({ kind, status: res.status, ms: performance.now() - t0 })
      let json: any
      try {
        json = JSON.parse(text)
      } catch {
        failures.push(`${method} ${path}: ${res.status} not JSON: ${text.slice(0, 100)}`)
      }
      if (res.status >= 500) failures.push(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`)
      else if (res.status >= 400 && typeof json?.msg !== 'string') failures.push(`${method} ${path}: ${res.status} without msg`)
      return { status: res.status, json }
    }

    async function reserve(client: Client) {
      const roomId = pick(roomIds)
      const { start, end } = randomRange()
      const reply = await call('reserve', client, 'POST', `/api/rooms/${roomId}/reserve`, { start_time: iso(start), end_time: iso(end) })
      if (reply?.status === 201) created.push({ id: reply.json.reservation.id, roomId, userId: client.id, start, end })
      else if (reply && reply.status !== 409) failures.push(`reserve: unexpected ${reply.status} ${JSON.stringify(reply.json)}`)
    }

    async function reschedule(client: Client) {
      const active = created.filter((c) => !cancelled.has(c.id))
      const target = active.length ? pick(active) : undefined
      if (!target) return reserve(client)
      const { start, end } = randomRange()
      const reply = await call('patch', client, 'PATCH', `/api/reservations/${target.id}`, { start_time: iso(start), end_time: iso(end) })
      if (reply?.status === 200) {
        const list = patched.get(target.id) ?? []
        list.push({ start, end })
        patched.set(target.id, list)
      } else if (reply && reply.status !== 409 && reply.status !== 400) {
        // 409: the new times overlap; 400: it was cancelled meanwhile (only active ones move)
        failures.push(`reschedule: unexpected ${reply.status} ${JSON.stringify(reply.json)}`)
      }
    }

    async function cancel(client: Client) {
      // students cancel their own bookings, teachers anyone's
      const own = client.role === 'teacher' ? created : created.filter((c) => c.userId === client.id)
      const target = own.length ? pick(own) : undefined
      if (!target) return reserve(client)
      const reply = await call('cancel', client, 'DELETE', `/api/reservations/${target.id}`)
      if (reply?.status === 200) cancelled.add(target.id)
      else if (reply) failures.push(`cancel: unexpected ${reply.status} ${JSON.stringify(reply.json)}`)
    }

    test('200 clients for 15 s: no 5xx, and the database holds exactly what was acknowledged', async () => {
      const until = performance.now() + STORM_MS
      await Promise.all(clients.map(async (client) => {
        while (performance.now() < until) {
          const p = Math.random()
          if (client.role === 'teacher' && p < 0.4) await reschedule(client)
          else if (p < 0.75) await reserve(client)
          else await cancel(client)
        }
      }))

      const count = (kind: Outcome['kind'], status?: number) => outcomes.filter((o) => o.kind === kind && (status === undefined || o.status === status)).length
      const latencies = outcomes.map((o) => o.ms).sort((a, b) => a - b)
      console.log(`storm: ${outcomes.length} requests in ${STORM_MS / 1000} s; reserve ${count('reserve', 201)} x 201 / ${count('reserve', 409)} x 409; `
        + `reschedule ${count('patch', 200)} x 200 / ${count('patch', 409)} x 409 / ${count('patch', 400)} x 400; cancel ${count('cancel', 200)} x 200; `
        + `p50 ${latencies[Math.floor(latencies.length * 0.5)]?.toFixed(0)} ms, p99 ${latencies[Math.floor(latencies.length * 0.99)]?.toFixed(0)} ms`)

      // a 500's cause is in the server's log: show a few of them first
      const errors = server.logs().filter((l) => l.level === 'error')
      expect(errors.slice(0, 3).map((l) => `${l.msg}: ${l.code} ${l.cause} (${String(l.error).slice(0, 200)})`)).toEqual([])
      // the booking paths lock the room: no deadlock between overlapping writes (errors.ts would answer 409)
      expect(server.logs().filter((l) => l.msg === 'a concurrent change conflicted')).toEqual([])
      expect(failures.slice(0, 20)).toEqual([])
      expect(outcomes.filter((o) => o.status >= 500)).toEqual([])
      // the storm really was one: many bookings, many refused for overlapping, reschedules and cancellations
      expect(count('reserve', 201)).toBeGreaterThan(50)
      expect(count('reserve', 409)).toBeGreaterThan(50)
      expect(count('patch', 200)).toBeGreaterThan(5)
      expect(count('cancel', 200)).toBeGreaterThan(5)
    }, 45_000)

    test('no two active reservations of a room overlap (checked in SQL)', async () => {
      const overlaps = await sql`
        select a.id as a, b.id as b, a.room_id
        from reservations a join reservations b
          on a.room_id = b.room_id and a.id < b.id
         and a.status = 'active' and b.status = 'active'
         and tstzrange(a.start_time, a.end_time, '[)') && tstzrange(b.start_time, b.end_time, '[)')`
      expect(overlaps.length).toBe(0)
    })

    test('every 201 has its row and its create_reservation audit row; nothing else was created', async () => {
      const rows = await sql`
        select r.id, r.room_id, r.user_id, r.start_time, r.end_time, r.status,
               (select count(*)::int from changes a where a.event = 'reservation.created' and (a.data->>'reservation_id')::int = r.id) as created_audits,
               (select count(*)::int from changes a where a.event = 'reservation.updated' and (a.data->>'reservation_id')::int = r.id) as update_audits,
               (select count(*)::int from changes a where a.event = 'reservation.cancelled' and (a.data->>'reservation_id')::int = r.id) as cancel_audits
        from reservations r where r.room_id in ${sql(roomIds)}`
      const byId = new Map(rows.map((r) => [r.id as number, r]))
      const missing: number[] = []
      for (const c of created) {
        const row = byId.get(c.id)
        if (!row) {
          missing.push(c.id)
          continue
        }
        expect({ room: row.room_id, user: row.user_id, audits: row.created_audits }).toEqual({ room: c.roomId, user: c.userId, audits: 1 })
      }
      expect(missing).toEqual([])
      // refused bookings left nothing: exactly one row per 201, and one create audit per row
      expect(rows.length).toBe(created.length)
      expect(new Set(created.map((c) => c.id)).size).toBe(created.length)
      // (the first-start seed writes no audit rows)
      const [{ creates }] = await sql`select count(*)::int as creates from changes where event = 'reservation.created'` as any
      expect(creates).toBe(created.length)
      expect(Number((await sql`select count(*)::int as n from reservations`)[0]!.n)).toBe(seeded + created.length)
    })

    test('reschedules and cancellations: each acknowledged change is in the row and audited once; refused ones changed nothing', async () => {
      const rows = await sql`
        select r.id, r.start_time, r.end_time, r.status,
               (select count(*)::int from changes a where a.event = 'reservation.updated' and (a.data->>'reservation_id')::int = r.id) as update_audits,
               (select count(*)::int from changes a where a.event = 'reservation.cancelled' and (a.data->>'reservation_id')::int = r.id) as cancel_audits
        from reservations r where r.room_id in ${sql(roomIds)}`
      const problems: string[] = []
      for (const row of rows) {
        const id = row.id as number
        const original = created.find((c) => c.id === id)!
        const moves = patched.get(id) ?? []
        // as many update audits as acknowledged reschedules (a refused one writes none)
        if (row.update_audits !== moves.length) problems.push(`#${id}: ${row.update_audits} update audits for ${moves.length} acknowledged reschedules`)
        // its times are the booked ones or those of an acknowledged reschedule
        const allowed = [original, ...moves].map((m) => `${m.start}/${m.end}`)
        const actual = `${(row.start_time as Date).getTime()}/${(row.end_time as Date).getTime()}`
        if (!allowed.includes(actual)) problems.push(`#${id}: times ${actual} were never acknowledged`)
        // cancelled exactly when a cancellation was acknowledged, audited once
        const wasCancelled = cancelled.has(id)
        if ((row.status === 'cancelled') !== wasCancelled) problems.push(`#${id}: status ${row.status}, cancellation acknowledged: ${wasCancelled}`)
        if (row.cancel_audits !== (wasCancelled ? 1 : 0)) problems.push(`#${id}: ${row.cancel_audits} cancel audits`)
      }
      expect(problems).toEqual([])
      const patchOk = outcomes.filter((o) => o.kind === 'patch' && o.status === 200).length
      const [{ n: updates }] = await sql`select count(*)::int as n from changes where event = 'reservation.updated'` as any
      expect(updates).toBe(patchOk)
    })

    if (viaPgbouncer) test('the storm went through PgBouncer: its transactions counted there, no LISTEN among its clients', async () => {
      const stats = (await pooler!.admin('SHOW STATS')).find((r) => r.database === db.name)
      // each acknowledged booking and cancellation was a transaction of its own
      expect(Number(stats?.total_xact_count)).toBeGreaterThan(created.length + cancelled.size)
      const clients = (await pooler!.admin('SHOW CLIENTS')).filter((r) => r.database === db.name)
      expect(clients.length).toBeGreaterThan(0)
      expect(clients.filter((c) => String(c.application_name).startsWith('qrbook-listen'))).toEqual([])
    })

    test('both workers stop on SIGTERM: exit 0, no process left', async () => {
      const workers = server.logs().filter((l) => l.msg === 'listening').map((l) => l.pid as number)
      expect(workers).toHaveLength(2)
      expect(await server.stop('SIGTERM')).toBe(0)
      expect(workers.filter(alive)).toEqual([])
    })
  })
}
