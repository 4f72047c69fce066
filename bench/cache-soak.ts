/**
 * `bun bench/cache-soak.ts [--seconds 300] [--small-heap] [--list-only]`: does the memory of the cached room views grow with
 * bookings? On the bench dataset (200 rooms, 100,000 reservations), one app process serves the
 * room list and random rooms to wrk (bench/wrk/reads.lua: reads only, all 200 rooms' views
 * cached) while a booking is made every 100 ms beside it (each one drops cached views, which are
 * rebuilt by the next reads). RSS every 10 s; the verdict is the least-squares slope after the
 * first minute, as in the main soak ("no growth": under 1 MB/min). Each booking adds ~0.2 KB to
 * its room's schedule, so 3,000 bookings add ~0.6 MB of answers: the data's own growth.
 * --small-heap runs the app with BUN_JSC_forceRAMSize=384 MiB (docs/performance.md, Memory): JSC
 * then collects in small steps, so the RSS shows a trend instead of a 100 MB sawtooth.
 * --list-only reads only the list (served as cached bytes, nothing allocated per request for its
 * body), to tell the cache's memory from the room answers' per-request bodies.
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import { BENCH_PASSWORD, bookableRoomIds, buildDataset } from './dataset'
import { createPostgresDatabase, LOCAL_POSTGRES_URL } from '../test/helpers/db'
import { freePort, processEnv } from '../test/helpers/process'
import { bookEvery, fmt, killChildren, rssMb, runWrk, slope, spawnLogged, waitFor200 } from './lib'
import postgres from 'postgres'
import os from 'node:os'

const { values: flags } = parseArgs({ options: { seconds: { type: 'string' }, 'small-heap': { type: 'boolean' }, 'list-only': { type: 'boolean' } } })
const SECONDS = Number(flags.seconds ?? 300)
const db = await createPostgresDatabase('qrbook_cache_soak', process.env.BENCH_DATABASE_URL ?? LOCAL_POSTGRES_URL)
try {
  await buildDataset(db.url)
  const bookable = await bookableRoomIds(db.url)
  const sql = postgres(db.url, { max: 1, onnotice: () => {} })
  const allRooms = (await sql`select id from rooms order by id`).map((r) => r.id).join(',')
  await sql.end()
  const port = freePort()
  const env = processEnv({
    SECRET_KEY: 'bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz', JWT_SECRET_KEY: 'bench-jwt-secret-key-0123456789abcdefghijklmnopqrstuv',
    PORT: String(port), DATABASE_URL: db.url, RATELIMIT_ENABLED: 'false', BOOKING_HORIZON_DAYS: '3660', LOG_LEVEL: 'warn',
    ...(flags['small-heap'] ? { BUN_JSC_forceRAMSize: String(384 * 2 ** 20) } : {}),
  })
  const app = spawnLogged([process.execPath, 'src/index.ts'], env, port, path.join(os.tmpdir(), 'qrbook-cache-soak.log'))
  await waitFor200(`${app.base}/health`, performance.now(), app.proc)
  const login = await (await fetch(`${app.base}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'user0002', password: BENCH_PASSWORD }),
  })).json() as { access_token: string; csrf_token: string }

  const samples: { t: number; rss: number }[] = []
  const started = performance.now()
  const sample = () => {
    const rss = rssMb(app.pid)
    if (rss === undefined) return
    const t = Math.round((performance.now() - started) / 1000)
    samples.push({ t, rss })
    console.log(`  t=${String(t).padStart(3)} s  RSS ${rss.toFixed(1)} MB`)
  }
  const booker = bookEvery(app.base, { token: login.access_token, csrf: login.csrf_token }, bookable, Math.floor(Date.now() / 3600_000) * 3600 + 400 * 86400)
  sample()
  const timer = setInterval(sample, 10_000)
  const result = await runWrk({ url: app.base, script: 'reads.lua', seconds: SECONDS, connections: 32, threads: 2, env: { BENCH_ALL_ROOMS: allRooms, BENCH_LIST_PERCENT: flags['list-only'] ? '100' : '60' } })
  const side = await booker.stop()
  clearInterval(timer)
  sample()
  const settle = Math.min(60, SECONDS / 5)
  const settled = samples.filter((s) => s.t >= settle)
  const perMinute = slope(settled.map((s) => s.t / 60), settled.map((s) => s.rss))
  console.log(`cache soak, ${SECONDS} s${flags['small-heap'] ? ' (BUN_JSC_forceRAMSize=384 MiB)' : ''}${flags['list-only'] ? ', the list only' : ''}: ${fmt(result.rps, 1)} req/s of room views, p99 ${(result.latency_us.p99 / 1000).toFixed(1)} ms, non-2xx ${result.non2xx}; `
    + `a booking every 100 ms: ${fmt(side.sent)} sent, ${fmt(side.created)} x 201; RSS trend after ${settle} s: ${perMinute >= 0 ? '+' : ''}${perMinute.toFixed(2)} MB/min `
    + `(${perMinute < 1 ? 'no growth' : '**growth**'}); RSS ${samples.map((s) => s.rss.toFixed(0)).join(' ')}`)
  await app.stop()
} finally {
  killChildren()
  await db.drop()
}
