/**
 * Notifications (issue 28): the e-mail backlog's drain rate, and booking throughput with
 * notifications on against off. Everything runs against started app processes (`bun src/index.ts`)
 * on the bench database, and a local SMTP server in this process that only counts what it is given
 * (smtp-server; each message's Message-ID `<notice-N@...>` is read from its headers, so a notice
 * sent twice would show).
 *
 * 1. Drain: 10,000 notices (booking confirmations of 10,000 future bookings of the bench users, each
 *    user with an address and booking_confirmed on for both channels) are queued through the
 *    notifier's own storeNotices in one transaction; an app with SMTP_URL set sends them (its mail
 *    worker: claims of 200, 8 in flight, a pool of 4 SMTP connections, an .ics per booking). Timed
 *    from the commit to the 10,000th message; then exactly 10,000 distinct notices must have arrived
 *    and the outbox must be empty.
 * 2. Booking throughput: the load of the main bench's `POST reserve` row (bench/wrk/reserve.lua, a
 *    distinct free slot per request; here without the deliberate 409s) on one bench user, against an
 *    app with notifications on (SMTP_URL set; the user has an address and booking_confirmed on for
 *    in-app and e-mail, so every booking makes a notice, an in-app row and an e-mail) and off (no
 *    SMTP_URL, and the user wants no booking confirmations, the default: no notice is made; the
 *    notifier still follows the change record, there being no switch that stops it). A fresh process
 *    per run, off and on alternating for ROUNDS rounds; the medians are compared. After each "on"
 *    run: how long until the follower and the outbox are through, and every booking of the run must
 *    have its notice and its e-mail. The CPU time per booking of the app process and of its
 *    PostgreSQL backends (from /proc) and of this process (the SMTP server: on the same cores, as a
 *    local relay would be) shows what the notifications cost where.
 */
import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { SMTPServer } from 'smtp-server'
import type { Config } from '../src/config'
import { createDb } from '../src/db/client'
import { storeNotices } from '../src/core/notifications/notifier'
import type { Notice } from '../src/core/notifications/derive'
import { systemClock } from '../src/lib/clock'
import { formatUtc } from '../src/lib/time'
import { fmt, median, ms, runWrk, type Proc, type WrkResult } from './lib'

export const NOTIFICATIONS_TARGET = { notices: 10_000, throughputRatio: 0.9 }
/** storeNotices per call: its pg_notify payload (the users told) must stay under PostgreSQL's 8,000 bytes. */
const QUEUE_CHUNK = 500
const ADDRESS_DOMAIN = 'bench.qrbook.test'
const CLK_TCK = 100

export interface NotificationsSetup {
  databaseUrl: string
  /** the app's configuration on the bench database (storeNotices reads it) */
  config: Config
  bookable: number[]
  /** starts an app process on the bench database with these extra variables; resolves once /health is 200 */
  startApp(name: string, extra: Record<string, string>): Promise<Proc>
  login(base: string, name: string, password: string): Promise<{ token: string; csrf: string }>
  /** the first second of a block of free slots no other run books in */
  nextBlock(): number
  /** the bench user who books (user0001 ...) and its password */
  user: string
  password: string
  seconds: number
  warmup: number
  rounds: number
  connections: number
  threads: number
  log(line?: string): void
}

export interface BookingRun {
  mode: 'on' | 'off'
  round: number
  wrk: WrkResult
  created: number
  errors: number
  /** CPU ms per 201 of the app process, of its PostgreSQL backends, and of this process (the SMTP server) */
  appCpuMs: number
  pgCpuMs: number
  smtpCpuMs: number
  /** on: e-mails received while the load ran */
  mailedDuring?: number
  /** on: seconds from wrk's end until the follower and the outbox were through */
  settleS?: number
  /** on: bookings of the run with their notice, and with their e-mail sent */
  noticed?: number
  mailed?: number
}

export interface NotificationsResult {
  drain: { notices: number; queueS: number; firstMs: number; totalS: number; rate: number; steadyRate: number; received: number; duplicates: number; unsent: number; appCpuS: number; mb: number }
  runs: BookingRun[]
  on: { rps: number; p99: number }
  off: { rps: number; p99: number }
  ratio: number
  met: { drain: boolean; ratio: boolean; delivered: boolean }
  markdown: string
}

