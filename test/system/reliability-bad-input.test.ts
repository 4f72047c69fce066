/**
 * Bad input on every route: the routes come from the OpenAPI document (/swagger/json), so a new
 * route is covered without editing this file. For each one the test generates malformed JSON,
 * non-object bodies, wrong types, missing and extra fields, 1 MB strings, unicode and NUL bytes,
 * negative and huge ids, impossible dates, SQL and path-traversal strings, wrong content types,
 * oversized bodies, bodies nested 60,000 levels deep (JSON and form fields), and the names of
 * Object.prototype's members (`__proto__`, `constructor`, ...) as every id; sends them as an admin (so they get past authentication) to a real
 * listening server (src/server.ts, where the body limit lives), and checks:
 * - never a 5xx, never a hang, never a plain-text error: a refused request is JSON {"msg"};
 * - an input that is invalid for the route is a 4xx (ids, dates, types, sizes, NUL bytes);
 * - bodies over MAX_BODY_BYTES (1 MiB, src/server.ts) are 413 {"msg"}, streamed ones too;
 * - bodies nested deeper than MAX_JSON_DEPTH (32) are 400 {"msg"} on every route that takes a body;
 * - prototype names in every path parameter of every route (documented or not) and as every
 *   asset name are a 4xx, never a 500 (lookup tables keyed by them have no prototype);
 * - the database is unchanged: row count and checksum of every table, before and after.
 * Inputs a route may accept by design (an unknown query parameter, a search for an SQL string)
 * may answer 2xx, but change nothing: write routes get such inputs only with an id that does
 * not exist, or next to a field that makes the request invalid.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { rowsOf, sql } from '../../src/db/client'
import { MAX_JSON_DEPTH } from '../../src/lib/json-depth'
import { MAX_BODY_BYTES, startServer, type RunningServer } from '../../src/server'
import { Client, testApp, type TestApp, bodyOverTheLimit } from '../helpers/app'

setDefaultTimeout(50_000) // test/setup.ts's preloaded timeout reaches only the first file (oven-sh/bun#43787)

const MISSING_ID = '2147483000'
const NUL = 'a\u0000b'
const ONE_MB = 'x'.repeat(1_000_000)
const IMPOSSIBLE_DATES = [
  '2026-02-30T25:00', '2026-13-01T00:00:00Z', '2026-11-26T24:61:00Z', '0000-01-01T00:00:00Z',
  '-001000-01-01T00:00:00Z', '275760-09-14T00:00:00Z', '2026-11-26T10:00:00+25:00', '9999-99-99',
  '2026-11-26T10:00:00Z\u0000', 'tomorrow', '١٢٣٤-٠١-٠١', '',
]
const SQL_STRINGS = ["' OR '1'='1' --", "1; DROP TABLE users; --", "admin'--", '" OR ""="', "1) UNION SELECT password_hash FROM users --"]
const TRAVERSAL = ['../../../../etc/passwd', '..\\..\\windows\\win.ini', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/static/qr/../../src/config.ts']
const UNICODE = ['\u202eevil\u202c', 'zero\u200bwidth', 'é🙂漢字', '\uFEFFbom', '\uD800 lone surrogate']
/** Names that a lookup table with a prototype would find: `table[name]` is never undefined. */
const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__', 'isPrototypeOf']
const BAD_IDS = [...PROTOTYPE_NAMES, '0', '-1', '2147483648', '99999999999999999999', '1.5', 'abc', 'NaN', 'Infinity', '-0', '%00', '..%2F..%2Fetc%2Fpasswd', '1%20OR%201%3D1', '%F0%9F%99%82', "1'--"]
const MALFORMED_JSON = ['{', '{"a":', '[1,2', '{"a":1}}', 'nul', "{'a':1}", '{"a":1,}', '\u0000', '{"a":"\\u12"}', '{"a":01}']
const NON_OBJECTS = ['[]', '"text"', '123', 'null', 'true', '[{"a":1}]']
const nested = (n: number, open: string, leaf: string, close: string) => `${open.repeat(n)}${leaf}${close.repeat(n)}`
/** Bodies that nest past the limit: refused with 400 before they are parsed, whatever the route. */
const NESTED_BODIES: [string, string, string][] = [
  ['60,000 nested objects', `{"name":${nested(60_000, '{"a":', '1', '}')},"username":"x"}`, 'application/json'],
  ['60,000 nested arrays', nested(60_000, '[', '1', ']'), 'application/json'],
  [`${MAX_JSON_DEPTH + 1} levels`, nested(MAX_JSON_DEPTH + 1, '{"a":', '"x"', '}'), 'application/json; charset=utf-8'],
  ['60,000 levels as +json', nested(60_000, '[', '1', ']'), 'application/merge-patch+json'],
  ['60,000 levels in a form field', `--zzz\r\nContent-Disposition: form-data; name="name"\r\n\r\n${nested(60_000, '{"a":', '1', '}')}\r\n--zzz--\r\n`, 'multipart/form-data; boundary=zzz'],
]

