/**
 * The instants of requests (issue 30): documented as `type: string, format: date-time` (required
 * where a route requires them), decoded to Dates by the request schemas (src/lib/instant-input.ts),
 * with the contract's answers unchanged, `{"msg"}` alone: missing, null or blank is 400 `datetime
 * value is required`, anything unreadable 400 `Invalid datetime format. Use ISO 8601.`, a reversed
 * range 400 `Invalid time range: start must be before end` (the services' rule). What is accepted
 * is what always was: with an offset or Z, naive (read as UTC: the original's contract suite sends
 * such times), without seconds, a date alone. Every route with a time input, each case.
 * Clock fixed at 2030-01-15T01:00:00Z.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { FormatRegistry } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { eq } from 'drizzle-orm'
import { TimeRangeBody } from '../src/core/bookings/model'
import { bookingPolicies, reservations } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { readIsoInput } from '../src/lib/time'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

const NOW = new Date('2030-01-15T01:00:00Z')
const INVALID = 'Invalid datetime format. Use ISO 8601.'
const REQUIRED = 'datetime value is required'
const RANGE = 'Invalid time range: start must be before end'

let t: TestApp
let anon: Client, admin: Client, teacher: Client, student: Client
let rooms = 0
const userIds: Record<string, number> = {}

/** A fresh public room without check-in, so that no case meets another's bookings. */
async function room(): Promise<number> {
  const created = await admin.post('/api/admin/rooms', { name: `T${++rooms}`, requires_check_in: false })
  expect(created.status).toBe(201)
  return created.body.room.id
}

/** An hour-long slot on 2030-01-`day` from `hour` UTC, as "...Z" instants. */
let nextSlot = 0
function slot(): { start: string; end: string } {
  const n = nextSlot++
  const day = 16 + Math.floor(n / 20)
  const hour = n % 20
  const iso = (h: number) => `2030-01-${String(day).padStart(2, '0')}T${String(h).padStart(2, '0')}:00:00Z`
  return { start: iso(hour), end: iso(hour + 1) }
}
/** The same instant without its zone ("read as UTC"). */
const naive = (iso: string) => iso.replace(/Z$/, '')
/** The same instant as Tokyo's wall clock with its offset. */
const tokyo = (iso: string) => `${new Date(Date.parse(iso) + 9 * 3600_000).toISOString().slice(0, 19)}+09:00`

beforeAll(async () => {
  t = await testApp({ clock: fixedClock(NOW) })
  anon = new Client(t.app)
  ;[admin, teacher, student] = (await Promise.all(['admin', 'teacher', 'student'].map((n) => loggedIn(t.app, n)))) as [Client, Client, Client]
  const me = await student.get('/api/auth/me')
  userIds.student = me.body.user?.id ?? me.body.id
  // no fair-use limits: many bookings are made here
  await t.database.db.delete(bookingPolicies)
}, 120_000)
afterAll(() => t.close())

/** A route whose body carries the required pair start_time/end_time. */
interface PairRoute {
  name: string
  /** sends the body; `times` holds only the time fields */
  send(times: Record<string, unknown>): Promise<{ status: number; body: any }>
  /** the success status and the instants it answers or stored, for a good pair */
  ok: number
  instants(reply: { body: any }): Promise<[string, string]> | [string, string]
}

async function storedTimes(id: number): Promise<[string, string]> {
  const [row] = await t.database.db.select().from(reservations).where(eq(reservations.id, id))
  return [row!.startTime.toISOString().replace('.000Z', 'Z'), row!.endTime.toISOString().replace('.000Z', 'Z')]
}

