/**
 * QR codes (contract section 6): files written on room creation, served at /static/qr/<id>.png|svg
 * (root only) with the right type and cache headers, rebuilt when missing, decoded back to the
 * room's scan page WITHOUT a key (decision 013: SERVER_EXTERNAL_BASE/r/<id>; the image is public,
 * so its code must prove nothing; the printed poster carries the key); path traversal and odd
 * names are 404 {msg}.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jsQR from 'jsqr'
import { PNG } from 'pngjs'
import { loadConfig } from '../src/config'
import { scanKey } from '../src/core/bookings/checkin/keys'
import { createLogger } from '../src/lib/log'
import { frontendRoomUrl, generateRoomQr, posterScanUrl, publicScanUrl, qrCodeUrl } from '../src/core/qr/codes'
import { checkQrDirectory } from '../src/core/qr/codes'
import { Client, loggedIn, TEST_ENV, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
let anon: Client
let admin: Client

beforeAll(async () => {
  t = await testApp()
  anon = new Client(t.app)
  admin = await loggedIn(t.app, 'admin')
})
afterAll(() => t.close())

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

async function fetchRaw(path: string): Promise<Response> {
  return t.app.handle(new Request(`http://localhost${path}`))
}

function decode(png: Uint8Array): string | undefined {
  const image = PNG.sync.read(Buffer.from(png))
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data
}

/** The path part of a qr_code_url (the app is driven in-process, not through its external host). */
const pathOf = (url: string) => new URL(url).pathname

describe('room creation writes the QR code', () => {
  test('POST /api/rooms: qr_code_url serves a PNG that decodes to the scan URL without a key', async () => {
    const created = await admin.post('/api/rooms', { name: 'QrRoom', room_type: 'public' })
    expect(created.status).toBe(201)
    const { id, qr_code_url } = created.body.room
    expect(qr_code_url).toBe(`http://qrbook.test/static/qr/${id}.png`)
    expect(existsSync(join(t.config.staticQrPath, `${id}.png`))).toBe(true)

    const res = await fetchRaw(pathOf(qr_code_url))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(res.headers.get('cache-control')).toContain('max-age=')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect([...bytes.slice(0, 8)]).toEqual(PNG_MAGIC)
    expect(decode(bytes)).toBe(`http://qrbook.test/r/${id}`)
    expect(decode(bytes)).not.toContain('k=')

    // a wiped disk: the same URL rebuilds the same image
    rmSync(join(t.config.staticQrPath, `${id}.png`))
    const again = await fetchRaw(pathOf(qr_code_url))
    expect(again.status).toBe(200)
    expect(again.headers.get('content-type')).toBe('image/png')
    const rebuilt = new Uint8Array(await again.arrayBuffer())
    expect(Buffer.from(rebuilt).equals(Buffer.from(bytes))).toBe(true)
    expect(existsSync(join(t.config.staticQrPath, `${id}.png`))).toBe(true)
  })

  test('the SVG is served as image/svg+xml and rebuilt when missing', async () => {
    const svgPath = join(t.config.staticQrPath, '1.svg')
    rmSync(svgPath, { force: true })
    const res = await fetchRaw('/static/qr/1.svg')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/svg+xml')
    expect(res.headers.get('cache-control')).toContain('max-age=')
    const text = await res.text()
    expect(text).toMatch(/^(<\?xml[^>]*>\s*)?<svg/)
    expect(existsSync(svgPath)).toBe(true)
  })

  test('seeded rooms have no file yet: served on first request', async () => {
    for (const id of [2, 3, 4]) {
      const res = await fetchRaw(`/static/qr/${id}.png`)
      expect(res.status).toBe(200)
      expect(decode(new Uint8Array(await res.arrayBuffer()))).toBe(`http://qrbook.test/r/${id}`)
    }
  })
})

