/** Section 7: CORS for the listed origins only, preflight for the CSRF header, security headers everywhere. */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { loadConfig } from '../src/config'
import { testApp, TEST_ENV, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
beforeAll(async () => {
  t = await testApp({ env: { CORS_ORIGINS: 'http://frontend.test/, https://app.example.com' } })
})
afterAll(() => t.close())

const send = (path: string, init: RequestInit = {}) => t.app.handle(new Request(`http://localhost${path}`, init))

describe('CORS', () => {
  test('an allowed origin (listed with a trailing slash) gets the origin back with credentials', async () => {
    const res = await send('/api/health', { headers: { origin: 'http://frontend.test' } })
    expect(res.headers.get('access-control-allow-origin')).toBe('http://frontend.test')
    expect(res.headers.get('access-control-allow-credentials')).toBe('true')
    expect(res.headers.get('vary')).toContain('Origin')
  })

  test('any other origin gets no Access-Control-Allow-Origin', async () => {
    for (const origin of ['http://evil.test', 'https://frontend.test', 'http://frontend.test.evil.test', 'null', 'constructor']) {
      const res = await send('/api/health', { headers: { origin } })
      expect(res.headers.get('access-control-allow-origin')).toBeNull()
    }
  })

  test('the preflight for a CSRF-carrying write passes for an allowed origin only', async () => {
    const preflight = (origin: string) => send('/api/rooms/1/reserve', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-csrf-token' },
    })
    const ok = await preflight('https://app.example.com')
    expect(ok.status).toBeLessThan(300)
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com')
    expect(ok.headers.get('access-control-allow-headers')).toContain('X-CSRF-TOKEN')
    expect(ok.headers.get('access-control-allow-methods')).toContain('PATCH')
    const refused = await preflight('http://evil.test')
    expect(refused.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('"*" is refused in CORS_ORIGINS because credentials are allowed', () => {
    expect(() => loadConfig({ ...TEST_ENV, CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/)
    expect(() => loadConfig({ ...TEST_ENV, CORS_ORIGINS: 'not a url' })).toThrow(/CORS_ORIGINS/)
  })
})

describe('security headers', () => {
  test('on success, on errors and on unknown paths; no HSTS without JWT_COOKIE_SECURE', async () => {
    for (const [path, status] of [['/health', 200], ['/api/auth/me', 401], ['/no/such/path', 404]] as const) {
      const res = await send(path)
      expect(res.status).toBe(status)
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('x-frame-options')).toBe('DENY')
      expect(res.headers.get('referrer-policy')).toBeTruthy()
      expect(res.headers.get('x-request-id')).toBeTruthy()
      expect(res.headers.get('strict-transport-security')).toBeNull()
      expect(res.headers.get('content-type')).toContain('application/json')
    }
  })

  test('a sane incoming X-Request-ID is echoed, an unsafe one replaced', async () => {
    expect((await send('/health', { headers: { 'x-request-id': 'abc-123' } })).headers.get('x-request-id')).toBe('abc-123')
    // replaced by a generated UUID (checked by its form: a random UUID may contain "bad" by chance)
    const replaced = (await send('/health', { headers: { 'x-request-id': 'bad id\u00e9' } })).headers.get('x-request-id')
    expect(replaced).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  test('HSTS when JWT_COOKIE_SECURE=true', async () => {
    const secure = await testApp({ env: { JWT_COOKIE_SECURE: 'true' } })
    try {
      const res = await secure.app.handle(new Request('http://localhost/health'))
      expect(res.headers.get('strict-transport-security')).toContain('max-age=31536000')
    } finally {
      await secure.close()
    }
  })
})
