/** GET / : a page for whoever opens the server's address, instead of a JSON 404 (issue 13.7). */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
beforeAll(async () => {
  t = await testApp({ env: { FRONTEND_BASE_URL: 'https://rooms.college.example/app?x=<b>' } })
})
afterAll(() => t.close())

const get = (path: string, method = 'GET') => t.app.handle(new Request(`http://localhost${path}`, { method }))

describe('GET /', () => {
  test('a small HTML page linking to the frontend (escaped), /swagger and /health, with the usual security headers', async () => {
    const response = await get('/')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(response.headers.get('x-frame-options')).toBe('DENY')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    const html = await response.text()
    expect(html).toContain('<title>QRBOOK</title>')
    expect(html).toContain('href="https://rooms.college.example/app?x=&lt;b&gt;"')
    expect(html).not.toContain('<b>')
    expect(html).toContain('href="/swagger"')
    expect(html).toContain('href="/health"')
    expect(html).not.toContain('<script')
  })

  test('HEAD / answers too; /api itself stays the API (JSON 404)', async () => {
    expect((await get('/', 'HEAD')).status).toBe(200)
    const api = await get('/api')
    expect(api.status).toBe(404)
    expect(await api.json()).toEqual({ msg: 'not found' })
  })

  test('without Swagger or a frontend the page links only to /health', async () => {
    const bare = await testApp({ env: { SWAGGER_ENABLED: 'false', FRONTEND_BASE_URL: '' } })
    try {
      const html = await (await bare.app.handle(new Request('http://localhost/'))).text()
      expect(html).not.toContain('/swagger')
      expect(html).not.toContain('booking app')
      expect(html).toContain('href="/health"')
    } finally {
      await bare.close()
    }
  })
})
