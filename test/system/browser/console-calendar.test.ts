/**
 * The calendar and My lessons in Chromium (issue 27): the admin opens a room's week with a booking
 * and a lesson series in it, clicks the booking, moves it, and cancels another; the seeded teacher
 * cancels one date of a lesson on My lessons. Each step is checked in the database. The app runs
 * on the real clock, so the data is put in the week after next (Moscow time).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import type { Page } from 'playwright-core'
import { reservations, rooms } from '../../../src/db/schema'
import { localParts, zonedToUtc } from '../../../src/lib/time'
import { loggedIn } from '../../helpers/app'
import { hasChromium } from '../../helpers/browser'
import { openConsole, type ConsoleHarness } from '../../helpers/console'

setDefaultTimeout(90_000)
const ZONE = 'Europe/Moscow'
let c: ConsoleHarness
let roomId: number
let monday: { y: number; m: number; d: number }
let week: string
let bookingId: number
let otherBookingId: number
let lessonIds: number[]

/** The instant of a local time on a day of the chosen week (0 = Monday). */
const local = (day: number, hour: number, minute = 0) => zonedToUtc(monday.y, monday.m, monday.d + day, (hour * 60 + minute) * 60, ZONE)
const row = async (id: number) => (await c.qrbook.database.db.select().from(reservations).where(eq(reservations.id, id)))[0]!
const accept = (page: Page) => page.once('dialog', (dialog) => { void dialog.accept() })