const pairRoutes: [string, () => Promise<Omit<PairRoute, 'name'>>][] = [
  ['POST /rooms/:id/reserve', async () => {
    const id = await room()
    return {
      ok: 201,
      send: (times) => teacher.post(`/api/rooms/${id}/reserve`, times),
      instants: (r) => [r.body.reservation.start_time, r.body.reservation.end_time],
    }
  }],
  ['PATCH /reservations/:id', async () => {
    const id = await room()
    const s = slot()
    const made = await teacher.post(`/api/rooms/${id}/reserve`, { start_time: s.start, end_time: s.end })
    expect(made.status).toBe(201)
    return {
      ok: 200,
      send: (times) => teacher.patch(`/api/reservations/${made.body.reservation.id}`, times),
      instants: (r) => [r.body.reservation.start_time, r.body.reservation.end_time],
    }
  }],
  ['POST /admin/rooms/:id/reserve', async () => {
    const id = await room()
    return {
      ok: 201,
      send: (times) => admin.post(`/api/admin/rooms/${id}/reserve`, { user_id: userIds.student, ...times }),
      instants: (r) => storedTimes(r.body.reservation_id),
    }
  }],
  ['POST /rooms/:id/waitlist', async () => {
    const id = await room()
    return {
      ok: 201,
      // the slot must be taken to be waited for: the teacher holds it (a bad pair fails before that matters)
      send: async (times) => {
        const start = readIsoInput(times.start_time), end = readIsoInput(times.end_time)
        if (start instanceof Date && end instanceof Date && start < end)
          expect((await teacher.post(`/api/rooms/${id}/reserve`, { start_time: start.toISOString(), end_time: end.toISOString() })).status).toBe(201)
        return student.post(`/api/rooms/${id}/waitlist`, times)
      },
      instants: (r) => [r.body.entry.start_time, r.body.entry.end_time],
    }
  }],
  ['POST /series/precheck', async () => {
    const id = await room()
    return {
      ok: 200,
      send: (times) => teacher.post('/api/series/precheck', { room_id: id, rrule: 'FREQ=DAILY;COUNT=1', ...times }),
      instants: (r) => [r.body.occurrences[0].start_time, r.body.occurrences[0].end_time],
    }
  }],
  ['POST /series', async () => {
    const id = await room()
    return {
      ok: 201,
      send: (times) => teacher.post('/api/series', { room_id: id, rrule: 'FREQ=DAILY;COUNT=1', ...times }),
      instants: (r) => [r.body.series.start_time, r.body.series.end_time],
    }
  }],
  ['POST /admin/closures', async () => {
    const id = await room()
    return {
      ok: 201,
      send: (times) => admin.post('/api/admin/closures', { room_ids: [id], kind: 'maintenance', reason: 'repairs', ...times }),
      instants: (r) => [r.body.closure.start_time, r.body.closure.end_time],
    }
  }],
]

