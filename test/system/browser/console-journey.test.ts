/**
 * Issue 27's "done when", in one journey through Chromium: the seeded admin signs in and, only
 * through the console, sets up a term from a Windows-1251 timetable and a holidays calendar (each
 * checked first, then committed), applies the recommended policies, approves a pending booking,
 * verifies a teacher, lifts a suspension, downloads the posters of three rooms (a real PDF) and a
 * report (CSV, and an XLSX read back by exceljs); then the teacher cancels one date of an imported
 * lesson. After each step the database says the step was done. What others do meanwhile (a teacher
 * signs up, a student books, the student's past no-shows) comes through the API or, for the
 * no-shows, as the sweeper leaves them. Each page's own test takes its screenshots.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFile } from 'node:fs/promises'
import { and, eq, inArray, isNotNull } from 'drizzle-orm'
import ExcelJS from 'exceljs'
import { PDFDocument } from 'pdf-lib'
import type { Page } from 'playwright-core'
import { bookingPolicies, closures, reservations, rooms, series, users } from '../../../src/db/schema'
import { localParts, zonedToUtc } from '../../../src/lib/time'
import { loggedIn } from '../../helpers/app'
import { hasChromium } from '../../helpers/browser'
import { openConsole, type ConsoleHarness } from '../../helpers/console'

setDefaultTimeout(120_000)
const TZ = 'Europe/Moscow'
const DAY = 86400_000
const HOUR = 3600_000
let c: ConsoleHarness

// Windows-1251 by hand: ASCII as it is, А..я at 0xC0..0xFF (no other letters are used here).
const CYRILLIC = 'АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя'
const cp1251 = (text: string) => Buffer.from([...text].map((ch) => (ch.charCodeAt(0) < 0x80 ? ch.charCodeAt(0) : 0xc0 + CYRILLIC.indexOf(ch))))

type LocalDate = { y: number; m: number; d: number }
const two = (n: number) => String(n).padStart(2, '0')
const plusDays = (date: LocalDate, days: number): LocalDate => {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days))
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() }
}
const ru = (date: LocalDate) => `${two(date.d)}.${two(date.m)}.${date.y}`
const ics = (date: LocalDate) => `${date.y}${two(date.m)}${two(date.d)}`
const at = (date: LocalDate, hour: number) => zonedToUtc(date.y, date.m, date.d, hour * 3600, TZ)

/** The Monday three weeks ahead (Moscow): a term of four weeks from there, a holiday on its second Monday. */
function termStart(now: Date): LocalDate {
  const today = localParts(now, TZ)
  const weekday = (new Date(Date.UTC(today.year, today.month - 1, today.day)).getUTCDay() + 6) % 7
  return plusDays({ y: today.year, m: today.month, d: today.day }, 21 - weekday)
}

async function click(page: Page, selector: string, url: string | RegExp | ((url: URL) => boolean)) {
  await Promise.all([page.waitForURL(url), page.locator(selector).click()])
}

