/**
 * `bun run bench --scale` (issue 29, part 3): how QRBOOK's hot paths grow with a university's data.
 *
 * Two databases side by side, each with its own app process (`bun src/index.ts`), measured in
 * alternating rounds so that the machine's load falls on both alike:
 * - small: the bench's dataset (bench/dataset.ts): 200 rooms, 2,000 users, ~100,000 reservations;
 * - large: the same, then 1,800 more rooms with 500 reservations each and 18,000 more users (bulk
 *   SQL, generate_series: 2,000 rooms, 20,000 users, ~1,000,000 reservations).
 * Both get series (a teacher's weekly lesson in every 10th room, about a seventh of its bookings
 * marked as that series' lessons) and closures (a past and a coming maintenance closure in every
 * room, and three holidays of all rooms), in proportion to their rooms.
 *
 * Per hot path: the median time of N runs on each side, the answer's bytes on each side, and the
 * growth factors (large / small) of both. Nothing should grow faster than the data it must send:
 * a path whose time grows more than 1.5x its bytes (or than 1.5x for a path whose answer does not
 * grow) is flagged. The paths through HTTP are timed by this process around each request (the
 * client's own time is the same on both sides); the sweeper's pass and the uncached room views are
 * called in this process on a connection of their own.
 *
 * PostgreSQL only. Results: printed, and written to bench/results/scale.md.
 */
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import type { Config } from '../src/config'
import { createDb, type Database } from '../src/db/client'
import { systemClock } from '../src/lib/clock'
import { nameKey } from '../src/lib/names'
import { sweepOnce } from '../src/core/bookings/checkin/sweeper'
import { listRoomViews, roomDetail } from '../src/core/bookings/views/rooms'
import { buildDataset, BENCH_PASSWORD } from './dataset'
import { BENCH_DIR, fmt, median, type Proc } from './lib'

export interface ScaleSetup {
  /** creates an empty database (dropped by `drop`) */
  createDatabase(name: string): Promise<{ url: string; name: string; drop(): Promise<void> }>
  /** starts an app on the database with these extra variables; resolves once /health is 200 */
  startApp(url: string, name: string, extra: Record<string, string>): Promise<Proc>
  login(base: string, name: string, password: string): Promise<{ token: string; csrf: string; id: number }>
  config(url: string): Config
  log(line?: string): void
  /** a line about the machine (CPU, versions, load average) */
  machine: string
}

const LARGE = { rooms: 2000, users: 20_000, perRoom: 500 }
const HOUR = 3600_000
const DAY = 24 * HOUR
/** Rounds of small, large alternating; each measures every path once on each side. */
const ROUNDS = 3
/** Growth of time beyond the growth of the data sent that is flagged (the machine's noise is ~20%). */
const FLAG_RATIO = 1.5

interface Side {
  label: 'small' | 'large'
  url: string
  drop(): Promise<void>
  app?: Proc
  database?: Database
  sql?: postgres.Sql
  admin?: { token: string }
  teacher?: { token: string }
  student?: { token: string }
  counts?: { rooms: number; users: number; reservations: number; series: number; closures: number }
  /** a busy public room without a daily window (one of the first 200: the same room on both sides) */
  roomId?: number
  week?: string
  build?: number
}

interface Sample { ms: number[]; bytes: number }
type Samples = Record<'small' | 'large', Sample>

// ---- the data ----

