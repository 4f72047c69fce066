/**
 * The scan page /r/:id (root only): server-rendered HTML that works without JavaScript, ru/en by
 * Accept-Language, every value escaped, no-store; its forms: login (nonce double submit, shared
 * login rate limit), check-in, book now, check-out and logout, each carrying csrf_token, which is
 * checked against the session even with JWT_CSRF_CHECK_FORM=false (the API routes still refuse the
 * form field then). A refused form post renders the page again with the message.
 *
 * Decision 029: the public pages (this one and the door display) never name a student (a lesson
 * shows its title and teacher, the owner sees "your booking"); times are `<time>` elements in
 * APP_TIMEZONE, named once per page, or (APP_TIMEZONE unset, as in these tests) UTC rewritten to
 * the device's zone by an inline script allowed by its hash.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { reservations, rooms, sessions } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { scanKey } from '../src/core/bookings/checkin/keys'
import { Client, loggedIn, TEST_ENV, testApp, type Reply, type TestApp } from './helpers/app'
import { SseReader } from './helpers/sse'

setDefaultTimeout(30_000) // see test/setup.ts

const clock = fixedClock('2030-04-01T09:00:00Z')
let t: TestApp
const ids: Record<string, number> = {}

beforeAll(async () => {
  t = await testApp({ clock })
  for (const row of await t.database.db.select().from(rooms)) ids[row.name] = row.id
})
afterAll(() => t.close())

const key = (room: string, version = 1) => scanKey(TEST_ENV.SECRET_KEY, ids[room]!, version)
const page = (c: Client, room: string, k = key(room), headers: Record<string, string> = {}) =>
  c.get(`/r/${ids[room]}?k=${encodeURIComponent(k)}`, { headers })
const form = (c: Client, path: string, fields: Record<string, string>) =>
  c.request('POST', path, { body: new URLSearchParams(fields) })

/** What a person reads on a page (without JavaScript): the text without tags, styles and scripts. */
const plain = (html: string) => html.replace(/<(style|script)[^>]*>[\s\S]*?<\/\1>/g, '').replace(/<[^>]+>/g, '')

/** A `<time>` element as the pages write an instant (UTC without APP_TIMEZONE). */
const timeEl = (iso: string, text = iso.slice(11, 16)) => `<time datetime="${iso}">${text}</time>`

/** The value of a hidden field in a page. */
function hidden(html: string, name: string): string | undefined {
  return new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html)?.[1]
}

/** Logs in through the page's form, as a phone would. */
async function pageLogin(room: string, name: string): Promise<{ client: Client; reply: Reply }> {
  const client = new Client(t.app)
  const first = await page(client, room)
  const reply = await form(client, `/r/${ids[room]}/login`, { k: key(room), nonce: hidden(first.text, 'nonce')!, name, password: `${name}1234` })
  return { client, reply }
}