interface Case {
  label: string
  method: string
  path: string
  body?: string
  contentType?: string
  /** the input is invalid for the route: the answer must be a 4xx */
  invalid: boolean
  /** the expected status, when it is exact */
  status?: number
  /** send without the admin token (logout and refresh would end the test's own session) */
  anonymous?: boolean
}

type Schema = { type?: string | string[]; anyOf?: Schema[]; properties?: Record<string, Schema>; required?: string[]; $ref?: string; items?: Schema }
interface Operation {
  method: string
  path: string
  pathParams: string[]
  queryParams: string[]
  body?: Schema
}

function typesOf(schema: Schema | undefined): string[] {
  if (!schema) return []
  if (schema.anyOf) return schema.anyOf.flatMap(typesOf)
  if (Array.isArray(schema.type)) return schema.type
  return schema.type ? [schema.type] : []
}

/** JSON values of another type than the schema allows (all kinds when it allows anything). */
function wrongTypedValues(schema: Schema): unknown[] {
  const types = typesOf(schema)
  const candidates: [string, unknown][] = [
    ['integer', 12345], ['number', -1.5], ['boolean', true], ['null', null], ['array', []],
    ['object', { $gt: '' }], ['string', 'not-a-valid-value'],
  ]
  const allowed = (kind: string) => types.includes(kind) || (kind === 'integer' && types.includes('number'))
  return candidates.filter(([kind]) => types.length === 0 || !allowed(kind)).map(([, value]) => value)
}

function isTimeField(name: string) {
  return /(^|_)(time|from|to)$/.test(name) || name === 'start' || name === 'end'
}
function isIdField(name: string) {
  return /(^|_)ids?$/.test(name)
}