/** Series and closures in proportion to the rooms there are (both sides alike). */
async function addSeriesAndClosures(sql: postgres.Sql): Promise<void> {
  await sql.begin(async (tx) => {
    // A teacher's weekly lesson in every 10th room (rooms without series yet): one series each,
    // and every 7th of the room's reservations made one of its lessons.
    await tx`
      insert into series (room_id, user_id, title, rrule, time_zone, first_start, first_end, until, created_at, updated_at)
      select r.id, t.id, 'Lesson ' || r.name, 'FREQ=WEEKLY;BYDAY=MO;COUNT=17', 'UTC', now(), now() + interval '90 minutes', now() + interval '112 days', now(), now()
      from rooms r
      cross join lateral (select id from users where role = 'teacher' order by id offset (r.id % 100) limit 1) as t
      where r.id % 10 = 0 and not exists (select 1 from series s where s.room_id = r.id)`
    await tx`
      update reservations x set series_id = s.id, title = s.title
      from series s where s.room_id = x.room_id and x.series_id is null and x.id % 7 = 0 and s.import_key is null`
    // A past and a coming maintenance closure of each room without one yet (a day each, 40 and
    // 80 days from now: after the bookings, so none of them is inside one), and three holidays.
    await tx`
      insert into closures (all_rooms, room_ids, kind, reason, start_time, end_time, created_at, updated_at)
      select false, array[r.id], 'maintenance', 'Maintenance ' || r.name, d.at, d.at + interval '1 day', now(), now()
      from rooms r
      cross join (values (date_trunc('day', now()) - interval '40 days' + make_interval(hours => 0)),
                         (date_trunc('day', now()) + interval '80 days')) as d(at)
      where not exists (select 1 from closures c where c.room_ids = array[r.id])`
    const [{ n }] = await tx`select count(*)::int as n from closures where all_rooms` as unknown as [{ n: number }]
    if (n === 0) {
      await tx`
        insert into closures (all_rooms, room_ids, kind, reason, start_time, end_time, created_at, updated_at)
        select true, null, 'holiday', 'Holiday ' || i, date_trunc('day', now()) + make_interval(days => d), date_trunc('day', now()) + make_interval(days => d + 2), now(), now()
        from (values (1, -50), (2, 90), (3, 150)) as h(i, d)`
    }
  })
}

/**
 * The large side's extra 1,800 rooms, 18,000 users and 900,000 reservations, on the dataset's grid
 * (bench/dataset.ts: 6-hour blocks, 1-4 h used, ~10% cancelled, the past ones finished). Loaded in
 * one transaction with the foreign-key triggers off (session_replication_role, superuser: every
 * key is made here from rows that exist): the constraint checks cost more than the rows themselves
 * and check nothing a generated row could get wrong. The overlap constraint and every index stay.
 */
