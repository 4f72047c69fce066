/**
 * Lowers the scheduling priority of the calling thread (Linux), so that background CPU work such
 * as a timetable import's plan (a worker thread) yields the cores to the threads that answer
 * requests whenever both want one: a booking made during a 5,000-row dry run then waits for no one.
 *
 * On Linux a thread has its own nice value, set with setpriority() on its thread id, which
 * /proc/thread-self names. Elsewhere (or where /proc is missing or the call is refused) nothing
 * changes: the work is still correct, only less polite.
 */
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'

/** Nice value of background threads: well below the request threads (0), still ahead of idle work (19). */
const BACKGROUND_NICE = 10

/** Returns the nice value set, or null where the platform keeps the thread's priority as it was. */
export function lowerThisThreadPriority(nice = BACKGROUND_NICE): number | null {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1))
    if (!Number.isInteger(threadId) || threadId <= 0) return null
    setPriority(threadId, nice)
    return nice
  } catch {
    return null
  }
}
