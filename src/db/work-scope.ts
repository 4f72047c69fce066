/**
 * Work done for a caller who may stop waiting (a request with a deadline): "the caller was told it
 * failed" and "the work committed" must never both happen (docs/decisions/025).
 *
 * The server runs each request inside a Work (runWork). client.ts and pglite.ts consult the current
 * one (found through AsyncLocalStorage, so no function between the route and the database has to
 * pass it on) at the three moments that decide whether anything is kept:
 * - before a transaction starts and before each of its statements: refused once abandoned, so the
 *   transaction rolls back at its next step instead of working on for nobody;
 * - before its COMMIT, and before a write sent outside a transaction (which commits by itself):
 *   refused once abandoned; otherwise the commit is recorded as under way;
 * - when the commit is answered: recorded as done.
 * The deadline calls abandon(), which succeeds only while no commit is under way or done: then
 * nothing of the request can be kept any more, and a 503 tells the truth. When it fails, a commit
 * is under way or done, and the caller is answered with what really happened, late.
 *
 * Reads outside a transaction are never refused: they keep nothing, and long-lived background work
 * (the live room feed) may have been started from inside some request and still run in its context.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { DatabaseUnavailableError } from './errors'

export class AbandonedWorkError extends DatabaseUnavailableError {
  constructor() {
    super('the request was answered already (timed out): its changes are rolled back')
    this.name = 'AbandonedWorkError'
  }
}

export class Work {
  private abandonedFlag = false
  private committing = 0
  private committed = false

  get abandoned(): boolean {
    return this.abandonedFlag
  }

  /**
   * The caller stops waiting. True when nothing of this work can be kept any more; false when a
   * commit is under way or done (the caller must wait for the real outcome).
   */
  abandon(): boolean {
    if (this.committing > 0 || this.committed) return false
    this.abandonedFlag = true
    return true
  }

  /** Throws once abandoned: before a transaction or one of its statements. */
  assertActive(): void {
    if (this.abandonedFlag) throw new AbandonedWorkError()
  }

  /** Before a COMMIT or a write that commits by itself: throws once abandoned, else records it as under way. */
  beginCommit(): void {
    this.assertActive()
    this.committing++
  }

  /** The commit begun by beginCommit was answered (`kept`: it committed). */
  endCommit(kept: boolean): void {
    this.committing--
    if (kept) this.committed = true
  }
}

const storage = new AsyncLocalStorage<Work>()

/** Runs fn (and everything it starts) as `work`. */
export function runWork<T>(work: Work, fn: () => T): T {
  return storage.run(work, fn)
}

/** Runs fn outside any request's work: for background tasks that outlive the request that started them. */
export function outsideWork<T>(fn: () => T): T {
  return storage.exit(fn)
}

/** SQL that changes nothing: a read (or pg_notify, which only signals). Anything else counts as a write. */
const READ_ONLY = /^\s*(select|show|explain|values)\b/i

/**
 * One statement sent outside a transaction: a write commits by itself, so it is refused once the
 * work was abandoned and recorded as a commit while it runs; a read just runs.
 */
export function statementOfWork<T>(sqlText: string, run: () => PromiseLike<T>): Promise<T> {
  const work = storage.getStore()
  if (!work || READ_ONLY.test(sqlText)) return Promise.resolve(run())
  work.beginCommit()
  return Promise.resolve(run()).then(
    (value) => (work.endCommit(true), value),
    (error) => {
      work.endCommit(false)
      throw error
    },
  )
}

/**
 * A transaction of the current work: `start` begins it with the body given to it, which refuses to
 * start once abandoned and, after the caller's body, refuses to commit once abandoned or records
 * the COMMIT as under way until the transaction settles.
 */
export function transactionOfWork<Tx, T>(
  start: (body: (tx: Tx) => Promise<T>) => Promise<T>,
  body: (tx: Tx, work: Work | undefined) => Promise<T>,
): Promise<T> {
  const work = storage.getStore()
  if (!work) return start((tx) => body(tx, undefined))
  let committing = false
  return start(async (tx) => {
    work.assertActive()
    const result = await body(tx, work)
    work.beginCommit()
    committing = true
    return result
  }).then(
    (value) => {
      if (committing) work.endCommit(true)
      return value
    },
    (error) => {
      if (committing) work.endCommit(false)
      throw error
    },
  )
}
