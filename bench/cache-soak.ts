/**
 * `bun bench/cache-soak.ts [--seconds 300] [--small-heap] [--list-only] [--mixed] [--probe FILE]`:
 * does the memory of the cached room views grow with bookings? On the bench dataset (200 rooms,
 * 100,000 reservations), one app process serves the room list and random rooms to wrk
 * (bench/wrk/reads.lua: reads only, all 200 rooms' views cached) while a booking is made every
 * 100 ms beside it (each one drops cached views, which are rebuilt by the next reads). RSS every
 * 10 s; the verdict is the least-squares slope after the first minute, as in the main soak ("no
 * growth": under 1 MB/min). Each booking adds ~0.2 KB to its room's schedule, so 3,000 bookings
 * add ~0.6 MB of answers: the data's own growth.
 * --small-heap runs the app with BUN_JSC_forceRAMSize=384 MiB (docs/performance.md, Memory).
 * --list-only reads only the list (served as cached bytes, nothing allocated per request for its
 * body), to tell the cache's memory from the room answers' per-request bodies.
 * --mixed runs `bun run bench`'s soak alone instead (bench/wrk/mixed.lua: list, rooms, my
 * reservations, bookings, health, logins; access log on), on a fresh process: the quickest way to
 * measure its peak RSS and trend (docs/performance.md, Memory).
 * --probe FILE starts the app through bench/heap-probe.ts: heap and allocator figures every 10 s
 * and the live object counts by type every minute, as JSON lines in FILE (it forces a full GC
 * once a minute, so its RSS figures are not the soak's).
 * --variants "default|BUN_OPTIONS=--smol|K=V K=V" runs one soak per set of variables for the app, each on
 * a fresh process over the same dataset, in turn (--rounds N: N times over, alternating);
 * SOAK_TREE=/path in a variant runs the code of that copy of the project (old against new).
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { BENCH_PASSWORD, bookableRoomIds, buildDataset } from './dataset'
import { createPostgresDatabase, LOCAL_POSTGRES_URL } from '../test/helpers/db'
import { freePort, processEnv } from '../test/helpers/process'
import { bookEvery, fmt, imageRuntimeEnv, killChildren, parseEnv, rssMb, runWrk, sampleRss, slope, spawnLogged, waitFor200 } from './lib'
import postgres from 'postgres'
import os from 'node:os'

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string' }, 'small-heap': { type: 'boolean' }, 'list-only': { type: 'boolean' }, mixed: { type: 'boolean' }, probe: { type: 'string' },
    variants: { type: 'string' }, rounds: { type: 'string' },
  },
})
const SECONDS = Number(flags.seconds ?? 300)
const MIXED = flags.mixed === true
const variants = (flags.variants ?? process.env.SOAK_APP_ENV ?? '').split('|').map((v) => v.trim())
const ROUNDS = Number(flags.rounds ?? 1)
const db = await createPostgresDatabase('qrbook_cache_soak', process.env.BENCH_DATABASE_URL ?? LOCAL_POSTGRES_URL)
const logFile = path.join(os.tmpdir(), `qrbook-cache-soak-${process.pid}.log`)
let run = 0
const summary: string[] = []
try {
  await buildDataset(db.url)
  const bookable = await bookableRoomIds(db.url)
  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  const allRooms = (await sql`select id from rooms order by id`).map((r) => r.id).join(',')
  await sql.end()
  for (let round = 0; round < ROUNDS; round++) for (const variant of variants) summary.push(await soak(variant, bookable, allRooms))
  console.log(`\n${summary.join('\n')}`)
} finally {
  killChildren()
  await db.drop()
}

/** One soak on a fresh app process with `variant`'s variables ("K=V K=V"; "" or "default": none). */
async function soak(variant: string, bookable: number[], allRooms: string): Promise<string> {
  const { SOAK_TREE: tree, ...extraEnv } = parseEnv(variant)
  const block = run++
  const port = freePort()
  const env = processEnv({
    // the runtime settings of the production image (the Dockerfile's BUN_JSC_*), as it ships
    ...imageRuntimeEnv(),
    SECRET_KEY: 'bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz', JWT_SECRET_KEY: 'bench-jwt-secret-key-0123456789abcdefghijklmnopqrstuv',
    PORT: String(port), DATABASE_URL: db.url, RATELIMIT_ENABLED: 'false', BOOKING_HORIZON_DAYS: '3660',
    // the mixed soak as `bun run bench` runs it: the access log on, to a file
    LOG_LEVEL: MIXED ? 'info' : 'warn',
    STATIC_QR_PATH: path.join(os.tmpdir(), `qrbook-cache-soak-qr-${process.pid}`),
    ...(flags['small-heap'] ? { BUN_JSC_forceRAMSize: String(384 * 2 ** 20) } : {}),
    ...(flags.probe ? { HEAP_PROBE_FILE: path.resolve(`${flags.probe}${block ? `.${block}` : ''}`) } : {}),
    ...extraEnv,
  })
  // SOAK_TREE=/a/copy/of/the/project: that copy's code (old against new, side by side)
  const entry = tree ? path.join(tree, 'src/index.ts') : 'src/index.ts'
  const argv = flags.probe ? [process.execPath, '--preload', './bench/heap-probe.ts', entry] : [process.execPath, entry]
  const app = spawnLogged(argv, env, port, logFile)
  await waitFor200(`${app.base}/health`, performance.now(), app.proc)
  const login = async (name: string) => await (await fetch(`${app.base}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: BENCH_PASSWORD }),
  })).json() as { access_token: string; csrf_token: string }
  const booking = await login('user0002')
  // each run books in days of its own
  const hour = Math.floor(Date.now() / 3600_000) * 3600 + block * 120 * 86400
  const wrkEnv: Record<string, string> = MIXED
    ? {
      // bench/run.ts's soak: the same users and variables
      BENCH_ROOMS: bookable.join(','), BENCH_BASE_EPOCH: String(hour + 200 * 86400), BENCH_ACCESS_COOKIE: booking.access_token, BENCH_CSRF: booking.csrf_token,
      BENCH_ALL_ROOMS: allRooms, BENCH_LOGIN_NAME: 'user0004', BENCH_LOGIN_PASSWORD: BENCH_PASSWORD, BENCH_TOKEN: (await login('user0001')).access_token,
    }
    : { BENCH_ALL_ROOMS: allRooms, BENCH_LIST_PERCENT: flags['list-only'] ? '100' : '60' }

  const samples: { t: number; rss: number }[] = []
  const started = performance.now()
  const sample = () => {
    const rss = rssMb(app.pid)
    if (rss === undefined) return
    const t = Math.round((performance.now() - started) / 1000)
    samples.push({ t, rss })
    console.log(`  t=${String(t).padStart(3)} s  RSS ${rss.toFixed(1)} MB`)
  }
  const booker = bookEvery(app.base, { token: booking.access_token, csrf: booking.csrf_token }, bookable, hour + 260 * 86400)
  sample()
  const timer = setInterval(sample, 10_000)
  const peak = sampleRss(app.pid, 250)
  const result = await runWrk({ url: app.base, script: MIXED ? 'mixed.lua' : 'reads.lua', seconds: SECONDS, connections: 32, threads: 2, env: wrkEnv })
  const side = await booker.stop()
  const { max } = peak.stop()
  clearInterval(timer)
  sample()
  await app.stop()
  const settle = Math.min(60, SECONDS / 5)
  const settled = samples.filter((s) => s.t >= settle)
  const perMinute = slope(settled.map((s) => s.t / 60), settled.map((s) => s.rss))
  const what = MIXED ? 'mixed soak' : 'cache soak'
  const flagsDesc = `${flags['small-heap'] ? ' (BUN_JSC_forceRAMSize=384 MiB)' : ''}${flags['list-only'] ? ', the list only' : ''}${variant && variant !== 'default' ? ` (${variant})` : ' (default)'}`
  const statuses = Object.entries(result.statuses).map(([s, n]) => `${fmt(n)} x ${s}`).join(', ')
  const line = `${what}, ${SECONDS} s${flagsDesc}: ${fmt(result.rps, 1)} req/s, p50 ${(result.latency_us.p50 / 1000).toFixed(1)} ms, p99 ${(result.latency_us.p99 / 1000).toFixed(1)} ms, `
    + `${statuses || `non-2xx ${result.non2xx}`}; a booking every 100 ms: ${fmt(side.sent)} sent, ${fmt(side.created)} x 201; `
    + `RSS peak ${max.toFixed(0)} MB, trend after ${settle} s: ${perMinute >= 0 ? '+' : ''}${perMinute.toFixed(2)} MB/min `
    + `(${perMinute < 1 ? 'no growth' : '**growth**'}); RSS ${samples.map((s) => s.rss.toFixed(0)).join(' ')}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`
  console.log(line)
  return line
}
