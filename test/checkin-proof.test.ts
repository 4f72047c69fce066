/**
 * Issue 12, defect 7 (decision 013): check-in must prove presence. With a fixed clock:
 * - per room, check_in_proof (display | poster | none) in Room JSON and the admin routes (validated);
 * - a poster key checks in a `poster` room but not a `display` room;
 * - a display code checks in during its period, is accepted in the next one (grace) and refused
 *   after, as "expired"; a code of a replaced qr_version is invalid;
 * - the paired display's stream pushes a new code each period; the public room stream never does;
 *   the display link is admin only, and generate-qr retires it;
 * - `none` needs no key; book now without a key (the public code) is an ordinary booking, not
 *   checked in, and a key that proves nothing is refused;
 * - the scan page says what to scan when the proof is missing or stale, in English and Russian.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { desc, eq } from 'drizzle-orm'
import { changes, reservations } from '../src/db/schema'
import { ConfigError, loadConfig } from '../src/config'
import { fixedClock } from '../src/lib/clock'
import { createHmac } from 'node:crypto'
import { Client, loggedIn, TEST_ENV, testApp, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'
import { SseReader } from './helpers/sse'

setDefaultTimeout(30_000) // see test/setup.ts

const shifted = timeShifter('2030-05-06T08:00:00Z')
const clock = fixedClock(shifted('2030-05-06T08:00:00Z'))
const PERIOD_S = 30
let t: TestApp
let anon: Client
const ids: Record<string, number> = {}
const readers: SseReader[] = []

beforeAll(async () => {
  t = await testApp({ clock })
  anon = new Client(t.app)
  const admin = await loggedIn(t.app, 'admin')
  for (const [name, proof] of [['D1', 'display'], ['P1', 'poster'], ['N1', 'none']] as const) {
    const created = await admin.post('/api/admin/rooms', { name, check_in_proof: proof })
    expect(created.status).toBe(201)
    ids[name] = created.body.room.id
  }
})
afterAll(async () => {
  await Promise.all(readers.map((r) => r.close()))
  await t.close()
})

/** An instant on 2030-05-(6 + day) at HH:MM:SS (UTC). */
const on = (day: number, hhmmss: string) => new Date(shifted(`2030-05-${String(6 + day).padStart(2, '0')}T${hhmmss}Z`))
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')
// The derivations as decision 013 documents them, written out here (not imported), so that the
// tests pin the formula: an HMAC-SHA256 truncated to 72 bits (keys) or 128 bits (display token).
const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest()
const codeStep = (at: Date, periodS: number) => Math.floor(at.getTime() / (periodS * 1000))
const scanKey = (secret: string, roomId: number, version: number) => hmac(secret, `${roomId}:${version}`).subarray(0, 9).toString('base64url')
const displayCode = (secret: string, roomId: number, version: number, step: number) =>
  hmac(hmac(secret, 'qrbook display code v1'), `${roomId}:${version}:${step}`).subarray(0, 9).toString('base64url')
const displayToken = (secret: string, roomId: number, version: number) =>
  hmac(hmac(secret, 'qrbook display link v1'), `${roomId}:${version}`).subarray(0, 16).toString('base64url')

const posterKey = (room: string, version = 1) => scanKey(TEST_ENV.SECRET_KEY, ids[room]!, version)
/** The code the room's display shows at the clock's current time (or `periods` later or earlier). */
const displayKey = (room: string, periods = 0, version = 1) =>
  displayCode(TEST_ENV.SECRET_KEY, ids[room]!, version, codeStep(clock.now(), PERIOD_S) + periods)
const as = (name: string) => loggedIn(t.app, name)

async function book(name: string, room: string, start: Date, end: Date): Promise<number> {
  const r = await (await as(name)).post(`/api/rooms/${ids[room]}/reserve`, { start_time: iso(start), end_time: iso(end) })
  expect(r.status).toBe(201)
  return r.body.reservation.id
}

async function checkIn(name: string, id: number, k?: string) {
  return (await as(name)).post(`/api/reservations/${id}/check-in`, k === undefined ? {} : { k })
}

async function checkedInAt(id: number) {
  const [row] = await t.database.db.select().from(reservations).where(eq(reservations.id, id))
  return row!.checkedInAt
}