/** An SMTP server that counts messages and the notices they carry (by Message-ID), parsing nothing else. */
async function countingSmtp() {
  const seen = new Set<number>()
  const state = { received: 0, duplicates: 0, bytes: 0, first: 0, last: 0 }
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, _session, callback) {
      let head = ''
      stream.on('data', (chunk: Buffer) => {
        state.bytes += chunk.length
        if (head.length < 4096) head += chunk.toString('latin1', 0, Math.min(chunk.length, 4096))
      })
      stream.on('end', () => {
        const now = performance.now()
        if (state.received++ === 0) state.first = now
        state.last = now
        const id = /^Message-ID:\s*<notice-(\d+)@/im.exec(head)?.[1]
        if (id !== undefined) {
          if (seen.has(Number(id))) state.duplicates++
          else seen.add(Number(id))
        }
        callback()
      })
    },
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port))
  })
  return {
    url: `smtp://127.0.0.1:${port}`,
    state,
    distinct: () => seen.size,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** CPU seconds (user + system) a process has used, or undefined once it is gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  } catch {
    return undefined
  }
}

/** CPU seconds of the app's PostgreSQL backends (those on the bench database but this process's own connection). */
async function backendCpu(sql: postgres.Sql): Promise<Map<number, number>> {
  const rows = await sql`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`
  return new Map(rows.flatMap((r) => {
    const cpu = cpuSeconds(Number(r.pid))
    return cpu === undefined ? [] : [[Number(r.pid), cpu] as [number, number]]
  }))
}
function backendDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0
  for (const [pid, end] of after) total += end - (before.get(pid) ?? end) // a backend opened during the run counts from its first sample
  return total
}

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<number> {
  const t0 = performance.now()
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`notifications: ${what} did not happen within ${timeoutMs / 1000} s`)
    await Bun.sleep(25)
  }
  return performance.now() - t0
}

