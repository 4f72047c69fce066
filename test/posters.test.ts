/**
 * Door posters: A4 PDF pages (and SVG) whose QR codes decode to each room's signed scan URL, with
 * the poster key: the only place it appears since the public qr_code_url carries none (decision 013).
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import jsQR from 'jsqr'
import { PDFDocument } from 'pdf-lib'
import { PNG } from 'pngjs'
import { eq } from 'drizzle-orm'
import { rooms } from '../src/db/schema'
import { scanKey } from '../src/core/bookings/checkin/keys'
import { loggedIn, TEST_ENV, testApp, type Client, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

const hasPdftoppm = Bun.which('pdftoppm') !== null
let t: TestApp
let admin: Client
let work: string

beforeAll(async () => {
  t = await testApp()
  admin = await loggedIn(t.app, 'admin')
  work = mkdtempSync(path.join(tmpdir(), 'qrbook-posters-'))
})
afterAll(async () => {
  rmSync(work, { recursive: true, force: true })
  await t.close()
})

async function pdfOf(reply: Response) {
  expect(reply.status).toBe(200)
  expect(reply.headers.get('content-type')).toBe('application/pdf')
  return new Uint8Array(await reply.arrayBuffer())
}

/** A raw Response (binary bodies), sent with the admin's session cookies. */
const get = (path: string) => t.app.handle(new Request(`http://localhost${path}`, {
  headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
}))

/** The room's signed scan URL: the scan page with the poster key of its qr_version. */
async function scanUrlOf(roomId: number): Promise<string> {
  const [room] = await t.database.db.select().from(rooms).where(eq(rooms.id, roomId))
  return `http://qrbook.test/r/${roomId}?k=${scanKey(TEST_ENV.SECRET_KEY, roomId, room!.qrVersion)}`
}

/** What the public qr_code_url image encodes. */
async function publicUrlOf(roomId: number): Promise<string> {
  const res = await t.app.handle(new Request(`http://localhost/static/qr/${roomId}.png`))
  const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()))
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)!.data
}

describe('posters', () => {
  test('all rooms: one A4 page per room', async () => {
    const all = await t.database.db.select().from(rooms)
    const bytes = await pdfOf(await get('/api/admin/rooms/posters.pdf'))
    const pdf = await PDFDocument.load(bytes)
    expect(pdf.getPageCount()).toBe(all.length)
    const { width, height } = pdf.getPage(0).getSize()
    expect([Math.round(width), Math.round(height)]).toEqual([595, 842])
  })

  test.skipIf(!hasPdftoppm)('all rooms: each page decodes to that room scan URL (needs pdftoppm from poppler-utils)', async () => {
    const all = await t.database.db.select().from(rooms)
    const bytes = await pdfOf(await get('/api/admin/rooms/posters.pdf'))
    const file = path.join(work, 'all.pdf')
    await Bun.write(file, bytes)
    const render = Bun.spawnSync(['pdftoppm', '-png', '-r', '100', file, path.join(work, 'page')])
    expect(render.exitCode).toBe(0)
    const pages = readdirSync(work).filter((f) => f.startsWith('page')).sort()
    expect(pages).toHaveLength(all.length)
    const byName = [...all].sort((a, b) => a.name.localeCompare(b.name))
    for (const [i, page] of pages.entries()) {
      const png = PNG.sync.read(Buffer.from(await Bun.file(path.join(work, page)).arrayBuffer()))
      const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)
      expect(decoded?.data).toBe(await scanUrlOf(byName[i]!.id))
      expect(decoded!.data).toMatch(/\/r\/\d+\?k=/)
    }
  })

  test('chosen rooms by ids (comma-separated or repeated), a single poster, and the SVG', async () => {
    const [b101] = await t.database.db.select().from(rooms).limit(1)
    const two = await PDFDocument.load(await pdfOf(await get(`/api/admin/rooms/posters.pdf?ids=${b101!.id},${b101!.id + 1}`)))
    expect(two.getPageCount()).toBe(2)
    const repeated = await PDFDocument.load(await pdfOf(await get(`/api/admin/rooms/posters.pdf?ids=${b101!.id}&ids=${b101!.id + 1}`)))
    expect(repeated.getPageCount()).toBe(2)
    const one = await get(`/api/admin/rooms/${b101!.id}/poster.pdf`)
    expect(one.headers.get('content-disposition')).toContain(`qrbook-poster-${b101!.name}.pdf`)
    expect((await PDFDocument.load(await pdfOf(one))).getPageCount()).toBe(1)

    const svg = await get(`/api/admin/rooms/${b101!.id}/poster.svg`)
    expect(svg.status).toBe(200)
    expect(svg.headers.get('content-type')).toContain('image/svg+xml')
    const text = await svg.text()
    expect(text).toContain(`>${b101!.name}</text>`)
    expect(text).toContain('Отсканируйте QR-код')
    expect(text).toContain((await scanUrlOf(b101!.id)).replace(/^https?:\/\//, '').replace(/&/g, '&#38;'))
  })

  test('the poster carries the poster key; the public image of the same room does not', async () => {
    const [b101] = await t.database.db.select().from(rooms).where(eq(rooms.name, 'B101'))
    const svg = await (await get(`/api/admin/rooms/${b101!.id}/poster.svg`)).text()
    const key = scanKey(TEST_ENV.SECRET_KEY, b101!.id, b101!.qrVersion)
    expect(svg).toContain(`qrbook.test/r/${b101!.id}?k=${key}`)
    expect(await publicUrlOf(b101!.id)).toBe(`http://qrbook.test/r/${b101!.id}`)
  })

  test('errors: unknown room 404, bad ids 400, not an admin 403, anonymous 401', async () => {
    expect((await get('/api/admin/rooms/999999/poster.pdf')).status).toBe(404)
    const unknown = await get('/api/admin/rooms/posters.pdf?ids=1,999999')
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { msg: string }).msg).toContain('999999')
    for (const ids of ['abc', '-1', '1;drop table rooms', '0'])
      expect((await get(`/api/admin/rooms/posters.pdf?ids=${encodeURIComponent(ids)}`)).status).toBe(400)
    const student = await loggedIn(t.app, 'student')
    expect((await student.get('/api/admin/rooms/posters.pdf')).status).toBe(403)
    expect((await t.app.handle(new Request('http://localhost/api/admin/rooms/1/poster.pdf'))).status).toBe(401)
  })
})