async function subscribe(path: string): Promise<SseReader> {
  const response = await t.app.handle(new Request(`http://localhost${path}`))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('text/event-stream')
  const reader = new SseReader(response)
  readers.push(reader)
  return reader
}

describe('DISPLAY_CODE_PERIOD_S', () => {
  test('30 s by default, configurable per deployment from 10 to 300 s', () => {
    expect(loadConfig(TEST_ENV).displayCodePeriodS).toBe(30)
    expect(loadConfig({ ...TEST_ENV, DISPLAY_CODE_PERIOD_S: '60' }).displayCodePeriodS).toBe(60)
    for (const bad of ['0', '9', '301', 'abc', '1.5'])
      expect(() => loadConfig({ ...TEST_ENV, DISPLAY_CODE_PERIOD_S: bad })).toThrow(ConfigError)
  })

  test('a 60 s period: codes change every minute and stay accepted for one more', async () => {
    const slow = await testApp({ clock, env: { DISPLAY_CODE_PERIOD_S: '60' } })
    try {
      const admin = await loggedIn(slow.app, 'admin')
      const room = (await admin.post('/api/admin/rooms', { name: 'D60', check_in_proof: 'display' })).body.room
      const student = await loggedIn(slow.app, 'student')
      const code = (periods: number) => displayCode(TEST_ENV.SECRET_KEY, room.id, 1, codeStep(clock.now(), 60) + periods)
      const scan = (k: string) => student.get(`/api/scan/${room.id}?k=${k}`).then((r) => r.body.key_status)
      expect(await scan(code(0))).toBe('valid')
      expect(await scan(code(-1))).toBe('valid')
      expect(await scan(code(-2))).toBe('stale')
      expect(await scan(displayCode(TEST_ENV.SECRET_KEY, room.id, 1, codeStep(clock.now(), 30)))).not.toBe('valid')
    } finally {
      await slow.close()
    }
  })
})

describe('the room policy check_in_proof', () => {
  test('in Room JSON (poster by default), set on create and PATCH, audited, validated with a 400 naming the field', async () => {
    const admin = await as('admin')
    const plain = await admin.post('/api/admin/rooms', { name: 'Plain' })
    expect(plain.body.room.check_in_proof).toBe('poster')
    expect((await anon.get(`/api/rooms/${ids.D1}`)).body.room.check_in_proof).toBe('display')
    expect((await anon.get('/api/rooms')).body.rooms.find((r: any) => r.id === ids.N1).check_in_proof).toBe('none')

    const patched = await admin.patch(`/api/admin/rooms/${plain.body.room.id}`, { check_in_proof: 'display' })
    expect(patched.status).toBe(200)
    expect(patched.body.room.check_in_proof).toBe('display')
    const [audit] = await t.database.db.select().from(changes).where(eq(changes.event, 'room.updated')).orderBy(desc(changes.position)).limit(1)
    expect(audit!.data).toMatchObject({ changes: { check_in_proof: { from: 'poster', to: 'display' } } })

    for (const bad of ['Display', 'qr', '', 1, null, true]) {
      const r = await admin.patch(`/api/admin/rooms/${plain.body.room.id}`, { check_in_proof: bad })
      expect({ bad, status: r.status, msg: r.body.msg }).toEqual({ bad, status: 400, msg: 'check_in_proof must be one of display, poster, none' })
    }
    const created = await admin.post('/api/admin/rooms', { name: 'Bad', check_in_proof: 'door' })
    expect(created.status).toBe(400)
    expect(created.body.msg).toBe('check_in_proof must be one of display, poster, none')
    expect((await (await as('teacher')).patch(`/api/admin/rooms/${ids.D1}`, { check_in_proof: 'none' })).status).toBe(403)
  })
})