describe('the required pair start_time/end_time, on every route that takes it', () => {
  for (const [name, make] of pairRoutes) {
    test(`${name}: malformed, missing, null, blank: the contract messages, {msg} alone; naive and offset: accepted; reversed: the range rule`, async () => {
      const route = { name, ...(await make()) }
      const s = slot()
      const cases: [Record<string, unknown>, string][] = [
        [{ start_time: 'tomorrow', end_time: s.end }, INVALID],
        [{ start_time: s.start, end_time: '2030-02-30T10:00:00Z' }, INVALID],
        [{ start_time: 1234567890, end_time: s.end }, INVALID],
        [{ start_time: s.start, end_time: true }, INVALID],
        [{ start_time: `${s.start.slice(0, 10)} at 10`, end_time: s.end }, INVALID],
        [{ end_time: s.end }, REQUIRED],
        [{ start_time: s.start }, REQUIRED],
        [{}, REQUIRED],
        [{ start_time: null, end_time: s.end }, REQUIRED],
        [{ start_time: s.start, end_time: null }, REQUIRED],
        [{ start_time: '', end_time: s.end }, REQUIRED],
        [{ start_time: s.start, end_time: '   ' }, REQUIRED],
        // the start is read first, as the services did: a bad start with no end names the start's problem
        [{ start_time: 'soon' }, INVALID],
        [{ start_time: null, end_time: 'soon' }, REQUIRED],
        [{ start_time: s.end, end_time: s.start }, RANGE],
        [{ start_time: s.start, end_time: s.start }, RANGE],
      ]
      for (const [times, msg] of cases) {
        const r = await route.send(times)
        expect({ route: route.name, times, status: r.status, body: r.body }).toEqual({ route: route.name, times, status: 400, body: { msg } })
      }
      for (const write of [naive, tokyo, (iso: string) => iso.replace(':00Z', 'Z')]) {
        const good = slot()
        const r = await route.send({ start_time: write(good.start), end_time: write(good.end) })
        expect({ route: route.name, status: r.status }).toEqual({ route: route.name, status: route.ok })
        expect(await route.instants(r)).toEqual([good.start, good.end])
      }
    })
  }

  test('unauthenticated with a good body: 401, as before', async () => {
    const s = slot()
    expect((await anon.post('/api/rooms/1/reserve', { start_time: s.start, end_time: s.end })).status).toBe(401)
  })

  test('an unknown reservation with a good body: 404, as before', async () => {
    const s = slot()
    const r = await teacher.patch('/api/reservations/999999', { start_time: s.start, end_time: s.end })
    expect({ status: r.status, body: r.body }).toEqual({ status: 404, body: { msg: 'reservation not found' } })
  })

  test('answers in Russian with Accept-Language: ru, as the services\' did', async () => {
    const r = await teacher.request('POST', '/api/rooms/1/reserve', { json: { start_time: 'soon', end_time: null }, csrf: true, headers: { 'accept-language': 'ru' } })
    expect({ status: r.status, body: r.body }).toEqual({ status: 400, body: { msg: 'Неверный формат даты и времени. Используйте ISO 8601.' } })
  })
})