async function growToLarge(sql: postgres.Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`
    const [{ hash }] = await tx`select password_hash as hash from users where name = 'user0001'` as unknown as [{ hash: string }]
    const [{ users: before }] = await tx`select count(*)::int as users from users where name like 'user%'` as unknown as [{ users: number }]
    await tx`
      insert into users (name, password_hash, role, password_changed_at, created_at, updated_at)
      select 'user' || lpad(i::text, 5, '0'), ${hash}, (case when i % 10 = 0 then 'teacher' else 'student' end)::user_role, now(), now(), now()
      from generate_series(${before + 1}::int, ${LARGE.users}::int) as i`
    const [{ last }] = await tx`select max(id) as last from rooms` as unknown as [{ last: number }]
    const [{ rooms: have }] = await tx`select count(*)::int as rooms from rooms` as unknown as [{ rooms: number }]
    await tx`
      insert into rooms (name, type, is_blocked, booking_start, booking_end, requires_check_in, created_at, updated_at)
      select 'S' || lpad(i::text, 4, '0'), t.type, i % 50 = 25,
             case when i % 4 = 1 then time '08:00' end, case when i % 4 = 1 then time '20:00' end, t.type = 'public', now(), now()
      from generate_series(1, ${LARGE.rooms - have}::int) as i
      cross join lateral (select (case when i % 20 = 0 then 'admin' when i % 20 = 10 then 'service' else 'public' end)::room_type as type) as t`
    await tx`
      insert into reservations (room_id, user_id, start_time, end_time, status, created_at, updated_at)
      select r.id,
             u.first + ((r.id * 1009 + k * 7919) % ${LARGE.users}::int),
             g.start,
             g.start + make_interval(hours => 1 + (r.id * 7 + k * 13) % 4),
             (case when (r.id * 31 + k * 17) % 10 = 0 then 'cancelled'
                   when g.start + make_interval(hours => 1 + (r.id * 7 + k * 13) % 4) <= now() then 'finished'
                   else 'active' end)::reservation_status,
             g.start - interval '3 days', g.start - interval '3 days'
      from rooms r
      cross join generate_series(0, ${LARGE.perRoom - 1}::int) as k
      cross join (select min(id) as first from users where name like 'user%') as u
      cross join lateral (
        select date_trunc('hour', now()) - interval '62 days' + make_interval(hours => 6 * k + r.id % 6) as start
      ) as g
      where r.id > ${last}::int`
  })
}

/**
 * The lookalike keys of the generated users (src/lib/names.ts), in one statement. The bulk SQL
 * leaves them null, and the app fills missing ones at start one UPDATE per user
 * (src/db/name-keys.ts, for accounts older than migration 0006): 80 s for 20,000 users here.
 */
async function fillNameKeys(sql: postgres.Sql): Promise<void> {
  const rows = await sql`select id, name from users where name_key is null`
  if (rows.length === 0) return
  await sql`
    update users set name_key = k.key
    from unnest(${sql.array(rows.map((r) => r.id as number))}::int[], ${sql.array(rows.map((r) => nameKey(r.name as string)))}::text[]) as k(id, key)
    where users.id = k.id`
}

async function countsOf(sql: postgres.Sql) {
  const [c] = await sql`
    select (select count(*)::int from rooms) as rooms, (select count(*)::int from users) as users,
           (select count(*)::int from reservations) as reservations, (select count(*)::int from series) as series,
           (select count(*)::int from closures) as closures`
  return c as unknown as NonNullable<Side['counts']>
}

// ---- measuring ----

async function timed(run: () => Promise<number>): Promise<{ ms: number; bytes: number }> {
  const started = performance.now()
  const bytes = await run()
  return { ms: performance.now() - started, bytes }
}

async function call(base: string, token: string, pathname: string, init: RequestInit = {}, expect = 200): Promise<number> {
  const res = await fetch(`${base}${pathname}`, {
    ...init, redirect: 'manual', headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
  })
  const body = await res.arrayBuffer()
  if (res.status !== expect) throw new Error(`${init.method ?? 'GET'} ${pathname}: ${res.status} ${Buffer.from(body).toString().slice(0, 300)}`)
  return body.byteLength
}

/** A path measured on one side: `prepare` once, then `times` runs of `run` (each answering its bytes). */
interface HotPath {
  name: string
  times: number
  run(side: Side, i: number): Promise<number>
  /** the path's answer does not grow with the data (a booking's reply): only its time is compared with 1 */
  flat?: boolean
  note?: string
}

/** The far-future slots each booking run takes: one block per side and path, a slot per run. */
let slotCounter = 0
const farSlot = () => {
  const i = slotCounter++
  // From 2031 on, every 3 hours, a different week each 56 slots: no weekly limit is reached.
  return new Date(Date.UTC(2031, 0, 6, 8) + Math.floor(i / 2) * 7 * DAY + (i % 2) * 3 * HOUR)
}

/** The import's CSV (as bench/timetable.ts): 40 rooms x 30 lessons a week x 17 weeks, rooms `<prefix>01..40`. */
function termCsv(prefix: string, teacherPrefix: string): string {
  const today = new Date()
  const monday = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 7 + ((8 - today.getUTCDay()) % 7)))
  const until = new Date(monday.getTime() + (17 * 7 - 1) * DAY)
  const day = (d: Date) => d.toISOString().slice(0, 10)
  const lines = ['room,teacher,weekday,start,end,from,until,title']
  const slots = ['08:00-09:30', '09:40-11:10', '11:20-12:50', '13:30-15:00', '15:10-16:40', '16:50-18:20']
  for (let r = 1; r <= 40; r++) {
    const n = String(r).padStart(2, '0')
    for (const weekday of ['mon', 'tue', 'wed', 'thu', 'fri']) for (const [s, slot] of slots.entries()) {
      const [start, end] = slot.split('-')
      lines.push(`${prefix}${n},${teacherPrefix}${n},${weekday},${start},${end},${day(monday)},${day(until)},Course ${n}-${weekday}-${s + 1}`)
    }
  }
  return lines.join('\n')
}

function hotPaths(setup: ScaleSetup): HotPath[] {
  let importRound = 0
  let closureDay = 0
  return [
    { name: 'room list, served (GET /api/rooms)', times: 20, run: (s) => call(s.app!.base, s.student!.token, '/api/rooms') },
    {
      name: 'room list, built (listRoomViews, uncached)', times: 5,
      run: async (s) => Buffer.byteLength(JSON.stringify(await listRoomViews({ config: setup.config(s.url), database: s.database!, clock: systemClock }))),
    },
    { name: 'one room, served (GET /api/rooms/:id)', times: 20, run: (s) => call(s.app!.base, s.student!.token, `/api/rooms/${s.roomId}`) },
    {
      name: 'one room, built (roomDetail, uncached)', times: 10,
      run: async (s) => Buffer.byteLength(JSON.stringify(await roomDetail({ config: setup.config(s.url), database: s.database!, clock: systemClock }, s.roomId!))),
    },
    { name: 'my reservations (GET /api/reservations/mine)', times: 20, run: (s) => call(s.app!.base, s.student!.token, '/api/reservations/mine') },
    {
      name: 'a booking (POST /api/rooms/:id/reserve, a teacher)', times: 10, flat: true,
      run: (s) => {
        const start = farSlot()
        return call(s.app!.base, s.teacher!.token, `/api/rooms/${s.roomId}/reserve`, {
          method: 'POST', body: JSON.stringify({ start_time: start.toISOString(), end_time: new Date(start.getTime() + HOUR).toISOString() }),
        }, 201)
      },
    },
    {
      name: 'a booking under a weekly limit (fair use, a student)', times: 10, flat: true,
      run: (s) => {
        const start = farSlot()
        return call(s.app!.base, s.student!.token, `/api/rooms/${s.roomId}/reserve`, {
          method: 'POST', body: JSON.stringify({ start_time: start.toISOString(), end_time: new Date(start.getTime() + HOUR).toISOString() }),
        }, 201)
      },
    },
    {
      name: "the sweeper's pass (sweepOnce)", times: 5, flat: true,
      run: async (s) => {
        const result = await sweepOnce({ database: s.database!, clock: systemClock })
        if (result.skipped) throw new Error('sweepOnce skipped: another sweep holds the lock')
        return 0
      },
    },
    { name: "console: a room's week (/console/calendar)", times: 10, run: (s) => call(s.app!.base, s.admin!.token, `/console/calendar?room=${s.roomId}&week=${s.week}`) },
    {
      name: 'console: report after a booking (/console/reports)', times: 5,
      note: 'each request after a booking far ahead, which drops the report kept in memory',
      run: async (s) => {
        const start = farSlot()
        await call(s.app!.base, s.admin!.token, `/api/rooms/${s.roomId}/reserve`, {
          method: 'POST', body: JSON.stringify({ start_time: start.toISOString(), end_time: new Date(start.getTime() + HOUR).toISOString() }),
        }, 201)
        return call(s.app!.base, s.admin!.token, '/console/reports')
      },
    },
    {
      name: 'notice fan-out: a closure of 20 rooms for a day, notices stored', times: 2, flat: true,
      note: 'POST /api/admin/closures with cancel_affected (the same 20 rooms on both sides, a different day each run) until every cancelled booking has its notice',
      run: async (s) => {
        const day = new Date(Math.floor(Date.now() / DAY) * DAY + (3 + (closureDay++ % 20)) * DAY)
        const rooms = (await s.sql!`select id from rooms where type = 'public' and not is_blocked and booking_start is null order by id limit 20`).map((r) => r.id as number)
        const res = await fetch(`${s.app!.base}/api/admin/closures`, {
          method: 'POST', headers: { authorization: `Bearer ${s.admin!.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ room_ids: rooms, start_time: day.toISOString(), end_time: new Date(day.getTime() + DAY).toISOString(), kind: 'maintenance', reason: 'scale bench', cancel_affected: true }),
        })
        const body = await res.json() as { affected?: number[] }
        if (res.status !== 201) throw new Error(`closure: ${res.status} ${JSON.stringify(body)}`)
        // Through once the notifier's cursor has passed every change the closure recorded.
        const [{ last }] = await s.sql!`select max(position)::bigint as last from changes` as unknown as [{ last: string }]
        for (let waited = 0; ; waited += 10) {
          const [cursor] = await s.sql!`select position::bigint as position from follower_cursors where name = 'notifier'`
          if (cursor && Number(cursor.position) >= Number(last)) break
          if (waited > 60_000) throw new Error(`the notifier is not through the closure's changes after 60 s`)
          await Bun.sleep(10)
        }
        return body.affected!.length
      },
    },
    {
      name: 'timetable import, 20,400 lessons (POST /api/admin/timetable/import)', times: 1, flat: true,
      note: 'into 40 rooms of its own each time',
      run: async (s) => {
        const prefix = `IM${s.label[0]}${importRound++}-`
        const teacher = `imt-${s.label[0]}${importRound}-`
        await s.sql!`
          insert into rooms (name, type, requires_check_in, created_at, updated_at)
          select ${prefix} || lpad(i::text, 2, '0'), 'public', false, now(), now() from generate_series(1, 40) as i`
        await s.sql!`
          insert into users (name, name_key, password_hash, role, password_changed_at, created_at, updated_at)
          select ${teacher} || lpad(i::text, 2, '0'), ${teacher} || lpad(i::text, 2, '0'), 'x', 'teacher', now(), now(), now() from generate_series(1, 40) as i`
        const res = await fetch(`${s.app!.base}/api/admin/timetable/import`, {
          method: 'POST', headers: { authorization: `Bearer ${s.admin!.token}`, 'content-type': 'text/csv' }, body: termCsv(prefix, teacher),
        })
        const body = await res.json() as { totals?: { created: number }; msg?: string }
        if (res.status !== 201 || body.totals?.created !== 20_400) throw new Error(`import: ${res.status} ${body.msg ?? JSON.stringify(body.totals)}`)
        return 0
      },
    },
  ]
}