describe('what each proof checks in', () => {
  test('a poster key checks in a poster room but not a display room', async () => {
    clock.set(on(1, '08:00:00'))
    const inPoster = await book('student', 'P1', on(1, '10:00:00'), on(1, '11:00:00'))
    const inDisplay = await book('student', 'D1', on(1, '10:00:00'), on(1, '11:00:00'))
    clock.set(on(1, '10:00:05'))
    const refused = await checkIn('student', inDisplay, posterKey('D1'))
    expect(refused.status).toBe(403)
    expect(refused.body.msg).toBe('this room checks in with the door display: scan the code on the display, not the printed poster')
    expect(await checkedInAt(inDisplay)).toBeNull()
    const ok = await checkIn('student', inPoster, posterKey('P1'))
    expect(ok.status).toBe(200)
    expect(ok.body.reservation.checked_in_at).toBe(iso(on(1, '10:00:05')))
    const [audit] = await t.database.db.select().from(changes).where(eq(changes.event, 'reservation.checked_in')).orderBy(desc(changes.position)).limit(1)
    expect(audit!.data).toMatchObject({ reservation_id: inPoster, proof: 'poster' })
  })

  test('a display code checks in now, is accepted in the next period (grace) and refused after', async () => {
    clock.set(on(2, '08:00:00'))
    const first = await book('student', 'D1', on(2, '10:00:00'), on(2, '11:00:00'))
    const second = await book('guest', 'D1', on(2, '11:00:00'), on(2, '12:00:00'))
    const third = await book('teacher', 'D1', on(2, '12:00:00'), on(2, '13:00:00'))

    // Shown at 10:00:05 (period 10:00:00-10:00:30).
    clock.set(on(2, '10:00:05'))
    const code = displayKey('D1')
    const now = await checkIn('student', first, code)
    expect(now.status).toBe(200)
    const [audit] = await t.database.db.select().from(changes).where(eq(changes.event, 'reservation.checked_in')).orderBy(desc(changes.position)).limit(1)
    expect(audit!.data).toMatchObject({ reservation_id: first, proof: 'display' })

    // Photographed at 10:50:05 and used in the next period (grace): accepted.
    clock.set(on(2, '10:50:05'))
    const photo = displayKey('D1')
    clock.set(on(2, '10:50:59'))
    expect(codeStep(clock.now(), PERIOD_S)).toBe(codeStep(on(2, '10:50:05'), PERIOD_S) + 1)
    expect((await checkIn('guest', second, photo)).status).toBe(200)

    // Photographed at 11:50:05, used at 11:51:00, two periods on: refused as expired.
    clock.set(on(2, '11:50:05'))
    const stale = displayKey('D1')
    clock.set(on(2, '11:51:00'))
    const refused = await checkIn('teacher', third, stale)
    expect(refused.status).toBe(403)
    expect(refused.body.msg).toBe('this code from the door display has expired: scan the code on the display again')
    const scan = await (await as('teacher')).get(`/api/scan/${ids.D1}?k=${stale}`)
    expect(scan.body).toMatchObject({ key_status: 'stale', key_kind: 'display', proof_ok: false, reason: 'key_stale' })
    // Ten minutes later it is still recognised as stale; a code from another room is invalid.
    clock.set(on(2, '12:00:00'))
    expect((await checkIn('teacher', third, stale)).body.msg).toBe('this code from the door display has expired: scan the code on the display again')
    const other = await checkIn('teacher', third, displayCode(TEST_ENV.SECRET_KEY, ids.P1!, 1, codeStep(clock.now(), PERIOD_S)))
    expect(other.status).toBe(403)
    expect(other.body.msg).toBe('this code is not valid for this room: scan the code on the door display')
    const missing = await checkIn('teacher', third)
    expect(missing.status).toBe(400)
    expect(missing.body.msg).toBe('k is required: scan the code on the door display')
    expect(await checkedInAt(third)).toBeNull()
    // The current code works.
    expect((await checkIn('teacher', third, displayKey('D1'))).status).toBe(200)
  })

  test('a display code also checks in a poster room; none needs no key at all', async () => {
    clock.set(on(3, '08:00:00'))
    const inPoster = await book('student', 'P1', on(3, '10:00:00'), on(3, '11:00:00'))
    const inNone = await book('student', 'N1', on(3, '10:00:00'), on(3, '11:00:00'))
    clock.set(on(3, '10:01:00'))
    expect((await checkIn('student', inPoster, displayKey('P1'))).status).toBe(200)
    const none = await checkIn('student', inNone)
    expect(none.status).toBe(200)
    expect(none.body.reservation.checked_in_at).toBe(iso(on(3, '10:01:00')))
    const scan = await (await as('student')).get(`/api/scan/${ids.N1}`)
    expect(scan.body).toMatchObject({ proof_ok: true, key_status: 'missing' })
  })

  test('generate-qr retires the display codes of the old version', async () => {
    clock.set(on(4, '08:00:00'))
    const admin = await as('admin')
    const room = await admin.post('/api/admin/rooms', { name: 'D2', check_in_proof: 'display' })
    ids.D2 = room.body.room.id
    const id = await book('student', 'D2', on(4, '10:00:00'), on(4, '11:00:00'))
    clock.set(on(4, '10:00:00'))
    const old = displayKey('D2', 0, 1)
    expect((await (await as('admin')).post(`/api/admin/rooms/${ids.D2}/generate-qr`)).status).toBe(200)
    const refused = await checkIn('student', id, old)
    expect(refused.status).toBe(403)
    expect(refused.body.msg).toBe('this code is not valid for this room: scan the code on the door display')
    expect((await checkIn('student', id, displayKey('D2', 0, 2))).status).toBe(200)
  })
})

