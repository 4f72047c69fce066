/**
 * A client in a process of its own that books one room every 20 ms and reports how long each
 * booking took: latency as a user sees it, without the test runner's own pauses (its heap, after
 * many test files, has garbage-collection pauses of its own) in the figures.
 *
 * bun test/helpers/booking-probe.ts <base URL> <access token> <room id> <first slot, epoch ms>
 * Books consecutive 30-minute slots from the first one until a line arrives on stdin, then prints
 * one JSON line: [{ at (epoch ms when sent), ms, status }, ...].
 */
export {}

const [base, token, roomId, firstSlot] = process.argv.slice(2)
const results: { at: number; ms: number; status: number }[] = []
let stopped = false
void (async () => {
  for await (const _line of console) {
    stopped = true
    break
  }
})()
for (let n = 0; !stopped; n++) {
  const start = Number(firstSlot) + n * 30 * 60_000
  const at = Date.now()
  const started = performance.now()
  const res = await fetch(`${base}/api/rooms/${roomId}/reserve`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ start_time: new Date(start).toISOString(), end_time: new Date(start + 30 * 60_000).toISOString() }),
  })
  await res.text()
  results.push({ at, ms: performance.now() - started, status: res.status })
  await Bun.sleep(20)
}
console.log(JSON.stringify(results))
process.exit(0)
