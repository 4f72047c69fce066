/**
 * The console's pages on the bench dataset (issue 27: each page under 50 ms of server time at 200
 * rooms and 100,000 reservations). Signed in as the admin (a Bearer token: the pages accept the
 * API's session either way), each page is fetched 3 times to warm up, then 20 times in sequence;
 * the server time of each answer is the `ms` of its line in the app's access log (from the
 * request's arrival to the answer written), so the client's own time is not counted.
 */
import { readFileSync } from 'node:fs'
import { fmt } from './lib'

export const CONSOLE_TARGET = { p95Ms: 50 }
const WARM = 3
const RUNS = 20

export interface ConsoleRow { page: string; path: string; status: number; bytes: number; p50: number; p95: number; max: number; met: boolean }
export interface ConsoleResult { rows: ConsoleRow[]; met: boolean; markdown: string }

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

/** The access log's `ms` for requests whose id is in `ids` (each request sends X-Request-ID). */
function serverTimes(logFile: string, ids: Set<string>): number[] {
  const times: number[] = []
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const entry = JSON.parse(line) as { id?: string; ms?: number }
      if (entry.id && ids.has(entry.id) && typeof entry.ms === 'number') times.push(entry.ms)
    } catch { /* not a log line */ }
  }
  return times
}

/** A page to measure: its name, its path, and optionally something to do before each request (a write, to measure the page after a change). */
export type ConsolePage = [name: string, path: string, before?: () => Promise<void>]

export async function consoleSection(base: string, logFile: string, adminToken: string, pages: ConsolePage[]): Promise<ConsoleResult> {
  const rows: ConsoleRow[] = []
  for (const [page, path, before] of pages) {
    const ids = new Set<string>()
    let status = 0
    let bytes = 0
    for (let i = 0; i < WARM + RUNS; i++) {
      const id = `bench-console-${crypto.randomUUID()}`
      if (i >= WARM) ids.add(id)
      await before?.()
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${adminToken}`, 'x-request-id': id }, redirect: 'manual' })
      status = res.status
      bytes = (await res.arrayBuffer()).byteLength
    }
    await Bun.sleep(200) // the log is written after the answer
    const times = serverTimes(logFile, ids).sort((a, b) => a - b)
    if (times.length === 0) throw new Error(`no access-log line for ${path}: does the log carry id and ms?`)
    const p95 = quantile(times, 0.95)
    rows.push({ page, path, status, bytes, p50: quantile(times, 0.5), p95, max: times.at(-1)!, met: status === 200 && p95 < CONSOLE_TARGET.p95Ms })
  }
  const met = rows.every((r) => r.met)
  const markdown = [
    `Console pages (\`bench/console.ts\`), signed in as the admin, ${RUNS} requests each after ${WARM} to warm up, one at a time; server time from the access log:`,
    '',
    '| Page | Status | KB | p50 ms | p95 ms | max ms | Target | |',
    '|---|---:|---:|---:|---:|---:|---|---|',
    ...rows.map((r) => `| ${r.page} <sub>${r.path}</sub> | ${r.status} | ${fmt(r.bytes / 1024, 1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.max.toFixed(1)} | p95 < ${CONSOLE_TARGET.p95Ms} ms | ${r.met ? 'met' : '**missed**'} |`),
  ].join('\n')
  return { rows, met, markdown }
}