describe('book now', () => {
  test('from the public code (no key): an ordinary booking from now, not checked in; with the proof: checked in', async () => {
    clock.set(on(5, '09:00:00'))
    const student = await as('student')
    const scan = await student.get(`/api/scan/${ids.D1}`)
    expect(scan.body).toMatchObject({ action: 'book_now', key_status: 'missing', proof_ok: false, reason: 'key_missing' })
    const plain = await student.post(`/api/scan/${ids.D1}/book`, { minutes: 30 })
    expect(plain.status).toBe(201)
    expect(plain.body.reservation).toMatchObject({ start_time: iso(on(5, '09:00:00')), end_time: iso(on(5, '09:30:00')), checked_in_at: null, check_in_required: true })
    const [audit] = await t.database.db.select().from(changes).where(eq(changes.event, 'reservation.created')).orderBy(desc(changes.position)).limit(1)
    expect(audit!.data).toMatchObject({ reservation_id: plain.body.reservation.id, walk_up: true, checked_in: false })

    clock.set(on(5, '09:30:00'))
    const poster = await (await as('guest')).post(`/api/scan/${ids.D1}/book`, { k: posterKey('D1'), minutes: 30 })
    expect(poster.status).toBe(403)
    expect(poster.body.msg).toBe('this room checks in with the door display: scan the code on the display, not the printed poster')
    const stale = await (await as('guest')).post(`/api/scan/${ids.D1}/book`, { k: displayKey('D1', -2), minutes: 30 })
    expect(stale.status).toBe(403)
    expect(stale.body.msg).toBe('this code from the door display has expired: scan the code on the display again')
    const withCode = await (await as('guest')).post(`/api/scan/${ids.D1}/book`, { k: displayKey('D1'), minutes: 30 })
    expect(withCode.status).toBe(201)
    expect(withCode.body.reservation.checked_in_at).toBe(iso(on(5, '09:30:00')))

    clock.set(on(5, '10:00:00'))
    const none = await (await as('teacher')).post(`/api/scan/${ids.N1}/book`, { minutes: 30 })
    expect(none.status).toBe(201)
    expect(none.body.reservation.checked_in_at).toBe(iso(on(5, '10:00:00')))
  })
})

