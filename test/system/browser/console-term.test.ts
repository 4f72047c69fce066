/**
 * Setting up a term in Chromium (issue 27), only through the console: the admin uploads a
 * Windows-1251 timetable with Russian headers and DD.MM.YYYY dates, reads the dry run's table,
 * commits it (skipping the one conflict) and finds the series and lessons in the database; checks
 * a holidays ICS (each holiday, what it would do, the bookings and lessons inside; nothing written)
 * and commits it; adds a term; creates, changes and deletes a closure on /console/closures. Then the
 * same pages in Russian. Screenshots: term, term-preview, term-holidays-preview, closures (and -ru); axe on each.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { and, eq, gt, inArray, isNotNull, lt } from 'drizzle-orm'
import type { Page } from 'playwright-core'
import { closures, reservations, rooms, series, terms, users } from '../../../src/db/schema'
import { localParts, zonedToUtc } from '../../../src/lib/time'
import { hasChromium } from '../../helpers/browser'
import { openConsole, type ConsoleHarness } from '../../helpers/console'

setDefaultTimeout(90_000)
let c: ConsoleHarness

const TZ = 'Europe/Moscow' // openConsole's APP_TIMEZONE
const DAY = 24 * 3600_000

// Windows-1251 by hand (as test/timetable-import-ru.test.ts): ASCII as it is, А..я at 0xC0..0xFF.
const CYRILLIC = 'АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя'
function cp1251(text: string): Buffer {
  return Buffer.from([...text].map((ch) => {
    const code = ch.charCodeAt(0)
    if (code < 0x80) return code
    const index = CYRILLIC.indexOf(ch)
    if (index < 0) throw new Error(`no Windows-1251 byte for ${ch} in this test's table`)
    return 0xc0 + index
  }))
}

type LocalDate = { y: number; m: number; d: number }
/** The first Monday at least `days` from now, in Moscow. */
function mondayAfter(days: number): LocalDate {
  for (let i = days; i < days + 7; i++) {
    const p = localParts(new Date(Date.now() + i * DAY), TZ)
    if (new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay() === 1) return { y: p.year, m: p.month, d: p.day }
  }
  throw new Error('no Monday in a week')
}
const plusDays = (date: LocalDate, days: number): LocalDate => {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days))
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() }
}
const two = (n: number) => String(n).padStart(2, '0')
const ru = (date: LocalDate) => `${two(date.d)}.${two(date.m)}.${date.y}`
const iso = (date: LocalDate) => `${date.y}-${two(date.m)}-${two(date.d)}`
const at = (date: LocalDate, hh: number, mm = 0) => zonedToUtc(date.y, date.m, date.d, hh * 3600 + mm * 60, TZ)

// Next month's four weeks: three lessons a week and one line that overlaps line 2.
const monday = mondayAfter(30)
const until = plusDays(monday, 27)
const CSV = [
  'аудитория;преподаватель;день;начало;конец;с;по;название',
  `B101;teacher;пн;09:00;10:30;${ru(monday)};${ru(until)};Линейная алгебра`,
  `B102;teacher;ср;12:00;13:30;${ru(monday)};${ru(until)};Химия`,
  `A200;teacher;пт;14:00;15:30;${ru(monday)};${ru(until)};Геометрия`,
  `B101;teacher;пн;10:00;11:00;${ru(monday)};${ru(until)};Физика`,
].map((line) => `${line}\r\n`).join('')
const year = monday.y + 1
const ICS = [
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//college//holidays//RU',
  'BEGIN:VEVENT', `UID:new-year-${year}@college`, `DTSTART;VALUE=DATE:${year}0101`, `DTEND;VALUE=DATE:${year}0109`, 'SUMMARY:Новогодние каникулы', 'END:VEVENT',
  'BEGIN:VEVENT', `UID:defender-${year}@college`, `DTSTART;VALUE=DATE:${year}0223`, `DTEND;VALUE=DATE:${year}0224`, 'SUMMARY:День защитника Отечества', 'END:VEVENT',
  'END:VCALENDAR', '',
].join('\r\n')

const csvFile = { name: 'расписание.csv', mimeType: 'text/csv', buffer: cp1251(CSV) }
const tableText = (page: Page) => page.locator('table.import-preview tbody tr').evaluateAll((rows) =>
  rows.map((row) => [...(row as any).querySelectorAll('td')].map((td: any) => String(td.innerText).replace(/\s+/g, ' ').trim())))

