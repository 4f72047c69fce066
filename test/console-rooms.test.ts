/**
 * /console/rooms (issue 27), in-process: find rooms, create one with its settings, edit every
 * setting, block and unblock (one room and a selection), a new QR code, the door display link
 * (pair, open, unpair), and the posters of a selection as the API's PDF; names are shown as text;
 * a form post without the session's CSRF value changes nothing. Each write is checked in the
 * database. On both databases (TEST_DATABASE_URL for PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq, inArray } from 'drizzle-orm'
import { PDFDocument } from 'pdf-lib'
import { changes, rooms } from '../src/db/schema'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
let admin: Client

beforeAll(async () => {
  t = await testApp({ env: { APP_TIMEZONE: 'Europe/Moscow' } })
  admin = await loggedIn(t.app, 'admin')
}, 120_000)
afterAll(async () => { await t?.close() })

async function roomNamed(name: string) {
  const [room] = await t.database.db.select().from(rooms).where(eq(rooms.name, name))
  return room
}

async function notice(client: Client, path: string): Promise<string | undefined> {
  const page = await client.get(path)
  return /<p class="flash \w+" role="\w+">([^<]*)<\/p>/.exec(page.text)?.[1]
}

const SETTINGS = {
  name: 'C301', type: 'admin', booking_start: '08:30', booking_end: '19:00', requires_check_in: '1', series_require_check_in: '1',
  check_in_opens_min: '5', auto_release_after_min: '20', check_in_proof: 'display',
}

describe('finding rooms', () => {
  test('lists rooms with type, status, hours and check-in; filters by name, type and block', async () => {
    const page = await admin.get('/console/rooms')
    expect(page.status).toBe(200)
    expect(page.text).toContain('<h1>Rooms</h1>')
    expect(page.text).toContain('>B101</a>')
    expect(page.text).toContain('name="ids"')
    expect((await admin.get('/console/rooms?q=B10')).text).toContain('>B101</a>')
    expect((await admin.get('/console/rooms?q=zzz')).text).not.toContain('>B101</a>')
    expect((await admin.get('/console/rooms?blocked=yes')).text).not.toContain('>B101</a>')
    expect((await admin.get('/console/rooms', { headers: { 'accept-language': 'ru' } })).text).toContain('<h1>Аудитории</h1>')
    expect((await (await loggedIn(t.app, 'teacher')).get('/console/rooms')).status).toBe(403)
    expect((await admin.get('/console/rooms/999999')).status).toBe(404)
  })
})

describe('writes', () => {
  test('create a room with its settings', async () => {
    const res = await admin.form('/console/rooms/create', SETTINGS)
    expect(res.status).toBe(303)
    const room = await roomNamed('C301')
    expect(room).toMatchObject({
      type: 'admin', bookingStart: '08:30:00', bookingEnd: '19:00:00', requiresCheckIn: true, seriesRequireCheckIn: true,
      checkInOpensMin: 5, autoReleaseAfterMin: 20, checkInProof: 'display', isBlocked: false,
    })
    expect(res.headers.get('location')).toBe(`/console/rooms/${room!.id}`)
    const page = await admin.get(`/console/rooms/${room!.id}`)
    expect(page.text).toContain('Room C301 created.')
    expect(page.text).toContain('value="08:30"')
    expect(page.text).toContain('<option value="display" selected>')
    // a taken name and a bad value are refused with the API's message; nothing is created
    await admin.form('/console/rooms/create', SETTINGS)
    expect(await notice(admin, '/console/rooms')).toBe('room already exists')
    await admin.form('/console/rooms/create', { ...SETTINGS, name: 'C302', auto_release_after_min: '0' })
    expect(await notice(admin, '/console/rooms')).toBe('auto_release_after_min must be a whole number of minutes from 1 to 1440')
    await admin.form('/console/rooms/create', { ...SETTINGS, name: 'C302', booking_start: '25:00' })
    expect(await notice(admin, '/console/rooms')).toContain('booking_start must be a time of day')
    expect(await roomNamed('C302')).toBeUndefined()
  })

  test('edit every setting; an unticked box turns it off, empty hours mean no limit', async () => {
    const room = await roomNamed('C301')
    const res = await admin.form(`/console/rooms/${room!.id}/update`, {
      name: 'C301a', type: 'public', booking_start: '', booking_end: '', check_in_opens_min: '15', auto_release_after_min: '30', check_in_proof: 'none', is_blocked: '1',
    })
    expect(res.status).toBe(303)
    expect(await t.database.db.select().from(rooms).where(eq(rooms.id, room!.id))).toEqual([expect.objectContaining({
      name: 'C301a', type: 'public', bookingStart: null, bookingEnd: null, requiresCheckIn: false, seriesRequireCheckIn: false,
      checkInOpensMin: 15, autoReleaseAfterMin: 30, checkInProof: 'none', isBlocked: true,
    })])
    const [change] = await t.database.db.select().from(changes).where(eq(changes.event, 'room.updated'))
    expect(change!.description).toContain('updated room C301a')
    expect(await notice(admin, `/console/rooms/${room!.id}`)).toBe('Room C301a saved.')
    // the same form, Russian refusal of a bad proof: nothing changes
    await admin.form(`/console/rooms/${room!.id}/update`, { name: 'C301a', check_in_proof: 'telepathy' }, { headers: { 'accept-language': 'ru' } })
    expect((await roomNamed('C301a'))!.checkInProof).toBe('none')
  })

  test('block and unblock one room, and a selection', async () => {
    const room = await roomNamed('C301a')
    await admin.form(`/console/rooms/${room!.id}/block`, { is_blocked: '0' })
    expect((await roomNamed('C301a'))!.isBlocked).toBe(false)
    expect(await notice(admin, `/console/rooms/${room!.id}`)).toBe('Room C301a unblocked.')
    await admin.form(`/console/rooms/${room!.id}/block`, { is_blocked: '1' })
    expect((await roomNamed('C301a'))!.isBlocked).toBe(true)
    const [b101, b102] = [await roomNamed('B101'), await roomNamed('B102')]
    const res = await admin.form('/console/rooms/block', { ids: [String(b101!.id), String(b102!.id)], is_blocked: '1' })
    expect(res.headers.get('location')).toBe('/console/rooms')
    expect(await notice(admin, '/console/rooms')).toBe('Rooms changed: 2.')
    expect((await t.database.db.select({ blocked: rooms.isBlocked }).from(rooms).where(inArray(rooms.id, [b101!.id, b102!.id]))).map((r) => r.blocked)).toEqual([true, true])
    expect((await admin.get('/console/rooms?blocked=yes')).text).toContain('>B101</a>')
    await admin.form('/console/rooms/block', { ids: [String(b101!.id), String(b102!.id)], is_blocked: '0' })
    expect((await roomNamed('B101'))!.isBlocked).toBe(false)
    // nothing selected, or not an id: said, not a 500
    await admin.form('/console/rooms/block', { is_blocked: '1' })
    expect(await notice(admin, '/console/rooms')).toBe('Select at least one room.')
    await admin.form('/console/rooms/block', { ids: 'x1', is_blocked: '1' })
    expect(await notice(admin, '/console/rooms')).toBe('Not a room id: x1')
  })

  test('a new QR code adds one to the room\'s version and retires the display link (unpair)', async () => {
    const room = await roomNamed('B101')
    const page = await admin.get(`/console/rooms/${room!.id}`)
    const path = /href="(\/display\/\d+\?t=[^"]+)"/.exec(page.text)![1]!
    expect(page.text).toContain(`value="http://qrbook.test/display/${room!.id}?t=`)
    // the link the API gives for this room is the one the console shows
    const api = await admin.get(`/api/admin/rooms/${room!.id}/display-link`)
    expect(api.body.display_url).toBe(`http://qrbook.test${path}`)
    const visitor = new Client(t.app)
    expect((await visitor.get(path)).status).toBe(200)
    await admin.form(`/console/rooms/${room!.id}/unpair`, {})
    expect((await roomNamed('B101'))!.qrVersion).toBe(room!.qrVersion + 1)
    expect((await visitor.get(path)).status).toBe(403)
    await admin.form(`/console/rooms/${room!.id}/qr`, {})
    expect((await roomNamed('B101'))!.qrVersion).toBe(room!.qrVersion + 2)
    expect(await notice(admin, `/console/rooms/${room!.id}`)).toBe(`New QR code for B101 (version ${room!.qrVersion + 2}): print its poster again.`)
    expect(await t.database.db.select().from(changes).where(eq(changes.event, 'room.qr_regenerated'))).toHaveLength(2)
  })

  test('posters of three rooms: one PDF of three pages, as the API makes it', async () => {
    const picked = await t.database.db.select().from(rooms).where(inArray(rooms.name, ['B101', 'B102', 'C301a']))
    expect(picked).toHaveLength(3)
    const ids = picked.map((r) => String(r.id))
    const res = await postForm('/console/rooms/posters', ids)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/pdf')
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="qrbook-posters.pdf"')
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe('%PDF-')
    const pdf = await PDFDocument.load(bytes)
    expect(pdf.getPageCount()).toBe(3)
    const api = await PDFDocument.load(new Uint8Array(await (await t.app.handle(new Request(`http://localhost/api/admin/rooms/posters.pdf?ids=${ids.join(',')}`, {
      headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    }))).arrayBuffer()))
    expect(api.getPageCount()).toBe(3)
    expect(pdf.getTitle()).toBe(api.getTitle())
    // one room: its own file name; nothing selected: a notice, no PDF
    const one = await postForm('/console/rooms/posters', [String(picked.find((r) => r.name === 'B102')!.id)])
    expect(one.headers.get('content-disposition')).toBe('attachment; filename="qrbook-poster-B102.pdf"')
    expect((await PDFDocument.load(new Uint8Array(await one.arrayBuffer()))).getPageCount()).toBe(1)
    const none = await admin.form('/console/rooms/posters', {})
    expect(none.status).toBe(303)
    expect(await notice(admin, '/console/rooms')).toBe('Select at least one room.')
    const unknown = await admin.form('/console/rooms/posters', { ids: '999999' })
    expect(unknown.status).toBe(303)
    expect(await notice(admin, '/console/rooms')).toBe('room not found: 999999')
  })
})

/** A form post of the selection as the Response itself (the Client reads text; a PDF is bytes). */
function postForm(path: string, ids: string[]): Promise<Response> {
  const body = new URLSearchParams([['csrf_token', admin.cookies.get('csrf_access_token')!], ...ids.map((id) => ['ids', id] as [string, string])]).toString()
  return t.app.handle(new Request(`http://localhost${path}`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
  }))
}

