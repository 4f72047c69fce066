/**
 * Answers are typed as they are sent (issue 30): a client generated from /swagger/json (e.g. by
 * openapi-typescript) gets `number` for every integer of an answer, not `string | number`, a
 * `format: date-time` string for every instant and `format: date` for every day, and no `unknown`
 * leaf except the free-form records listed below. Every 2xx answer of every operation is walked,
 * through its $refs, so a new route or field is checked without being named here.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { Value } from '@sinclair/typebox/value'
import { loggedIn, testApp, type TestApp } from './helpers/app'

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

/** A field name that says "an instant": created_at, start_time, free_until, week_start, until, ... */
const INSTANT_NAME = /(_at|_time|_until|_from|_to)$|(^|_)(start|end)$|^(until|since|timestamp)$/
/** A field name that says "a day": starts_on, ends_on. */
const DAY_NAME = /_on$/

/**
 * Fields whose names look like instants but are not, each with why. A key is the field's place:
 * the named schema (components.schemas) it is in, then the path inside it.
 */
const NOT_INSTANTS: Record<string, string> = {
  'Room.booking_window.start': 'the daily booking window: a local time of day "HH:MM" (APP_TIMEZONE), or null',
  'Room.booking_window.end': 'the daily booking window: a local time of day "HH:MM" (APP_TIMEZONE), or null',
  ...Object.fromEntries(['TimetableImportReport', 'TimetableImportDryRun'].flatMap((report) => [
    [`${report}.rows[].start`, 'the CSV cell as written ("HH:MM" local), so a row with an error still shows what it said'],
    [`${report}.rows[].end`, 'the CSV cell as written ("HH:MM" local)'],
    [`${report}.rows[].until`, 'the CSV cell as written (YYYY-MM-DD or DD.MM.YYYY)'],
  ])),
}

/** Free-form records: an object of any keys and values, on purpose. */
const FREE_FORM: Record<string, string> = {
  'AuditLogEntry.payload': "the change's data as recorded: its keys depend on the event",
  'WebhookDelivery.payload': 'the body sent to the receiver: {type, timestamp, data}, data by event (docs/webhooks.md)',
  'Notice.data': 'the facts a notice is made of: their keys depend on its kind',
}

interface Finding { where: string; what: string }