describe('the door display', () => {
  test('the display link is for admins only; the paired page shows the rotating code, the unpaired one the public code', async () => {
    clock.set(on(6, '09:00:10'))
    const student = await as('student')
    expect((await student.get(`/api/admin/rooms/${ids.D1}/display-link`)).status).toBe(403)
    expect((await anon.get(`/api/admin/rooms/${ids.D1}/display-link`)).status).toBe(401)
    const admin = await as('admin')
    expect((await admin.get('/api/admin/rooms/999999/display-link')).status).toBe(404)
    const link = await admin.get(`/api/admin/rooms/${ids.D1}/display-link`)
    expect(link.status).toBe(200)
    const token = displayToken(TEST_ENV.SECRET_KEY, ids.D1!, 1)
    expect(link.body).toEqual({ display_url: `http://qrbook.test/display/${ids.D1}?t=${token}`, code_period_s: 30 })

    const paired = await anon.get(`/display/${ids.D1}?t=${token}`)
    expect(paired.status).toBe(200)
    expect(paired.headers.get('referrer-policy')).toBe('no-referrer')
    expect(paired.headers.get('content-security-policy')).toContain("img-src 'self' data:")
    expect(paired.text).toContain('<img id="code" src="data:image/svg+xml;base64,')
    expect(paired.text).toContain('New code every 30 s')
    const svg = Buffer.from(/src="data:image\/svg\+xml;base64,([^"]+)"/.exec(paired.text)![1]!, 'base64').toString()
    expect(svg).toContain('<svg')
    expect(paired.text).toContain(`"expiresInMs":${30_000 + 20_000}`)

    const unpaired = await anon.get(`/display/${ids.D1}`)
    expect(unpaired.status).toBe(200)
    expect(unpaired.text).not.toContain('data:image')
    expect(unpaired.text).toContain(`<img id="code" src="/static/qr/${ids.D1}.svg"`)
    const forged = await anon.get(`/display/${ids.D1}?t=${'A'.repeat(22)}`)
    expect(forged.status).toBe(403)
    expect(forged.text).not.toContain('data:image')
    expect(forged.text).toContain('This display link is not valid')
    const stream = await t.app.handle(new Request(`http://localhost/display/${ids.D1}/events?t=${'A'.repeat(22)}`))
    expect(stream.status).toBe(403)
    expect(((await stream.json()) as { msg: string }).msg).toStartWith('display link is not valid')
    // Another room's token does not pair this room.
    expect((await anon.get(`/display/${ids.P1}?t=${token}`)).status).toBe(403)
  })

  test("the display's stream pushes a new code each period; the public room stream never carries one", async () => {
    clock.set(on(7, '09:00:10'))
    const token = displayToken(TEST_ENV.SECRET_KEY, ids.D1!, 1)
    const display = await subscribe(`/display/${ids.D1}/events?t=${token}`)
    const open = await subscribe(`/api/rooms/${ids.D1}/events`)
    const first = await display.next((e) => e.event === 'code')
    expect(first.data).toMatchObject({
      url: `http://qrbook.test/r/${ids.D1}?k=${displayKey('D1')}`,
      period_s: 30,
      step: codeStep(clock.now(), PERIOD_S),
      next_at: iso(on(7, '09:00:30')),
      valid_until: iso(on(7, '09:01:00')),
      expires_in_ms: 50_000,
    })
    expect(first.data.image).toStartWith('data:image/svg+xml;base64,')
    const snapshot = await display.next((e) => e.event === 'snapshot')
    expect(snapshot.data.room).toMatchObject({ id: ids.D1, check_in_proof: 'display' })
    await open.next((e) => e.event === 'snapshot')

    for (const at of ['09:00:30', '09:01:00', '09:01:30']) {
      clock.set(on(7, at))
      const next = await display.next((e) => e.event === 'code', 3000)
      expect(next.data.step).toBe(codeStep(on(7, at), PERIOD_S))
      expect(next.data.url).toBe(`http://qrbook.test/r/${ids.D1}?k=${displayKey('D1')}`)
      // The pushed code checks in (its URL is what a phone opens).
      const scan = await (await as('student')).get(`/api/scan/${ids.D1}?k=${new URL(next.data.url).searchParams.get('k')}`)
      expect(scan.body).toMatchObject({ key_status: 'valid', key_kind: 'display', proof_ok: true })
    }
    // A booking still reaches the display as a room event.
    const booked = await book('guest', 'D1', on(7, '12:00:00'), on(7, '13:00:00'))
    const event = await display.next((e) => e.event === 'room', 3000)
    expect(event.data.upcoming.map((u: any) => u.id)).toContain(booked)
    // The public stream was open through all four codes above and kept what it got: none was a code.
    await expect(open.next((e) => e.event === 'code', 200)).rejects.toThrow()
  })

  test('generate-qr unpairs a display: its stream says so and ends, its old link is refused', async () => {
    clock.set(on(8, '09:00:10'))
    const admin = await as('admin')
    const room = await admin.post('/api/admin/rooms', { name: 'D3', check_in_proof: 'display' })
    const id = room.body.room.id
    const token = displayToken(TEST_ENV.SECRET_KEY, id, 1)
    const display = await subscribe(`/display/${id}/events?t=${token}`)
    await display.next((e) => e.event === 'code')
    expect((await admin.post(`/api/admin/rooms/${id}/generate-qr`)).status).toBe(200)
    clock.set(on(8, '09:00:30')) // the stream looks at its room once a period
    const unpaired = await display.next((e) => e.event === 'unpaired', 3000)
    expect(unpaired.data.msg).toContain('display link')
    const old = await anon.get(`/display/${id}?t=${token}`)
    expect(old.status).toBe(403)
    // A display coming back with the old link is told at once (its page reloads and says so).
    const again = await subscribe(`/display/${id}/events?t=${token}`)
    expect((await again.next()).event).toBe('unpaired')
    const fresh = (await admin.get(`/api/admin/rooms/${id}/display-link`)).body.display_url
    expect(fresh).toBe(`http://qrbook.test/display/${id}?t=${displayToken(TEST_ENV.SECRET_KEY, id, 2)}`)
    expect((await anon.get(new URL(fresh).pathname + new URL(fresh).search)).status).toBe(200)
  })
})

