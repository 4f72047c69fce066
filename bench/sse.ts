/**
 * bun run bench:sse [--subscribers N]
 * What idle live-status subscribers cost: starts the server on an in-memory database, measures
 * its RSS, opens N Server-Sent Events streams (half to all rooms, half to one room), measures
 * again, then blocks a room through the API and times how long until every subscriber has the event.
 * Prints a Markdown table. 127.0.0.1 only; bounded in time.
 */
import path from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { subscribers: { type: 'string', default: '2000' } } })
const N = Number(values.subscribers)
const ROOT = path.resolve(import.meta.dir, '..')
const port = 20000 + Math.floor(Math.random() * 20000)
const base = `http://127.0.0.1:${port}`

function rssMb(pid: number): number {
  const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8') as string
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024
}

const server = Bun.spawn([process.execPath, 'src/index.ts'], {
  cwd: ROOT,
  env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: 'memory://', LOG_LEVEL: 'warn', RATELIMIT_ENABLED: 'false' },
  stdout: 'inherit', stderr: 'inherit',
})
const stopAt = setTimeout(() => { server.kill('SIGKILL'); process.exit(1) }, 120_000)

try {
  for (let i = 0; ; i++) {
    if (await fetch(`${base}/health`).then((r) => r.ok).catch(() => false)) break
    if (i > 120) throw new Error('server did not start')
    await Bun.sleep(250)
  }
  const rooms = ((await (await fetch(`${base}/api/rooms`)).json()) as { rooms: { id: number; name: string }[] }).rooms
  const target = rooms.find((r) => r.name === 'S001')!
  await fetch(`${base}/api/rooms/events`).then((r) => r.body!.cancel()) // warm the event bus
  Bun.gc(true)
  await Bun.sleep(500)
  const before = rssMb(server.pid)

  // Each subscriber resolves when it has seen the block event of the target room.
  const seen: Promise<number>[] = []
  const controllers: AbortController[] = []
  let snapshots = 0
  for (let i = 0; i < N; i++) {
    const controller = new AbortController()
    controllers.push(controller)
    const url = i % 2 ? `${base}/api/rooms/events` : `${base}/api/rooms/${target.id}/events`
    const response = await fetch(url, { signal: controller.signal })
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    seen.push((async () => {
      let text = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return NaN
        text += decoder.decode(value, { stream: true })
        if (text.includes('event: snapshot')) { snapshots++; text = text.slice(text.lastIndexOf('event: snapshot') + 15) }
        if (text.includes('"status":"blocked"')) return performance.now()
      }
    })())
  }
  while (snapshots < N) await Bun.sleep(50)
  await Bun.sleep(1000)
  const after = rssMb(server.pid)

  const token = ((await (await fetch(`${base}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'admin', password: 'admin1234' }),
  })).json()) as { access_token: string }).access_token
  const sent = performance.now()
  await fetch(`${base}/api/admin/rooms/${target.id}`, {
    method: 'PATCH', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ is_blocked: true }),
  })
  const arrivals = (await Promise.all(seen)).map((t) => t - sent).sort((a, b) => a - b)
  const pct = (p: number) => arrivals[Math.min(arrivals.length - 1, Math.floor(arrivals.length * p))]!.toFixed(0)

  console.log(`\n| Idle SSE subscribers | Server RSS before | with subscribers | per subscriber | event fan-out p50 | p99 | all |`)
  console.log(`|---|---|---|---|---|---|---|`)
  console.log(`| ${N} | ${before.toFixed(1)} MB | ${after.toFixed(1)} MB | ${(((after - before) * 1024) / N).toFixed(1)} KB | ${pct(0.5)} ms | ${pct(0.99)} ms | ${arrivals.at(-1)!.toFixed(0)} ms |`)
  for (const c of controllers) c.abort()
} finally {
  clearTimeout(stopAt)
  server.kill('SIGTERM')
  await server.exited
}
