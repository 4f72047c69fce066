/**
 * A PgBouncer of the test's own, in transaction pooling mode (what Railway's PgBouncer template and
 * most hosts put in front of PostgreSQL): Debian's `pgbouncer` binary, started in the foreground
 * with a config file written into a temp dir, listening on a free 127.0.0.1 port, and forwarding
 * every database name to the PostgreSQL server the test uses. The machine's pgbouncer service is
 * never touched. When the binary is absent the tests that need it are skipped with a warning
 * (apt-get install -y pgbouncer, or set PGBOUNCER_PATH), like the browser tests without Chromium.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import path from 'node:path'
import type { Subprocess } from 'bun'
import { freePort } from './process'

const PGBOUNCER_PATH = process.env.PGBOUNCER_PATH ?? '/usr/sbin/pgbouncer'
export const hasPgbouncer = existsSync(PGBOUNCER_PATH)
if (!hasPgbouncer) console.warn(`PgBouncer tests skipped: no pgbouncer at ${PGBOUNCER_PATH} (apt-get install -y pgbouncer, or set PGBOUNCER_PATH)`)

export interface Pgbouncer {
  readonly port: number
  /** The URL of a database of the upstream server (postgres://...) rewritten to go through PgBouncer. */
  urlFor(databaseUrl: string): string
  /** Runs one admin-console command (SHOW STATS, SHOW POOLS, ...) and returns its rows. */
  admin(command: string): Promise<Record<string, string>[]>
  /** What pgbouncer printed (its log goes to stderr). */
  readonly log: string
  stop(): Promise<void>
}

export interface PgbouncerOptions {
  /** Server connections per database and user: fewer than the app's client connections, so they are really shared. */
  poolSize?: number
}

/** Starts PgBouncer (transaction mode) in front of the PostgreSQL server of `serverUrl`. */
export async function startPgbouncer(serverUrl: string, options: PgbouncerOptions = {}): Promise<Pgbouncer> {
  const upstream = new URL(serverUrl)
  const user = decodeURIComponent(upstream.username) || 'postgres'
  const dir = mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'qrbook-pgbouncer-'))
  const port = freePort()
  const ini = path.join(dir, 'pgbouncer.ini')
  writeFileSync(ini, [
    '[databases]',
    // Every database name goes to the same server, logged in as its user (auth_type = any below).
    `* = host=${upstream.hostname} port=${upstream.port || 5432} user=${user}${upstream.password ? ` password=${decodeURIComponent(upstream.password)}` : ''}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    "unix_socket_dir =",
    'pool_mode = transaction',
    // The local server trusts 127.0.0.1; "any" ignores the client's user name and logs in as the one above.
    'auth_type = any',
    `admin_users = ${user}`,
    'max_client_conn = 2000',
    `default_pool_size = ${options.poolSize ?? 8}`,
    'min_pool_size = 0',
    'reserve_pool_size = 0',
    'server_lifetime = 3600',
    'server_idle_timeout = 60',
    'log_connections = 0',
    'log_disconnections = 0',
    'log_pooler_errors = 1',
    'stats_period = 60',
    // PgBouncer refuses to run as root; CI runs as root.
    ...(userInfo().uid === 0 ? ['user = postgres'] : []),
    '',
  ].join('\n'))

  let log = ''
  const proc: Subprocess<'ignore', 'pipe', 'pipe'> = Bun.spawn([PGBOUNCER_PATH, ini], { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const decoder = new TextDecoder()
  void (async () => {
    for await (const chunk of proc.stderr) log += decoder.decode(chunk, { stream: true })
  })()
  void (async () => {
    for await (const chunk of proc.stdout) log += decoder.decode(chunk, { stream: true })
  })()
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
    await proc.exited
    clearTimeout(timer)
    rmSync(dir, { recursive: true, force: true })
  }

  // Ready when it accepts a TCP connection.
  const deadline = Date.now() + 10_000
  for (;;) {
    if (proc.exitCode !== null) {
      await stop()
      throw new Error(`pgbouncer exited (${proc.exitCode}):\n${log}`)
    }
    const open = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } }).then((s) => (s.end(), true), () => false)
    if (open) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`pgbouncer did not listen on ${port} within 10 s:\n${log}`)
    }
    await Bun.sleep(50)
  }

  return {
    port,
    urlFor(databaseUrl) {
      const url = new URL(databaseUrl)
      url.hostname = '127.0.0.1'
      url.port = String(port)
      return url.toString()
    },
    async admin(command) {
      // The admin console speaks only the simple query protocol: psql, as .ci/run uses it.
      const out = await Bun.$`psql -h 127.0.0.1 -p ${port} -U ${user} -d pgbouncer -AF ${'\t'} -c ${command}`.quiet().text()
      const [header, ...rows] = out.trim().split('\n').filter((l) => !/^\(\d+ rows?\)$/.test(l))
      const names = header!.split('\t')
      return rows.map((row) => Object.fromEntries(row.split('\t').map((v, i) => [names[i]!, v])))
    },
    get log() {
      return log
    },
    stop,
  }
}