describe.skipIf(!hasChromium)('console: the admin runs the college only through the console (issue 27)', () => {
  let monday: LocalDate
  let until: LocalDate
  let holiday: LocalDate
  let ids: Record<string, number>

  beforeAll(async () => {
    // NO_SHOW_STRIKES empty: the defaults (3 no-shows in 30 days suspend booking for 7 days)
    c = await openConsole({ APP_TIMEZONE: TZ, NO_SHOW_STRIKES: '' })
    const db = c.qrbook.database.db
    monday = termStart(c.qrbook.clock.now())
    until = plusDays(monday, 27)
    holiday = plusDays(monday, 7)
    ids = Object.fromEntries((await db.select().from(rooms)).map((r) => [r.name, r.id]))
    // a teacher signs up and waits to be verified
    const signup = await fetch(`${c.base}/api/auth/signup`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ivanova', password: 'a-long-password-1', role: 'teacher' }),
    })
    expect(signup.status).toBe(201)
    // the guest did not come to three bookings this week: released by the sweeper, suspended
    const [guest] = await db.select().from(users).where(eq(users.name, 'guest'))
    for (const daysAgo of [1, 2, 3]) {
      const start = new Date(Math.floor((c.qrbook.clock.now().getTime() - daysAgo * DAY) / HOUR) * HOUR)
      await db.insert(reservations).values({
        roomId: ids.A200!, userId: guest!.id, startTime: start, endTime: new Date(start.getTime() + HOUR), status: 'released',
        checkInRequired: true, setByOwner: true, createdAt: start, updatedAt: start,
      })
    }
    const refused = await (await loggedIn(c.qrbook.app, 'guest')).post(`/api/rooms/${ids.B102}/reserve`, {
      start_time: new Date(c.qrbook.clock.now().getTime() + 2 * DAY).toISOString(), end_time: new Date(c.qrbook.clock.now().getTime() + 2 * DAY + HOUR).toISOString(),
    })
    expect(refused.status).toBe(403)
    expect(refused.body.msg).toStartWith('booking suspended until')
  })
  afterAll(async () => { await c?.close() })

  test('the admin: term, holidays, policies, an approval, a teacher, a suspension, posters and a report', async () => {
    const db = c.qrbook.database.db
    const page = await c.signedIn('admin') // through /console/login
    page.on('dialog', (dialog) => void dialog.accept())
    expect(new URL(page.url()).pathname).toBe('/console')

    // 1. The holidays: checked, then committed. One falls on the term's second Monday.
    const after = plusDays(until, 30)
    const calendar = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//college//holidays//RU',
      'BEGIN:VEVENT', `UID:holiday-${ics(holiday)}@college`, `DTSTART;VALUE=DATE:${ics(holiday)}`, `DTEND;VALUE=DATE:${ics(plusDays(holiday, 1))}`, 'SUMMARY:День открытых дверей', 'END:VEVENT',
      // and one after the term (whatever today's date: a fixed date such as New Year may fall inside it)
      'BEGIN:VEVENT', `UID:after-${ics(after)}@college`, `DTSTART;VALUE=DATE:${ics(after)}`, `DTEND;VALUE=DATE:${ics(plusDays(after, 3))}`, 'SUMMARY:Каникулы', 'END:VEVENT',
      'END:VCALENDAR', ''].join('\r\n')
    await page.goto(`${c.base}/console/term`)
    await page.locator('input[type=file][accept=".ics,text/calendar"]').setInputFiles({ name: 'holidays.ics', mimeType: 'text/calendar', buffer: Buffer.from(calendar) })
    await click(page, 'form[action="/console/term/holidays/preview"] button[type=submit]', '**/console/term/holidays/preview')
    expect(await page.locator('table tbody tr').count()).toBe(2)
    expect(await db.select().from(closures)).toEqual([]) // a preview writes nothing
    await click(page, 'form[action="/console/term/holidays"] button[type=submit]', '**/console/term/holidays')
    expect((await db.select().from(closures)).map((x) => x.reason).sort()).toEqual(['День открытых дверей', 'Каникулы'])

    // 2. The timetable as Excel saves it in Russian: checked as a table, then committed.
    const csv = cp1251([
      'аудитория;преподаватель;день;начало;конец;с;по;название',
      `B101;teacher;пн;09:00;10:30;${ru(monday)};${ru(until)};Линейная алгебра`,
      `B102;teacher;ср;12:00;13:30;${ru(monday)};${ru(until)};Химия`,
      `A200;teacher;пт;14:00;15:30;${ru(monday)};${ru(until)};Геометрия`,
    ].map((line) => `${line}\r\n`).join(''))
    await page.goto(`${c.base}/console/term`)
    await page.locator('input[type=file][accept=".csv,text/csv"]').setInputFiles({ name: 'расписание.csv', mimeType: 'text/csv', buffer: csv })
    await click(page, 'form[action="/console/term/timetable/preview"] button[type=submit]', '**/console/term/timetable/preview')
    const preview = await page.locator('table.import-preview tbody tr').allInnerTexts()
    expect(preview).toHaveLength(3)
    expect(preview[0]).toContain('Линейная алгебра')
    expect(preview[0]).toContain('would create 3') // 4 Mondays, one of them the holiday
    expect(await db.select().from(series).where(isNotNull(series.importKey))).toEqual([])
    await click(page, 'form[action="/console/term/timetable/commit"] button[type=submit]', '**/console/term?imported=1')
    const imported = await db.select().from(series).where(isNotNull(series.importKey))
    expect(imported.map((s) => s.title).sort()).toEqual(['Геометрия', 'Линейная алгебра', 'Химия'])
    const lessons = await db.select().from(reservations).where(and(inArray(reservations.seriesId, imported.map((s) => s.id)), eq(reservations.status, 'active')))
    expect(lessons).toHaveLength(11)
    expect(lessons.some((l) => l.startTime.getTime() === at(holiday, 9).getTime())).toBe(false)

    // 3. The recommended policies, and a rule that students' bookings of B102 wait for an admin.
    await page.goto(`${c.base}/console/policies`)
    await click(page, 'button:has-text("Apply the recommended set")', '**/console/policies')
    expect((await db.select().from(bookingPolicies)).map((r) => r.role).sort()).toEqual(['student', 'teacher'])
    const form = page.locator('section[aria-labelledby=new-rule] form')
    await form.locator('select[name=scope]').selectOption(`room:${ids.B102}`)
    await form.locator('input[name=requires_approval]').check()
    await Promise.all([page.waitForURL((u) => u.pathname === '/console/policies'), form.getByRole('button', { name: 'Create' }).click()])
    expect(await db.select().from(bookingPolicies).where(eq(bookingPolicies.roomId, ids.B102!))).toHaveLength(1)

    // 4. A student asks for B102; the admin approves it.
    const start = new Date(Math.ceil((c.qrbook.clock.now().getTime() + DAY) / HOUR) * HOUR)
    const asked = await (await loggedIn(c.qrbook.app, 'student')).post(`/api/rooms/${ids.B102}/reserve`, { start_time: start.toISOString(), end_time: new Date(start.getTime() + HOUR).toISOString() })
    expect(asked.body.reservation.approval).toBe('pending')
    const pendingId = asked.body.reservation.id as number
    await page.goto(`${c.base}/console`)
    await click(page, 'a.tile[href="/console/approvals"]', '**/console/approvals')
    await Promise.all([page.waitForURL('**/console/approvals'), page.locator(`#approval-${pendingId}`).getByRole('button', { name: 'Approve' }).click()])
    expect((await db.select().from(reservations).where(eq(reservations.id, pendingId)))[0]!.approval).toBe('approved')

    // 5. The teacher who signed up is verified.
    await page.goto(`${c.base}/console`)
    await click(page, 'a.tile[href="/console/users?teacher_pending=1"]', '**/console/users?teacher_pending=1')
    await Promise.all([page.waitForURL('**/console/users?teacher_pending=1'), page.getByRole('button', { name: 'Approve teacher: ivanova' }).click()])
    expect((await db.select().from(users).where(eq(users.name, 'ivanova')))[0]!.teacherPending).toBe(false)

    // 6. The guest's suspension is lifted; the guest books again.
    await page.goto(`${c.base}/console/users?no_shows=1`)
    await Promise.all([page.waitForURL('**/console/users/*'), page.getByRole('link', { name: 'Manage: guest' }).click()])
    await page.getByRole('button', { name: 'Lift suspension' }).click()
    await page.waitForSelector('.flash.done')
    expect((await db.select().from(users).where(eq(users.name, 'guest')))[0]!.noShowsClearedAt).toBeInstanceOf(Date)
    const again = await (await loggedIn(c.qrbook.app, 'guest')).post(`/api/rooms/${ids.B101}/reserve`, {
      start_time: new Date(start.getTime() + 5 * HOUR).toISOString(), end_time: new Date(start.getTime() + 6 * HOUR).toISOString(),
    })
    expect(again.status).toBe(201)

    // 7. Posters of three rooms: one PDF, a page each.
    await page.goto(`${c.base}/console/rooms`)
    for (const name of ['A200', 'B101', 'B102']) await page.getByLabel(`Select ${name}`, { exact: true }).check()
    const [posters] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download posters (PDF)' }).click()])
    const pdf = new Uint8Array(await readFile((await posters.path())!))
    expect(new TextDecoder().decode(pdf.slice(0, 5))).toBe('%PDF-')
    expect((await PDFDocument.load(pdf)).getPageCount()).toBe(3)

    // 8. A report of the term's weeks, as CSV and as an XLSX a library reads back.
    await page.goto(`${c.base}/console/reports?from=${monday.y}-${two(monday.m)}-${two(monday.d)}&to=${until.y}-${two(until.m)}-${two(until.d)}`)
    const [csvFile] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Utilisation by room: CSV' }).click()])
    const csvText = await readFile((await csvFile.path())!, 'utf8')
    expect(csvText.split('\n').filter((line) => line.includes('B101')).length).toBeGreaterThanOrEqual(4) // a row per week
    const [xlsxFile] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Utilisation by room: XLSX' }).click()])
    const data = await readFile((await xlsxFile.path())!)
    const book = new ExcelJS.Workbook()
    await book.xlsx.load(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer)
    const sheet = book.worksheets[0]!
    const cells: string[] = []
    sheet.eachRow((row) => row.eachCell((cell) => { cells.push(String(cell.value)) }))
    expect(cells).toContain('B101')
    expect(sheet.rowCount).toBeGreaterThan(4)
  })

  test('the teacher cancels one date of an imported lesson; the others stay', async () => {
    const db = c.qrbook.database.db
    const page = await c.signedIn('teacher')
    page.on('dialog', (dialog) => void dialog.accept())
    await click(page, 'nav a:has-text("My lessons")', '**/console/lessons')
    const [algebra] = await db.select().from(series).where(eq(series.title, 'Линейная алгебра'))
    const lessons = await db.select().from(reservations).where(and(eq(reservations.seriesId, algebra!.id), eq(reservations.status, 'active')))
    const chosen = lessons.sort((a, b) => a.startTime.getTime() - b.startTime.getTime())[1]!
    const card = page.locator('article.lesson-series', { hasText: 'Линейная алгебра' })
    await card.locator('select[name=reservation_id]').selectOption(String(chosen.id))
    await card.locator('button', { hasText: 'Cancel this date' }).click()
    await page.locator('.flash.done').waitFor()
    const after = await db.select().from(reservations).where(eq(reservations.seriesId, algebra!.id))
    expect(after.filter((l) => l.status === 'cancelled').map((l) => l.id)).toEqual([chosen.id])
    expect(after.filter((l) => l.status === 'active')).toHaveLength(lessons.length - 1)
  })
})