describe('optional instants', () => {
  test('PATCH /admin/reservations/:id: both or neither; one alone is the pair rule first, whatever its value', async () => {
    const id = await room()
    const s = slot()
    const made = await teacher.post(`/api/rooms/${id}/reserve`, { start_time: s.start, end_time: s.end })
    const path = `/api/admin/reservations/${made.body.reservation.id}`
    const cases: [Record<string, unknown>, string][] = [
      [{ start_time: s.start }, 'start_time and end_time must be sent together'],
      [{ start_time: 'soon' }, 'start_time and end_time must be sent together'],
      [{ end_time: null }, 'start_time and end_time must be sent together'],
      [{ start_time: 'soon', end_time: s.end }, INVALID],
      [{ start_time: s.start, end_time: null }, REQUIRED],
      [{ start_time: '', end_time: '' }, REQUIRED],
      [{ start_time: s.end, end_time: s.start }, RANGE],
    ]
    for (const [body, msg] of cases) {
      const r = await admin.patch(path, body)
      expect({ body, status: r.status, reply: r.body }).toEqual({ body, status: 400, reply: { msg } })
    }
    const to = slot()
    const moved = await admin.patch(path, { start_time: naive(to.start), end_time: tokyo(to.end) })
    expect(moved.status).toBe(200)
    expect([moved.body.reservation.start_time, moved.body.reservation.end_time]).toEqual([to.start, to.end])
    expect((await admin.patch(path, { status: 'cancelled' })).status).toBe(200) // no times: fine
  })

  test('PATCH /admin/closures/:id: each instant alone; null or blank is required, bad is invalid, reversed is the range', async () => {
    const id = await room()
    const created = await admin.post('/api/admin/closures', { room_ids: [id], kind: 'other', reason: 'x', start_time: '2030-03-01T00:00:00Z', end_time: '2030-03-02T00:00:00Z' })
    expect(created.status).toBe(201)
    const path = `/api/admin/closures/${created.body.closure.id}`
    for (const [body, msg] of [
      [{ start_time: 'soon' }, INVALID], [{ end_time: 5 }, INVALID], [{ start_time: null }, REQUIRED], [{ end_time: ' ' }, REQUIRED],
      [{ start_time: '2030-03-03T00:00:00Z' }, RANGE], [{ start_time: '1899-12-31T00:00:00Z' }, INVALID],
    ] as [Record<string, unknown>, string][]) {
      const r = await admin.patch(path, body)
      expect({ body, status: r.status, reply: r.body }).toEqual({ body, status: 400, reply: { msg } })
    }
    // a bad value is 400 whether or not the closure exists (checked before it is looked up)
    expect((await admin.patch('/api/admin/closures/999999', { start_time: 'soon' })).body).toEqual({ msg: INVALID })
    const r = await admin.patch(path, { start_time: '2030-03-01T09:00:00+09:00', end_time: '2030-03-02' })
    expect(r.status).toBe(200)
    expect([r.body.closure.start_time, r.body.closure.end_time]).toEqual(['2030-03-01T00:00:00Z', '2030-03-02T00:00:00Z'])
  })

  test('PATCH /series/:id until and DELETE /series/:id?from=', async () => {
    const id = await room()
    const made = await teacher.post('/api/series', { room_id: id, rrule: 'FREQ=DAILY;COUNT=5', start_time: '2030-01-20T10:00:00Z', end_time: '2030-01-20T11:00:00Z' })
    expect(made.status).toBe(201)
    const path = `/api/series/${made.body.series.id}`
    for (const [until, msg] of [['soon', INVALID], [null, REQUIRED], ['', REQUIRED], [42, INVALID]] as [unknown, string][]) {
      const r = await teacher.patch(path, { until })
      expect({ until, status: r.status, reply: r.body }).toEqual({ until, status: 400, reply: { msg } })
    }
    const shortened = await teacher.patch(path, { until: '2030-01-22T23:59:59' })
    expect(shortened.status).toBe(200)
    expect(shortened.body.series.until).toBe('2030-01-22T23:59:59Z')
    expect(shortened.body.cancelled).toHaveLength(2)
    for (const [from, msg] of [['soon', INVALID], ['', REQUIRED], ['2030-13-01', INVALID]]) {
      const r = await teacher.request('DELETE', `${path}?from=${encodeURIComponent(from!)}`, { csrf: true })
      expect({ from, status: r.status, reply: r.body }).toEqual({ from, status: 400, reply: { msg } })
    }
    const cancelled = await teacher.request('DELETE', `${path}?from=${encodeURIComponent('2030-01-22T19:00:00+09:00')}`, { csrf: true })
    expect(cancelled.status).toBe(200)
    expect(cancelled.body.cancelled).toHaveLength(1) // the 22nd's (10:00 UTC); the 20th and 21st stay
  })

  test('GET /closures?from=&to=', async () => {
    for (const [query, msg] of [['from=soon', INVALID], ['to=2030-02-30', INVALID], ['from=', REQUIRED], ['to=%20', REQUIRED]]) {
      const r = await anon.get(`/api/closures?${query}`)
      expect({ query, status: r.status, reply: r.body }).toEqual({ query, status: 400, reply: { msg } })
    }
    expect((await anon.get('/api/closures?from=2030-03-01&to=2030-03-01T12:00')).status).toBe(200)
  })

  test('GET /admin/reservations time filters: empty is no filter; a bad one names its parameter', async () => {
    for (const name of ['start_from', 'start_to', 'end_from', 'end_to']) {
      const r = await admin.get(`/api/admin/reservations?${name}=yesterday`)
      expect({ status: r.status, body: r.body }).toEqual({ status: 400, body: { msg: `${name}: ${INVALID}` } })
      expect((await admin.get(`/api/admin/reservations?${name}=`)).status).toBe(200)
      expect((await admin.get(`/api/admin/reservations?${name}=2030-01-16T10:00`)).status).toBe(200)
    }
    // the first bad one in their order, as the service read them
    expect((await admin.get('/api/admin/reservations?end_to=x&start_to=y')).body).toEqual({ msg: `start_to: ${INVALID}` })
  })
})