async function submit(page: Page, button: string, url: string | RegExp) {
  await Promise.all([page.waitForURL(url), page.locator(button).click()])
}

describe.skipIf(!hasChromium)('console: setting up a term', () => {
  beforeAll(async () => { c = await openConsole() })
  afterAll(async () => { await c?.close() })

  test('the admin checks a cp1251 timetable, reads the dry run and commits it', async () => {
    const db = c.qrbook.database.db
    const page = await c.signedIn('admin')
    await page.goto(`${c.base}/console/term`)
    expect(await page.locator('h1').textContent()).toBe('Term')
    await c.shoot(page, 'term')
    expect(await c.axe(page)).toEqual([])

    await page.locator('input[type=file][accept=".csv,text/csv"]').setInputFiles(csvFile)
    await submit(page, 'form[action="/console/term/timetable/preview"] button[type=submit]', '**/console/term/timetable/preview')
    expect(await page.locator('h1').textContent()).toBe('Timetable check')
    const rows = await tableText(page)
    expect(rows.map((r) => r.slice(0, 6))).toEqual([
      ['2', 'B101', 'teacher', 'пн 09:00–10:30 Линейная алгебра', `${ru(monday)} – ${ru(until)}`, 'would create 4'],
      ['3', 'B102', 'teacher', 'ср 12:00–13:30 Химия', `${ru(monday)} – ${ru(until)}`, 'would create 4'],
      ['4', 'A200', 'teacher', 'пт 14:00–15:30 Геометрия', `${ru(monday)} – ${ru(until)}`, 'would create 4'],
      ['5', 'B101', 'teacher', 'пн 10:00–11:00 Физика', `${ru(monday)} – ${ru(until)}`, '4 conflicts'],
    ])
    expect(rows[3]![6]).toContain('overlaps the lesson of line 2')
    expect(await page.locator('.tile', { hasText: 'lessons to create' }).locator('strong').textContent()).toBe('12')
    expect(await db.select().from(series).where(isNotNull(series.importKey))).toEqual([])
    await c.shoot(page, 'term-preview')
    expect(await c.axe(page)).toEqual([])

    // "skip conflicts" is ticked for a file with conflicts; the admin leaves it so
    expect(await page.locator('input[name=skip_conflicts]').isChecked()).toBe(true)
    await submit(page, 'form[action="/console/term/timetable/commit"] button[type=submit]', '**/console/term?imported=1')
    expect(await page.locator('.flash.done').textContent()).toBe('Timetable imported: 3 series; 12 lessons created, 0 changed, 0 cancelled, 0 unchanged; 0 left out in closures, 4 conflicts left out.')
    expect(await page.locator('a[href="/console/calendar"]', { hasText: 'Open the calendar' }).count()).toBe(1)

    const made = await db.select().from(series).where(isNotNull(series.importKey))
    expect(made.map((s) => s.title).sort()).toEqual(['Геометрия', 'Линейная алгебра', 'Химия'])
    const roomIds = Object.fromEntries((await db.select().from(rooms)).map((r) => [r.name, r.id]))
    const lessons = await db.select().from(reservations).where(and(inArray(reservations.seriesId, made.map((s) => s.id)), eq(reservations.status, 'active')))
    expect(lessons).toHaveLength(12)
    expect(lessons.filter((l) => l.roomId === roomIds.B101).map((l) => l.startTime.getTime()).sort())
      .toEqual([0, 7, 14, 21].map((days) => at(plusDays(monday, days), 9).getTime()))
  })

  test('the admin imports the holidays and adds a term', async () => {
    const db = c.qrbook.database.db
    const page = await c.signedIn('admin')
    // a student's booking on January 3rd, inside the New Year holidays: the check counts it
    const [student] = await db.select().from(users).where(eq(users.name, 'student'))
    const roomIds = Object.fromEntries((await db.select().from(rooms)).map((r) => [r.name, r.id]))
    await db.insert(reservations).values({ roomId: roomIds.A200!, userId: student!.id, startTime: at({ y: year, m: 1, d: 3 }, 10), endTime: at({ y: year, m: 1, d: 3 }, 11), createdAt: new Date(), updatedAt: new Date() })
    await page.goto(`${c.base}/console/term`)
    await page.locator('input[type=file][accept=".ics,text/calendar"]').setInputFiles({ name: 'holidays.ics', mimeType: 'text/calendar', buffer: Buffer.from(ICS) })
    await submit(page, 'form[action="/console/term/holidays/preview"] button[type=submit]', '**/console/term/holidays/preview')
    expect(await page.locator('h1').textContent()).toBe('Holidays check')
    const holidayRows = await page.locator('table.holidays-preview tbody tr').evaluateAll((rows) =>
      rows.map((row) => [...(row as any).querySelectorAll('td')].map((td: any) => String(td.innerText).replace(/\s+/g, ' ').trim())))
    expect(holidayRows.map((r) => r.slice(0, 4))).toEqual([
      ['Новогодние каникулы', `01/01/${year}, 00:00`, `09/01/${year}, 00:00`, 'would create'],
      ['День защитника Отечества', `23/02/${year}, 00:00`, `24/02/${year}, 00:00`, 'would create'],
    ])
    // the counts are the active bookings and lessons inside each holiday, as the database has them
    const inside = async (start: Date, end: Date) => {
      const active = await db.select().from(reservations).where(and(eq(reservations.status, 'active'), lt(reservations.startTime, end), gt(reservations.endTime, start)))
      return [String(active.filter((r) => r.seriesId === null).length), String(active.filter((r) => r.seriesId !== null).length)]
    }
    expect(holidayRows[0]![4]).toBe('1')
    expect(holidayRows.map((r) => r.slice(4))).toEqual([
      await inside(at({ y: year, m: 1, d: 1 }, 0), at({ y: year, m: 1, d: 9 }, 0)),
      await inside(at({ y: year, m: 2, d: 23 }, 0), at({ y: year, m: 2, d: 24 }, 0)),
    ])
    expect(await db.select().from(closures).where(isNotNull(closures.uid))).toEqual([])
    await c.shoot(page, 'term-holidays-preview')
    expect(await c.axe(page)).toEqual([])
    await submit(page, 'form[action="/console/term/holidays"] button[type=submit]', '**/console/term/holidays')
    expect(await page.locator('.flash.done').textContent()).toBe('Holidays imported: 2 new, 0 changed, 0 already there.')
    expect(await page.locator('tbody tr td:first-child').allTextContents()).toEqual(['Новогодние каникулы', 'День защитника Отечества'])
    const imported = await db.select().from(closures).where(isNotNull(closures.uid))
    expect(imported.map((r) => [r.reason, r.allRooms, r.kind, r.startTime.getTime(), r.endTime.getTime()]).sort()).toEqual([
      ['День защитника Отечества', true, 'holiday', at({ y: year, m: 2, d: 23 }, 0).getTime(), at({ y: year, m: 2, d: 24 }, 0).getTime()],
      ['Новогодние каникулы', true, 'holiday', at({ y: year, m: 1, d: 1 }, 0).getTime(), at({ y: year, m: 1, d: 9 }, 0).getTime()],
    ])

    await page.goto(`${c.base}/console/term`)
    await page.locator('input[name=name]').fill('Весна')
    await page.locator('input[name=starts_on]').fill(`${year}-02-01`)
    await page.locator('input[name=ends_on]').fill(`${year}-06-30`)
    await submit(page, 'form[action="/console/term/terms"] button[type=submit]', '**/console/term')
    expect(await page.locator('.flash.done').textContent()).toBe('Term "Весна" added.')
    expect(await db.select({ name: terms.name, startsOn: terms.startsOn, endsOn: terms.endsOn }).from(terms)).toEqual([{ name: 'Весна', startsOn: `${year}-02-01`, endsOn: `${year}-06-30` }])
  })

  test('the admin creates, changes and deletes a closure', async () => {
    const db = c.qrbook.database.db
    const page = await c.signedIn('admin')
    page.on('dialog', (dialog) => { void dialog.accept() })
    await page.goto(`${c.base}/console/closures`)
    const day = plusDays(monday, 3) // a Thursday of the term
    await page.locator('input[name=scope][value=some]').check()
    await page.locator('label', { hasText: 'B102' }).locator('input[name=room_ids]').check()
    await page.locator('label', { hasText: 'A200' }).locator('input[name=room_ids]').check()
    await page.locator('input[name=start]').fill(`${iso(day)}T08:00`)
    await page.locator('input[name=end]').fill(`${iso(day)}T18:00`)
    await page.locator('select[name=kind]').selectOption('maintenance')
    await page.locator('input[name=reason]').fill('Ремонт отопления')
    await submit(page, 'form[action="/console/closures/create"] button[type=submit]', '**/console/closures')
    expect(await page.locator('.flash.done').textContent()).toBe('Closure created.')
    const roomIds = Object.fromEntries((await db.select().from(rooms)).map((r) => [r.name, r.id]))
    const [made] = await db.select().from(closures).where(eq(closures.reason, 'Ремонт отопления'))
    expect(made).toMatchObject({ allRooms: false, kind: 'maintenance', startTime: at(day, 8), endTime: at(day, 18) })
    expect([...made!.roomIds!].sort()).toEqual([roomIds.A200!, roomIds.B102!].sort())
    const row = page.locator(`tr[data-id="${made!.id}"]`)
    expect(await row.locator('td').nth(1).textContent()).toBe('A200, B102')
    await c.shoot(page, 'closures')
    expect(await c.axe(page)).toEqual([])

    await submit(page, `tr[data-id="${made!.id}"] a.button`, `**/console/closures/${made!.id}`)
    expect(await page.locator('input[name=start]').inputValue()).toBe(`${iso(day)}T08:00`)
    await page.locator('input[name=end]').fill(`${iso(day)}T20:00`)
    await submit(page, 'form[action$="/update"] button[type=submit]', '**/console/closures')
    expect(await page.locator('.flash.done').textContent()).toBe('Closure changed.')
    expect((await db.select().from(closures).where(eq(closures.id, made!.id)))[0]!.endTime).toEqual(at(day, 20))

    // a second one for all rooms, then deleted (the browser's confirm is accepted)
    await page.locator('input[name=start]').fill(`${iso(plusDays(day, 1))}T08:00`)
    await page.locator('input[name=end]').fill(`${iso(plusDays(day, 1))}T12:00`)
    await page.locator('select[name=kind]').selectOption('exam')
    await page.locator('input[name=reason]').fill('Экзамен')
    await submit(page, 'form[action="/console/closures/create"] button[type=submit]', '**/console/closures')
    const [exam] = await db.select().from(closures).where(eq(closures.reason, 'Экзамен'))
    expect(exam).toMatchObject({ allRooms: true, kind: 'exam' })
    await submit(page, `tr[data-id="${exam!.id}"] button.danger`, '**/console/closures')
    expect(await page.locator('.flash.done').textContent()).toBe('Closure deleted.')
    expect(await db.select().from(closures).where(eq(closures.id, exam!.id))).toEqual([])
  })

  test('the same pages in Russian', async () => {
    const page = await c.signedIn('admin', { lang: 'ru' })
    await page.goto(`${c.base}/console/term`)
    expect(await page.locator('h1').textContent()).toBe('Семестр')
    await c.shoot(page, 'term-ru')
    expect(await c.axe(page)).toEqual([])
    await page.locator('input[type=file][accept=".csv,text/csv"]').setInputFiles(csvFile)
    await submit(page, 'form[action="/console/term/timetable/preview"] button[type=submit]', '**/console/term/timetable/preview')
    expect(await page.locator('h1').textContent()).toBe('Проверка расписания')
    const rows = await tableText(page)
    expect(rows.map((r) => r[5])).toEqual(['без изменений 4', 'без изменений 4', 'без изменений 4', 'конфликтов: 4'])
    // now line 2's lessons are in the database: line 5 overlaps them
    expect(rows[3]![6]).toMatch(/пересекается с занятием №\d+ \(teacher, Линейная алгебра\)/)
    await c.shoot(page, 'term-preview-ru')
    expect(await c.axe(page)).toEqual([])
    await page.goto(`${c.base}/console/closures`)
    expect(await page.locator('h1').textContent()).toBe('Закрытия')
    expect(await page.locator('table.closures tbody tr').count()).toBe(3)
    await c.shoot(page, 'closures-ru')
    expect(await c.axe(page)).toEqual([])
  })
})