describe('the scan page says what to scan', () => {
  const html = (c: Client, room: string, k: string | undefined, lang = 'en') =>
    c.get(`/r/${ids[room]}${k ? `?k=${k}` : ''}`, { headers: { 'accept-language': lang } })

  test('missing and stale proof, for a booking waiting for its check-in, in English and Russian', async () => {
    clock.set(on(9, '08:00:00'))
    const id = await book('student', 'D1', on(9, '10:00:00'), on(9, '11:00:00'))
    await book('student', 'P1', on(9, '10:00:00'), on(9, '11:00:00'))
    clock.set(on(9, '10:02:00'))
    const student = await as('student')

    const missing = await html(student, 'D1', undefined)
    expect(missing.text).toContain('To check in, scan the code on the door display.')
    expect(missing.text).not.toContain(`action="${ids.D1}/check-in"`)
    expect((await html(student, 'D1', undefined, 'ru')).text).toContain('Чтобы отметиться, отсканируйте код на экране у двери аудитории.')
    expect((await html(student, 'P1', undefined)).text).toContain('To check in, scan the QR code on the poster on the room door.')
    expect((await html(student, 'P1', undefined, 'ru')).text).toContain('Чтобы отметиться, отсканируйте QR-код на табличке у двери аудитории.')

    const stale = displayKey('D1', -2)
    expect((await html(student, 'D1', stale)).text).toContain('This code from the door display has expired. Scan the code on the display again.')
    expect((await html(student, 'D1', stale, 'ru')).text).toContain('Код с экрана у двери устарел. Отсканируйте код на экране ещё раз.')
    expect((await html(student, 'D1', posterKey('D1'))).text).toContain('This room checks in with the door display. Scan the code on the display, not the printed poster.')
    // Logged out, the login form comes with the same notice.
    expect((await html(new Client(t.app), 'D1', stale)).text).toContain('This code from the door display has expired.')

    // With the current code the page offers the check-in; posted a period of grace later it works.
    const code = displayKey('D1')
    const page = await html(student, 'D1', code)
    expect(page.text).toContain(`action="${ids.D1}/check-in"`)
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.text)![1]!
    clock.set(on(9, '10:03:00')) // two periods on: expired between the page and the form post
    const late = await student.request('POST', `/r/${ids.D1}/check-in`, {
      body: new URLSearchParams({ k: code, reservation_id: String(id), csrf_token: csrf }), headers: { 'accept-language': 'ru' },
    })
    expect(late.status).toBe(403)
    expect(late.text).toContain('Код с экрана у двери устарел. Отсканируйте код на экране ещё раз.')
    const fresh = await html(student, 'D1', displayKey('D1'))
    const ok = await student.request('POST', `/r/${ids.D1}/check-in`, {
      body: new URLSearchParams({ k: displayKey('D1'), reservation_id: String(id), csrf_token: /name="csrf_token" value="([^"]+)"/.exec(fresh.text)![1]! }),
    })
    expect(ok.status).toBe(303)
    expect(await checkedInAt(id)).not.toBeNull()
  })

  test('book now from the public code says it will not be checked in, and what to scan', async () => {
    clock.set(on(10, '09:00:00'))
    const guest = await as('guest')
    const en = await html(guest, 'D1', undefined)
    expect(en.text).toContain('name="minutes"')
    expect(en.text).toContain('to be checked in at once, scan the code on the door display first.')
    const ru = await html(guest, 'P1', undefined, 'ru')
    expect(ru.text).toContain('чтобы отметиться сразу, сначала отсканируйте QR-код на табличке у двери аудитории.')
    expect((await html(guest, 'D1', displayKey('D1'))).text).toContain('You will be checked in at once.')
  })
})