/** Walks every 2xx answer's schema; `visit` sees each node with its place and field name. */
function walkAnswers(visit: (node: any, place: string, field: string | undefined, route: string) => void) {
  const resolve = (ref: string) => ref.replace('#/', '').split('/').reduce((node: any, key) => node?.[key], doc)
  const walk = (node: any, place: string, field: string | undefined, route: string, seen: Set<string>) => {
    if (!node || typeof node !== 'object') return
    if (node.$ref) {
      if (seen.has(node.$ref)) return
      return walk(resolve(node.$ref), node.$ref.split('/').pop(), field, route, new Set([...seen, node.$ref]))
    }
    visit(node, place, field, route)
    for (const variant of [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])]) walk(variant, place, field, route, seen)
    for (const [name, value] of Object.entries<any>(node.properties ?? {})) walk(value, `${place}.${name}`, name, route, seen)
    if (node.items) walk(node.items, `${place}[]`, field, route, seen)
    for (const value of Object.values<any>(node.patternProperties ?? {})) walk(value, `${place}{}`, field, route, seen)
    if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${place}{}`, field, route, seen)
  }
  for (const [path, ops] of Object.entries<any>(doc.paths))
    for (const [method, op] of Object.entries<any>(ops))
      for (const [status, response] of Object.entries<any>(op.responses ?? {}))
        if (status.startsWith('2'))
          for (const content of Object.values<any>(response.content ?? {}))
            walk(content.schema, '(answer)', undefined, `${method.toUpperCase()} ${path} ${status}`, new Set())
}

const isComposite = (node: any) => Boolean(node.anyOf || node.oneOf || node.allOf)
const types = (node: any): string[] => (Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type])

/** The findings, one line each, with the first route that shows them. */
function report(findings: Finding[]): string {
  const byPlace = new Map<string, Finding>()
  for (const finding of findings) byPlace.set(`${finding.what}: ${finding.where}`, finding)
  return [...byPlace.keys()].sort().join('\n')
}

describe('answers in the OpenAPI document are typed as they are sent', () => {
  test('walks a real document', () => {
    let count = 0
    walkAnswers(() => count++)
    expect(count).toBeGreaterThan(1000)
  })

  test('no integer of an answer is also a numeric string (t.Integer/t.Numeric are for inputs)', () => {
    const findings: Finding[] = []
    walkAnswers((node, place) => {
      const variants = [...(node.anyOf ?? []), ...(node.oneOf ?? [])]
      if (variants.some((v: any) => types(v).includes('string') && (v.format === 'integer' || v.format === 'numeric')))
        findings.push({ where: place, what: 'integer or numeric string' })
      if (types(node).includes('string') && (node.format === 'integer' || node.format === 'numeric'))
        findings.push({ where: place, what: 'numeric string' })
    })
    expect(report(findings)).toBe('')
  })

  test('every instant is format date-time and every day is format date', () => {
    const findings: Finding[] = []
    const exceptionsSeen = new Set<string>()
    walkAnswers((node, place, field) => {
      if (!field || isComposite(node)) return // a union's variants are visited one by one
      const kinds = types(node).filter((type) => type !== 'null')
      if (kinds.length === 0 && node.type === 'null') return // the null of a nullable field
      if (INSTANT_NAME.test(field)) {
        if (place in NOT_INSTANTS) {
          exceptionsSeen.add(place)
          return
        }
        if (kinds.join() !== 'string' || node.format !== 'date-time') findings.push({ where: place, what: 'an instant not typed string/date-time' })
      } else if (DAY_NAME.test(field) && (kinds.join() !== 'string' || node.format !== 'date')) {
        findings.push({ where: place, what: 'a day not typed string/date' })
      }
    })
    expect(report(findings)).toBe('')
    // The exceptions are still there (a renamed field must not leave a stale excuse behind).
    expect([...exceptionsSeen].sort()).toEqual(Object.keys(NOT_INSTANTS).sort())
  })

  test('every leaf has a type, except the documented free-form records', () => {
    const findings: Finding[] = []
    const freeFormSeen = new Set<string>()
    walkAnswers((node, place) => {
      if (isComposite(node) || node.properties || node.items || node.patternProperties || node.additionalProperties) {
        if (types(node).length === 0 && !isComposite(node)) findings.push({ where: place, what: 'a container without a type' })
        return
      }
      if (types(node).length > 0) return
      const record = place.endsWith('{}') ? place.slice(0, -2) : undefined
      if (record && record in FREE_FORM) freeFormSeen.add(record)
      else findings.push({ where: place, what: 'a leaf without a type (unknown in a client)' })
    })
    expect(report(findings)).toBe('')
    expect([...freeFormSeen].sort()).toEqual(Object.keys(FREE_FORM).sort())
  })
})

/**
 * Elysia checks an answer against its schema only when a handler returns a value. These routes
 * answer with a ready Response (the room views from memory, the timetable report from its worker),
 * so what they send is checked here against the schema they declare, formats included.
 */
describe('answers sent as ready bytes match their schemas', () => {
  function responseSchema(method: string, path: string, status: number) {
    const route = (t.app as any).getGlobalRoutes().find((r: any) => r.method === method && r.path === path)
    const schema = route?.hooks?.response?.[status]
    expect(schema, `${method} ${path} ${status}`).toBeDefined()
    return schema
  }
  const problems = (schema: unknown, body: unknown) =>
    [...Value.Errors(schema as any, body)].slice(0, 5).map((e) => `${e.path}: ${e.message} (${JSON.stringify(e.value)})`).join('\n')

  test('GET /api/rooms and /api/rooms/:id (the seeded rooms, one in use now)', async () => {
    const student = await loggedIn(t.app, 'student')
    const list = await student.get('/api/rooms')
    expect(list.status).toBe(200)
    expect(problems(responseSchema('GET', '/api/rooms', 200), list.body)).toBe('')
    for (const room of (list.body as any).rooms) {
      const detail = await student.get(`/api/rooms/${room.id}`)
      expect(detail.status).toBe(200)
      expect(problems(responseSchema('GET', '/api/rooms/:id', 200), detail.body)).toBe('')
    }
  })

  test('POST /api/admin/timetable/import (the documented example, dry run and written)', async () => {
    const admin = await loggedIn(t.app, 'admin')
    const csv = doc.paths['/api/admin/timetable/import'].post.requestBody.content['text/csv'].example
    for (const [query, status] of [['?dry_run=1', 200], ['?skip_conflicts=1', 201]] as const) {
      const reply = await admin.request('POST', `/api/admin/timetable/import${query}`, { body: csv, headers: { 'content-type': 'text/csv' }, csrf: true })
      expect(reply.status, reply.text.slice(0, 300)).toBe(status)
      expect((reply.body as any).rows.length).toBeGreaterThan(0)
      expect(problems(responseSchema('POST', '/api/admin/timetable/import', status), reply.body)).toBe('')
    }
  })
})
