/**
 * A circuit breaker in front of PostgreSQL, so that an outage is answered with a fast 503 instead
 * of requests queuing in the pool behind its reconnect back-off (docs/decisions/011).
 *
 * - closed: queries go to the pool. A sign of trouble makes the breaker probe the server at once
 *   (`select 1` on a fresh connection of its own, never queued behind the pool):
 *   a query failing with a connection error (refused, reset, server shutting down, ...), a query
 *   without an answer for queryTimeoutMs, or queries waiting while the database has answered
 *   nothing for stallMs. The breaker opens only if the probe fails and no query got an answer
 *   meanwhile (a server that refuses new connections but serves the pool is not down).
 * - open: every query is refused at once with DatabaseUnavailableError, without touching the
 *   pool, and the queries still waiting are released with it. A probe runs every
 *   probeIntervalMs; when one succeeds the breaker turns half-open.
 * - half-open: queries go to the pool again; the first answer closes the breaker, the first
 *   connection error opens it again without waiting for a probe.
 *
 * A caller released early (open, or its deadline) gets DatabaseUnavailableError; run() tells the
 * operation through its handle, so a transaction that has not committed yet rolls back rather
 * than commit for a request that was already answered 503 (client.ts).
 */
import type { Logger } from '../lib/log'
import { DatabaseUnavailableError, isConnectionFailure, pgErrorCode } from './errors'

type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  /** Answers or throws; must not queue behind the pool. Given the time it may take. */
  probe: (timeoutMs: number) => Promise<void>
  log?: Logger
  /** Pause between two probes while open. */
  probeIntervalMs?: number
  /** How long a probe may take before it counts as failed. */
  probeTimeoutMs?: number
  /** Queries waiting this long while the database answers nothing make the breaker probe. */
  stallMs?: number
  /** A query (or a transaction's next statement) without an answer this long is released with 503. */
  queryTimeoutMs?: number
}

interface BreakerStats {
  state: BreakerState
  /** Date.now() of the last change of state */
  since: number
  /** how many times it opened */
  opened: number
  /** queries refused or released while open */
  refused: number
  probes: number
  /** queries waiting for the database now */
  pending: number
  lastError?: string
}

/** What run() hands the operation. */
export interface RunHandle {
  /** The database answered a step of this operation (a statement of a transaction): its deadline restarts. */
  progress(): void
  /** True once the caller was released: the operation must not commit. */
  readonly abandoned: boolean
}

export interface CircuitBreaker {
  readonly state: BreakerState
  stats(): BreakerStats
  /** Runs one database operation through the breaker (see the module comment). */
  run<T>(op: (handle: RunHandle) => PromiseLike<T>): Promise<T>
  /** A failure seen outside run() (e.g. a dropped LISTEN connection): probe now. */
  suspect(reason: unknown): void
  /** Called on every change of state; returns a function that unsubscribes. */
  onChange(listener: (state: BreakerState, previous: BreakerState) => void): () => void
  stop(): void
}

interface Entry {
  lastAnswerAt: number
  done: boolean
  abandoned: boolean
  release(error: Error): void
}

const now = () => performance.now()

/** True when the database itself answered (a result, or an error with a SQLSTATE that is not about the connection). */
function answeredByDatabase(error: unknown): boolean {
  return pgErrorCode(error) !== undefined && !isConnectionFailure(error)
}

