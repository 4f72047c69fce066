/**
 * Security review: the scan view offered "book now" in a closed room (holiday, maintenance), and
 * the walk-up booking then answered 409 "room is closed". Now a closure covering now gives action
 * `view` with reason `closed`, no book-now options and no free_until; a closure starting later
 * caps free_until at its start, and the book-now options with it. The scan page (/r/:id) says
 * the room is closed, in English and Russian, and shows no book-now button.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { scanKey } from '../src/core/bookings/checkin/keys'
import { fixedClock } from '../src/lib/clock'
import { loggedIn, TEST_ENV, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

/** Instants of this file, moved into TEST_CLOCK_YEAR when CI sets it (test/helpers/clock.ts). */
const shifted = timeShifter('2030-05-07T10:00:00Z')
const NOW = shifted('2030-05-07T10:00:00Z')
const clock = fixedClock(NOW)
const MIN = 60_000
/** `minutes` after NOW, as the API writes instants. */
const after = (minutes: number) => new Date(Date.parse(NOW) + minutes * MIN).toISOString().replace('.000Z', 'Z')

let t: TestApp
let admin: Client
let student: Client
/** a room under a closure now, and one whose closure starts in 40 minutes */
const room = { closedNow: 0, closingSoon: 0 }

const key = (roomId: number) => scanKey(TEST_ENV.SECRET_KEY, roomId, 1)
const scan = (roomId: number) => student.get(`/api/scan/${roomId}?k=${key(roomId)}`)
const scanPage = (roomId: number, lang: string) => student.get(`/r/${roomId}?k=${key(roomId)}`, { headers: { 'accept-language': lang } })

async function closeRoom(roomId: number, from: string, to: string): Promise<void> {
  const closure = await admin.post('/api/admin/closures', { room_ids: [roomId], start_time: from, end_time: to, kind: 'maintenance', reason: 'Projector repair' })
  expect(closure.status, closure.text).toBe(201)
}

beforeAll(async () => {
  t = await testApp({ clock })
  admin = await loggedIn(t.app, 'admin')
  student = await loggedIn(t.app, 'student')
  room.closedNow = (await admin.post('/api/admin/rooms', { name: 'SC1' })).body.room.id
  room.closingSoon = (await admin.post('/api/admin/rooms', { name: 'SC2' })).body.room.id
  await closeRoom(room.closedNow, after(-30), after(120))
  await closeRoom(room.closingSoon, after(40), after(180))
})
afterAll(() => t.close())

describe('GET /scan/:id', () => {
  test('a closure covering now: view, reason closed, nothing to book', async () => {
    const r = await scan(room.closedNow)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ action: 'view', reason: 'closed', proof_ok: true, book_now: [], free_until: null })
    expect(r.body.room).toMatchObject({ status: 'blocked', closure: { reason: 'Projector repair', end_time: after(120) } })
    // A walk-up booking posted anyway is still refused by the booking rules, saying why.
    const booked = await student.post(`/api/scan/${room.closedNow}/book`, { k: key(room.closedNow), minutes: 30 })
    expect(booked.status).toBe(409)
    expect(booked.body.msg).toBe('room is closed: Projector repair')
  })

  test('a closure starting in 40 minutes caps free_until and the book-now options at its start', async () => {
    const r = await scan(room.closingSoon)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ action: 'book_now', reason: null, free_until: after(40) })
    // 60 and 90 minutes both end at the closure: one option
    expect(r.body.book_now).toEqual([{ minutes: 30, end_time: after(30) }, { minutes: 60, end_time: after(40) }])
  })

  test('a walk-up booking of 90 minutes before that closure ends at its start', async () => {
    const booked = await student.post(`/api/scan/${room.closingSoon}/book`, { k: key(room.closingSoon), minutes: 90 })
    expect(booked.status, booked.text).toBe(201)
    expect(booked.body.reservation).toMatchObject({ start_time: NOW, end_time: after(40) })
  })
})

describe('the scan page /r/:id under a closure', () => {
  test('English: the closure in the status line, "closed now", no book-now button', async () => {
    const page = await scanPage(room.closedNow, 'en')
    expect(page.status).toBe(200)
    expect(page.text).toContain('Closed until')
    expect(page.text).toContain('Projector repair')
    expect(page.text).toContain('The room is closed now.')
    expect(page.text).not.toContain('Book now')
    expect(page.text).not.toContain(`action="${room.closedNow}/book"`)
  })

  test('Russian: the same', async () => {
    const page = await scanPage(room.closedNow, 'ru')
    expect(page.status).toBe(200)
    expect(page.text).toContain('Закрыта до')
    expect(page.text).toContain('Аудитория сейчас закрыта.')
    expect(page.text).not.toContain('Забронировать сейчас')
    expect(page.text).not.toContain(`action="${room.closedNow}/book"`)
  })
})