describe.skipIf(!hasChromium)('console: calendar and My lessons', () => {
  beforeAll(async () => {
    c = await openConsole({ APP_TIMEZONE: ZONE })
    const db = c.qrbook.database.db
    roomId = (await db.select().from(rooms).where(eq(rooms.name, 'B101')))[0]!.id
    // the Monday of the week after next, in Moscow
    const today = localParts(c.qrbook.clock.now(), ZONE)
    const weekday = (new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay() + 6) % 7
    const m = new Date(Date.UTC(today.year, today.month - 1, today.day - weekday + 14))
    monday = { y: m.getUTCFullYear(), m: m.getUTCMonth() + 1, d: m.getUTCDate() }
    week = m.toISOString().slice(0, 10)

    const student = await loggedIn(c.qrbook.app, 'student')
    const teacher = await loggedIn(c.qrbook.app, 'teacher')
    const booked = await student.post(`/api/rooms/${roomId}/reserve`, { start_time: local(1, 10).toISOString(), end_time: local(1, 11, 30).toISOString() })
    expect(booked.status).toBe(201)
    bookingId = booked.body.id ?? booked.body.reservation.id
    const other = await student.post(`/api/rooms/${roomId}/reserve`, { start_time: local(3, 15).toISOString(), end_time: local(3, 16).toISOString() })
    expect(other.status).toBe(201)
    otherBookingId = other.body.id ?? other.body.reservation.id
    const made = await teacher.post('/api/series', {
      room_id: roomId, start_time: local(0, 12).toISOString(), end_time: local(0, 13, 30).toISOString(), rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4', title: 'Linear algebra',
    })
    expect(made.status).toBe(201)
    lessonIds = made.body.created.map((r: { id: number }) => r.id)
    expect(lessonIds).toHaveLength(4)
  })
  afterAll(async () => { await c?.close() })

  test('the admin opens a room\'s week, clicks a booking and moves it, then cancels another', async () => {
    const page = await c.signedIn('admin')
    await page.locator('nav a', { hasText: 'Calendar' }).click()
    await page.waitForURL('**/console/calendar')
    // choose the room and the week with the form, as a person would
    await page.locator('select[name=room]').selectOption({ label: 'B101' })
    await page.locator('input[name=week]').fill(week)
    await Promise.all([page.waitForURL('**/console/calendar?room=*'), page.locator('form:has(select[name=room]) button').click()])
    expect(await page.locator('h2').first().textContent()).toContain('B101: week of')
    const grid = page.locator('.cal-grid')
    expect(await grid.locator('td.ev.lesson').count()).toBe(2)
    expect(await grid.locator('td.ev.booking').count()).toBe(2)
    await c.shoot(page, 'calendar')
    expect(await c.axe(page)).toEqual([])

    // the Tuesday booking, 10:00-11:30
    await Promise.all([page.waitForURL(`**/console/calendar/reservation/${bookingId}`), grid.locator('a.ev-body', { hasText: '10:00–11:30' }).click()])
    expect(await page.locator('h1').textContent()).toBe(`Booking #${bookingId}`)
    await c.shoot(page, 'calendar-booking')
    expect(await c.axe(page)).toEqual([])
    const tuesdayDate = new Date(Date.UTC(monday.y, monday.m - 1, monday.d + 1)).toISOString().slice(0, 10)
    await page.locator('input[name=start]').fill(`${tuesdayDate}T16:00`)
    await page.locator('input[name=end]').fill(`${tuesdayDate}T17:30`)
    await page.locator('button', { hasText: 'Move' }).click()
    await page.locator('.flash.done').waitFor()
    expect(await page.locator('.flash.done').textContent()).toContain('Moved to')
    const moved = await row(bookingId)
    expect(moved.startTime.getTime()).toBe(local(1, 16).getTime())
    expect(moved.endTime.getTime()).toBe(local(1, 17, 30).getTime())
    expect(moved.status).toBe('active')

    // back to the week, the other booking (Thursday 15:00), cancelled after the confirmation
    await Promise.all([page.waitForURL('**/console/calendar?room=*'), page.locator('a', { hasText: 'Back to the calendar' }).click()])
    expect(await page.locator('.cal-grid a.ev-body', { hasText: '16:00–17:30' }).count()).toBe(1)
    await Promise.all([page.waitForURL(`**/reservation/${otherBookingId}`), page.locator('.cal-grid a.ev-body', { hasText: '15:00–16:00' }).click()])
    accept(page)
    await page.locator('button', { hasText: 'Cancel this booking' }).click()
    await page.locator('.flash.done').waitFor()
    expect((await row(otherBookingId)).status).toBe('cancelled')
    expect((await row(bookingId)).status).toBe('active')
    expect(await page.locator('.badge.bad').textContent()).toBe('cancelled')

    const ru = await c.signedIn('admin', { lang: 'ru' })
    await ru.goto(`${c.base}/console/calendar?room=${roomId}&week=${week}`)
    expect(await ru.locator('h1').textContent()).toBe('Календарь')
    await c.shoot(ru, 'calendar-ru')
    expect(await c.axe(ru)).toEqual([])
  })

  test('the teacher cancels one date of a lesson on My lessons; the others stay', async () => {
    const page = await c.signedIn('teacher')
    await Promise.all([page.waitForURL('**/console/lessons'), page.locator('nav a', { hasText: 'My lessons' }).click()])
    const card = page.locator('article.lesson-series', { hasText: 'Linear algebra' })
    expect(await card.locator('dd').nth(3).textContent()).toBe('4')
    await c.shoot(page, 'lessons')
    expect(await c.axe(page)).toEqual([])
    await card.locator('select[name=reservation_id]').selectOption(String(lessonIds[1]))
    accept(page)
    await card.locator('button', { hasText: 'Cancel this date' }).click()
    await page.locator('.flash.done').waitFor()
    expect(await page.locator('.flash.done').textContent()).toContain('is cancelled')
    const statuses = await Promise.all(lessonIds.map(async (id) => (await row(id)).status))
    expect(statuses).toEqual(['active', 'cancelled', 'active', 'active'])
    expect(await card.locator('dd').nth(3).textContent()).toBe('3')

    const ru = await c.signedIn('teacher', { lang: 'ru' })
    await ru.goto(`${c.base}/console/lessons`)
    expect(await ru.locator('h1').textContent()).toBe('Мои занятия')
    await c.shoot(ru, 'lessons-ru')
    expect(await c.axe(ru)).toEqual([])
  })
})