describe('GET /static/qr/*', () => {
  test('an unknown room is 404 {msg}, and no file is written', async () => {
    const res = await anon.get('/static/qr/99999.png')
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ msg: 'QR code not found' })
    expect(existsSync(join(t.config.staticQrPath, '99999.png'))).toBe(false)
  })

  test('path traversal and names that are not <id>.png|svg are 404 {msg}', async () => {
    const paths = [
      '/static/qr/..%2F..%2Fpackage.json',
      '/static/qr/..%2f..%2fsrc%2fapp.ts',
      '/static/qr/%2e%2e%2f%2e%2e%2fpackage.json',
      '/static/qr/..%5C..%5Cpackage.json',
      '/static/qr/../../package.json',
      '/static/qr/abc.png',
      '/static/qr/1.gif',
      '/static/qr/1.png.bak',
      '/static/qr/01.png',
      '/static/qr/-1.png',
      '/static/qr/1e3.png',
      '/static/qr/99999999999.png',
      '/static/qr/1%00.png',
      '/static/qr/1',
      '/static/qr/',
    ]
    for (const path of paths) {
      const res = await anon.get(path)
      expect({ path, status: res.status }).toEqual({ path, status: 404 })
      expect(typeof res.body.msg).toBe('string')
      expect(res.headers.get('content-type')).toContain('application/json')
    }
  })

  test('served at the root only, not under /api', async () => {
    expect((await anon.get('/static/qr/1.png')).status).toBe(200)
    const api = await anon.get('/api/static/qr/1.png')
    expect(api.status).toBe(404)
    expect(api.body.msg).toBeDefined()
  })
})

describe('URLs', () => {
  const config = (env: Record<string, string>) => loadConfig({ ...TEST_ENV, ...env })

  test('qr_code_url: QR_BASE_URL + /<id>.png when set, else SERVER_EXTERNAL_BASE + static/qr/<id>.png', () => {
    expect(qrCodeUrl(config({ QR_BASE_URL: 'https://cdn.example.com/qr/' }), 7)).toBe('https://cdn.example.com/qr/7.png')
    expect(qrCodeUrl(config({ SERVER_EXTERNAL_BASE: 'https://api.example.com' }), 7)).toBe('https://api.example.com/static/qr/7.png')
    expect(qrCodeUrl(config({ SERVER_EXTERNAL_BASE: 'https://api.example.com/backend/' }), 7)).toBe('https://api.example.com/backend/static/qr/7.png')
  })

  test('the public code encodes SERVER_EXTERNAL_BASE + r/<id>; the poster adds ?k=<key of the qr_version>', () => {
    const key = (version: number) => scanKey(TEST_ENV.SECRET_KEY, 7, version)
    expect(key(1)).toMatch(/^[A-Za-z0-9_-]{12}$/)
    expect(key(2)).not.toBe(key(1))
    expect(publicScanUrl(config({ SERVER_EXTERNAL_BASE: 'https://api.example.com' }), 7)).toBe('https://api.example.com/r/7')
    expect(posterScanUrl(config({ SERVER_EXTERNAL_BASE: 'https://api.example.com' }), 7, 1)).toBe(`https://api.example.com/r/7?k=${key(1)}`)
    expect(posterScanUrl(config({ SERVER_EXTERNAL_BASE: 'https://api.example.com/backend/' }), 7, 2)).toBe(`https://api.example.com/backend/r/7?k=${key(2)}`)
    // The scan page links to the frontend's room page instead.
    expect(frontendRoomUrl(config({ FRONTEND_BASE_URL: 'https://app.example.com/' }), 7)).toBe('https://app.example.com/rooms/7')
    expect(frontendRoomUrl(config({ FRONTEND_BASE_URL: '' }), 7)).toBeUndefined()
  })

  test('generateRoomQr (for POST /admin/rooms/:id/generate-qr) writes both files and returns the URL', async () => {
    rmSync(join(t.config.staticQrPath, '2.png'), { force: true })
    rmSync(join(t.config.staticQrPath, '2.svg'), { force: true })
    expect(await generateRoomQr(t.config, 2)).toBe('http://qrbook.test/static/qr/2.png')
    expect(existsSync(join(t.config.staticQrPath, '2.png'))).toBe(true)
    expect(existsSync(join(t.config.staticQrPath, '2.svg'))).toBe(true)
  })

  test('QR_BASE_URL is what the app answers in room JSON', async () => {
    const other = await testApp({ env: { QR_BASE_URL: 'https://cdn.example.com/qr' } })
    try {
      const r = await new Client(other.app).get('/api/rooms')
      expect(r.body.rooms[0].qr_code_url).toBe(`https://cdn.example.com/qr/${r.body.rooms[0].id}.png`)
    } finally {
      await other.close()
    }
  })
})

