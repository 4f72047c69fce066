/** The OpenAPI document describes every /api route, with named schemas, errors and security. */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { fixedClock } from '../src/lib/clock'
import { sentMessage } from '../src/plugins/openapi-enrich'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

const shifted = timeShifter('2031-03-04T00:00:00Z')

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
let doc: any
beforeAll(async () => {
  t = await testApp()
  const res = await t.app.handle(new Request('http://localhost/swagger/json'))
  expect(res.status).toBe(200)
  doc = await res.json()
})
afterAll(() => t.close())

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

/** Every /api route the app serves, as "METHOD /api/path/{param}". */
function apiRoutes(): string[] {
  return (t.app as any).getGlobalRoutes()
    .filter((r: any) => METHODS.includes(r.method) && r.path.startsWith('/api/') && !r.hooks?.detail?.hide)
    .map((r: any) => `${r.method} ${r.path.replace(/:([^/]+)/g, '{$1}')}`)
}

function resolve(ref: string) {
  return ref.replace('#/', '').split('/').reduce((node: any, key) => node?.[key], doc)
}

describe('OpenAPI document', () => {
  test('is OpenAPI 3.1 with info, tags and both security schemes', () => {
    expect(doc.openapi).toStartWith('3.1')
    expect(doc.info.title).toBe('QRBOOK API')
    expect(doc.tags.map((tag: any) => tag.name)).toEqual([
      'Health', 'Auth', 'Rooms', 'Reservations', 'Series', 'Closures', 'Policies', 'Scan', 'Calendar', 'Notifications', 'Admin', 'QR',
    ])
    for (const tag of doc.tags) expect(tag.description, tag.name).toBeString()
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(doc.components.securitySchemes.cookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'access_token_cookie' })
    expect(doc.components.securitySchemes.csrf).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-CSRF-TOKEN' })
  })

  test('every registered /api route is documented with a tag, a summary, a success schema and its errors', () => {
    const routes = apiRoutes()
    expect(routes.length).toBeGreaterThan(25)
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string]
      const op = doc.paths[path]?.[method.toLowerCase()]
      expect(op, `${route} is missing from /swagger/json`).toBeDefined()
      expect(op.tags?.length, `${route} has no tag`).toBeGreaterThan(0)
      expect(op.summary, `${route} has no summary`).toBeString()
      const success = Object.entries<any>(op.responses).filter(([status]) => status.startsWith('2'))
      expect(success.length, `${route} documents no success answer`).toBeGreaterThan(0)
      for (const [, response] of success) {
        const contents = Object.values<any>(response.content ?? {})
        expect(contents.length, `${route} success has no content`).toBeGreaterThan(0)
        for (const content of contents) expect(content.schema, `${route} success has no schema`).toBeDefined()
      }
      const errors = Object.entries<any>(op.responses).filter(([status]) => /^[45]/.test(status))
      expect(errors.length, `${route} documents no error answer`).toBeGreaterThan(0)
      for (const [status, response] of errors) {
        // The one exception is the contract's own: /health's 503 is {"status":"unhealthy",...}.
        if (route === 'GET /api/health' && status === '503') continue
        expect(response.content['application/json'].schema.$ref, `${route} ${status}`).toBe('#/components/schemas/Error')
      }
    }
  })

  test('every tag an operation uses is defined; closures, policies and the scan have their own', () => {
    const defined = new Set(doc.tags.map((tag: any) => tag.name))
    const tagOf: Record<string, string[]> = {}
    for (const [path, ops] of Object.entries<any>(doc.paths))
      for (const [method, op] of Object.entries<any>(ops)) {
        for (const tag of op.tags) expect(defined.has(tag), `${method.toUpperCase()} ${path}: tag ${tag} is not defined`).toBe(true)
        tagOf[`${method.toUpperCase()} ${path}`] = op.tags
      }
    expect(tagOf['GET /api/closures']).toEqual(['Closures'])
    expect(tagOf['POST /api/admin/closures']).toEqual(['Closures'])
    expect(tagOf['GET /api/policies/me']).toEqual(['Policies'])
    expect(tagOf['POST /api/admin/policies']).toEqual(['Policies'])
    expect(tagOf['GET /api/admin/approvals']).toEqual(['Policies'])
    expect(tagOf['GET /api/scan/{id}']).toEqual(['Scan'])
    expect(tagOf['POST /api/scan/{id}/book']).toEqual(['Scan'])
  })

  test('legacy aliases and the docs themselves are not in the document', () => {
    for (const path of Object.keys(doc.paths)) expect(path).toStartWith('/api/')
  })

  test('shared schemas are named once and every $ref resolves', () => {
    for (const name of ['Room', 'RoomDetail', 'Reservation', 'User', 'Error', 'Pagination', 'AdminReservation', 'Stats'])
      expect(doc.components.schemas[name], name).toBeDefined()
    expect(doc.components.schemas.Room.examples[0].name).toBe('B101')
    const refs = JSON.stringify(doc.paths).match(/"#\/components\/schemas\/[^"]+"/g) ?? []
    expect(refs.length).toBeGreaterThan(50)
    for (const ref of new Set(refs)) expect(resolve(JSON.parse(ref)), ref).toBeDefined()
  })

  test('protected routes name their role and security; the contract errors are listed', () => {
    const reserve = doc.paths['/api/rooms/{id}/reserve'].post
    expect(reserve['x-required-role']).toBe('student')
    expect(reserve.security).toEqual([{ bearer: [] }, { cookie: [], csrf: [] }])
    expect(reserve.responses['409'].description).toContain('Reservation conflicts with existing booking')
    expect(reserve.responses['401'].description).toContain('Missing CSRF token')
    expect(doc.paths['/api/admin/stats'].get.responses['403'].description).toContain('insufficient permissions')
    expect(doc.paths['/api/rooms'].get.security).toEqual([])
    expect(doc.paths['/api/auth/login'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/LoginRequest')
  })

  test('the documented login example works against the API', async () => {
    const example = doc.components.schemas.LoginRequest.examples[0]
    const reply = await new Client(t.app).post('/api/auth/login', example, { csrf: false })
    expect(reply.status).toBe(200)
  })
})

