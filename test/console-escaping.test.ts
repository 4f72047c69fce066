/**
 * A hostile name is text on every console page (issue 27): a user, a room, a booking's title and a
 * closure's reason made of HTML reach the pages that show them, escaped, never as markup.
 * (Each page's own test checks its forms; this one walks all pages with the same hostile data.)
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

const SCRIPT = '<script>alert(1)</script>'
const IMG = '<img src=x onerror=alert(1)>'

/**
 * The markup a browser would build from the page: every element with a script (inline or not), and
 * every element with an event-handler attribute. Text and attribute values are not markup, so a
 * hostile name inside a quoted attribute (an aria-label) is as harmless as in text.
 */
async function activeMarkup(html: string): Promise<string[]> {
  const found: string[] = []
  await new HTMLRewriter()
    .on('script', { element: (e) => { found.push(`script src=${e.getAttribute('src')}`) } })
    .on('*', { element: (e) => { for (const [name] of e.attributes) if (name.startsWith('on')) found.push(`${e.tagName} ${name}`) } })
    .transform(new Response(html)).text()
  return found
}

let t: TestApp
let admin: Client
let roomId: number
let bookingId: number

beforeAll(async () => {
  t = await testApp({ env: { APP_TIMEZONE: 'Europe/Moscow' } })
  admin = await loggedIn(t.app, 'admin')
  expect((await admin.post('/api/admin/users', { name: SCRIPT, password: 'a-long-enough-password-1', role: 'teacher' })).status).toBe(201)
  const room = await admin.post('/api/admin/rooms', { name: IMG, requires_check_in: false })
  expect(room.status).toBe(201)
  roomId = room.body.room.id
  const hostile = await loggedIn(t.app, SCRIPT, 'a-long-enough-password-1')
  const start = new Date(t.clock.now().getTime() + 2 * 86400_000)
  start.setUTCHours(9, 0, 0, 0)
  const booked = await hostile.post(`/api/rooms/${roomId}/reserve`, { start_time: start.toISOString(), end_time: new Date(start.getTime() + 3600_000).toISOString(), title: SCRIPT })
  expect(booked.status).toBe(201)
  bookingId = booked.body.reservation?.id ?? booked.body.id
  const closureStart = new Date(start.getTime() + 86400_000)
  expect((await admin.post('/api/admin/closures', { room_ids: [roomId], start_time: closureStart.toISOString(), end_time: new Date(closureStart.getTime() + 3600_000).toISOString(), kind: 'other', reason: SCRIPT })).status).toBe(201)
})
afterAll(async () => { await t.close() })

describe('hostile names on the console', () => {
  test('no page carries them as markup, and the pages that list them show them as text', async () => {
    const pages = ['/console', '/console/term', `/console/calendar?room=${roomId}`, `/console/calendar/reservation/${bookingId}`, '/console/closures',
      '/console/policies', '/console/approvals', '/console/users', `/console/users?q=${encodeURIComponent('<script')}`, '/console/rooms',
      '/console/audit', '/console/reports', '/console/lessons']
    for (const path of pages) {
      const page = await admin.get(path)
      expect(page.status, path).toBe(200)
      expect(await activeMarkup(page.text), path).toEqual(['script src=/console/assets/console.js'])
    }
    expect((await admin.get('/console/users')).text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect((await admin.get('/console/rooms')).text).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect((await admin.get('/console/closures')).text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })
})
