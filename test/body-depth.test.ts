/**
 * Issue 12, defect 1: a body of 60,000 nested objects (~360 KB, within the body limit) sent to
 * login, signup, an admin route or the scan page's book endpoints was a 500 (RangeError inside
 * Elysia's ValidationError) after blocking the event loop for seconds. Now every body nested past
 * MAX_JSON_DEPTH (32) is refused with 400 {msg} before it is parsed, in one linear scan; bodies
 * up to the limit work as before; brackets inside strings do not count; the refusals spend the
 * sender's rate-limit budget; and a validation error that cannot be rendered is still a 400 JSON.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { Elysia, t as schema, ValidationError } from 'elysia'
import { systemClock } from '../src/lib/clock'
import { exceedsJsonDepth, MAX_JSON_DEPTH, stringExceedsJsonDepth } from '../src/lib/json-depth'
import { silentLogger } from '../src/lib/log'
import { errorHandler } from '../src/plugins/errors'
import { startServer, type RunningServer } from '../src/server'
import { Client, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(60_000)

const nestedObjects = (n: number, leaf = '1') => `${'{"a":'.repeat(n)}${leaf}${'}'.repeat(n)}`
const nestedArrays = (n: number, leaf = '1') => `${'['.repeat(n)}${leaf}${']'.repeat(n)}`
/** The body of the report: {"username":{"a":{"a":...}},"password":"x"} with 60,000 levels. */
const ATTACK = `{"username":${nestedObjects(60_000)},"password":"x"}`
const LOGIN = { username: 'admin', password: 'admin1234' }
/** A login body that nests `depth` levels in all (the outer object is level 1). */
const loginNested = (depth: number, nest: (n: number) => string = nestedObjects) =>
  `{"username":"admin","password":"admin1234","extra":${nest(depth - 1)}}`
const bytes = (text: string) => new TextEncoder().encode(text)

describe('exceedsJsonDepth: one pass over the bytes', () => {
  test('counts objects and arrays, the outermost included; the limit itself passes', () => {
    expect(exceedsJsonDepth(bytes(nestedObjects(32)))).toBe(false)
    expect(exceedsJsonDepth(bytes(nestedObjects(33)))).toBe(true)
    expect(exceedsJsonDepth(bytes(nestedArrays(32)))).toBe(false)
    expect(exceedsJsonDepth(bytes(nestedArrays(33)))).toBe(true)
    expect(exceedsJsonDepth(bytes(`[${'{"a":['.repeat(16)}1${']}'.repeat(16)}]`))).toBe(true) // 33, mixed
    expect(exceedsJsonDepth(bytes(`[${'{"a":['.repeat(15)}1${']}'.repeat(15)}]`))).toBe(false) // 31
    expect(exceedsJsonDepth(bytes(nestedObjects(3)), 2)).toBe(true)
    // siblings do not add up: 1,000 objects side by side are depth 2
    expect(exceedsJsonDepth(bytes(JSON.stringify(Array.from({ length: 1000 }, () => ({ a: [1] })))))).toBe(false)
    expect(MAX_JSON_DEPTH).toBe(32)
  })

  test('brackets inside strings do not count; \\" and \\\\ are escapes', () => {
    expect(exceedsJsonDepth(bytes(JSON.stringify({ s: '[{'.repeat(10_000) })))).toBe(false)
    // an escaped quote does not end the string: the brackets after it are still inside
    expect(exceedsJsonDepth(bytes(`{"s":"\\"${'['.repeat(100)}"}`))).toBe(false)
    // an escaped backslash does not escape the quote after it: the string ends there, and the
    // brackets that follow are real (a scanner that got this wrong would miss the depth)
    expect(exceedsJsonDepth(bytes(`{"s":"\\\\","t":${nestedArrays(40)}}`))).toBe(true)
    expect(exceedsJsonDepth(bytes(`{"s":"\\\\\\"${'{'.repeat(100)}"}`))).toBe(false)
    // keys are strings too
    expect(exceedsJsonDepth(bytes(`{"${'{'.repeat(100)}":1}`))).toBe(false)
    // UTF-8 text around the brackets
    expect(exceedsJsonDepth(bytes(`{"é🙂":${nestedArrays(33, '"漢字"')}}`))).toBe(true)
    expect(stringExceedsJsonDepth(nestedObjects(40))).toBe(true)
  })

  test('stray closing brackets do not buy room for more openers', () => {
    expect(exceedsJsonDepth(bytes(`${']'.repeat(1000)}${nestedArrays(33)}`))).toBe(true)
    expect(exceedsJsonDepth(bytes(`"unterminated ${'['.repeat(100)}`))).toBe(false)
    expect(exceedsJsonDepth(bytes(''))).toBe(false)
  })

  test('a MiB is scanned in milliseconds', () => {
    const big = bytes(JSON.stringify({ ids: Array.from({ length: 150_000 }, (_, i) => i), s: 'x'.repeat(100_000) }))
    exceedsJsonDepth(big) // warm up
    const started = performance.now()
    for (let i = 0; i < 10; i++) exceedsJsonDepth(big)
    const ms = (performance.now() - started) / 10
    console.log(`exceedsJsonDepth: ${(big.length / 1e6).toFixed(2)} MB in ${ms.toFixed(2)} ms`)
    expect(ms).toBeLessThan(100)
  })
})