export function createCircuitBreaker(options: BreakerOptions): CircuitBreaker {
  const probeIntervalMs = options.probeIntervalMs ?? 250
  const probeTimeoutMs = options.probeTimeoutMs ?? 1000
  const stallMs = options.stallMs ?? 500
  const queryTimeoutMs = options.queryTimeoutMs ?? 10_000
  const tickMs = Math.max(10, Math.min(100, Math.floor(stallMs / 4)))
  const log = options.log

  let state: BreakerState = 'closed'
  let since = Date.now()
  let openedAt = 0
  let opened = 0
  let refused = 0
  let refusedThisOutage = 0
  let probes = 0
  let lastError: string | undefined
  let lastAnswerAt = now()
  let lastProbeEndAt = -Infinity
  let probing = false
  let stopped = false
  let probeTimer: ReturnType<typeof setTimeout> | undefined
  let watchdog: ReturnType<typeof setInterval> | undefined
  let lastTick = now()
  const pending = new Set<Entry>()
  const listeners = new Set<(state: BreakerState, previous: BreakerState) => void>()

  function describe(error: unknown): string {
    const e = error as { code?: unknown; message?: unknown; cause?: { message?: unknown } }
    const message = String(e?.cause?.message ?? e?.message ?? error)
    return typeof e?.code === 'string' ? `${e.code}: ${message}` : message
  }

  function setState(next: BreakerState) {
    if (next === state) return
    const previous = state
    state = next
    since = Date.now()
    for (const listener of [...listeners]) {
      try {
        listener(next, previous)
      } catch (error) {
        log?.warn('circuit breaker listener failed', { error: String(error) })
      }
    }
  }

  function answered() {
    lastAnswerAt = now()
    if (state === 'half-open') close()
  }

  function open(reason: unknown) {
    if (stopped || state === 'open') return
    lastError = describe(reason)
    opened++
    openedAt = now()
    refusedThisOutage = 0
    const waiting = [...pending]
    log?.warn('database unavailable: refusing queries until it answers again', { error: lastError, released: waiting.length })
    setState('open')
    for (const entry of waiting) {
      refused++
      refusedThisOutage++
      entry.release(new DatabaseUnavailableError('database unavailable', { cause: reason }))
    }
    stopWatchdog()
    scheduleProbe()
  }

  function close() {
    if (state === 'closed') return
    const wasOpen = openedAt > 0
    setState('closed')
    if (wasOpen) {
      log?.info('database answers again: serving queries', {
        outage_ms: Math.round(now() - openedAt), refused: refusedThisOutage,
      })
      openedAt = 0
    }
  }

  function scheduleProbe() {
    clearTimeout(probeTimer)
    if (stopped) return
    probeTimer = setTimeout(() => {
      probeTimer = undefined
      void probe()
    }, probeIntervalMs)
    // Probing alone must not keep a process alive that has nothing else to do.
    ;(probeTimer as { unref?: () => void }).unref?.()
  }

  /** Runs one probe; opens, half-opens or closes the breaker according to its outcome. */
  async function probe(reason?: unknown): Promise<void> {
    if (probing || stopped) return
    probing = true
    probes++
    const started = now()
    let error: unknown
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const attempt = options.probe(probeTimeoutMs).then(() => { settled = true }, (e) => {
      settled = true
      error = e
    })
    const timedOut = await Promise.race([
      attempt.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), probeTimeoutMs)
        ;(timer as { unref?: () => void }).unref?.()
      }),
    ])
    clearTimeout(timer)
    if (timedOut) {
      // The timer may have fired only because the event loop was busy: let pending I/O run first.
      await Bun.sleep(10)
      if (!settled) error = new DatabaseUnavailableError(`no answer to a probe within ${probeTimeoutMs} ms`, { code: 'QUERY_TIMEOUT' })
    }
    probing = false
    lastProbeEndAt = now()
    if (stopped) return
    if (error === undefined) {
      if (state === 'open') {
        setState('half-open')
        scheduleProbe() // a second answer (or a query's) closes it
      } else if (state === 'half-open') close()
      return
    }
    if (state === 'closed') {
      // Queries answered while the probe ran: the server works (it may only refuse new connections).
      if (lastAnswerAt >= started) return
      open(reason ?? error)
    } else {
      if (state === 'half-open') open(error)
      else {
        lastError = describe(error)
        scheduleProbe()
      }
    }
  }

  function suspect(reason: unknown) {
    if (stopped) return
    if (state === 'half-open') return open(reason)
    if (state === 'open') return
    // A probe ended a moment ago and left the breaker closed: one broken connection is not an
    // outage. (If it is, the next failure or the stall watchdog probes again shortly.)
    if (now() - lastProbeEndAt < stallMs) return
    void probe(reason)
  }

  function startWatchdog() {
    if (watchdog || stopped) return
    lastTick = now()
    watchdog = setInterval(tick, tickMs)
    ;(watchdog as { unref?: () => void }).unref?.()
  }

  function stopWatchdog() {
    clearInterval(watchdog)
    watchdog = undefined
  }

  function tick() {
    const t = now()
    const late = t - lastTick > tickMs * 3
    lastTick = t
    if (pending.size === 0) return stopWatchdog()
    // After the event loop was blocked the answers may be waiting to be read: decide next tick.
    if (late || state === 'open') return
    let oldest = Infinity
    for (const entry of [...pending]) {
      if (t - entry.lastAnswerAt >= queryTimeoutMs) {
        entry.release(new DatabaseUnavailableError(`no answer from the database within ${queryTimeoutMs} ms`, { code: 'QUERY_TIMEOUT' }))
        suspect(new DatabaseUnavailableError(`a query got no answer within ${queryTimeoutMs} ms`, { code: 'QUERY_TIMEOUT' }))
        continue
      }
      oldest = Math.min(oldest, entry.lastAnswerAt)
    }
    if (oldest !== Infinity && t - Math.max(oldest, lastAnswerAt) >= stallMs)
      suspect(new DatabaseUnavailableError(`queries waited ${stallMs} ms without any answer from the database`, { code: 'QUERY_TIMEOUT' }))
  }

  const breaker: CircuitBreaker = {
    get state() {
      return state
    },
    stats: () => ({ state, since, opened, refused, probes, pending: pending.size, lastError }),
    run<T>(op: (handle: RunHandle) => PromiseLike<T>): Promise<T> {
      if (state === 'open') {
        refused++
        refusedThisOutage++
        return Promise.reject(new DatabaseUnavailableError(lastError ? `database unavailable (${lastError})` : 'database unavailable'))
      }
      return new Promise<T>((resolve, reject) => {
        const entry: Entry = {
          lastAnswerAt: now(),
          done: false,
          abandoned: false,
          release(error) {
            if (entry.done) return
            entry.done = true
            entry.abandoned = true
            pending.delete(entry)
            reject(error)
          },
        }
        const handle: RunHandle = {
          progress() {
            entry.lastAnswerAt = now()
            answered()
          },
          get abandoned() {
            return entry.abandoned
          },
        }
        pending.add(entry)
        startWatchdog()
        let result: PromiseLike<T>
        try {
          result = op(handle)
        } catch (error) {
          result = Promise.reject(error)
        }
        Promise.resolve(result).then(
          (value) => {
            answered()
            if (entry.done) return
            entry.done = true
            pending.delete(entry)
            resolve(value)
          },
          (error) => {
            if (!entry.done) {
              entry.done = true
              pending.delete(entry)
              reject(error)
            }
            if (answeredByDatabase(error)) answered()
            else if (isConnectionFailure(error)) suspect(error)
          },
        )
      })
    },
    suspect,
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    stop() {
      stopped = true
      clearTimeout(probeTimer)
      stopWatchdog()
      listeners.clear()
    },
  }
  return breaker
}

/** The breaker of a database that cannot be cut off (embedded PGlite): always closed. */
export function alwaysClosedBreaker(): CircuitBreaker {
  const handle: RunHandle = { progress() {}, abandoned: false }
  return {
    state: 'closed',
    stats: () => ({ state: 'closed', since: 0, opened: 0, refused: 0, probes: 0, pending: 0 }),
    run: (op) => Promise.resolve().then(() => op(handle)),
    suspect() {},
    onChange: () => () => {},
    stop() {},
  }
}