/** Every generated case of one operation. */
function casesFor(op: Operation): Case[] {
  const cases: Case[] = []
  const withIds = (id: string) => op.path.replace(/\{[^}]+\}/g, id)
  const hasIdParam = op.pathParams.length > 0
  // Write routes get bodies that might be valid only with an id that does not exist.
  const safePath = withIds(MISSING_ID)
  const realPath = withIds('1')
  const anonymous = /\/auth\/(logout|refresh)$/.test(op.path)
  const add = (c: Omit<Case, 'method' | 'anonymous'>) => cases.push({ ...c, method: op.method, anonymous })
  const json = (value: unknown) => JSON.stringify(value)
  const sendsBody = op.method !== 'GET' && op.method !== 'HEAD'

  // --- path parameters: negative, huge, fractional, non-numeric, encoded tricks
  for (const id of hasIdParam ? BAD_IDS : []) add({ label: `path id ${id}`, path: withIds(id), invalid: true })
  if (hasIdParam) add({ label: 'path id that does not exist', path: safePath, invalid: true, body: sendsBody ? '{}' : undefined, contentType: 'application/json' })

  // --- query parameters
  for (const name of op.queryParams) {
    const values: [string, boolean][] = [
      ['-1', /^(page|per_page)$/.test(name) || isIdField(name)], ['0', /^(page|per_page)$/.test(name) || isIdField(name)],
      ['99999999999999999999', /^(page|per_page)$/.test(name) || isIdField(name)],
      ['abc', /^(page|per_page|is_blocked|checked_in)$/.test(name) || isIdField(name) || isTimeField(name)],
      // a NUL byte is refused wherever it would reach the database; a route may also ignore it
      [NUL, false], ['x'.repeat(8000), false],
      ...SQL_STRINGS.map((s): [string, boolean] => [s, false]),
      ...TRAVERSAL.map((s): [string, boolean] => [s, false]),
      ...UNICODE.slice(0, 3).map((s): [string, boolean] => [s, false]),
      ...(isTimeField(name) ? IMPOSSIBLE_DATES.filter(Boolean).map((d): [string, boolean] => [d, true]) : []),
    ]
    for (const [value, invalid] of values) {
      // a write route's query is read with an id that does not exist
      const base = op.method === 'GET' ? withIds('1') : safePath
      add({ label: `query ${name}=${JSON.stringify(value.slice(0, 30))}`, path: `${base}?${name}=${encodeURIComponent(value)}`, invalid })
    }
    add({ label: `query ${name} twice`, path: `${op.method === 'GET' ? withIds('1') : safePath}?${name}=1&${name}=2`, invalid: false })
  }
  if (op.method === 'GET') {
    add({ label: 'unknown query parameters', path: `${withIds('1')}?zzz=1&__proto__[x]=1&constructor=1`, invalid: false })
  }

  if (!sendsBody) return cases

  // --- bodies: syntax, shape, types, sizes, strings, dates, ids, content types
  // Only bodies that cannot be valid (unparsable JSON, impossible dates: refused before anything
  // is read) go to an existing id; every other body goes to an id that does not exist, or, on a
  // route without an id, is invalid by construction (a required field missing or poisoned).
  const props = Object.entries(op.body?.properties ?? {})
  const realTarget = op.body && hasIdParam ? realPath : safePath
  const bodyPath = hasIdParam ? safePath : op.path
  const target = bodyPath
  for (const text of MALFORMED_JSON) add({ label: `malformed JSON ${JSON.stringify(text)}`, path: realTarget, body: text, contentType: 'application/json', invalid: true, status: 400 })
  // refused before anything is parsed or read, on routes with and without a body
  for (const [label, body, contentType] of NESTED_BODIES) add({ label, path: realTarget, body, contentType, invalid: true, status: 400 })
  if (!op.body) {
    add({ label: 'body on a route without one', path: bodyPath, body: '{"zzz":1}', contentType: 'application/json', invalid: hasIdParam })
    return cases
  }
  for (const text of NON_OBJECTS) add({ label: `body ${text}`, path: target, body: text, contentType: 'application/json', invalid: true })
  add({ label: 'empty object (missing fields)', path: target, body: '{}', contentType: 'application/json', invalid: true })
  add({ label: 'empty body', path: target, body: '', contentType: 'application/json', invalid: true })
  add({
    label: 'extra fields only',
    path: bodyPath,
    body: '{"__proto__":{"role":"admin","isAdmin":true},"constructor":{"prototype":{"polluted":1}},"$where":"1","zzz_extra":"x"}',
    contentType: 'application/json',
    invalid: true,
  })

  // Every other string field poisoned with a NUL byte, so that the one under test cannot make a
  // valid request by itself (e.g. a room name that is only odd text).
  const poisonOthers = (except: string) =>
    Object.fromEntries(props.filter(([k, s]) => k !== except && typesOf(s).includes('string')).map(([k]) => [k, NUL]))

  for (const [name, schema] of props) {
    for (const value of wrongTypedValues(schema)) {
      add({ label: `${name}: wrong type ${json(value)}`, path: target, body: json({ [name]: value }), contentType: 'application/json', invalid: true })
    }
    const stringy = typesOf(schema).length === 0 || typesOf(schema).includes('string')
    if (stringy) {
      add({ label: `${name}: 1 MB string`, path: target, body: json({ [name]: ONE_MB }), contentType: 'application/json', invalid: true })
      add({ label: `${name}: NUL byte`, path: target, body: json({ [name]: NUL }), contentType: 'application/json', invalid: true })
      add({ label: `${name}: unicode + NUL`, path: target, body: json({ [name]: `é🙂${NUL}\u202e` }), contentType: 'application/json', invalid: true })
      for (const s of [...SQL_STRINGS, ...TRAVERSAL, ...UNICODE]) {
        const others = poisonOthers(name)
        add({ label: `${name}: ${JSON.stringify(s)}`, path: bodyPath, body: json({ ...others, [name]: s }), contentType: 'application/json', invalid: hasIdParam || Object.keys(others).length > 0 })
      }
    }
    if (isTimeField(name)) {
      for (const date of IMPOSSIBLE_DATES) {
        // both times sent, the other one valid: the impossible one must be refused
        const other = name.startsWith('start') ? 'end_time' : 'start_time'
        const body = { user_id: 1, [other]: '2031-01-01T10:00:00Z', [name]: date }
        add({ label: `${name}: impossible date ${JSON.stringify(date)}`, path: realTarget, body: json(body), contentType: 'application/json', invalid: true, status: 400 })
      }
      add({ label: `${name}: number 1e20`, path: target, body: json({ [name]: 1e20 }), contentType: 'application/json', invalid: true })
    }
    if (isIdField(name)) {
      const many = typesOf(schema).includes('array')
      const values = ['-1', '0', '2147483648', '1e30', '"1; DROP TABLE rooms"', '1.5', '"abc"', '[]', '{}', 'null']
      for (const v of values) {
        const body = many ? `{"${name}":[${v}]}` : `{"${name}":${v}}`
        add({ label: `${name}: ${v}`, path: target, body, contentType: 'application/json', invalid: true })
      }
      if (many) add({ label: `${name}: 100,000 ids`, path: target, body: json({ [name]: Array.from({ length: 100_000 }, (_, i) => i + 1) }), contentType: 'application/json', invalid: true })
    }
  }

  // --- content types: the body is not what its type says, or the type is not one the route reads
  const odd: [string, string][] = [
    ['text/plain', '{"name":"x"}'], ['application/xml', '<a><b>1</b></a>'], ['application/octet-stream', '\u0000\u0001\u0002'],
    ['application/x-www-form-urlencoded', 'a=%ZZ&&=&%'], ['multipart/form-data; boundary=zzz', '--zzz\r\nbroken'],
    ['multipart/form-data', 'no boundary'], ['application/json; charset=utf-16', '\u00ff\u00fe{'], ['image/png', '\u0089PNG'],
  ]
  for (const [type, body] of odd) add({ label: `content-type ${type}`, path: target, body, contentType: type, invalid: true })
  add({ label: 'JSON without a content type', path: target, body: '{"zzz":1}', invalid: true })
  return cases
}

