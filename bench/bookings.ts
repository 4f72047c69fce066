/**
 * Bookings against the raw same-guarantee baseline (issue 29): `POST /api/rooms/:id/reserve` on the
 * app and on bench/baseline-booking.ts (the same checks, locks, insert and change record by hand,
 * waiting for PostgreSQL twice), with the load of the main bench's reserve row
 * (bench/wrk/reserve.lua: a distinct free 30-minute slot per request, every 20th a deliberate
 * repeat that must be 409). App and baseline alternate for `rounds` rounds, each run in a block of
 * slots of its own; the medians are compared. After each run every 201 must have its row.
 *
 * `bun bench/run.ts --only bookings` runs it alone (the dataset, then this: a few minutes).
 */
import { mkdtempSync } from 'node:fs'
import path from 'node:path'
import postgres from 'postgres'
import { fmt, median, ms, runWrk, spawnLogged, waitFor200, type Proc, type WrkResult } from './lib'
import { freePort, processEnv } from '../test/helpers/process'

export const BOOKINGS_TARGET = { rps: 3 * 380, p99Ms: 50 }

export interface BookingsSetup {
  databaseUrl: string
  bookable: number[]
  /** the app, started on the bench database */
  app: Proc
  /** the environment the app runs with (the baseline reads the same JWT secret, horizon and no-show settings) */
  appEnv: Record<string, string>
  logDir: string
  login(base: string, name: string, password: string): Promise<{ token: string; csrf: string; id: number }>
  user: string
  password: string
  nextBlock(): number
  seconds: number
  warmup: number
  rounds: number
  connections: number
  threads: number
  log(line?: string): void
}

export interface BookingRun {
  server: 'app' | 'baseline'
  round: number
  wrk: WrkResult
  created: number
  conflicts: number
  errors: number
  /** rows the run (warm-up and run) made beyond its counted 201s: requests cut off in flight when wrk stopped; negative: a 201 without its row */
  extraRows: number
}

export interface BookingsResult {
  runs: BookingRun[]
  app: { rps: number; p50: number; p99: number }
  baseline: { rps: number; p50: number; p99: number }
  ratio: number
  met: { rps: boolean; p99: boolean; errors: boolean }
  markdown: string
}

export async function runBookings(setup: BookingsSetup): Promise<BookingsResult> {
  const { log } = setup
  const port = freePort()
  const baseline = spawnLogged([process.execPath, 'bench/baseline-booking.ts'], processEnv({ ...setup.appEnv, PORT: String(port) }), port, path.join(setup.logDir, 'baseline-booking.log'))
  const sql = postgres(setup.databaseUrl, { max: 1, onnotice: () => {} })
  try {
    await waitFor200(`${baseline.base}/health`, performance.now(), baseline.proc)
    const user = await setup.login(setup.app.base, setup.user, setup.password)
    const env = (baseEpoch: number) => ({
      BENCH_ROOMS: setup.bookable.join(','), BENCH_BASE_EPOCH: String(baseEpoch), BENCH_ACCESS_COOKIE: user.token, BENCH_CSRF: user.csrf, BENCH_REPEAT_EVERY: '20',
    })
    const count = async () => Number((await sql`select count(*)::int as n from reservations where user_id = ${user.id}`)[0]!.n)
    const runs: BookingRun[] = []
    for (let round = 1; round <= setup.rounds; round++) {
      for (const [server, proc] of [['app', setup.app], ['baseline', baseline]] as const) {
        const before = await count()
        const warm = setup.warmup > 0
          ? await runWrk({ url: proc.base, script: 'reserve.lua', env: env(setup.nextBlock()), seconds: setup.warmup, connections: setup.connections, threads: setup.threads })
          : undefined
        const result = await runWrk({ url: proc.base, script: 'reserve.lua', env: env(setup.nextBlock()), seconds: setup.seconds, connections: setup.connections, threads: setup.threads })
        const after = await count()
        const created = result.statuses['201'] ?? 0
        const acknowledged = created + (warm?.statuses['201'] ?? 0)
        const extraRows = after - before - acknowledged
        const socket = Object.values(result.socket_errors).reduce((a, b) => a + b, 0)
        const other = Object.entries(result.statuses).filter(([code]) => code !== '201' && code !== '409').reduce((a, [, n]) => a + n, 0)
        // Every 201 must have its row (extra >= 0). Rows beyond the counted 201s are requests wrk
        // stopped waiting for (up to one per connection at the end of the warm-up and of the run);
        // they are reported, not counted as errors.
        const rowsOk = extraRows >= 0
        const run: BookingRun = { server, round, wrk: result, created, conflicts: result.statuses['409'] ?? 0, errors: socket + other + (rowsOk ? 0 : Math.abs(extraRows)), extraRows }
        runs.push(run)
        log(`  round ${round} ${server.padEnd(8)} ${fmt(result.rps, 1).padStart(8)} req/s  p50 ${ms(result.latency_us.p50).padStart(6)} ms  p99 ${ms(result.latency_us.p99).padStart(6)} ms  `
          + `${fmt(created)} x 201, ${fmt(run.conflicts)} x 409, errors ${run.errors}, ${rowsOk ? `+${extraRows} rows beyond the counted 201s` : `**${after - before} rows for ${acknowledged} x 201**`}`)
      }
    }
    const summary = (server: 'app' | 'baseline') => {
      const mine = runs.filter((r) => r.server === server)
      return { rps: median(mine.map((r) => r.wrk.rps)), p50: median(mine.map((r) => r.wrk.latency_us.p50 / 1000)), p99: median(mine.map((r) => r.wrk.latency_us.p99 / 1000)) }
    }
    const ceiling = await commitCeiling(setup, sql)
    const app = summary('app')
    const base = summary('baseline')
    const ratio = app.rps / base.rps
    const met = { rps: app.rps >= BOOKINGS_TARGET.rps, p99: app.p99 < BOOKINGS_TARGET.p99Ms, errors: runs.every((r) => r.errors === 0) }
    const mark = (ok: boolean) => (ok ? 'met' : '**missed**')
    const markdown = [
      `Bookings (\`POST /api/rooms/:id/reserve\`, bench/bookings.ts): the app against the raw same-guarantee baseline (bench/baseline-booking.ts: same checks, room lock, releases, holders, insert and change record under the change lock, two waits for PostgreSQL), `
        + `wrk ${setup.threads} threads, ${setup.connections} connections, ${setup.warmup} s warm-up then ${setup.seconds} s, alternating, ${setup.rounds} rounds; medians.`,
      '',
      '| Run | Server | req/s | p50 ms | p99 ms | 201 | 409 | Errors | Rows beyond the 201s |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|',
      ...runs.map((r) => `| ${r.round} | ${r.server} | ${fmt(r.wrk.rps, 1)} | ${ms(r.wrk.latency_us.p50)} | ${ms(r.wrk.latency_us.p99)} | ${fmt(r.created)} | ${fmt(r.conflicts)} | ${r.errors} | ${r.extraRows} |`),
      '',
      '| Target | Result | |',
      '|---|---|---|',
      `| Bookings >= ${fmt(BOOKINGS_TARGET.rps)} req/s (3 x 380, the figure of 2026-12-06) | ${fmt(app.rps, 1)} req/s (baseline ${fmt(base.rps, 1)}; app/baseline ${ratio.toFixed(2)}) | ${mark(met.rps)} |`,
      `| Bookings p99 < ${BOOKINGS_TARGET.p99Ms} ms at ${setup.connections} connections | ${app.p99.toFixed(1)} ms (p50 ${app.p50.toFixed(1)}; baseline p99 ${base.p99.toFixed(1)}) | ${mark(met.p99)} |`,
      `| No errors but the deliberate 409s, a row for every 201 | ${runs.reduce((a, r) => a + r.errors, 0)} errors | ${mark(met.errors)} |`,
      ...(ceiling ? ['', ceiling] : []),
    ].join('\n')
    return { runs, app, baseline: base, ratio, met, markdown }
  } finally {
    await sql.end({ timeout: 5 })
    await baseline.stop()
  }
}