const growth = (samples: Samples, key: 'ms' | 'bytes') => {
  const small = key === 'ms' ? median(samples.small.ms) : samples.small.bytes
  const large = key === 'ms' ? median(samples.large.ms) : samples.large.bytes
  return small > 0 ? large / small : 1
}

export async function runScale(setup: ScaleSetup): Promise<{ markdown: string; flagged: string[] }> {
  const { log } = setup
  const started = performance.now()
  const sides: Side[] = []
  try {
    for (const label of ['small', 'large'] as const) {
      const db = await setup.createDatabase(`qrbook_bench_scale_${label}`)
      sides.push({ label, url: db.url, drop: db.drop })
    }
    // The two datasets, one after the other (each is bulk SQL on the same 2 cores).
    for (const side of sides) {
      const t0 = performance.now()
      await buildDataset(side.url)
      side.sql = postgres(side.url, { max: 2, onnotice: () => {} })
      if (side.label === 'large') await growToLarge(side.sql)
      await addSeriesAndClosures(side.sql)
      await fillNameKeys(side.sql)
      await side.sql`vacuum analyze`
      side.build = (performance.now() - t0) / 1000
      side.counts = await countsOf(side.sql)
      log(`  ${side.label}: ${fmt(side.counts.rooms)} rooms, ${fmt(side.counts.users)} users, ${fmt(side.counts.reservations)} reservations, `
        + `${fmt(side.counts.series)} series, ${fmt(side.counts.closures)} closures, built in ${side.build.toFixed(1)} s`)
    }
    for (const side of sides) {
      // The sweeper is off in the app: its pass is measured here, and must not be skipped for the app's.
      side.app = await setup.startApp(side.url, `app-scale-${side.label}`, { SWEEP_INTERVAL_S: '0' })
      side.database = await createDb({ kind: 'postgres', url: side.url })
      side.admin = await setup.login(side.app.base, 'admin', 'admin1234')
      side.teacher = await setup.login(side.app.base, 'user0010', BENCH_PASSWORD)
      side.student = await setup.login(side.app.base, 'user0005', BENCH_PASSWORD)
      // The same room on both sides: the busiest bookable room among the first 200.
      const [room] = await side.sql!`
        select r.id from rooms r where r.type = 'public' and not r.is_blocked and r.booking_start is null and r.name like 'R%'
        order by r.id limit 1 offset 20`
      side.roomId = room!.id as number
      const [busy] = await side.sql!`select start_time from reservations where room_id = ${side.roomId} and status = 'active' and start_time > now() order by start_time limit 1`
      side.week = busy ? new Date(busy.start_time as Date).toISOString().slice(0, 10) : new Date().toISOString().slice(0, 10)
      // Fair use: students' bookings limited to 10 hours a week (admins and teachers are exempt from it).
      await call(side.app.base, side.admin.token, '/api/admin/policies', { method: 'POST', body: JSON.stringify({ role: 'student', max_minutes_per_week: 600 }) }, 201)
    }

    const paths = hotPaths(setup)
    const results = new Map<string, Samples>(paths.map((p) => [p.name, { small: { ms: [], bytes: 0 }, large: { ms: [], bytes: 0 } }]))
    // Warm both apps (first requests compile and fill caches).
    for (const side of sides) for (const p of paths.slice(0, 5)) await p.run(side, 0)
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of paths) {
        if (p.times === 1 && round > 1) continue
        const order = round % 2 === 0 ? sides : [...sides].reverse()
        for (const side of order) {
          const sample = results.get(p.name)![side.label]
          for (let i = 0; i < Math.max(1, Math.round(p.times / ROUNDS)); i++) {
            const { ms, bytes } = await timed(() => p.run(side, i))
            sample.ms.push(ms)
            sample.bytes = bytes
          }
        }
      }
      log(`  round ${round + 1} of ${ROUNDS} done (${((performance.now() - started) / 1000).toFixed(0)} s)`)
    }

    const flagged: string[] = []
    const [small, large] = sides as [Side, Side]
    const rows = paths.map((p) => {
      const s = results.get(p.name)!
      const time = growth(s, 'ms')
      const data = p.flat ? 1 : growth(s, 'bytes')
      const flag = time > FLAG_RATIO * Math.max(1, data)
      if (flag) flagged.push(p.name)
      const bytes = (b: number) => (p.flat ? '' : `${fmt(b / 1024, 1)}`)
      return `| ${p.name}${p.note ? ` <sub>${p.note}</sub>` : ''} | ${s.small.ms.length} | ${median(s.small.ms).toFixed(1)} | ${median(s.large.ms).toFixed(1)} | `
        + `${bytes(s.small.bytes)} | ${bytes(s.large.bytes)} | **${time.toFixed(2)}x** | ${p.flat ? '(1x)' : `${data.toFixed(2)}x`} | ${flag ? '**grows faster than its data**' : 'ok'} |`
    })
    const c = (side: Side) => `${fmt(side.counts!.rooms)} rooms, ${fmt(side.counts!.users)} users, ${fmt(side.counts!.reservations)} reservations, ${fmt(side.counts!.series)} series, ${fmt(side.counts!.closures)} closures`
    const markdown = [
      `Run ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}: \`bun run bench --scale\` on ${setup.machine}, at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}. Small: ${c(small)} (built in ${small.build!.toFixed(0)} s); `
        + `large: ${c(large)} (built in ${large.build!.toFixed(0)} s). One app process per side, measured in ${ROUNDS} alternating rounds; `
        + `median of the runs (N per side). Growth: large / small; a path is flagged when its time grows more than ${FLAG_RATIO}x its data (the bytes it answers; 1 for a path whose answer does not grow).`,
      '',
      '| Hot path | N | small ms | large ms | small KB | large KB | time growth | data growth | |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---|',
      ...rows,
      '',
      `Total ${((performance.now() - started) / 1000).toFixed(0)} s.`,
    ].join('\n')
    return { markdown, flagged }
  } finally {
    for (const side of sides) {
      await side.app?.stop().catch(() => {})
      await side.database?.close().catch(() => {})
      await side.sql?.end({ timeout: 5 }).catch(() => {})
      await side.drop().catch((e) => log(`could not drop the ${side.label} database: ${(e as Error).message}`))
    }
  }
}

/** Writes the table to bench/results/scale.md. */
export function writeScaleResults(markdown: string): string {
  const file = path.join(BENCH_DIR, 'results', 'scale.md')
  writeFileSync(file, `# Latest scale benchmark\n\n${markdown}\n`)
  return file
}
