/**
 * The console's door (issue 27, decision 033), in-process: who may open its pages, the headers
 * they carry, the CSRF check of its forms, the language switch and the sign-in form.
 * The pages themselves are tested in Chromium (test/system/browser/console-*.test.ts).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
beforeAll(async () => { t = await testApp() })
afterAll(async () => { await t.close() })

const PAGES = ['/console', '/console/term', '/console/calendar', '/console/closures', '/console/policies', '/console/approvals',
  '/console/users', '/console/rooms', '/console/audit', '/console/reports', '/console/lessons', '/console/no-such-page']

describe('who may open the console', () => {
  test('an anonymous request to any console page is sent to /console/login, with the page to come back to', async () => {
    const anonymous = new Client(t.app)
    for (const path of PAGES) {
      const res = await anonymous.get(`${path}?x=1`)
      expect(res.status, path).toBe(303)
      expect(res.headers.get('location'), path).toBe(`/console/login?${new URLSearchParams({ next: `${path}?x=1` })}`)
    }
  })

  test('a student gets 403 on every page, a teacher the overview, an admin every page', async () => {
    const student = await loggedIn(t.app, 'student')
    for (const path of PAGES) expect((await student.get(path)).status, path).toBe(403)
    const teacher = await loggedIn(t.app, 'teacher')
    expect((await teacher.get('/console')).status).toBe(200)
    expect((await teacher.get('/console/users')).status).toBe(403)
    const admin = await loggedIn(t.app, 'admin')
    const res = await admin.get('/console')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.text).toContain('<h1>Overview</h1>')
    expect((await admin.get('/console/no-such-page')).status).toBe(404)
  })
})

describe('forms', () => {
  test('a form post without the session\'s CSRF value is refused, with it the write is done', async () => {
    const admin = await loggedIn(t.app, 'admin')
    const crossSite = await admin.form('/console/logout', {}, { csrfToken: false })
    expect(crossSite.status).toBe(401)
    const wrong = await admin.form('/console/logout', {}, { csrfToken: 'not-the-token' })
    expect(wrong.status).toBe(401)
    expect((await admin.get('/console')).status).toBe(200) // still signed in
    const out = await admin.form('/console/logout', {})
    expect(out.status).toBe(303)
    expect(out.headers.get('location')).toBe('/console/login')
    expect((await admin.get('/console')).status).toBe(303)
  })

  test('the sign-in form needs the nonce of its own page, so another site cannot sign a visitor in', async () => {
    const visitor = new Client(t.app)
    const forged = await visitor.form('/console/login', { name: 'admin', password: 'admin1234', nonce: 'A'.repeat(22) }, { csrfToken: false })
    expect(forged.status).toBe(403)
    expect(visitor.cookies.has('access_token_cookie')).toBe(false)
    const form = await visitor.get('/console/login?next=/console/rooms')
    const nonce = /name="nonce" value="([^"]+)"/.exec(form.text)![1]!
    const signedIn = await visitor.form('/console/login', { name: 'admin', password: 'admin1234', nonce, next: '/console/rooms' }, { csrfToken: false })
    expect(signedIn.status).toBe(303)
    expect(signedIn.headers.get('location')).toBe('/console/rooms')
    expect(visitor.cookies.has('access_token_cookie')).toBe(true)
  })

  test('"next" never leads off the console', async () => {
    const visitor = new Client(t.app)
    for (const next of ['//evil.example/', 'https://evil.example/console', '/console.evil', '/\\evil.example', '/api/auth/logout']) {
      const res = await visitor.get(`/console/lang?to=ru&next=${encodeURIComponent(next)}`)
      expect(res.headers.get('location'), next).toBe('/console')
    }
  })
})

describe('language', () => {
  test('Accept-Language chooses, the switch overrides it', async () => {
    const admin = await loggedIn(t.app, 'admin')
    expect((await admin.get('/console', { headers: { 'accept-language': 'ru-RU,ru;q=0.9' } })).text).toContain('<h1>Обзор</h1>')
    const switched = await admin.get('/console/lang?to=en&next=/console')
    expect(switched.status).toBe(303)
    const page = await admin.get('/console', { headers: { 'accept-language': 'ru-RU,ru;q=0.9' } })
    expect(page.text).toContain('<h1>Overview</h1>')
    expect(page.headers.get('content-language')).toBe('en')
  })
})

describe('assets', () => {
  test('the stylesheet and the script are served; nothing else is', async () => {
    const visitor = new Client(t.app)
    const css = await visitor.get('/console/assets/console.css')
    expect(css.status).toBe(200)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect((await visitor.get('/console/assets/console.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect((await visitor.get('/console/assets/..%2Fkit.tsx')).status).toBe(404)
  })
})