describe('the QR cache is keyed by what the code encodes (issue 13.1, 13.2)', () => {
  test('a file left by another SERVER_EXTERNAL_BASE (an earlier start) is rebuilt, never served stale', async () => {
    // Two apps on one STATIC_QR_PATH, as two starts with a changed base would be.
    const before = await testApp({ env: { SERVER_EXTERNAL_BASE: 'http://localhost:8080/' } })
    const after = await testApp({ env: { SERVER_EXTERNAL_BASE: 'https://rooms.college.example/', STATIC_QR_PATH: before.config.staticQrPath } })
    try {
      const old = await before.app.handle(new Request('http://localhost/static/qr/1.png'))
      expect(decode(new Uint8Array(await old.arrayBuffer()))).toBe('http://localhost:8080/r/1')
      const onDisk = () => decode(new Uint8Array(readFileSync(join(before.config.staticQrPath, '1.png'))))
      expect(onDisk()).toBe('http://localhost:8080/r/1')

      const fresh = await after.app.handle(new Request('http://localhost/static/qr/1.png'))
      expect(decode(new Uint8Array(await fresh.arrayBuffer()))).toBe('https://rooms.college.example/r/1')
      expect(onDisk()).toBe('https://rooms.college.example/r/1')
      expect(fresh.headers.get('etag')).not.toBe(old.headers.get('etag'))
    } finally {
      await after.close()
      await before.close()
    }
  })

  test('an unwritable STATIC_QR_PATH is reported once at start; images are served from memory without an error per write', async () => {
    const lines: { level: string; msg: string }[] = []
    const log = createLogger('info', (line) => lines.push(JSON.parse(line)))
    // A path below a regular file can never be created, whoever runs the test (root included).
    const blocker = join(tmpdir(), `qrbook-qr-blocker-${process.pid}`)
    writeFileSync(blocker, 'not a directory')
    const other = await testApp({ env: { STATIC_QR_PATH: join(blocker, 'qr') }, log })
    try {
      expect(await checkQrDirectory(other.config, log)).toBe(false)
      const created = await (await loggedIn(other.app, 'admin')).post('/api/rooms', { name: 'Q1', room_type: 'public' })
      expect(created.status).toBe(201)
      for (let i = 0; i < 3; i++) {
        const png = await other.app.handle(new Request(`http://localhost${pathOf(created.body.room.qr_code_url)}`))
        expect(png.status).toBe(200)
        expect(decode(new Uint8Array(await png.arrayBuffer()))).toBe(`http://qrbook.test/r/${created.body.room.id}`)
      }
      const warnings = lines.filter((l) => l.level === 'warn' || l.level === 'error')
      expect(warnings.map((w) => w.msg)).toEqual([expect.stringMatching(/^STATIC_QR_PATH .* is not writable \(ENOTDIR: .*\): QR images are served from memory/)])
    } finally {
      await other.close()
      rmSync(blocker, { force: true })
    }
  })

  test('in production with no public base, every QR image and poster request warns that the codes point at localhost', async () => {
    const lines: { level: string; msg: string }[] = []
    const log = createLogger('info', (line) => lines.push(JSON.parse(line)))
    // production refuses the tests' cheap password hashing (TEST_ENV): blank means unset, the default
    const cost = { PASSWORD_HASH_MEMORY_COST: '', PASSWORD_HASH_TIME_COST: '' }
    const other = await testApp({ env: { NODE_ENV: 'production', DATABASE_URL: 'memory://', SERVER_EXTERNAL_BASE: '', JWT_COOKIE_SECURE: 'false', ...cost }, log })
    try {
      const admin = await loggedIn(other.app, 'admin')
      await other.app.handle(new Request('http://localhost/static/qr/1.png'))
      await other.app.handle(new Request('http://localhost/static/qr/1.svg'))
      expect((await admin.get('/api/admin/rooms/1/poster.svg')).status).toBe(200)
      const localhost = lines.filter((l) => l.level === 'warn' && l.msg.startsWith('QR codes and posters point at http://localhost:8080/'))
      expect(localhost).toHaveLength(3)
    } finally {
      await other.close()
    }
  })
})