let t: TestApp
let server: RunningServer
let base = ''
let token = ''
let operations: Operation[] = []

async function checksums(): Promise<Record<string, string>> {
  const tables = rowsOf<{ name: string }>(await t.database.db.execute(
    sql`select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  ))
  const out: Record<string, string> = {}
  for (const { name } of tables) {
    const [row] = rowsOf<{ n: number; h: string }>(await t.database.db.execute(
      sql.raw(`select count(*)::int as n, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as h from "${name}" t`),
    ))
    out[name] = `${row!.n} rows, ${row!.h}`
  }
  return out
}

interface Answer { status: number; type: string; text: string; ms: number }

async function send(c: Case): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (!c.anonymous) headers.authorization = `Bearer ${token}`
  if (c.contentType) headers['content-type'] = c.contentType
  const started = performance.now()
  const res = await fetch(`${base}${c.path}`, { method: c.method, headers, body: c.body, signal: AbortSignal.timeout(15_000) })
  const type = res.headers.get('content-type') ?? ''
  // A stream (server-sent events) that opened is an accepted request: do not wait for its end.
  const text = type.includes('event-stream') ? (await res.body?.cancel(), '') : await res.text()
  return { status: res.status, type, text, ms: performance.now() - started }
}

/** What is wrong with an answer, or undefined. */
function judge(c: Case, a: Answer): string | undefined {
  if (a.status >= 500) return `${a.status} ${a.text.slice(0, 200)}`
  if (c.status !== undefined && a.status !== c.status) return `expected ${c.status}, got ${a.status} ${a.text.slice(0, 200)}`
  if (c.invalid && (a.status < 400 || a.status >= 500)) return `invalid input accepted: ${a.status} ${a.text.slice(0, 200)}`
  if (a.status >= 400) {
    let body: any
    try {
      body = JSON.parse(a.text)
    } catch {
      return `${a.status} is not JSON: ${JSON.stringify(a.text.slice(0, 100))} (${a.type})`
    }
    if (typeof body?.msg !== 'string' || !body.msg) return `${a.status} without a msg: ${a.text.slice(0, 200)}`
    if (/\n\s+at |node_modules|\.ts:\d+/.test(a.text)) return `${a.status} leaks a stack trace: ${a.text.slice(0, 200)}`
  }
  return undefined
}

beforeAll(async () => {
  t = await testApp()
  server = startServer(t.app, { ...t.config, port: 0, host: '127.0.0.1', timeoutS: 15, workers: 1 })
  base = server.url.href.replace(/\/$/, '')
  const admin = new Client(t.app)
  token = (await admin.login('admin')).body.access_token

  const doc = (await (await fetch(`${base}/swagger/json`)).json()) as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>>
    components?: { schemas?: Record<string, Schema> }
  }
  const resolve = (s?: Schema) => (s?.$ref ? doc.components?.schemas?.[s.$ref.split('/').pop()!] : s)
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? []
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        body: resolve(op.requestBody?.content?.['application/json']?.schema),
      })
    }
  }
})

afterAll(async () => {
  await server?.stop(1000)
  await t?.close()
})

/** The console's one-time notice a 303 sets (src/modules/console/kit.tsx: a base64url JSON cookie). */
function consoleNotice(res: Response): { kind: string; text: string } | undefined {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('qrbook_console_flash='))
  if (!cookie) return undefined
  const value = decodeURIComponent(cookie.split(';')[0]!.slice('qrbook_console_flash='.length))
  return JSON.parse(Buffer.from(value, 'base64url').toString())
}

describe('bad input on every route of the OpenAPI document', () => {
  test('the document lists the routes (a sanity check on the generator)', () => {
    expect(operations.length).toBeGreaterThanOrEqual(25)
    const names = operations.map((o) => `${o.method} ${o.path}`)
    for (const route of ['POST /api/auth/login', 'GET /api/rooms', 'POST /api/rooms/{id}/reserve', 'PATCH /api/reservations/{id}', 'POST /api/admin/reservations/bulk-cancel'])
      expect(names).toContain(route)
  })

  test('every answer is < 500, refusals are JSON {msg}, invalid inputs are 4xx, and the database is unchanged', async () => {
    const before = await checksums()
    const cases = operations.flatMap(casesFor)
    const problems: string[] = []
    let next = 0
    let slowest = 0
    const counts: Record<string, number> = {}
    let refusedByDatabase = 0
    await Promise.all(Array.from({ length: 12 }, async () => {
      while (next < cases.length) {
        const c = cases[next++]!
        let answer: Answer
        try {
          answer = await send(c)
        } catch (error) {
          problems.push(`${c.method} ${c.path.slice(0, 80)} [${c.label}]: no answer (${(error as Error).message})`)
          continue
        }
        slowest = Math.max(slowest, answer.ms)
        counts[answer.status] = (counts[answer.status] ?? 0) + 1
        if (answer.text.startsWith('{"msg":"invalid value')) refusedByDatabase++
        const problem = judge(c, answer)
        if (problem) problems.push(`${c.method} ${c.path.slice(0, 80)} [${c.label}]: ${problem}`)
      }
    }))
    console.log(`bad input: ${cases.length} requests on ${operations.length} routes; answers by status ${JSON.stringify(counts)} (${refusedByDatabase} values refused by the database); slowest ${slowest.toFixed(0)} ms`)
    expect(problems).toEqual([])
    // NUL bytes and out-of-range dates did reach the database, and were answered 400 (not 500)
    expect(refusedByDatabase).toBeGreaterThan(0)
    // POST /calendar/token, a valid body-less write, made the admin's feed token (see the last test)
    const { calendar_tokens: _madeByValidCall, ...unchanged } = await checksums()
    const { calendar_tokens: _before, ...beforeRest } = before
    expect(unchanged).toEqual(beforeRest)
  }, 50_000)

  test('prototype names in every path parameter of every route (documented or not) and as every asset name: a 4xx, never a 5xx', async () => {
    const before = await checksums()
    const routes = t.app.routes.filter((r) => r.path.includes('/:'))
    // the undocumented pages and files are in the route table too
    for (const path of ['/r/:id', '/display/:id', '/swagger/assets/:file', '/static/qr/:file'])
      expect(routes.map((r) => r.path)).toContain(path)
    const problems: string[] = []
    let sent = 0
    for (const route of routes) {
      const isFile = route.path.endsWith('/:file')
      const names = isFile ? PROTOTYPE_NAMES.flatMap((n) => [n, `${n}.png`, `${n}.svg`, `${n}.css`]) : PROTOTYPE_NAMES
      for (const name of names) {
        const path = route.path.replace(/:\w+/g, encodeURIComponent(name))
        const body = route.method === 'GET' ? undefined : '{}'
        const res = await fetch(`${base}${path}`, {
          method: route.method,
          headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(15_000),
        })
        sent++
        const type = res.headers.get('content-type') ?? ''
        const text = type.includes('event-stream') ? (await res.body?.cancel(), '') : await res.text()
        const where = `${route.method} ${path}`
        // The console's forms answer a refusal as people expect of a form: 303 back to the page
        // with the message as a one-time notice (decision 033); its pages answer 4xx in HTML.
        if (path.startsWith('/console/') && res.status === 303) {
          if (!/^\/console(\/|$|\?)/.test(res.headers.get('location') ?? '') || consoleNotice(res)?.kind !== 'error') problems.push(`${where}: 303 without an error notice`)
          continue
        }
        if (path.startsWith('/console/') && type.startsWith('text/html')) {
          if (res.status < 400 || res.status >= 500) problems.push(`${where}: ${res.status} ${text.slice(0, 120)}`)
          continue
        }
        if (res.status < 400 || res.status >= 500) problems.push(`${where}: ${res.status} ${text.slice(0, 120)}`)
        else if (type.includes('text/plain')) problems.push(`${where}: ${res.status} text/plain ${text.slice(0, 120)}`)
        else if (type.includes('json') && !JSON.parse(text).msg) problems.push(`${where}: ${res.status} without a msg: ${text.slice(0, 120)}`)
        else if (isFile && (res.status !== 404 || !type.includes('json'))) problems.push(`${where}: expected 404 JSON, got ${res.status} ${type}`)
      }
    }
    console.log(`prototype names: ${sent} requests on ${routes.length} routes with a path parameter`)
    expect(problems).toEqual([])
    expect(await checksums()).toEqual(before)
  })

  test(`bodies over ${MAX_BODY_BYTES} bytes get 413 {msg} on every route, before they are read; streamed ones too`, async () => {
    const before = await checksums()
    const oversized = `{"name":"${'x'.repeat(MAX_BODY_BYTES)}"}`
    const problems: string[] = []
    for (const op of operations.filter((o) => o.method !== 'GET')) {
      const path = op.path.replace(/\{[^}]+\}/g, '1')
      const res = await fetch(`${base}${path}`, {
        method: op.method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: oversized,
      })
      const text = await res.text()
      if (res.status !== 413 || !JSON.parse(text).msg) problems.push(`${op.method} ${path}: ${res.status} ${text.slice(0, 100)}`)
    }
    expect(problems).toEqual([])

    // 5 MB, and a body streamed without Content-Length (chunked) that grows past the limit
    const five = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(5_000_000) })
    expect(five.status).toBe(413)
    expect(((await five.json()) as { msg: string }).msg).toContain('too large')
    const stream = bodyOverTheLimit()
    const chunked = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream })
    expect(chunked.status).toBe(413)
    expect(((await chunked.json()) as { msg: string }).msg).toContain('too large')

    // at the limit the body is read (and refused for what it is, not for its size)
    const atLimit = `{"name":"${'x'.repeat(MAX_BODY_BYTES - 40)}","password":"p"}`
    expect(new TextEncoder().encode(atLimit).byteLength).toBeLessThanOrEqual(MAX_BODY_BYTES)
    const ok = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: atLimit })
    expect(ok.status).toBe(400)
    // a small streamed body still works
    const small = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"name":"admin","password":"admin1234"}'))
        controller.close()
      },
    })
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: small })
    expect(login.status).toBe(200)

    // URLs and headers past Bun's own 16 KiB limit are refused by Bun itself (431, no body)
    const longUrl = await fetch(`${base}/api/rooms?q=${'x'.repeat(1_000_000)}`)
    expect(longUrl.status).toBe(431)

    // (the login above wrote its session and its change record, and POST /calendar/token takes no
    // body: the extra one it is sent is ignored and it rightly makes the admin's feed token;
    // compare everything else)
    const after = await checksums()
    for (const table of ['sessions', 'changes', 'calendar_tokens']) {
      delete before[table]
      delete after[table]
    }
    expect(after).toEqual(before)
  })
})
