/**
 * The database circuit breaker on its own (src/db/circuit-breaker.ts), with a probe the test
 * controls: what opens it, what it does to queries while open, and what closes it again. The
 * same breaker in front of a real PostgreSQL behind a TCP proxy is in test/system/reliability-outage.test.ts.
 */
import { describe, expect, test } from 'bun:test'
import { createCircuitBreaker, type BreakerOptions } from '../src/db/circuit-breaker'
import { DatabaseUnavailableError, isDatabaseUnavailable } from '../src/db/errors'
import { isDatabaseUnavailable as fromErrorsPlugin } from '../src/plugins/errors'
import { createLogger } from '../src/lib/log'

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
const sqlError = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code })
/** How Drizzle wraps the driver's error. */
const wrapped = (cause: Error) => Object.assign(new Error('Failed query: select 1'), { cause })

function setup(overrides: Partial<BreakerOptions> = {}) {
  let up = false
  const probes: number[] = []
  const lines: any[] = []
  const breaker = createCircuitBreaker({
    probeIntervalMs: 40,
    probeTimeoutMs: 150,
    stallMs: 100,
    queryTimeoutMs: 1000,
    log: createLogger('debug', (line) => lines.push(JSON.parse(line))),
    probe: async () => {
      probes.push(performance.now())
      if (!up) throw refused()
    },
    ...overrides,
  })
  return {
    breaker,
    probes,
    lines,
    setUp(value: boolean) {
      up = value
    },
  }
}

async function until(condition: () => boolean, timeoutMs = 2000) {
  const started = performance.now()
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error('condition not met in time')
    await Bun.sleep(5)
  }
  return performance.now() - started
}

describe('classification', () => {
  test('connection failures and the breaker’s own errors are "unavailable"; statement errors are not', () => {
    for (const error of [refused(), wrapped(refused()), sqlError('57P01'), sqlError('08006'), new DatabaseUnavailableError('x')])
      expect(isDatabaseUnavailable(error)).toBe(true)
    for (const error of [sqlError('23505'), sqlError('22021'), wrapped(sqlError('40P01')), new Error('boom')])
      expect(isDatabaseUnavailable(error)).toBe(false)
    // the error handler keeps exporting the same function
    expect(fromErrorsPlugin).toBe(isDatabaseUnavailable)
  })
})

