/**
 * `bun --preload ./bench/heap-probe.ts src/index.ts`: where a soaking server's memory is, without
 * a hook in the app (bench/cache-soak.ts --probe starts the app this way). Every HEAP_PROBE_EVERY
 * seconds (default 10) one JSON line is appended to HEAP_PROBE_FILE: RSS, the JS heap (JSC's
 * heapStats: size, capacity, extra memory the GC is told about (array buffers, large strings),
 * object count) and, every HEAP_PROBE_TYPES_EVERY seconds (default 60), the object counts by type after a full
 * collection (the live set, so two lines compare what is kept, not what is garbage yet).
 * HEAP_PROBE_SNAPSHOT_AT="60,290" also writes Bun.generateHeapSnapshot() at those seconds.
 */
import { appendFileSync, writeFileSync } from 'node:fs'
import { heapStats } from 'bun:jsc'

const file = process.env.HEAP_PROBE_FILE
if (file) {
  const every = Number(process.env.HEAP_PROBE_EVERY ?? 10) * 1000
  const typesEvery = Number(process.env.HEAP_PROBE_TYPES_EVERY ?? 60) * 1000
  const snapshots = new Set((process.env.HEAP_PROBE_SNAPSHOT_AT ?? '').split(',').filter(Boolean).map(Number))
  const started = performance.now()
  let lastTypes = 0
  const sample = () => {
    const t = Math.round((performance.now() - started) / 1000)
    const withTypes = typesEvery > 0 && performance.now() - lastTypes >= typesEvery - 500
    if (withTypes) {
      lastTypes = performance.now()
      Bun.gc(true)
    }
    const h = heapStats()
    const line = {
      t,
      rss: process.memoryUsage.rss(),
      heapSize: h.heapSize,
      heapCapacity: h.heapCapacity,
      extra: h.extraMemorySize,
      objects: h.objectCount,
      afterFullGc: withTypes,
      types: withTypes ? Object.fromEntries(Object.entries(h.objectTypeCounts).filter(([, n]) => n >= 200)) : undefined,
    }
    appendFileSync(file, `${JSON.stringify(line)}\n`)
    for (const at of snapshots) {
      if (t >= at) {
        snapshots.delete(at)
        writeFileSync(`${file}.${at}.heapsnapshot`, JSON.stringify(Bun.generateHeapSnapshot()))
      }
    }
  }
  setInterval(sample, every).unref()
}
