/**
 * Long CPU work on the one event loop every request shares (expanding 5,000 timetable rows takes
 * seconds): `await pause()` in its loop hands the loop to waiting requests whenever the work has
 * run for `sliceMs` since it last did, so nobody else waits longer than about that.
 */
export function cooperative(sliceMs = 2): () => Promise<void> | undefined {
  let since = performance.now()
  return () => {
    if (performance.now() - since < sliceMs) return undefined
    return new Promise<void>((resolve) => setImmediate(() => {
      since = performance.now()
      resolve()
    }))
  }
}