describe('the schema accepts exactly what the one reader accepts', () => {
  const values: unknown[] = [
    '2030-01-15T17:00:00+09:00', '2030-01-15T08:00:00-0530', '2030-01-15T08:00:00', '2030-01-15T08:00', '2030-01-15 08:00:00Z',
    '2030-01-15T08:00:00.123456Z', '2030-01-15t08:00:00z', '2030-01-15', ' 2030-01-15T08:00:00Z ', '2030-01-15T08:00:00,5Z', '2030-01-15T08:00:00+09',
    '0099-01-01T00:00:00Z', '2028-02-29T00:00:00Z',
    'tomorrow', '2030-13-01T00:00:00Z', '2030-02-30T10:00:00Z', '2029-02-29T00:00:00Z', '2030-01-15T24:00:00Z', '2030-01-15T10:00:00+25:00',
    '15/01/2030 10:00', 'Tue Jan 15 2030 10:00:00 GMT+0000', '10000-01-01T00:00:00Z', '+002030-01-15T00:00:00Z', '', '  ', 12345, true, null, {}, [],
  ]
  test('each value: the body schema checks it as readIsoInput reads it, and decodes it to that instant', () => {
    for (const value of values) {
      const read = readIsoInput(value)
      const body = { start_time: value, end_time: '2100-01-01T00:00:00Z' }
      expect({ value, accepted: Value.Check(TimeRangeBody, body) }).toEqual({ value, accepted: read instanceof Date })
      if (read instanceof Date) expect(Value.Decode(TimeRangeBody, body).start_time).toEqual(read)
    }
  })

  test("the format date-time of answers stays Elysia's: a naive instant does not pass an answer's check", () => {
    const check = FormatRegistry.Get('date-time')!
    expect(check('2030-01-15T08:00:00Z')).toBe(true)
    expect(check('2030-01-15T08:00:00.250Z')).toBe(true)
    expect(check('2030-01-15T08:00:00')).toBe(false)
  })
})