describe('safety', () => {
  test('a room name with markup is shown as text', async () => {
    const name = '<img src=x onerror=alert(1)>'
    await admin.form('/console/rooms/create', { ...SETTINGS, name })
    const room = await roomNamed(name)
    expect(room).toBeDefined()
    for (const path of ['/console/rooms', `/console/rooms/${room!.id}`]) {
      const page = await admin.get(path)
      // as text where it is text; inside a quoted attribute value (a label, a confirm question) "<" is only a character
      expect(page.text.replace(/="[^"]*"/g, '=""'), path).not.toContain(name)
      expect(page.text, path).toContain('&lt;img src=x onerror=alert(1)&gt;')
    }
  })

  test('a form post without the session\'s CSRF value changes nothing', async () => {
    const room = await roomNamed('B101')
    const before = await t.database.db.select().from(rooms).orderBy(rooms.id)
    const recorded = (await t.database.db.select().from(changes)).length
    const refused = [
      await admin.form('/console/rooms/create', { ...SETTINGS, name: 'forged' }, { csrfToken: false }),
      await admin.form(`/console/rooms/${room!.id}/update`, { ...SETTINGS, name: 'forged' }, { csrfToken: false }),
      await admin.form(`/console/rooms/${room!.id}/block`, { is_blocked: '1' }, { csrfToken: false }),
      await admin.form('/console/rooms/block', { ids: String(room!.id), is_blocked: '1' }, { csrfToken: 'not-the-token' }),
      await admin.form(`/console/rooms/${room!.id}/qr`, {}, { csrfToken: false }),
      await admin.form(`/console/rooms/${room!.id}/unpair`, {}, { csrfToken: false }),
      await admin.form('/console/rooms/posters', { ids: String(room!.id) }, { csrfToken: false }),
    ]
    for (const res of refused) {
      expect([401, 403]).toContain(res.status)
      expect(res.headers.get('content-type')).not.toBe('application/pdf')
    }
    expect(await t.database.db.select().from(rooms).orderBy(rooms.id)).toEqual(before)
    expect((await t.database.db.select().from(changes)).length).toBe(recorded)
  })
})
