/**
 * The fault section of `bun run bench` (also alone: `bun bench/run.ts --only fault`): a PostgreSQL
 * outage under a steady request rate. The app connects through a TCP proxy (test/helpers/tcp-proxy.ts)
 * that the bench switches to `down` for the outage (nothing listens: connections are refused, as
 * with a stopped server; the machine's PostgreSQL is never touched), then back to `pass`.
 *
 * The load is open-loop: RATE requests per second whatever the answers (a closed loop would send
 * fewer while requests hang and hide the problem), rotating through GET /api/rooms, GET
 * /api/rooms/:id, GET /api/reservations/mine and a booking of a distinct free slot.
 *
 * Measured: the answers to the requests sent during the outage (statuses, p50/p99/max; goal:
 * p99 < 1 s, each a 503 `database unavailable` with Retry-After), how long the requests in flight
 * at the cut took to be answered, and the time from the return to the first 200 (goal < 1 s).
 */
import { startTcpProxy } from '../test/helpers/tcp-proxy'
import { fmt, type Proc } from './lib'

export const FAULT_TARGET = { p99Ms: 1000, firstOkMs: 1000 }

export interface FaultOptions {
  /** postgres:// URL of a migrated and seeded database */
  databaseUrl: string
  /** Starts the app on the given DATABASE_URL (the proxy's) and waits for its first 200. */
  startApp: (databaseUrl: string) => Promise<Proc>
  login: (base: string) => Promise<{ token: string }>
  /** rooms that can be booked by anyone at any time */
  bookable: number[]
  rate?: number
  outageS?: number
  warmupS?: number
  afterS?: number
  log?: (line?: string) => void
}

interface Answer {
  what: string
  sentAt: number
  answeredAt: number
  status: number
  msg?: unknown
  retryAfter: string | null
}

export interface FaultResult {
  rate: number
  outageS: number
  /** answers to the requests sent in the second before the cut: what normal looks like */
  before: { count: number; p50: number; p99: number }
  during: { count: number; statuses: Record<string, number>; p50: number; p99: number; max: number; wellFormed: number }
  inFlightAtCut: { count: number; maxAfterCutMs: number }
  firstOkMs: number | undefined
  /** from the return to the last answer that was not a success */
  lastErrorMs: number | undefined
  after: { count: number; statuses: Record<string, number> }
  met: { p99: boolean; firstOk: boolean }
  markdown: string
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)]!
}

function countStatuses(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const a of answers) counts[a.status || 'network error'] = (counts[a.status || 'network error'] ?? 0) + 1
  return counts
}

const describeStatuses = (counts: Record<string, number>) =>
  Object.entries(counts).map(([status, n]) => `${fmt(n)} x ${status}`).join(', ')