describe('the document: request instants are string/date-time, required where the route requires them', () => {
  let doc: any
  beforeAll(async () => {
    const res = await t.app.handle(new Request('http://localhost/swagger/json'))
    expect(res.status).toBe(200)
    doc = await res.json()
  })
  const resolve = (node: any): any => (node?.$ref ? resolve(node.$ref.replace('#/', '').split('/').reduce((n: any, k: string) => n?.[k], doc)) : node)
  const bodyOf = (method: string, path: string) => resolve(doc.paths[path][method].requestBody.content['application/json'].schema)
  const paramOf = (method: string, path: string, name: string) => doc.paths[path][method].parameters.find((p: any) => p.name === name)
  const instant = (node: any) => ({ type: node?.type, format: node?.format })
  const DATE_TIME = { type: 'string', format: 'date-time' }

  const bodies: [string, string, string[], boolean][] = [
    ['post', '/api/rooms/{id}/reserve', ['start_time', 'end_time'], true],
    ['patch', '/api/reservations/{id}', ['start_time', 'end_time'], true],
    ['post', '/api/rooms/{id}/waitlist', ['start_time', 'end_time'], true],
    ['post', '/api/admin/rooms/{id}/reserve', ['start_time', 'end_time'], true],
    ['post', '/api/series/precheck', ['start_time', 'end_time'], true],
    ['post', '/api/series', ['start_time', 'end_time'], true],
    ['post', '/api/admin/closures', ['start_time', 'end_time'], true],
    ['patch', '/api/admin/reservations/{id}', ['start_time', 'end_time'], false],
    ['patch', '/api/admin/closures/{id}', ['start_time', 'end_time'], false],
    ['patch', '/api/series/{id}', ['until'], false],
  ]
  test('bodies', () => {
    for (const [method, path, fields, required] of bodies) {
      const body = bodyOf(method, path)
      for (const field of fields) {
        expect({ path, field, ...instant(body.properties[field]) }).toEqual({ path, field, ...DATE_TIME })
        expect({ path, field, required: (body.required ?? []).includes(field) }).toEqual({ path, field, required })
      }
    }
  })

  test('queries', () => {
    for (const [path, names] of [
      ['/api/closures', ['from', 'to']], ['/api/admin/reservations', ['start_from', 'start_to', 'end_from', 'end_to']],
    ] as [string, string[]][]) {
      for (const name of names) {
        const param = paramOf('get', path, name)
        expect({ path, name, ...instant(param.schema), required: param.required }).toEqual({ path, name, ...DATE_TIME, required: false })
      }
    }
    const from = paramOf('delete', '/api/series/{id}', 'from')
    expect({ ...instant(from.schema), required: from.required }).toEqual({ ...DATE_TIME, required: false })
  })

  test('no request property is left untyped (the console\'s file uploads are not in the document)', () => {
    const untyped: string[] = []
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        const schema = resolve(op.requestBody?.content?.['application/json']?.schema)
        for (const [name, node] of Object.entries<any>(schema?.properties ?? {}))
          if (!node.type && !node.anyOf && !node.oneOf && !node.enum && !node.const && !node.$ref) untyped.push(`${method} ${path} ${name}`)
        for (const param of op.parameters ?? [])
          if (!param.schema?.type && !param.schema?.anyOf && !param.schema?.enum) untyped.push(`${method} ${path} ?${param.name}`)
      }
    }
    expect(untyped).toEqual([])
  })

  test('minutes fields say what they accept', () => {
    const bookNow = bodyOf('post', '/api/scan/{id}/book')
    expect(bookNow.required).toContain('minutes')
    expect(bookNow.properties.minutes.anyOf.map((v: any) => v.const ?? v.type)).toEqual([30, 60, 90, 'string'])
    for (const [method, path] of [['post', '/api/admin/rooms'], ['patch', '/api/admin/rooms/{id}'], ['post', '/api/rooms']]) {
      const body = bodyOf(method!, path!)
      expect(body.properties.check_in_opens_min.anyOf).toEqual([{ type: 'integer', minimum: 0, maximum: 1440 }, { type: 'string', pattern: '^\\s*\\d+\\s*$' }])
      expect(body.properties.auto_release_after_min.anyOf).toEqual([{ type: 'integer', minimum: 1, maximum: 1440 }, { type: 'string', pattern: '^\\s*\\d+\\s*$' }])
    }
  })
})

describe('minutes: the messages stay, {msg} alone', () => {
  test('book now: 30, 60, 90 or a string of one; anything else is the one message', async () => {
    const id = await room()
    for (const minutes of [undefined, null, 45, '45', true, -30, 30.5, {}, [30]]) {
      const r = await student.post(`/api/scan/${id}/book`, minutes === undefined ? {} : { minutes })
      expect({ minutes, status: r.status, body: r.body }).toEqual({ minutes, status: 400, body: { msg: 'minutes must be one of 30, 60, 90' } })
    }
  })

  test('check_in_opens_min and auto_release_after_min: integers or strings of digits', async () => {
    const id = await room()
    for (const [field, min] of [['check_in_opens_min', 0], ['auto_release_after_min', 1]] as const) {
      for (const value of [null, -1, 1.5, 1441, 'ten', '1441', '-1', [10], true]) {
        const r = await admin.patch(`/api/admin/rooms/${id}`, { [field]: value })
        expect({ field, value, status: r.status, body: r.body })
          .toEqual({ field, value, status: 400, body: { msg: `${field} must be a whole number of minutes from ${min} to 1440` } })
      }
      for (const [value, stored] of [[20, 20], ['25', 25], [' 30 ', 30]] as const) {
        const r = await admin.patch(`/api/admin/rooms/${id}`, { [field]: value })
        expect({ field, value, status: r.status, stored: r.body.room?.[field] }).toEqual({ field, value, status: 200, stored })
      }
    }
  })
})