export async function runNotifications(setup: NotificationsSetup): Promise<NotificationsResult> {
  const { log } = setup
  const sql = postgres(setup.databaseUrl, { max: 2, onnotice: () => {} })
  const smtp = await countingSmtp()
  const on = { SMTP_URL: smtp.url }
  const outboxEmpty = async () => (await sql`select count(*)::int as n from mail_deliveries where status in ('pending', 'sending')`)[0]!.n === 0
  const followerThrough = async () => (await sql`
    select coalesce((select position from follower_cursors where name = 'notifier'), 0) >= coalesce((select max(position) from changes), 0) as through`)[0]!.through === true
  try {
    // The changes of the sections before this one (the load's bookings, the console's changes),
    // left unfollowed when their apps stopped, are not this section's to mail: the notifier starts
    // after them, as it would have had it kept up.
    await sql`
      insert into follower_cursors (name, position, updated_at) values ('notifier', (select coalesce(max(position), 0) from changes), now())
      on conflict (name) do update set position = excluded.position, updated_at = excluded.updated_at`
    // Every bench user gets an address and wants booking confirmations in the app and by e-mail.
    await sql`update users set email = name || ${`@${ADDRESS_DOMAIN}`} where name ~ '^user[0-9]{4}$'`
    await sql`
      insert into notification_preferences (user_id, kind, channel, enabled, updated_at)
      select u.id, 'booking_confirmed', c.channel, true, now() from users u cross join (values ('in_app'), ('email')) as c(channel)
      where u.name ~ '^user[0-9]{4}$'
      on conflict (user_id, kind, channel) do update set enabled = true`

    // 1. drain
    const drainApp = await setup.startApp('notifications-drain', on)
    let drain: NotificationsResult['drain']
    try {
      const bookings = await sql`
        select r.id, r.room_id, ro.name as room_name, r.start_time, r.end_time, r.title, r.user_id
        from reservations r join rooms ro on ro.id = r.room_id join users u on u.id = r.user_id
        where r.status = 'active' and r.start_time > now() and u.email is not null
        order by r.id limit ${NOTIFICATIONS_TARGET.notices}`
      if (bookings.length < NOTIFICATIONS_TARGET.notices) throw new Error(`notifications: only ${bookings.length} future bookings to notify about`)
      const notices: Notice[] = bookings.map((b) => ({
        userId: Number(b.user_id), kind: 'booking_confirmed', key: `bench-drain:${b.id}`, changePosition: null,
        data: {
          reservation_id: Number(b.id), room_id: Number(b.room_id), room_name: b.room_name, start_time: formatUtc(b.start_time as Date),
          end_time: formatUtc(b.end_time as Date), title: b.title ?? null, by: null,
        },
      }))
      const database = await createDb({ kind: 'postgres', url: setup.databaseUrl })
      const cpu0 = cpuSeconds(drainApp.pid) ?? 0
      const q0 = performance.now()
      let stored = 0
      try {
        await database.db.transaction(async (tx) => {
          for (let i = 0; i < notices.length; i += QUEUE_CHUNK) {
            stored += await storeNotices({ config: { ...setup.config, smtpUrl: smtp.url }, clock: systemClock }, tx, notices.slice(i, i + QUEUE_CHUNK))
          }
        })
      } finally {
        await database.close()
      }
      const t0 = performance.now()
      const [{ queued }] = await sql`select count(*)::int as queued from mail_deliveries where status = 'pending'` as [{ queued: number }]
      log(`  queued ${fmt(stored)} notices (${fmt(queued)} e-mails) in ${((t0 - q0) / 1000).toFixed(1)} s; draining ...`)
      await waitUntil(`delivery of ${NOTIFICATIONS_TARGET.notices} e-mails`, () => smtp.state.received >= NOTIFICATIONS_TARGET.notices)
      const totalS = (smtp.state.last - t0) / 1000
      await waitUntil('an empty outbox', outboxEmpty, 10_000)
      await Bun.sleep(500) // anything sent twice would arrive now
      const appCpuS = (cpuSeconds(drainApp.pid) ?? 0) - cpu0
      const [{ unsent }] = await sql`select count(*)::int as unsent from mail_deliveries where status <> 'sent'` as [{ unsent: number }]
      drain = {
        notices: stored, queueS: (t0 - q0) / 1000, firstMs: smtp.state.first - t0, totalS, rate: NOTIFICATIONS_TARGET.notices / totalS,
        steadyRate: (NOTIFICATIONS_TARGET.notices - 1) / ((smtp.state.last - smtp.state.first) / 1000),
        received: smtp.state.received, duplicates: smtp.state.duplicates, unsent, appCpuS, mb: smtp.state.bytes / 2 ** 20,
      }
      log(`  ${fmt(drain.received)} e-mails (${fmt(smtp.distinct())} distinct notices, ${drain.duplicates} twice, ${drain.mb.toFixed(1)} MB) in ${totalS.toFixed(2)} s `
        + `from the commit: ${fmt(drain.rate)} notices/s (first after ${drain.firstMs.toFixed(0)} ms; ${fmt(drain.steadyRate)}/s from first to last); `
        + `app CPU ${appCpuS.toFixed(1)} s (${(appCpuS * 1000 / NOTIFICATIONS_TARGET.notices).toFixed(2)} ms per e-mail)`)
    } finally {
      await drainApp.stop()
    }

    // 2. booking throughput, notifications off and on, alternating
    const [{ id: userId }] = await sql`select id from users where name = ${setup.user}` as [{ id: number }]
    const runs: BookingRun[] = []
    for (let round = 0; round < setup.rounds; round++) {
      for (const mode of ['off', 'on'] as const) {
        if (mode === 'off') await sql`delete from notification_preferences where user_id = ${userId} and kind = 'booking_confirmed'`
        else {
          await sql`
            insert into notification_preferences (user_id, kind, channel, enabled, updated_at)
            select ${userId}, 'booking_confirmed', c.channel, true, now() from (values ('in_app'), ('email')) as c(channel)
            on conflict (user_id, kind, channel) do update set enabled = true`
        }
        const app = await setup.startApp(`notifications-${mode}-${round}`, mode === 'on' ? on : {})
        try {
          const session = await setup.login(app.base, setup.user, setup.password)
          const env = (block: number) => ({
            BENCH_ROOMS: setup.bookable.join(','), BENCH_BASE_EPOCH: String(block),
            BENCH_ACCESS_COOKIE: session.token, BENCH_CSRF: session.csrf, BENCH_REPEAT_EVERY: '0',
          })
          const wrkOptions = { url: app.base, script: 'reserve.lua', connections: setup.connections, threads: setup.threads }
          if (setup.warmup > 0) await runWrk({ ...wrkOptions, seconds: setup.warmup, env: env(setup.nextBlock()) })
          if (mode === 'on') await waitUntil('the warm-up\'s notices', async () => (await followerThrough()) && (await outboxEmpty()))
          const block = setup.nextBlock()
          const app0 = cpuSeconds(app.pid) ?? 0
          const pg0 = await backendCpu(sql)
          const own0 = process.cpuUsage()
          const received0 = smtp.state.received
          const wrk = await runWrk({ ...wrkOptions, seconds: setup.seconds, env: env(block) })
          const appCpu = (cpuSeconds(app.pid) ?? 0) - app0
          const own = process.cpuUsage(own0)
          const mailedDuring = smtp.state.received - received0
          const pgCpu = backendDelta(pg0, await backendCpu(sql))
          const created = wrk.statuses['201'] ?? 0
          const socket = wrk.socket_errors.connect + wrk.socket_errors.read + wrk.socket_errors.write + wrk.socket_errors.timeout
          const run: BookingRun = {
            mode, round, wrk, created, errors: socket + Object.entries(wrk.statuses).filter(([s]) => s !== '201').reduce((a, [, n]) => a + n, 0),
            appCpuMs: (appCpu * 1000) / Math.max(1, created), pgCpuMs: (pgCpu * 1000) / Math.max(1, created),
            smtpCpuMs: (own.user + own.system) / 1000 / Math.max(1, created),
          }
          const range = sql`r.user_id = ${userId} and r.start_time >= to_timestamp(${block}) and r.start_time < to_timestamp(${block}) + interval '60 days'`
          if (mode === 'on') {
            run.mailedDuring = mailedDuring
            run.settleS = (await waitUntil('the run\'s notices and e-mails', async () => (await followerThrough()) && (await outboxEmpty()))) / 1000
            const [counts] = await sql`
              select count(*)::int as bookings,
                     count(n.id)::int as noticed,
                     count(m.id) filter (where m.status = 'sent')::int as mailed
              from reservations r
              left join notifications n on n.user_id = r.user_id and n.kind = 'booking_confirmed' and (n.data->>'reservation_id')::int = r.id
              left join mail_deliveries m on m.notification_id = n.id
              where ${range}`
            run.noticed = counts!.noticed
            run.mailed = counts!.mailed
            if (counts!.noticed !== counts!.bookings || counts!.mailed !== counts!.bookings) run.errors += counts!.bookings - Math.min(counts!.noticed, counts!.mailed)
          } else {
            const [{ n }] = await sql`select count(*)::int as n from notifications n join reservations r on r.id = (n.data->>'reservation_id')::int where ${range}` as [{ n: number }]
            if (n > 0) throw new Error(`notifications off, yet ${n} notices about the run's bookings`)
          }
          runs.push(run)
          log(`  ${mode.padEnd(3)} round ${round + 1}: ${fmt(wrk.rps, 1).padStart(7)} req/s  p50 ${ms(wrk.latency_us.p50).padStart(6)} ms  p99 ${ms(wrk.latency_us.p99).padStart(6)} ms  `
            + `${fmt(created)} x 201, errors ${run.errors}; CPU per booking: app ${run.appCpuMs.toFixed(2)} ms, PostgreSQL ${run.pgCpuMs.toFixed(2)} ms, SMTP server ${run.smtpCpuMs.toFixed(2)} ms`
            + (mode === 'on' ? `; ${fmt(mailedDuring)} e-mails during the load, all through ${run.settleS!.toFixed(1)} s after it (${fmt(run.noticed!)} noticed, ${fmt(run.mailed!)} mailed)` : ''))
        } finally {
          await app.stop()
        }
      }
    }
    await Bun.sleep(300)
    const [{ sent }] = await sql`select count(*)::int as sent from mail_deliveries where status = 'sent'` as [{ sent: number }]
    const delivered = smtp.state.duplicates === 0 && smtp.distinct() === sent && runs.every((r) => r.errors === 0)

    const of = (mode: 'on' | 'off') => {
      const rs = runs.filter((r) => r.mode === mode)
      return { rps: median(rs.map((r) => r.wrk.rps)), p99: median(rs.map((r) => r.wrk.latency_us.p99 / 1000)) }
    }
    const onStats = of('on')
    const offStats = of('off')
    const ratio = onStats.rps / offStats.rps
    const met = {
      drain: drain.received === NOTIFICATIONS_TARGET.notices && drain.duplicates === 0 && drain.unsent === 0 && smtp.distinct() >= NOTIFICATIONS_TARGET.notices,
      ratio: ratio >= NOTIFICATIONS_TARGET.throughputRatio,
      delivered,
    }
    const mark = (ok: boolean) => (ok ? 'met' : '**missed**')
    const avg = (rs: BookingRun[], f: (r: BookingRun) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length
    const onRuns = runs.filter((r) => r.mode === 'on')
    const offRuns = runs.filter((r) => r.mode === 'off')
    const markdown = [
      `Notifications (\`bench/notifications.ts\`): a local SMTP server that counts messages; the app with \`SMTP_URL\` set to it.`,
      '',
      `Backlog: ${fmt(drain.notices)} booking confirmations queued by \`storeNotices\` in one transaction (${drain.queueS.toFixed(1)} s), `
        + `sent by one app process: **${fmt(drain.rate)} notices/s**, ${drain.totalS.toFixed(1)} s from the commit to the last e-mail `
        + `(the first after ${drain.firstMs.toFixed(0)} ms, the worker's tick; ${fmt(drain.steadyRate)}/s from first to last); `
        + `${fmt(drain.received)} received, ${drain.duplicates} twice, ${drain.unsent} not marked sent; ${drain.mb.toFixed(1)} MB with an .ics each; `
        + `app CPU ${(drain.appCpuS * 1000 / NOTIFICATIONS_TARGET.notices).toFixed(2)} ms per e-mail.`,
      '',
      `Bookings (\`POST /api/rooms/:id/reserve\`, wrk ${setup.threads} threads, ${setup.connections} connections, ${setup.warmup} s warm-up + ${setup.seconds} s, a fresh app per run, off and on alternating): `
        + '"on": SMTP_URL set, the user has an address and booking confirmations on in the app and by e-mail (a notice, an in-app row and an e-mail per booking); '
        + '"off": no SMTP_URL and the default preferences (no notice; the notifier still follows the change record).',
      '',
      '| Run | req/s | p50 ms | p99 ms | 201 | Errors | CPU ms per booking: app / PostgreSQL / SMTP server | E-mails during the load | All through after the load |',
      '|---|---:|---:|---:|---:|---:|---|---:|---|',
      ...runs.map((r) => `| ${r.mode}, round ${r.round + 1} | ${fmt(r.wrk.rps, 1)} | ${ms(r.wrk.latency_us.p50)} | ${ms(r.wrk.latency_us.p99)} | ${fmt(r.created)} | ${r.errors} | ${r.appCpuMs.toFixed(2)} / ${r.pgCpuMs.toFixed(2)} / ${r.smtpCpuMs.toFixed(2)} | ${r.mailedDuring === undefined ? '' : fmt(r.mailedDuring)} | ${r.settleS === undefined ? '' : `${r.settleS.toFixed(1)} s (${fmt(r.noticed!)} notices, ${fmt(r.mailed!)} e-mails)`} |`),
      '',
      `Median on / off: ${fmt(onStats.rps, 1)} / ${fmt(offStats.rps, 1)} req/s = **${ratio.toFixed(3)}**; p99 ${onStats.p99.toFixed(1)} / ${offStats.p99.toFixed(1)} ms. `
        + `CPU per booking, mean on / off: app ${avg(onRuns, (r) => r.appCpuMs).toFixed(2)} / ${avg(offRuns, (r) => r.appCpuMs).toFixed(2)} ms, `
        + `PostgreSQL ${avg(onRuns, (r) => r.pgCpuMs).toFixed(2)} / ${avg(offRuns, (r) => r.pgCpuMs).toFixed(2)} ms, `
        + `the SMTP server (this process) ${avg(onRuns, (r) => r.smtpCpuMs).toFixed(2)} / ${avg(offRuns, (r) => r.smtpCpuMs).toFixed(2)} ms.`,
      '',
      '| Target | Result | |',
      '|---|---|---|',
      `| ${fmt(NOTIFICATIONS_TARGET.notices)} queued notices reach the SMTP server, each once | ${fmt(drain.received)} in ${drain.totalS.toFixed(1)} s (${fmt(drain.rate)}/s), ${drain.duplicates} twice | ${mark(met.drain)} |`,
      `| Booking throughput with notifications on >= ${NOTIFICATIONS_TARGET.throughputRatio * 100}% of off | ${(ratio * 100).toFixed(1)}% (${fmt(onStats.rps, 1)} / ${fmt(offStats.rps, 1)} req/s) | ${mark(met.ratio)} |`,
      `| Every booking of the "on" runs told once, in the app and by e-mail | ${fmt(onRuns.reduce((a, r) => a + (r.mailed ?? 0), 0))} e-mails for ${fmt(onRuns.reduce((a, r) => a + r.created, 0))} x 201; ${fmt(smtp.distinct())} distinct notices received for ${fmt(sent)} sent | ${mark(met.delivered)} |`,
    ].join('\n')
    return { drain, runs, on: onStats, off: offStats, ratio, met, markdown }
  } finally {
    await smtp.stop()
    await sql.end()
  }
}