/**
 * What PostgreSQL on this machine commits at all, with the same 32 clients and nothing else
 * (pgbench, 8 s each, on a scratch table): one-row transactions alone, and the same with a
 * transaction-level advisory lock taken before COMMIT as every write takes the change lock
 * (src/core/changes/record.ts), which serializes the commits. No booking can go faster than the
 * second figure; both are printed beside the bookings so that a target is read against the machine.
 * Skipped (undefined) when pgbench is not installed.
 */
async function commitCeiling(setup: BookingsSetup, sql: postgres.Sql): Promise<string | undefined> {
  if ((await Bun.$`which pgbench`.nothrow().quiet()).exitCode !== 0) return undefined
  await sql`create table if not exists bench_commit_ceiling (id bigserial primary key, at timestamptz not null default now())`
  const dir = mkdtempSync(path.join(setup.logDir, 'pgbench-'))
  const url = new URL(setup.databaseUrl)
  const run = async (name: string, body: string) => {
    const file = path.join(dir, `${name}.sql`)
    await Bun.write(file, body)
    const out = await Bun.$`pgbench -n -c ${setup.connections} -j ${setup.threads} -T 8 -f ${file} ${setup.databaseUrl}`
      .env({ ...process.env, PGUSER: decodeURIComponent(url.username) }).nothrow().quiet()
    const text = out.stdout.toString()
    const tps = Number(/tps = ([\d.]+)/.exec(text)?.[1] ?? NaN)
    const latency = Number(/latency average = ([\d.]+) ms/.exec(text)?.[1] ?? NaN)
    return { tps, latency }
  }
  try {
    const alone = await run('alone', 'begin;\ninsert into bench_commit_ceiling default values;\ncommit;\n')
    const locked = await run('locked', `begin;\ninsert into bench_commit_ceiling default values;\nselect pg_advisory_xact_lock(${0x51524349});\ncommit;\n`)
    setup.log(`  ceiling (pgbench, ${setup.connections} clients): ${fmt(alone.tps)} commits/s alone, ${fmt(locked.tps)} under one advisory lock`)
    return `PostgreSQL's own ceiling on this machine (pgbench, ${setup.connections} clients, 8 s, a one-row insert per transaction and nothing else): `
      + `${fmt(alone.tps)} commits/s (mean ${alone.latency.toFixed(1)} ms); with a transaction-level advisory lock before COMMIT, as every write takes the change lock: `
      + `${fmt(locked.tps)} commits/s (mean ${locked.latency.toFixed(1)} ms). A booking also sends its reads and an HTTP answer, on the same cores as wrk.`
  } finally {
    await sql`drop table if exists bench_commit_ceiling`
  }
}