describe('SWAGGER_ENABLED', () => {
  test('false hides the UI and the document', async () => {
    const off = await testApp({ env: { SWAGGER_ENABLED: 'false' } })
    try {
      for (const path of ['/swagger', '/swagger/json', '/swagger/assets/swagger-ui.css'])
        expect((await off.app.handle(new Request(`http://localhost${path}`))).status).toBe(404)
      expect((await off.app.handle(new Request('http://localhost/api/health'))).status).toBe(200)
    } finally {
      await off.close()
    }
  })

  test('the UI page and its assets are served by the app itself', async () => {
    const page = await t.app.handle(new Request('http://localhost/swagger'))
    const html = await page.text()
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(html).not.toMatch(/https?:\/\//)
    for (const asset of html.match(/\/swagger\/assets\/[\w.-]+/g)!) {
      const res = await t.app.handle(new Request(`http://localhost${asset}`))
      expect(res.status, asset).toBe(200)
    }
  })
})

/**
 * Every string literal and template of src/ as a pattern: what a message thrown from it can look
 * like, `${...}` standing for any text. Where the answers' messages come from.
 */
async function sourceMessagePatterns(): Promise<{ patterns: RegExp[]; templates: RegExp[] }> {
  const patterns: RegExp[] = []
  const templates: RegExp[] = []
  for await (const file of new Bun.Glob('src/**/*.ts').scan({ cwd: `${import.meta.dir}/..` })) {
    if (file.endsWith('openapi-enrich.ts')) continue
    const text = await Bun.file(`${import.meta.dir}/../${file}`).text()
    for (const match of text.matchAll(/'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g)) {
      const literal = match[1] ?? match[2] ?? match[3] ?? ''
      const texts = literal.split(/\$\{(?:[^{}]|\{[^{}]*\})*\}/)
      const parts = texts.map((p) => p.replace(/\\(.)/g, '$1').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      const pattern = new RegExp(`^${parts.join('.+')}$`)
      // A pattern of mostly placeholders would match anything: alone it proves nothing, but it
      // may join a message constant to its details (`${MSG.tooLate} at ${time}`).
      if (texts.join('').replace(/[^a-z]/gi, '').length >= 8) patterns.push(pattern)
      else if (texts.length > 1) templates.push(pattern)
    }
  }
  return { patterns, templates }
}

/** A documented message as a concrete one: its placeholders (<x>, ..., 'x') become some text. */
const concrete = (message: string) => sentMessage(message).replace(/<[^>]*>|\.\.\./g, 'X')

describe('examples a newcomer can use (issue 13.10)', () => {
  const errorExamples = () => {
    const found: { route: string; status: string; msg: string }[] = []
    for (const [path, ops] of Object.entries<any>(doc.paths))
      for (const [method, op] of Object.entries<any>(ops))
        for (const [status, response] of Object.entries<any>(op.responses))
          for (const example of Object.values<any>(response.content?.['application/json']?.examples ?? {}))
            if (/^[45]/.test(status)) found.push({ route: `${method.toUpperCase()} ${path}`, status, msg: example.value.msg })
    return found
  }

  test('error examples are per route: the booking conflict only on the routes that book', () => {
    expect(doc.components.schemas.Error.examples).toBeUndefined()
    const conflict = errorExamples().filter((e) => e.msg === 'Reservation conflicts with existing booking').map((e) => e.route).sort()
    expect(conflict).toEqual([
      'PATCH /api/admin/reservations/{id}', 'PATCH /api/reservations/{id}', 'POST /api/admin/rooms/{id}/reserve',
      'POST /api/rooms/{id}/reserve', 'POST /api/scan/{id}/book', 'POST /api/series',
    ])
    const login = doc.paths['/api/auth/login'].post.responses
    expect(Object.values<any>(login['401'].content['application/json'].examples).map((e) => e.value.msg)).toEqual(['invalid credentials'])
  })

  test('every error example is a message the code really sends (a literal or a template of src/)', async () => {
    const { patterns, templates } = await sourceMessagePatterns()
    // A composed message: a message constant, then a template that appends details to it.
    const composed = (msg: string) => patterns.some((p) => p.test(msg)) || [': ', ' at '].some((joint) => {
      const at = msg.indexOf(joint)
      return at > 0 && patterns.some((p) => p.test(msg.slice(0, at))) && [...patterns, ...templates].some((q) => q.test(`X${msg.slice(at)}`))
    })
    const unknown = [...new Set(errorExamples().map((e) => concrete(e.msg)).filter((msg) => !composed(msg)))]
    expect(unknown.join('\n')).toBe('')
  })

  test('path ids are integers, with an example Try it out fills in', () => {
    for (const [path, ops] of Object.entries<any>(doc.paths))
      for (const op of Object.values<any>(ops))
        for (const param of op.parameters ?? [])
          if (param.in === 'path' && /(^|_)id$/.test(param.name))
            expect({ path, name: param.name, type: param.schema.type, anyOf: param.schema.anyOf, example: param.example }).toEqual({ path, name: param.name, type: 'integer', anyOf: undefined, example: 1 })
  })

  test('example times are computed from the clock when the document is served: the reserve example books', async () => {
    const clock = fixedClock(shifted('2031-03-04T08:20:00Z'))
    const later = await testApp({ clock })
    try {
      const served = await (await later.app.handle(new Request('http://localhost/swagger/json'))).json() as any
      const example = served.components.schemas.TimeRange.examples[0]
      // 4 hours after the next full hour (09:00)
      expect(example).toEqual({ start_time: shifted('2031-03-04T13:00:00Z'), end_time: shifted('2031-03-04T14:00:00Z') })
      expect(JSON.stringify(served)).not.toContain('2026-11-26')
      const student = await loggedIn(later.app, 'student')
      const booked = await student.post(`/api/rooms/${served.paths['/api/rooms/{id}/reserve'].post.parameters[0].example}/reserve`, example)
      expect(booked.status).toBe(201)
    } finally {
      await later.close()
    }
  })
})
