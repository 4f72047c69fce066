/**
 * Helpers of the benchmark: server processes with their output in a file (a long run's access
 * log would not fit in memory), RSS sampling from /proc, wrk runs parsed from the JSON line that
 * bench/wrk/stats.lua prints, and small statistics.
 */
import { closeSync, openSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Subprocess } from 'bun'
import { ROOT } from '../test/helpers/process'

export const BENCH_DIR = path.join(ROOT, 'bench')

export interface Proc {
  proc: Subprocess
  pid: number
  base: string
  logFile: string
  stop(): Promise<void>
}

const children = new Set<Subprocess>()
export function killChildren() {
  for (const child of children) child.kill('SIGKILL')
}
process.on('exit', killChildren)

/**
 * The runtime settings the production image gives the app (the Dockerfile's ENV lines for Bun's
 * JavaScriptCore and allocator: BUN_JSC_*, MIMALLOC_*), so that the bench measures the app as it
 * ships (docs/performance.md, Memory). An explicit setting of a run overrides them.
 */
/** "K=V K=V" -> variables (a soak's variants, BENCH_APP_ENV) */
export function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(text.split(/\s+/).filter((kv) => kv.includes('=')).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
}

export function imageRuntimeEnv(): Record<string, string> {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ')
  const env: Record<string, string> = {}
  for (const line of text.split('\n')) {
    if (!/^ENV\s/.test(line)) continue
    for (const [, key, value] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) if (/^(BUN_JSC_|MIMALLOC_)/.test(key!)) env[key!] = value!
  }
  return env
}

/** Starts a process with its stdout and stderr appended to logFile. */
export function spawnLogged(cmd: string[], env: Record<string, string>, port: number, logFile: string): Proc {
  const fd = openSync(logFile, 'a')
  const proc = Bun.spawn(cmd, { cwd: ROOT, env, stdin: 'ignore', stdout: fd, stderr: fd })
  closeSync(fd)
  children.add(proc)
  void proc.exited.then(() => children.delete(proc))
  return {
    proc,
    pid: proc.pid,
    base: `http://127.0.0.1:${port}`,
    logFile,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
      await proc.exited
      clearTimeout(timer)
    },
  }
}

/** Polls GET url until it answers 200; returns the ms from `since` (performance.now()) to that answer. */
export async function waitFor200(url: string, since: number, proc: Subprocess, timeoutMs = 60_000): Promise<number> {
  for (;;) {
    try {
      const res = await fetch(url)
      await res.arrayBuffer()
      if (res.status === 200) return performance.now() - since
    } catch {}
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`process exited (${proc.exitCode ?? proc.signalCode}) before ${url} answered 200`)
    if (performance.now() - since > timeoutMs) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`)
    await Bun.sleep(5)
  }
}

/** Resident set size of a process in MB (VmRSS), or undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

/** Samples a process's RSS every intervalMs until stopped; returns the samples in MB. */
export function sampleRss(pid: number, intervalMs = 250) {
  const samples: number[] = []
  const take = () => {
    const v = rssMb(pid)
    if (v !== undefined) samples.push(v)
  }
  take()
  const timer = setInterval(take, intervalMs)
  return {
    samples,
    stop() {
      clearInterval(timer)
      take()
      return { max: Math.max(...samples), mean: samples.reduce((a, b) => a + b, 0) / samples.length }
    },
  }
}

/**
 * Books a distinct 30-minute slot every `everyMs` (room i % rooms, from `baseEpochS` on, a block
 * of its own) as the frontend does (session cookie and CSRF header), until stopped. Beside a read
 * load: each booking drops cached room views (docs/performance.md, Room views from memory).
 */
export function bookEvery(base: string, user: { token: string; csrf: string }, rooms: number[], baseEpochS: number, everyMs = 100) {
  const counts = { sent: 0, created: 0, other: 0 }
  let running = true
  const loop = (async () => {
    while (running) {
      const i = counts.sent++
      const start = (baseEpochS + Math.floor(i / rooms.length) * 1800) * 1000
      const res = await fetch(`${base}/api/rooms/${rooms[i % rooms.length]}/reserve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `access_token_cookie=${user.token}`, 'x-csrf-token': user.csrf },
        body: JSON.stringify({ start_time: new Date(start).toISOString(), end_time: new Date(start + 1800_000).toISOString() }),
      }).catch(() => undefined)
      if (res?.status === 201) counts.created++
      else counts.other++
      await res?.arrayBuffer().catch(() => {})
      await Bun.sleep(everyMs)
    }
  })()
  return {
    counts,
    async stop() {
      running = false
      await loop
      return counts
    },
  }
}

export interface WrkResult {
  requests: number
  duration_us: number
  bytes: number
  /** responses by status, when the script counts them (reserve, mixed) */
  statuses: Record<string, number>
  /** non-2xx/3xx responses as wrk counts them */
  non2xx: number
  socket_errors: { connect: number; read: number; write: number; timeout: number }
  latency_us: { p50: number; p90: number; p99: number; max: number; mean: number }
  rps: number
}

export async function runWrk(options: {
  url: string
  script: string
  seconds: number
  connections: number
  threads: number
  env?: Record<string, string>
}): Promise<WrkResult> {
  const cmd = [
    'wrk', `-t${options.threads}`, `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '10s',
    '-s', path.join(BENCH_DIR, 'wrk', options.script), options.url,
  ]
  const proc = Bun.spawn(cmd, {
    cwd: ROOT,
    env: { ...process.env, BENCH_LUA_DIR: path.join(BENCH_DIR, 'wrk'), BENCH_THREADS: String(options.threads), ...options.env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  children.add(proc)
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  children.delete(proc)
  const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '))
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${err || out}`)
  const parsed = JSON.parse(line.slice('WRK_JSON '.length)) as Omit<WrkResult, 'rps' | 'non2xx'>
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  return { ...parsed, non2xx, rps: parsed.requests / (parsed.duration_us / 1e6) }
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length
  if (n < 2) return 0
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my)
    den += (xs[i]! - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const ms = (us: number) => (us / 1000).toFixed(1)
export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