let app: TestApp
let server: RunningServer
let base = ''
let adminToken = ''

beforeAll(async () => {
  app = await testApp()
  server = startServer(app.app, { ...app.config, port: 0, host: '127.0.0.1', timeoutS: 15, workers: 1 })
  base = server.url.href.replace(/\/$/, '')
  adminToken = (await new Client(app.app).login('admin')).body.access_token
})

afterAll(async () => {
  await server?.stop(1000)
  await app?.close()
})

interface Timed { status: number; type: string; body: any; ms: number }

async function post(path: string, body: NonNullable<RequestInit['body']>, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Timed> {
  const started = performance.now()
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {}
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: parsed, ms: performance.now() - started }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

describe('over-deep bodies are refused with 400 {msg} before they are parsed', () => {
  const targets: [string, Record<string, string>][] = [
    ['/api/auth/login', {}],
    ['/auth/login', {}],
    ['/api/auth/signup', {}],
    ['/api/admin/rooms', {}],
    ['/api/admin/rooms', { authorization: 'Bearer <admin>' }],
    ['/api/admin/reservations/bulk-cancel', { authorization: 'Bearer <admin>' }],
    ['/api/scan/1/book', {}],
    ['/r/1/book', {}],
    ['/r/1/login', {}],
  ]

  test('the 60,000-deep body of the report: login, signup, admin routes, the scan page book endpoints', async () => {
    const times: number[] = []
    for (const [path, extra] of targets) {
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (extra.authorization) headers.authorization = `Bearer ${adminToken}`
      const answer = await post(path, ATTACK, headers)
      expect({ path, status: answer.status, type: answer.type }).toEqual({ path, status: 400, type: expect.stringContaining('application/json') })
      expect(answer.body.msg).toBe(`request body nested too deeply (limit ${MAX_JSON_DEPTH} levels)`)
      times.push(answer.ms)
    }
    console.log(`60,000-deep bodies: median ${median(times).toFixed(1)} ms, slowest ${Math.max(...times).toFixed(1)} ms (was 500 after 0.5-40 s)`)
    expect(median(times)).toBeLessThan(200)
    expect(Math.max(...times)).toBeLessThan(2000)
  })

  test('deep arrays, +json types, other JSON-ish types and form-data fields are refused too', async () => {
    const cases: [string, NonNullable<RequestInit['body']>, Record<string, string>][] = [
      ['arrays', `{"username":${nestedArrays(60_000)}}`, { 'content-type': 'application/json' }],
      ['33 levels', loginNested(33), { 'content-type': 'application/json' }],
      ['33 levels of arrays', loginNested(33, nestedArrays), { 'content-type': 'application/json; charset=utf-8' }],
      ['+json', ATTACK, { 'content-type': 'application/vnd.api+json' }],
      ['upper case type', ATTACK, { 'content-type': 'Application/JSON' }],
      ['application/jwt (Elysia reads application/j... as JSON)', ATTACK, { 'content-type': 'application/jwt' }],
    ]
    const form = new FormData()
    form.set('username', nestedObjects(60_000))
    form.set('password', 'x')
    cases.push(['multipart field (Elysia JSON-parses a field that starts with { or [)', form, {}])
    for (const [label, body, headers] of cases) {
      const answer = await post('/api/auth/login', body, headers)
      expect({ label, status: answer.status, msg: answer.body?.msg }).toEqual({ label, status: 400, msg: expect.stringContaining('nested too deeply') })
    }
  })

  test('bodies Elysia does not read as JSON are not refused for brackets, and never 5xx', async () => {
    // no content type: not parsed at all (a login without a body); text/plain and forms: strings
    for (const [body, headers] of [
      [bytes(ATTACK), {}],
      [ATTACK, { 'content-type': 'text/plain' }],
      [`username=${encodeURIComponent(nestedObjects(60_000))}&password=x`, { 'content-type': 'application/x-www-form-urlencoded' }],
    ] as [NonNullable<RequestInit['body']>, Record<string, string>][]) {
      const answer = await post('/api/auth/login', body, headers)
      expect(answer.status).toBeGreaterThanOrEqual(400)
      expect(answer.status).toBeLessThan(500)
      expect(answer.body?.msg).not.toContain('nested too deeply')
      expect(answer.ms).toBeLessThan(2000)
    }
  })

  test('bodies up to the limit work as before: 31 and 32 levels, deep arrays, brackets in strings', async () => {
    for (const body of [
      loginNested(31), loginNested(32), loginNested(32, nestedArrays),
      JSON.stringify({ ...LOGIN, note: `${'[{'.repeat(50_000)} \\" ] } "` }),
      JSON.stringify({ ...LOGIN, note: '\\', more: [[1]] }),
      `{"username":"admin","password":"admin1234","k${'{'.repeat(1000)}":1}`,
    ]) {
      const answer = await post('/api/auth/login', body)
      expect({ status: answer.status, msg: answer.body?.msg }).toEqual({ status: 200, msg: 'login successful' })
      expect(typeof answer.body.access_token).toBe('string')
    }
    // a form login with bracket-laden (but shallow) fields is read as usual
    const form = new FormData()
    form.set('username', 'admin')
    form.set('password', 'admin1234')
    form.set('note', nestedArrays(32))
    expect((await post('/api/auth/login', form, {})).status).toBe(200)
  })

  test('four senders of deep bodies do not hold up GET /api/rooms', async () => {
    let sending = true
    const refused: number[] = []
    const senders = Array.from({ length: 4 }, async () => {
      while (sending) {
        const answer = await post('/api/auth/login', ATTACK)
        expect(answer.status).toBe(400)
        refused.push(answer.ms)
      }
    })
    const rooms: number[] = []
    // the senders are under way: their first refusals are back (waited for, at most 5 s)
    for (const until = Date.now() + 5000; refused.length < 4 && Date.now() < until;) await Bun.sleep(1)
    for (let i = 0; i < 20; i++) {
      const started = performance.now()
      const res = await fetch(`${base}/api/rooms`)
      expect(res.status).toBe(200)
      await res.arrayBuffer()
      rooms.push(performance.now() - started)
    }
    sending = false
    await Promise.all(senders)
    console.log(`under 4 deep-body senders (${refused.length} refused, median ${median(refused).toFixed(1)} ms): `
      + `GET /api/rooms median ${median(rooms).toFixed(1)} ms, slowest ${Math.max(...rooms).toFixed(1)} ms (was up to 12 s)`)
    expect(refused.length).toBeGreaterThan(4)
    // loose bounds for a loaded 2-core machine: the point is seconds (before) against milliseconds
    expect(median(rooms)).toBeLessThan(500)
    expect(Math.max(...rooms)).toBeLessThan(3000)
  })
})

describe('rate limits count refused bodies', () => {
  test('the default limit is spent before the depth check: the 4th deep body of 3 allowed is 429', async () => {
    const limited = await testApp({ env: { RATELIMIT_ENABLED: 'true', RATELIMIT_DEFAULTS: '3 per minute' } })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 4; i++) {
        const res = await limited.app.handle(new Request('http://localhost/api/auth/login', {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: ATTACK,
        }))
        statuses.push(res.status)
        expect(((await res.json()) as { msg: string }).msg).toBeTruthy()
      }
      expect(statuses).toEqual([400, 400, 400, 429])
    } finally {
      await limited.close()
    }
  })
})

describe('the error path never recurses into the value', () => {
  test('a validation error whose details cannot be built is still 400 JSON {msg}', async () => {
    const failing = new Elysia()
      .use(errorHandler(silentLogger, { timeZone: 'UTC', clock: systemClock }))
      .get('/v', () => {
        const error = new ValidationError('body', schema.Object({ a: schema.String() }), { a: 1 })
        // what Elysia's `all` does on a value too deep to walk
        Object.defineProperty(error, 'all', { get() { throw new RangeError('Maximum call stack size exceeded.') } })
        throw error
      })
    const res = await failing.handle(new Request('http://localhost/v'))
    expect(res.status).toBe(400)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(await res.json()).toEqual({ msg: 'invalid request: validation failed', errors: [] })
  })
})