describe('GET /r/:id', () => {
  test('logged out: HTML login form, status, today, frontend link; no-store; root only', async () => {
    const anon = new Client(t.app)
    const r = await page(anon, 'B101')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(r.headers.get('cache-control')).toBe('no-store')
    expect(r.headers.get('content-language')).toBe('en')
    const csp = r.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*';/)
    expect(csp.split(';').find((d) => d.trim().startsWith('script-src'))).not.toContain('unsafe') // only the hashed script
    expect(r.headers.get('x-frame-options')).toBe('DENY')
    expect(r.text).toStartWith('<!doctype html>')
    // The only script is the inline one that shows the times in the device's zone; its hash is the CSP's.
    const scripts = [...r.text.matchAll(/<script>([\s\S]*?)<\/script>/g)]
    expect(scripts).toHaveLength(1)
    expect(r.text.match(/<script/g)).toHaveLength(1)
    const hash = new Bun.CryptoHasher('sha256').update(scripts[0]![1]!).digest('base64')
    expect(csp).toContain(`'sha256-${hash}'`)
    expect(r.text).toContain('<h1>B101</h1>')
    // Without APP_TIMEZONE: UTC in the HTML, said once, and the instant for the script.
    expect(r.text).toContain(`Occupied until ${timeEl('2030-04-01T10:30:00Z')}`)
    expect(plain(r.text)).toContain('Times: UTC')
    expect(plain(r.text).match(/UTC/g)).toHaveLength(1)
    expect(r.text).toContain(`<form method="post" action="${ids.B101}/login">`)
    expect(hidden(r.text, 'k')).toBe(key('B101'))
    const nonce = hidden(r.text, 'nonce')!
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(r.headers.getSetCookie().find((c) => c.startsWith('qrbook_login_nonce='))).toContain('HttpOnly')
    expect(anon.cookies.get('qrbook_login_nonce')).toBe(nonce)
    expect(r.text).toContain(`href="http://frontend.test/rooms/${ids.B101}"`)
    expect(r.text).toContain('teacher')
    expect(r.text).toContain('checked in')

    expect((await anon.get(`/api/r/${ids.B101}`)).status).toBe(404)
    const unknown = await anon.get('/r/99999')
    expect(unknown.status).toBe(404)
    expect(unknown.text).toContain('Room not found')
    expect((await anon.get('/r/abc')).status).toBe(404)
  })

  test('Russian or English by Accept-Language', async () => {
    const anon = new Client(t.app)
    const ru = await page(anon, 'B101', key('B101'), { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.8' })
    expect(ru.headers.get('content-language')).toBe('ru')
    expect(ru.text).toContain('<html lang="ru">')
    expect(ru.text).toContain(`Занята до ${timeEl('2030-04-01T10:30:00Z')}`)
    expect(plain(ru.text)).toContain('Время: UTC')
    expect(ru.text).toContain('Войти')
    const preferEnglish = await page(anon, 'B101', key('B101'), { 'accept-language': 'ru;q=0.5, en-GB;q=0.9' })
    expect(preferEnglish.headers.get('content-language')).toBe('en')
    const other = await page(anon, 'B101', key('B101'), { 'accept-language': 'de-DE' })
    expect(other.text).toContain('Log in')
  })

  test('every interpolated value is escaped', async () => {
    const admin = await loggedIn(t.app, 'admin')
    const created = await admin.post('/api/admin/rooms', { name: `<b>"X"</b>&'` })
    expect(created.status).toBe(201)
    ids.Evil = created.body.room.id
    const anon = new Client(t.app)
    const r = await page(anon, 'Evil', `"><script>alert(1)</script>`)
    expect(r.status).toBe(200)
    expect(r.text).not.toContain('<script>alert')
    expect(r.text).not.toContain('<b>"X"')
    expect(r.text).toContain('&lt;b&gt;&quot;X&quot;&lt;/b&gt;&amp;&#39;')
    expect(r.text).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"')
  })
})

describe('login form', () => {
  test('sets the session cookies and redirects back to the page (303)', async () => {
    const { client, reply } = await pageLogin('B101', 'teacher')
    expect(reply.status).toBe(303)
    expect(reply.headers.get('location')).toBe(`../${ids.B101}?k=${key('B101')}&done=logged_in`)
    expect([...client.cookies.keys()]).toEqual(expect.arrayContaining(['access_token_cookie', 'refresh_token_cookie', 'csrf_access_token', 'csrf_refresh_token']))
    const after = await client.get(`/r/${ids.B101}?k=${key('B101')}&done=logged_in`)
    expect(after.text).toContain('You are logged in.')
    expect(after.text).toContain('Logged in as teacher')
    expect(plain(after.text)).toContain('You are checked in (since 08:30).')
    expect(hidden(after.text, 'csrf_token')).toBe(client.cookies.get('csrf_access_token'))
    // The API sees the same session.
    expect((await client.get('/api/auth/me')).body).toMatchObject({ name: 'teacher' })
  })

  test('refused without the nonce cookie (another site) or with a wrong one: 403, no session', async () => {
    const anon = new Client(t.app)
    const noCookie = await form(anon, `/r/${ids.B101}/login`, { k: key('B101'), nonce: 'A'.repeat(22), name: 'teacher', password: 'teacher1234' })
    expect(noCookie.status).toBe(403)
    expect(noCookie.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(noCookie.text).toContain('login form expired: try again')
    expect(anon.cookies.has('access_token_cookie')).toBe(false)
    const fresh = hidden(noCookie.text, 'nonce')!
    expect(fresh).toBe(anon.cookies.get('qrbook_login_nonce')!)
    const wrong = await form(anon, `/r/${ids.B101}/login`, { nonce: 'B'.repeat(22), name: 'teacher', password: 'teacher1234' })
    expect(wrong.status).toBe(403)
    expect(anon.cookies.has('access_token_cookie')).toBe(false)
  })

  test('bad credentials re-render the form with the message (401); ru translated', async () => {
    const anon = new Client(t.app)
    const first = await page(anon, 'B101', key('B101'), { 'accept-language': 'ru' })
    const r = await anon.request('POST', `/r/${ids.B101}/login`, {
      body: new URLSearchParams({ k: key('B101'), nonce: hidden(first.text, 'nonce')!, name: 'teacher', password: 'wrong-password' }),
      headers: { 'accept-language': 'ru' },
    })
    expect(r.status).toBe(401)
    expect(r.text).toContain('Неверное имя пользователя или пароль.')
    expect(anon.cookies.has('access_token_cookie')).toBe(false)
  })

  test('shares the login rate limit with POST /auth/login', async () => {
    const limited = await testApp({ env: { RATELIMIT_ENABLED: 'true' } })
    try {
      const anon = new Client(limited.app)
      const first = await anon.get('/r/1')
      const nonce = hidden(first.text, 'nonce')!
      const statuses: number[] = []
      for (let i = 0; i < 4; i++) statuses.push((await anon.post('/api/auth/login', { name: 'guest', password: 'nope-nope' }, { csrf: false })).status)
      for (let i = 0; i < 3; i++)
        statuses.push((await form(anon, '/r/1/login', { nonce, name: 'guest', password: 'nope-nope' })).status)
      expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429])
    } finally {
      await limited.close()
    }
  })
})

describe('forms of the logged-in viewer (csrf_token, JWT_CSRF_CHECK_FORM=false)', () => {
  test('check in: 303 back, the page shows it; without or with a wrong csrf_token 401 and nothing changes', async () => {
    expect(t.config.jwtCsrfCheckForm).toBe(false)
    clock.set('2030-04-01T09:00:00Z')
    const student = await loggedIn(t.app, 'student')
    const booked = await student.post(`/api/rooms/${ids.B102}/reserve`, { start_time: '2030-04-01T09:30:00Z', end_time: '2030-04-01T10:30:00Z' })
    expect(booked.status).toBe(201)
    const id = booked.body.reservation.id
    clock.set('2030-04-01T09:25:00Z')
    const { client } = await pageLogin('B102', 'student')
    const view = await page(client, 'B102')
    expect(plain(view.text)).toContain('Your booking 09:30–10:30')
    expect(view.text).toContain(`Check in by ${timeEl('2030-04-01T09:45:00Z')}, or the booking is released.`)
    // ... and in today's list, their own booking is theirs
    expect(view.text).toContain('<li class="mine">')
    expect(plain(view.text)).toContain('09:30–10:30Your booking')
    expect(view.text).toContain(`<form method="post" action="${ids.B102}/check-in">`)
    const csrf = hidden(view.text, 'csrf_token')!
    expect(hidden(view.text, 'reservation_id')).toBe(String(id))

    const missing = await form(client, `/r/${ids.B102}/check-in`, { k: key('B102'), reservation_id: String(id) })
    expect(missing.status).toBe(401)
    expect(missing.text).toContain('Missing CSRF token')
    const wrong = await form(client, `/r/${ids.B102}/check-in`, { k: key('B102'), reservation_id: String(id), csrf_token: 'not-the-token' })
    expect(wrong.status).toBe(401)
    expect(wrong.text).toContain('CSRF double submit tokens do not match')
    // The API routes do not take the form field while JWT_CSRF_CHECK_FORM=false.
    const api = await client.request('POST', `/api/reservations/${id}/check-in`, { body: new URLSearchParams({ k: key('B102'), csrf_token: csrf }) })
    expect(api.status).toBe(401)
    expect(api.body.msg).toBe('Missing CSRF token')
    const [before] = await t.database.db.select().from(reservations).where(eq(reservations.id, id))
    expect(before!.checkedInAt).toBeNull()

    const badKey = await form(client, `/r/${ids.B102}/check-in`, { k: 'AAAAAAAAAAAA', reservation_id: String(id), csrf_token: csrf })
    expect(badKey.status).toBe(403)
    expect(badKey.text).toContain('this QR code is not valid for this room')

    const ok = await form(client, `/r/${ids.B102}/check-in`, { k: key('B102'), reservation_id: String(id), csrf_token: csrf })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe(`../${ids.B102}?k=${key('B102')}&done=checked_in`)
    const [after] = await t.database.db.select().from(reservations).where(eq(reservations.id, id))
    expect(after!.checkedInAt?.toISOString()).toBe('2030-04-01T09:25:00.000Z')
    const shown = await client.get(`/r/${ids.B102}?k=${key('B102')}&done=checked_in`)
    expect(shown.text).toContain('You are checked in.')
    expect(plain(shown.text)).toContain('You are checked in (since 09:25).')

    // Check out once it has begun: the room is free again.
    clock.set('2030-04-01T09:40:00Z')
    const relogged = await pageLogin('B102', 'student')
    const during = await page(relogged.client, 'B102')
    expect(during.text).toContain('Check out (end now)')
    const out = await form(relogged.client, `/r/${ids.B102}/check-out`, { k: key('B102'), reservation_id: String(id), csrf_token: hidden(during.text, 'csrf_token')! })
    expect(out.status).toBe(303)
    const [ended] = await t.database.db.select().from(reservations).where(eq(reservations.id, id))
    expect(ended).toMatchObject({ status: 'finished' })
    expect(ended!.endTime.toISOString()).toBe('2030-04-01T09:40:00.000Z')
  })

  test('book now for 30 minutes, then log out', async () => {
    clock.set('2030-04-01T12:00:00Z')
    const { client } = await pageLogin('B102', 'guest')
    const view = await page(client, 'B102', key('B102'), { 'accept-language': 'ru' })
    expect(view.text).toContain('Забронировать сейчас')
    expect(view.text).toContain(`<button type="submit" name="minutes" value="30">30 мин<small>до ${timeEl('2030-04-01T12:30:00Z')}</small></button>`)
    const csrf = hidden(view.text, 'csrf_token')!
    const booked = await form(client, `/r/${ids.B102}/book`, { k: key('B102'), minutes: '30', csrf_token: csrf })
    expect(booked.status).toBe(303)
    expect(booked.headers.get('location')).toBe(`../${ids.B102}?k=${key('B102')}&done=booked`)
    const mine = (await client.get('/api/reservations/mine')).body.reservations.find((r: any) => r.room_id === ids.B102)
    expect(mine).toMatchObject({ start_time: '2030-04-01T12:00:00Z', end_time: '2030-04-01T12:30:00Z', status: 'active', checked_in_at: '2030-04-01T12:00:00Z' })
    const after = await client.get(`/r/${ids.B102}?k=${key('B102')}&done=booked`)
    expect(after.text).toContain('Booked. You are checked in.')
    expect(plain(after.text)).toContain('Occupied until 12:30')

    const out = await form(client, `/r/${ids.B102}/logout`, { k: key('B102'), csrf_token: csrf })
    expect(out.status).toBe(303)
    expect(client.cookies.has('access_token_cookie')).toBe(false)
    const revoked = await t.database.db.select().from(sessions).where(eq(sessions.userId, 4))
    expect(revoked.some((s) => s.revokedAt !== null)).toBe(true)
    const back = await client.get(`/r/${ids.B102}?k=${key('B102')}&done=logged_out`)
    expect(back.text).toContain('You are logged out.')
    expect(back.text).toContain('/login">')
  })

  test('an outdated key: the page opens, with no check-in or booking and a notice', async () => {
    clock.set('2030-04-02T12:00:00Z')
    const admin = await loggedIn(t.app, 'admin')
    expect((await admin.post(`/api/admin/rooms/${ids.B102}/generate-qr`)).status).toBe(200)
    const { client } = await pageLogin('B102', 'guest')
    const view = await page(client, 'B102', key('B102', 1))
    expect(view.status).toBe(200)
    expect(view.text).toContain('This QR code has been replaced.')
    expect(view.text).not.toContain('name="minutes"')
    const refused = await form(client, `/r/${ids.B102}/book`, { k: key('B102', 1), minutes: '30', csrf_token: hidden(view.text, 'csrf_token')! })
    expect(refused.status).toBe(403)
    expect(refused.text).toContain('this QR code has been replaced')
    expect((await page(client, 'B102', key('B102', 2))).text).toContain('name="minutes"')
  })
})

describe('times in the room\'s zone, said once (decision 029)', () => {
  test("a Moscow college: every time on the page is Moscow's, the zone named once, no script", async () => {
    const moscow = await testApp({ clock, env: { APP_TIMEZONE: 'Europe/Moscow' } })
    try {
      const roomIds: Record<string, number> = {}
      for (const row of await moscow.database.db.select().from(rooms)) roomIds[row.name] = row.id
      const anon = new Client(moscow.app)
      const r = await anon.get(`/r/${roomIds.B101}?k=${encodeURIComponent(scanKey(TEST_ENV.SECRET_KEY, roomIds.B101!, 1))}`)
      expect(r.status).toBe(200)
      // The seeded B101 booking, in Moscow (UTC+3 all year).
      const [booking] = await moscow.database.db.select().from(reservations).where(eq(reservations.roomId, roomIds.B101!))
      const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z')
      const inMoscow = (d: Date) => new Date(d.getTime() + 3 * 3600_000).toISOString().slice(11, 16)
      expect(r.text).toContain(`Occupied until ${timeEl(iso(booking!.endTime), inMoscow(booking!.endTime))}`)
      expect(r.text).toContain(`<span class="time">${timeEl(iso(booking!.startTime), inMoscow(booking!.startTime))}–${timeEl(iso(booking!.endTime), inMoscow(booking!.endTime))}</span>`)
      const text = plain(r.text)
      expect(text).toContain('Times: Europe/Moscow (UTC+3)')
      // Named once, not beside every time; APP_TIMEZONE set: nothing to rewrite.
      expect(text.match(/UTC/g)).toHaveLength(1)
      expect(r.text).not.toContain('<script')
      // Russian too
      const ru = await anon.get(`/r/${roomIds.B101}`, { headers: { 'accept-language': 'ru' } })
      expect(plain(ru.text)).toContain('Время: Europe/Moscow (UTC+3)')
      expect(plain(ru.text)).toContain(`Занята до ${inMoscow(booking!.endTime)}`)
    } finally {
      await moscow.close()
    }
  })
})

describe('the public pages name no student (decision 029)', () => {
  // 09:00: B101 teacher 08:30-10:30 (checked in), B102 the seeded student 11:00-13:00 (seed.ts)
  const privClock = fixedClock('2030-04-01T09:00:00Z')
  let p: TestApp
  const room: Record<string, number> = {}
  const readers: SseReader[] = []
  const STUDENT = 'maria.ivanova'

  beforeAll(async () => {
    p = await testApp({ clock: privClock })
    for (const row of await p.database.db.select().from(rooms)) room[row.name] = row.id
    // A student with a name nobody could mistake for a word of the page.
    const signup = await new Client(p.app).post('/api/auth/signup', { name: STUDENT, password: 'Quiet-river-42-lamp' }, { csrf: false })
    expect(signup.status, signup.text).toBe(201)
    const maria = await loggedIn(p.app, STUDENT, 'Quiet-river-42-lamp')
    expect((await maria.post(`/api/rooms/${room.B102}/reserve`, { start_time: '2030-04-01T13:00:00Z', end_time: '2030-04-01T14:00:00Z' })).status).toBe(201)
    // A lesson: a series of the teacher's, with its title.
    const teacher = await loggedIn(p.app, 'teacher')
    const series = await teacher.post('/api/series', {
      room_id: room.B102, start_time: '2030-04-01T14:00:00Z', end_time: '2030-04-01T15:30:00Z', rrule: 'FREQ=DAILY;COUNT=2', title: 'Linear algebra',
    })
    expect(series.status, series.text).toBe(201)
  })
  afterAll(async () => {
    for (const reader of readers) await reader.close()
    await p.close()
  })

  async function subscribe(path: string): Promise<SseReader> {
    const response = await p.app.handle(new Request(`http://localhost${path}`))
    expect(response.status).toBe(200)
    const reader = new SseReader(response)
    readers.push(reader)
    return reader
  }

  test("anonymous scan page: the students' bookings are 'occupied', the lesson has its title and teacher", async () => {
    const anon = new Client(p.app)
    for (const lang of ['en', 'ru']) {
      const r = await anon.get(`/r/${room.B102}`, { headers: { 'accept-language': lang } })
      expect(r.status).toBe(200)
      expect(r.text).not.toContain(STUDENT)
      expect(r.text).not.toContain('student') // the seeded student's name
      const text = plain(r.text)
      expect(text).toContain(lang === 'ru' ? '11:00–13:00Занято' : '11:00–13:00Occupied')
      expect(text).toContain(lang === 'ru' ? '13:00–14:00Занято' : '13:00–14:00Occupied')
      expect(text).toContain('14:00–15:30Linear algebra · teacher')
    }
    // A teacher's booking keeps the teacher's name (staff are public).
    expect(plain((await anon.get(`/r/${room.B101}`)).text)).toContain('08:30–10:30teacher')
  })

  test('a logged-in student sees their own booking as theirs, and nobody else\'s name', async () => {
    const student = await loggedIn(p.app, 'student')
    const r = await student.get(`/r/${room.B102}`)
    expect(r.status).toBe(200)
    const text = plain(r.text)
    expect(text).toContain('11:00–13:00Your booking')
    expect(text).toContain('13:00–14:00Occupied')
    expect(r.text).not.toContain(STUDENT)
    // in Russian
    expect(plain((await student.get(`/r/${room.B102}`, { headers: { 'accept-language': 'ru' } })).text)).toContain('11:00–13:00Ваша бронь')
  })

  test('anonymous door display (paired or not): no student name, the lesson with its title and teacher', async () => {
    const anon = new Client(p.app)
    const admin = await loggedIn(p.app, 'admin')
    const link = new URL((await admin.get(`/api/admin/rooms/${room.B102}/display-link`)).body.display_url)
    for (const path of [`/display/${room.B102}`, `${link.pathname}${link.search}`]) {
      const r = await anon.get(path)
      expect(r.status).toBe(200)
      expect(r.text).not.toContain(STUDENT)
      expect(r.text).not.toContain('student')
      const text = plain(r.text)
      expect(text).toContain('Free until 11:00')
      expect(text).toContain('11:00–13:00Occupied') // next
      expect(text).toContain('14:00–15:30Linear algebra · teacher') // later today
    }
    // Russian first for a Russian display (Accept-Language, or ?lang=ru)
    for (const r of [await anon.get(`/display/${room.B102}`, { headers: { 'accept-language': 'ru-RU,ru;q=0.9' } }), await anon.get(`/display/${room.B102}?lang=ru`)]) {
      expect(r.headers.get('content-language')).toBe('ru')
      expect(r.text).toContain('<html lang="ru">')
      expect(r.text).toContain(`<p class="main">Свободна до ${timeEl('2030-04-01T11:00:00Z')}</p><p class="second">Free until ${timeEl('2030-04-01T11:00:00Z')}</p>`)
      expect(plain(r.text)).toContain('11:00–13:00Занято')
    }
    // While the teacher's lesson runs: occupied until its end, with its title and teacher.
    privClock.set('2030-04-01T14:10:00Z')
    try {
      const during = await anon.get(`/display/${room.B102}`)
      const text = plain(during.text)
      expect(text).toContain('Occupied until 15:30')
      expect(text).toContain('Now · Сейчас14:00–15:30Linear algebrateacher')
      expect(text).toContain('Next · Далее')
      expect(during.text).not.toContain('student')
    } finally {
      privClock.set('2030-04-01T09:00:00Z')
    }
  })

  test("the display's streams carry no student name; the public stream keeps the API's names (PUBLIC_USER_NAMES=full)", async () => {
    const display = await subscribe(`/display/${room.B102}/events`)
    const snapshot = await display.next((e) => e.event === 'snapshot')
    expect(snapshot.data.room).toMatchObject({ id: room.B102, status: 'available', next_reservation: { start_time: '2030-04-01T11:00:00Z' } })
    expect(snapshot.data.upcoming.map((b: any) => [b.start_time.slice(11, 16), b.lesson, b.title, b.name])).toEqual([
      ['11:00', false, null, null], ['13:00', false, null, null], ['14:00', true, 'Linear algebra', 'teacher'],
    ])
    expect(JSON.stringify(snapshot.data)).not.toContain('student')
    expect(JSON.stringify(snapshot.data)).not.toContain(STUDENT)
    // no codes on the unpaired display's stream
    await expect(display.next((e) => e.event === 'code', 300)).rejects.toThrow()

    const open = await subscribe(`/api/rooms/${room.B102}/events`)
    const state = (await open.next((e) => e.event === 'snapshot')).data
    expect(state.upcoming.map((b: any) => b.user_name)).toEqual(['student', STUDENT, 'teacher'])
    expect(Object.keys(state.upcoming[0]).sort()).toEqual(['end_time', 'id', 'start_time', 'user_name'])
    expect(state.room.next_reservation.user_name).toBe('student')
  })
})
