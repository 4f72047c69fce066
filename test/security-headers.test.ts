/**
 * Issue 12, defect 4: the 413 and the 503 "request timed out" that src/server.ts writes itself,
 * outside the app, had no X-Frame-Options, Referrer-Policy or HSTS. Every answer now carries the
 * same header set (securityHeaderSet), whichever layer writes it: 200, 400, 401, 404, 429 from
 * the app; 413, 503 and a last-resort 500 from the server; a body that announces more than Bun's
 * own transport limit, which Bun used to answer with a bare 413.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import type { App } from '../src/app'
import { securityHeaderSet } from '../src/plugins/security-headers'
import { MAX_BODY_BYTES, startServer, type RunningServer } from '../src/server'
import { testApp, type TestApp, bodyOverTheLimit } from './helpers/app'

setDefaultTimeout(60_000)

const EXPECTED = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
}

function securityHeadersOf(headers: Headers | Record<string, string>): Record<string, string | null> {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name] ?? null)
  return Object.fromEntries(Object.keys(EXPECTED).map((name) => [name, get(name)]))
}

/** Sends raw HTTP on a socket and returns what came back until the server closed or answered. */
async function rawRequest(port: number, text: string, waitMs: number): Promise<{ status: number; headers: Record<string, string>; body: string; ms: number }> {
  const started = performance.now()
  let received = ''
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs)
    void Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open(socket) { socket.write(text) },
        data(socket, data) {
          received += data.toString()
          const end = received.indexOf('\r\n\r\n')
          const length = /content-length: (\d+)/i.exec(received)?.[1]
          if (end >= 0 && length !== undefined && received.length >= end + 4 + Number(length)) {
            clearTimeout(timer)
            socket.end()
            resolve()
          }
        },
        close() {
          clearTimeout(timer)
          resolve()
        },
      },
    })
  })
  const [head = '', body = ''] = received.split('\r\n\r\n')
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body, ms: performance.now() - started }
}

let t: TestApp
let server: RunningServer
let base = ''

beforeAll(async () => {
  t = await testApp({ env: { JWT_COOKIE_SECURE: 'true', RATELIMIT_ENABLED: 'true', RATELIMIT_DEFAULTS: '12 per minute' } })
  // TIMEOUT=1 s: a request whose body never finishes arriving ends as 503 "request timed out"
  server = startServer(t.app, { ...t.config, port: 0, host: '127.0.0.1', timeoutS: 1, workers: 1 })
  base = server.url.href.replace(/\/$/, '')
})

afterAll(async () => {
  await server?.stop(1000)
  await t?.close()
})

describe('the same security headers on every answer, whichever layer writes it', () => {
  test('securityHeaderSet: HSTS only with JWT_COOKIE_SECURE', () => {
    expect(securityHeaderSet({ jwtCookieSecure: true })).toEqual(EXPECTED)
    const { 'strict-transport-security': _, ...withoutHsts } = EXPECTED
    expect(securityHeaderSet({ jwtCookieSecure: false })).toEqual(withoutHsts)
  })

  test(`413 for a body over ${MAX_BODY_BYTES} bytes: announced, streamed, and announced past Bun's own limit`, async () => {
    const announced = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(MAX_BODY_BYTES + 1) })
    expect(announced.status).toBe(413)
    expect(securityHeadersOf(announced.headers)).toEqual(EXPECTED)
    expect(((await announced.json()) as { msg: string }).msg).toContain('too large')

    const stream = bodyOverTheLimit()
    const streamed = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream })
    expect(streamed.status).toBe(413)
    expect(securityHeadersOf(streamed.headers)).toEqual(EXPECTED)
    await streamed.arrayBuffer()

    // 10 GB announced: refused at once, unread, with the JSON and the headers (Bun's own limit
    // used to answer this with a bare 413)
    const huge = await rawRequest(Number(server.url.port),
      'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n{"a":', 5000)
    expect(huge.status).toBe(413)
    expect(securityHeadersOf(huge.headers)).toEqual(EXPECTED)
    expect(JSON.parse(huge.body).msg).toContain('too large')
    expect(huge.ms).toBeLessThan(3000)
  })

  test('503 "request timed out" (a body that never finishes arriving, TIMEOUT=1 s)', async () => {
    const slow = await rawRequest(Number(server.url.port),
      'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nX-Request-ID: slow-body-1\r\n\r\n{"username":', 8000)
    expect(slow.status).toBe(503)
    expect(JSON.parse(slow.body)).toEqual({ msg: 'request timed out', request_id: 'slow-body-1' })
    expect(slow.headers['x-request-id']).toBe('slow-body-1')
    expect(securityHeadersOf(slow.headers)).toEqual(EXPECTED)
    expect(slow.ms).toBeGreaterThan(900)
    expect(slow.ms).toBeLessThan(6000)
  })

  test('a last-resort 500 for whatever escapes the app is JSON with the headers', async () => {
    const broken = { handle: () => Promise.reject(new Error('escaped the app')) } as unknown as App
    const other = startServer(broken, { ...t.config, port: 0, host: '127.0.0.1', timeoutS: 5, workers: 1 })
    try {
      const res = await fetch(other.url)
      expect(res.status).toBe(500)
      expect(res.headers.get('content-type')).toContain('application/json')
      expect(securityHeadersOf(res.headers)).toEqual(EXPECTED)
      expect(await res.json()).toEqual({ msg: 'internal server error' })
    } finally {
      await other.stop(500)
    }
  })

  // last: it spends the default rate limit of the app
  test('app answers: 200, 400 (malformed, over-deep), 401, 404, and 429 once the default limit is spent', async () => {
    const seen: Record<number, number> = {}
    const check = async (res: Response, label: string) => {
      expect({ label, status: res.status, ...securityHeadersOf(res.headers) }).toEqual({ label, status: res.status, ...EXPECTED })
      expect(res.headers.get('x-request-id')).toBeTruthy()
      seen[res.status] = (seen[res.status] ?? 0) + 1
      await res.arrayBuffer()
    }
    const json = { 'content-type': 'application/json' }
    await check(await fetch(`${base}/health`), 'health')
    await check(await fetch(`${base}/api/rooms`), 'rooms')
    await check(await fetch(`${base}/api/auth/login`, { method: 'POST', headers: json, body: '{"a":' }), 'malformed')
    await check(await fetch(`${base}/api/auth/login`, { method: 'POST', headers: json, body: `${'['.repeat(100)}${']'.repeat(100)}` }), 'deep')
    await check(await fetch(`${base}/api/auth/me`), 'me')
    await check(await fetch(`${base}/no/such/path`), 'unknown path')
    await check(await fetch(`${base}/swagger/assets/constructor`), 'prototype asset name')
    for (let i = 0; i < 20 && !seen[429]; i++) await check(await fetch(`${base}/api/rooms`), `rooms #${i}`)
    expect(Object.keys(seen).map(Number).sort()).toEqual([200, 400, 401, 404, 429])
  })
})