export async function runFault(options: FaultOptions): Promise<FaultResult> {
  const rate = options.rate ?? 50
  const outageS = options.outageS ?? 10
  const warmupS = options.warmupS ?? 5
  const afterS = options.afterS ?? 5
  const log = options.log ?? ((line = '') => console.log(line))
  const pg = new URL(options.databaseUrl)
  const proxy = startTcpProxy({ hostname: pg.hostname, port: Number(pg.port || 5432) })
  let app: Proc | undefined
  try {
    app = await options.startApp(proxy.urlFor(options.databaseUrl))
    const base = app.base
    const { token } = await options.login(base)
    const detailRoom = options.bookable[0]!
    const firstSlot = Math.ceil((Date.now() + 900 * 24 * 3600_000) / 3600_000) * 3600_000
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z')

    const answers: Answer[] = []
    const inFlight = new Set<Promise<void>>()
    let n = 0
    const send = () => {
      const k = n++
      const kind = k % 4
      let what: string
      let init: RequestInit
      let url: string
      if (kind === 0) {
        what = 'GET /api/rooms'
        url = `${base}/api/rooms`
        init = {}
      } else if (kind === 1) {
        what = 'GET /api/rooms/:id'
        url = `${base}/api/rooms/${detailRoom}`
        init = {}
      } else if (kind === 2) {
        what = 'GET /api/reservations/mine'
        url = `${base}/api/reservations/mine`
        init = { headers: { authorization: `Bearer ${token}` } }
      } else {
        what = 'POST reserve'
        const booking = Math.floor(k / 4)
        const roomId = options.bookable[booking % options.bookable.length]!
        const start = firstSlot + Math.floor(booking / options.bookable.length) * 3600_000
        url = `${base}/api/rooms/${roomId}/reserve`
        init = {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ start_time: iso(start), end_time: iso(start + 30 * 60_000) }),
        }
      }
      const sentAt = performance.now()
      const done = fetch(url, { ...init, signal: AbortSignal.timeout(60_000) }).then(async (res) => {
        const text = await res.text()
        let msg: unknown
        try {
          msg = (JSON.parse(text) as { msg?: unknown }).msg
        } catch {}
        answers.push({ what, sentAt, answeredAt: performance.now(), status: res.status, msg, retryAfter: res.headers.get('retry-after') })
      }, () => {
        answers.push({ what, sentAt, answeredAt: performance.now(), status: 0, retryAfter: null })
      })
      inFlight.add(done)
      void done.finally(() => inFlight.delete(done))
    }

    // Open loop: on each tick send what is due by the clock, so a busy moment does not lower the rate.
    const loadStart = performance.now()
    let sent = 0
    const tick = setInterval(() => {
      const due = Math.floor(((performance.now() - loadStart) / 1000) * rate)
      while (sent < due) {
        sent++
        send()
      }
    }, 5)

    log(`  ${rate} req/s through a TCP proxy: ${warmupS} s up, ${outageS} s with PostgreSQL unreachable (connections refused), ${afterS} s after its return`)
    await Bun.sleep(warmupS * 1000)
    const cutAt = performance.now()
    proxy.setMode('down')
    await Bun.sleep(outageS * 1000)
    const restoredAt = performance.now()
    proxy.setMode('pass')
    await Bun.sleep(afterS * 1000)
    clearInterval(tick)
    await Promise.all([...inFlight])

    const before = answers.filter((a) => a.sentAt >= cutAt - 1000 && a.answeredAt < cutAt).map((a) => a.answeredAt - a.sentAt).sort((a, b) => a - b)
    const during = answers.filter((a) => a.sentAt >= cutAt && a.sentAt < restoredAt)
    const durations = during.map((a) => a.answeredAt - a.sentAt).sort((a, b) => a - b)
    const wellFormed = during.filter((a) => a.status === 503 && a.msg === 'database unavailable' && Number(a.retryAfter) >= 1).length
    const atCut = answers.filter((a) => a.sentAt < cutAt && a.answeredAt >= cutAt)
    const afterReturn = answers.filter((a) => a.answeredAt >= restoredAt).sort((a, b) => a.answeredAt - b.answeredAt)
    const ok = (a: Answer) => a.status >= 200 && a.status < 300
    const firstOk = afterReturn.find(ok)
    const lastError = afterReturn.filter((a) => !ok(a) && a.sentAt >= restoredAt).at(-1)
    const sentAfter = answers.filter((a) => a.sentAt >= restoredAt)

    const result: FaultResult = {
      rate,
      outageS,
      before: { count: before.length, p50: percentile(before, 0.5), p99: percentile(before, 0.99) },
      during: {
        count: during.length,
        statuses: countStatuses(during),
        p50: percentile(durations, 0.5),
        p99: percentile(durations, 0.99),
        max: durations.at(-1) ?? NaN,
        wellFormed,
      },
      inFlightAtCut: { count: atCut.length, maxAfterCutMs: Math.max(0, ...atCut.map((a) => a.answeredAt - cutAt)) },
      firstOkMs: firstOk ? firstOk.answeredAt - restoredAt : undefined,
      lastErrorMs: lastError ? lastError.answeredAt - restoredAt : undefined,
      after: { count: sentAfter.length, statuses: countStatuses(sentAfter) },
      met: { p99: false, firstOk: false },
      markdown: '',
    }
    result.met.p99 = during.length > 0 && result.during.p99 < FAULT_TARGET.p99Ms && wellFormed === during.length
    result.met.firstOk = result.firstOkMs !== undefined && result.firstOkMs < FAULT_TARGET.firstOkMs
    const mark = (met: boolean) => (met ? 'met' : '**missed**')
    const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : `${v.toFixed(0)} ms`)
    result.markdown = [
      `PostgreSQL outage (\`bench/fault.ts\`): ${rate} req/s open-loop (rooms list, one room, my reservations, bookings) `
        + `through a TCP proxy; ${outageS} s with connections refused, then back.`,
      '',
      '| Fault measure | Result | Target | |',
      '|---|---|---|---|',
      `| Latency p50 / p99 in the second before the cut (the database up) | ${ms(result.before.p50)} / ${ms(result.before.p99)} | | |`,
      `| Answers to the ${fmt(during.length)} requests sent during the outage | ${describeStatuses(result.during.statuses)}; `
        + `${fmt(wellFormed)} of them 503 \`database unavailable\` with Retry-After | all 503 JSON with Retry-After | ${mark(wellFormed === during.length && during.length > 0)} |`,
      `| Their latency p50 / p99 / max | ${ms(result.during.p50)} / ${ms(result.during.p99)} / ${ms(result.during.max)} | p99 < ${FAULT_TARGET.p99Ms} ms | ${mark(result.met.p99)} |`,
      `| Requests in flight at the cut (${atCut.length}) answered within | ${ms(result.inFlightAtCut.maxAfterCutMs)} of the cut | | |`,
      `| Return of the database to the first 200 | ${ms(result.firstOkMs)} | < ${FAULT_TARGET.firstOkMs} ms | ${mark(result.met.firstOk)} |`,
      `| Requests sent after the return | ${describeStatuses(result.after.statuses)}; last non-2xx answered ${ms(result.lastErrorMs)} after the return | | |`,
    ].join('\n')
    log(`  before the cut: p50 ${ms(result.before.p50)}, p99 ${ms(result.before.p99)}`)
    log(`  during the outage: ${during.length} requests, ${describeStatuses(result.during.statuses)}; p50 ${ms(result.during.p50)}, p99 ${ms(result.during.p99)}, max ${ms(result.during.max)}`)
    log(`  in flight at the cut: ${atCut.length}, all answered within ${ms(result.inFlightAtCut.maxAfterCutMs)}; first 200 ${ms(result.firstOkMs)} after the return`)
    return result
  } finally {
    await app?.stop()
    proxy.close()
  }
}