describe('circuit breaker', () => {
  test('stays closed while queries answer, including with statement errors', async () => {
    const { breaker, probes } = setup()
    expect(await breaker.run(async () => 1)).toBe(1)
    await expect(breaker.run(async () => { throw wrapped(sqlError('23505')) })).rejects.toThrow('Failed query')
    expect(breaker.state).toBe('closed')
    expect(probes).toHaveLength(0)
    breaker.stop()
  })

  test('a connection error makes it probe; a failed probe opens it; while open queries are refused without running', async () => {
    const { breaker, probes, lines } = setup()
    await expect(breaker.run(async () => { throw wrapped(refused()) })).rejects.toThrow('Failed query')
    await until(() => breaker.state === 'open')
    expect(probes.length).toBeGreaterThanOrEqual(1)
    expect(lines.find((l) => l.msg === 'database unavailable: refusing queries until it answers again')).toMatchObject({ level: 'warn', error: expect.stringContaining('ECONNREFUSED') })

    let ran = false
    const started = performance.now()
    const error = await breaker.run(async () => { ran = true }).catch((e) => e)
    expect(performance.now() - started).toBeLessThan(5)
    expect(ran).toBe(false)
    expect(error).toBeInstanceOf(DatabaseUnavailableError)
    expect(isDatabaseUnavailable(error)).toBe(true)
    expect(breaker.stats()).toMatchObject({ state: 'open', opened: 1, refused: 1 })
    breaker.stop()
  })

  test('while open it probes every interval; a probe that answers lets queries through, and their answer closes it', async () => {
    const { breaker, probes, setUp, lines } = setup()
    breaker.suspect(refused())
    await until(() => breaker.state === 'open')
    // every 40 ms: four probes well within 200 ms of opening (waited for, not slept)
    expect(await until(() => probes.length >= 4, 1000)).toBeLessThan(200)
    const states: string[] = []
    breaker.onChange((state) => states.push(state))
    setUp(true)
    const waited = await until(() => breaker.state !== 'open')
    expect(waited).toBeLessThan(150)
    expect(breaker.state).toBe('half-open')
    expect(await breaker.run(async () => 'ok')).toBe('ok')
    expect(breaker.state).toBe('closed')
    expect(states).toEqual(['half-open', 'closed'])
    expect(lines.find((l) => l.msg === 'database answers again: serving queries')).toMatchObject({ outage_ms: expect.any(Number) })
    breaker.stop()
  })

  test('half-open: the first connection error opens it again at once', async () => {
    const { breaker, setUp } = setup()
    breaker.suspect(refused())
    await until(() => breaker.state === 'open')
    setUp(true)
    await until(() => breaker.state === 'half-open')
    setUp(false)
    await expect(breaker.run(async () => { throw refused() })).rejects.toThrow('ECONNREFUSED')
    expect(breaker.state).toBe('open')
    breaker.stop()
  })

  test('queries waiting when it opens are released at once with 503, and told they were abandoned', async () => {
    const { breaker } = setup()
    let handleSeen: { abandoned: boolean } | undefined
    const never = breaker.run((handle) => {
      handleSeen = handle
      return new Promise(() => {})
    })
    const started = performance.now()
    // another query fails with a connection error: probe, fail, open
    await breaker.run(async () => { throw refused() }).catch(() => {})
    const error = await never.catch((e) => e)
    expect(performance.now() - started).toBeLessThan(200)
    expect(error).toBeInstanceOf(DatabaseUnavailableError)
    expect(handleSeen!.abandoned).toBe(true)
    breaker.stop()
  })

  test('a stall (queries waiting, no answer for stallMs) is found by a probe that does not answer', async () => {
    const { breaker } = setup({ probe: () => new Promise(() => {}) })
    const started = performance.now()
    const error = await breaker.run(() => new Promise(() => {})).catch((e) => e)
    const elapsed = performance.now() - started
    expect(error).toBeInstanceOf(DatabaseUnavailableError)
    expect(breaker.state).toBe('open')
    // stallMs (100) + a tick + probeTimeoutMs (150)
    expect(elapsed).toBeGreaterThan(200)
    expect(elapsed).toBeLessThan(600)
    breaker.stop()
  })

  test('a slow query while the server answers the probe: nothing opens; its deadline releases it', async () => {
    const { breaker, probes, setUp } = setup({ queryTimeoutMs: 300 })
    setUp(true)
    const started = performance.now()
    const error = await breaker.run(() => new Promise(() => {})).catch((e) => e)
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    expect(error).toMatchObject({ code: 'QUERY_TIMEOUT' })
    expect(isDatabaseUnavailable(error)).toBe(true)
    expect(probes.length).toBeGreaterThanOrEqual(1)
    expect(breaker.state).toBe('closed')
    breaker.stop()
  })

  test('the probe fails but queries keep being answered (e.g. no new connection allowed): it stays closed', async () => {
    const { breaker } = setup({ probe: async () => { await Bun.sleep(50); throw sqlError('53300') } })
    const busy = (async () => {
      for (let i = 0; i < 40; i++) await breaker.run(async () => { await Bun.sleep(5) })
    })()
    await breaker.run(async () => { throw refused() }).catch(() => {})
    await busy
    expect(breaker.state).toBe('closed')
    breaker.stop()
  })

  test('a long transaction whose statements keep answering is not a stall, and its deadline restarts with each', async () => {
    const { breaker } = setup({ queryTimeoutMs: 200, probe: () => new Promise(() => {}) })
    const result = await breaker.run(async (handle) => {
      for (let i = 0; i < 10; i++) {
        await Bun.sleep(50)
        handle.progress()
      }
      return 'committed'
    })
    expect(result).toBe('committed')
    expect(breaker.stats().probes).toBe(0)
    expect(breaker.state).toBe('closed')
    breaker.stop()
  })
})
