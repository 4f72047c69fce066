/**
 * The console's term and closures pages (issue 27), in-process: a Windows-1251 timetable with
 * Russian headers and DD.MM.YYYY dates checked (the dry run as a table: lessons, conflicts with a
 * booking and with an earlier line, lessons left out in a holiday) and then imported, a holidays
 * ICS checked (each holiday, what importing it would do, the bookings and lessons inside: nothing
 * written) and then committed, a term added, closures created, changed and deleted; each write checked in the
 * database; values escaped; a post without the session's CSRF value changes nothing.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { and, eq, gt, inArray, isNotNull, lt } from 'drizzle-orm'
import { closures, reservations, rooms, series, terms, users } from '../src/db/schema'
import { localParts, zonedToUtc } from '../src/lib/time'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'

setDefaultTimeout(30_000)

const TZ = 'Europe/Moscow'
const DAY = 24 * 3600_000

// Windows-1251 by hand (as test/timetable-import-ru.test.ts): ASCII as it is, А..я at 0xC0..0xFF.
const CYRILLIC = 'АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя'
function cp1251(text: string): Uint8Array {
  return Uint8Array.from([...text].map((ch) => {
    const code = ch.charCodeAt(0)
    if (code < 0x80) return code
    const index = CYRILLIC.indexOf(ch)
    if (index < 0) throw new Error(`no Windows-1251 byte for ${ch} in this test's table`)
    return 0xc0 + index
  }))
}
const HEADER = 'аудитория;преподаватель;день;начало;конец;с;по;название'
const excelCsv = (rows: string[]) => [HEADER, ...rows].map((line) => `${line}\r\n`).join('')

/** The local date `days` after now in Moscow, the Monday on or after it. */
function mondayAfter(now: Date, days: number): { y: number; m: number; d: number } {
  for (let i = days; i < days + 7; i++) {
    const p = localParts(new Date(now.getTime() + i * DAY), TZ)
    const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay()
    if (weekday === 1) return { y: p.year, m: p.month, d: p.day }
  }
  throw new Error('no Monday in a week')
}
const plusDays = (date: { y: number; m: number; d: number }, days: number) => {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d + days))
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() }
}
const two = (n: number) => String(n).padStart(2, '0')
const ru = (date: { y: number; m: number; d: number }) => `${two(date.d)}.${two(date.m)}.${date.y}`
const iso = (date: { y: number; m: number; d: number }) => `${date.y}-${two(date.m)}-${two(date.d)}`
const at = (date: { y: number; m: number; d: number }, hh: number, mm = 0) => zonedToUtc(date.y, date.m, date.d, hh * 3600 + mm * 60, TZ)
const input = (date: { y: number; m: number; d: number }, hh: number, mm = 0) => `${iso(date)}T${two(hh)}:${two(mm)}`

let t: TestApp
let admin: Client
const ids: Record<string, number> = {}
beforeAll(async () => {
  t = await testApp({ env: { APP_TIMEZONE: TZ } })
  admin = await loggedIn(t.app, 'admin')
  for (const r of await t.database.db.select().from(rooms)) ids[r.name] = r.id
  for (const u of await t.database.db.select().from(users)) ids[u.name] = u.id
})
afterAll(async () => { await t.close() })

const fileOf = (bytes: Uint8Array, name = 'расписание.csv', type = 'text/csv') => new File([bytes], name, { type })
const hiddenFile = (html: string) => /name="file" value="([^"]*)"/.exec(html)?.[1]
/** The preview table's rows: the cells' text, tags removed. */
function tableRows(html: string): string[][] {
  const body = /<table class="import-preview">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? ''
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)]
    .map((cell) => cell[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()))
}
const unescape = (html: string) => html.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')
const flashOf = async (client: Client, path: string) => {
  const raw = /<p class="flash (?:done|error)"[^>]*>([^<]*)</.exec((await client.get(path)).text)?.[1]
  return raw === undefined ? undefined : unescape(raw)
}
/** The page's text outside attribute values (which are quoted and escaped: a "<" there is text). */
const outsideAttributes = (html: string) => html.replace(/="[^"]*"/g, '=""')

describe('/console/term: the timetable', () => {
  // Four weeks from the first Monday a month from now; a holiday on the second Monday.
  const monday = mondayAfter(new Date(), 30)
  const until = plusDays(monday, 27)
  const holiday = plusDays(monday, 7)
  const wednesday = plusDays(monday, 2)
  const rows = [
    `B101;teacher;пн;09:00;10:30;${ru(monday)};${ru(until)};Линейная алгебра`,
    `B101;teacher;Пн;10:00;11:00;${ru(monday)};${ru(until)};Физика`, // overlaps line 2 every Monday
    `B102;teacher;ср;12:00;13:30;${ru(monday)};${ru(until)};Химия`, // the first Wednesday overlaps a student's booking
    `A200;teacher;пт;14:00;15:30;${ru(monday)};${ru(until)};Геометрия`,
  ]
  let bookingId = 0
  const fileSeries = () => t.database.db.select().from(series).where(isNotNull(series.importKey))

  beforeAll(async () => {
    const [booking] = await t.database.db.insert(reservations).values({
      roomId: ids.B102!, userId: ids.student!, startTime: at(wednesday, 12, 30), endTime: at(wednesday, 13, 0), checkInRequired: false,
      title: 'Консультация', createdAt: new Date(), updatedAt: new Date(),
    }).returning()
    bookingId = booking!.id
    const closed = await admin.post('/api/admin/closures', { all_rooms: true, start_time: at(holiday, 0).toISOString(), end_time: at(plusDays(holiday, 1), 0).toISOString(), kind: 'holiday', reason: 'Праздник' })
    expect(closed.status, closed.text).toBe(201)
  })

  test('the page has the two upload forms and the terms', async () => {
    const page = await admin.get('/console/term')
    expect(page.status).toBe(200)
    expect(page.text).toContain('<h1>Term</h1>')
    expect(page.text).toContain('action="/console/term/timetable/preview" enctype="multipart/form-data"')
    expect(page.text).toContain('<input type="file" name="file" accept=".csv,text/csv" required')
    expect(page.text).toContain('action="/console/term/holidays/preview" enctype="multipart/form-data"')
    expect(page.text).toContain('action="/console/term/terms"')
  })

  let carried = ''
  test('a cp1251 file with Russian headers is checked: the dry run as a table, totals on top, nothing written', async () => {
    const res = await admin.form('/console/term/timetable/preview', { file: fileOf(cp1251(excelCsv(rows))) })
    expect(res.status, res.text).toBe(200)
    expect(res.text).toContain('<h1>Timetable check</h1>')
    expect(res.text).toContain('read as windows-1251, cells separated by &quot;;&quot;')
    const table = tableRows(res.text)
    expect(table.map((r) => r.slice(0, 5))).toEqual([
      ['2', 'B101', 'teacher', `пн 09:00–10:30 Линейная алгебра`, `${ru(monday)} – ${ru(until)}`],
      ['3', 'B101', 'teacher', `Пн 10:00–11:00 Физика`, `${ru(monday)} – ${ru(until)}`],
      ['4', 'B102', 'teacher', `ср 12:00–13:30 Химия`, `${ru(monday)} – ${ru(until)}`],
      ['5', 'A200', 'teacher', `пт 14:00–15:30 Геометрия`, `${ru(monday)} – ${ru(until)}`],
    ])
    // line 2: three Mondays, the holiday left out
    expect(table[0]![5]).toBe('would create 3 1 in closures')
    expect(table[0]![6]).toContain('left out: room is closed: Праздник')
    // line 3: the holiday left out, the other three overlap line 2
    expect(table[1]![5]).toBe('1 in closures 3 conflicts')
    expect(table[1]![6]).toContain('overlaps the lesson of line 2')
    expect(table[2]![5]).toBe('would create 3 1 conflicts')
    expect(table[2]![6]).toContain(`overlaps booking #${bookingId} of student, Консультация`)
    expect(table[3]![5]).toBe('would create 4')
    expect(res.text).toMatch(/<strong>10<\/strong><span>lessons to create<\/span>/)
    expect(res.text).toMatch(/<strong>4<\/strong><span>conflicts<\/span>/)
    expect(res.text).toContain('action="/console/term/timetable/commit"')
    carried = hiddenFile(res.text)!
    expect(Buffer.from(carried, 'base64url')).toEqual(Buffer.from(cp1251(excelCsv(rows))))
    expect(await fileSeries()).toEqual([])
  })

  test('in Russian the table and the messages are Russian', async () => {
    const res = await admin.form('/console/term/timetable/preview', { file: fileOf(cp1251(excelCsv(rows))) }, { headers: { 'accept-language': 'ru' } })
    expect(res.text).toContain('<h1>Проверка расписания</h1>')
    const table = tableRows(res.text)
    expect(table[0]![5]).toBe('создать 3 1 в дни закрытия')
    expect(table[1]![6]).toContain('пересекается с занятием строки 2')
    expect(table[0]![6]).toContain('аудитория закрыта')
  })

  test('committed without skipping conflicts it is refused with the report: nothing is written', async () => {
    const res = await admin.form('/console/term/timetable/commit', { file: carried, file_name: 'расписание.csv' })
    expect(res.status).toBe(409)
    expect(res.text).toContain('<p class="flash error" role="alert">nothing was imported')
    expect(tableRows(res.text)).toHaveLength(4)
    expect(await fileSeries()).toEqual([])
  })

  test('without the CSRF value neither the check nor the commit does anything', async () => {
    const check = await admin.form('/console/term/timetable/preview', { file: fileOf(cp1251(excelCsv(rows))) }, { csrfToken: false })
    expect(check.status).toBe(403)
    const commit = await admin.form('/console/term/timetable/commit', { file: carried, skip_conflicts: '1' }, { csrfToken: false })
    expect(commit.status).toBe(403)
    expect(await fileSeries()).toEqual([])
  })

  test('committed skipping conflicts: the series and their lessons are in the database, the notice gives the totals', async () => {
    const res = await admin.form('/console/term/timetable/commit', { file: carried, file_name: 'расписание.csv', skip_conflicts: '1' })
    expect(res.status, res.text).toBe(303)
    expect(res.headers.get('location')).toBe('/console/term?imported=1')
    const page = await admin.get('/console/term?imported=1')
    expect(page.text).toContain('Timetable imported: 3 series; 10 lessons created, 0 changed, 0 cancelled, 0 unchanged; 2 left out in closures, 4 conflicts left out.')
    expect(page.text).toContain('<a href="/console/calendar">Open the calendar</a>')
    const made = await fileSeries()
    expect(made.map((s) => s.title).sort()).toEqual(['Геометрия', 'Линейная алгебра', 'Химия'])
    expect(made.every((s) => s.userId === ids.teacher)).toBe(true)
    const lessons = await t.database.db.select().from(reservations).where(and(inArray(reservations.seriesId, made.map((s) => s.id)), eq(reservations.status, 'active')))
    expect(lessons).toHaveLength(10)
    const algebra = lessons.filter((l) => l.title === 'Линейная алгебра').map((l) => l.startTime.getTime()).sort()
    expect(algebra).toEqual([at(monday, 9), at(plusDays(monday, 14), 9), at(plusDays(monday, 21), 9)].map((d) => d.getTime()))
  })

  test('checked again, the same file changes nothing', async () => {
    const res = await admin.form('/console/term/timetable/preview', { file: fileOf(cp1251(excelCsv(rows))) })
    expect(tableRows(res.text)[3]![5]).toBe('unchanged 4')
  })

  test('a file with errors shows them by line, escaped, and cannot be committed', async () => {
    const bad = [`<script>alert(1)</script>;teacher;пн;09:00;10:30;${ru(monday)};${ru(until)};Алгебра`, `B101;teacher;xx;09:00;10:30;${ru(monday)};${ru(until)};Алгебра`]
    const res = await admin.form('/console/term/timetable/preview', { file: fileOf(cp1251(excelCsv(bad))) })
    expect(res.status).toBe(200)
    expect(outsideAttributes(res.text)).not.toContain('<script>alert(1)</script>')
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    const table = tableRows(res.text)
    expect(table[0]![0]).toBe('2')
    expect(table[0]![6]).toContain('room not found: &lt;script&gt;alert(1)&lt;/script&gt;')
    expect(table[1]![6]).toContain('weekday &quot;xx&quot;')
    expect(res.text).not.toContain('action="/console/term/timetable/commit"')
  })

  test('no file, or not a timetable, comes back as a notice', async () => {
    const none = await admin.form('/console/term/timetable/preview', { file: new File([], '') })
    expect(none.status).toBe(303)
    expect(await flashOf(admin, '/console/term')).toBe('Choose a file to upload.')
    await admin.form('/console/term/timetable/preview', { file: fileOf(new TextEncoder().encode('a;b\n1;2\n')) })
    expect(await flashOf(admin, '/console/term')).toStartWith('the header must name the columns')
    await admin.form('/console/term/timetable/commit', { file: 'not base64!' })
    expect(await flashOf(admin, '/console/term')).toBe('The checked file did not come back: check it again.')
  })
})

describe('/console/term: holidays and terms', () => {
  const year = localParts(new Date(), TZ).year + 1
  const ics = [
    'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//holidays//RU',
    'BEGIN:VEVENT', `UID:new-year-${year}@test`, `DTSTART;VALUE=DATE:${year}0101`, `DTEND;VALUE=DATE:${year}0109`, 'SUMMARY:Новогодние каникулы', 'END:VEVENT',
    'BEGIN:VEVENT', `UID:may-${year}@test`, `DTSTART;VALUE=DATE:${year}0501`, `DTEND;VALUE=DATE:${year}0502`, 'SUMMARY:<script>alert(1)</script>', 'END:VEVENT',
    'END:VCALENDAR', '',
  ].join('\r\n')
  const imported = () => t.database.db.select().from(closures).where(isNotNull(closures.uid))

  /** The active bookings and lessons (not ended) inside [start, end), as the preview counts them. */
  const inside = async (start: Date, end: Date) => {
    const rows = await t.database.db.select().from(reservations).where(and(eq(reservations.status, 'active'), lt(reservations.startTime, end), gt(reservations.endTime, start), gt(reservations.endTime, new Date())))
    return [rows.filter((r) => r.seriesId === null).length, rows.filter((r) => r.seriesId !== null).length]
  }
  /** The holidays preview's table: the cells' text, tags removed. */
  const holidayRows = (html: string) => {
    const body = /<table class="import-preview holidays-preview">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? ''
    return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)]
      .map((cell) => cell[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()))
  }

  test('an ICS file is checked first (nothing written), then committed: one all-rooms holiday per event, shown as a table', async () => {
    // a booking on January 3rd: the New Year holiday shows it
    await t.database.db.insert(reservations).values({ roomId: ids.B101!, userId: ids.student!, startTime: at({ y: year, m: 1, d: 3 }, 10), endTime: at({ y: year, m: 1, d: 3 }, 11), createdAt: new Date(), updatedAt: new Date() })
    const newYear = await inside(at({ y: year, m: 1, d: 1 }, 0), at({ y: year, m: 1, d: 9 }, 0))
    const may = await inside(at({ y: year, m: 5, d: 1 }, 0), at({ y: year, m: 5, d: 2 }, 0))
    expect(newYear[0]).toBeGreaterThanOrEqual(1)

    const preview = await admin.form('/console/term/holidays/preview', { file: new File([ics], 'holidays.ics', { type: 'text/calendar' }) })
    expect(preview.status, preview.text).toBe(200)
    expect(preview.text).toContain('<h1>Holidays check</h1>')
    expect(preview.text).toContain('File holidays.ics: 2 events.')
    expect(holidayRows(preview.text)).toEqual([
      ['Новогодние каникулы', `01/01/${year}, 00:00`, `09/01/${year}, 00:00`, 'would create', String(newYear[0]), String(newYear[1])],
      ['&lt;script&gt;alert(1)&lt;/script&gt;', `01/05/${year}, 00:00`, `02/05/${year}, 00:00`, 'would create', String(may[0]), String(may[1])],
    ])
    expect(outsideAttributes(preview.text)).not.toContain('<script>alert(1)')
    expect(await imported()).toEqual([])
    const carried = hiddenFile(preview.text)
    expect(carried).toBe(Buffer.from(ics).toString('base64url'))
    expect(preview.text).toContain('action="/console/term/holidays"')

    const res = await admin.form('/console/term/holidays', { file: carried!, file_name: 'holidays.ics' })
    expect(res.status, res.text).toBe(200)
    expect(res.text).toContain('Holidays imported: 2 new, 0 changed, 0 already there.')
    expect(res.text).toContain('<td>Новогодние каникулы</td>')
    expect(res.text).toContain('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>')
    expect(res.text).toContain(`01/01/${year}, 00:00–09/01/${year}, 00:00`)
    const rows = await imported()
    expect(rows.map((r) => [r.uid, r.allRooms, r.kind, r.startTime.getTime(), r.endTime.getTime()]).sort()).toEqual([
      [`may-${year}@test`, true, 'holiday', at({ y: year, m: 5, d: 1 }, 0).getTime(), at({ y: year, m: 5, d: 2 }, 0).getTime()],
      [`new-year-${year}@test`, true, 'holiday', at({ y: year, m: 1, d: 1 }, 0).getTime(), at({ y: year, m: 1, d: 9 }, 0).getTime()],
    ])

    // checked again (in Russian) it changes nothing: no commit form; committed anyway, nothing new
    const previewAgain = await admin.form('/console/term/holidays/preview', { file: new File([ics], 'holidays.ics', { type: 'text/calendar' }) }, { headers: { 'accept-language': 'ru' } })
    expect(previewAgain.text).toContain('<h1>Проверка праздников</h1>')
    expect(holidayRows(previewAgain.text).map((r) => r[3])).toEqual(['без изменений', 'без изменений'])
    expect(previewAgain.text).toContain('Все праздники этого файла уже есть в таком виде: загрузка ничего не изменит.')
    expect(previewAgain.text).not.toContain('action="/console/term/holidays"')
    const again = await admin.form('/console/term/holidays', { file: carried!, file_name: 'holidays.ics' }, { headers: { 'accept-language': 'ru' } })
    expect(again.text).toContain('Праздники загружены: новых — 0, изменено — 0, уже были — 2.')
    expect(await imported()).toHaveLength(2)
  })

  test('a changed file is checked as "would update"; a carried file that did not come back is refused', async () => {
    const changed = ics.replace(`DTEND;VALUE=DATE:${year}0109`, `DTEND;VALUE=DATE:${year}0110`)
    const preview = await admin.form('/console/term/holidays/preview', { file: new File([changed], 'holidays.ics') })
    expect(holidayRows(preview.text).map((r) => [r[0], r[2], r[3]])).toEqual([
      ['Новогодние каникулы', `10/01/${year}, 00:00`, 'would update'],
      ['&lt;script&gt;alert(1)&lt;/script&gt;', `02/05/${year}, 00:00`, 'unchanged'],
    ])
    const stored = await imported()
    expect(stored.find((r) => r.uid === `new-year-${year}@test`)!.endTime).toEqual(at({ y: year, m: 1, d: 9 }, 0))
    await admin.form('/console/term/holidays', { file: 'not base64!', file_name: 'x.ics' })
    expect(await flashOf(admin, '/console/term')).toBe('The checked file did not come back: check it again.')
    expect(await imported()).toEqual(stored)
  })

  test('a broken ICS is refused with a notice; without the CSRF value nothing is checked or imported', async () => {
    await admin.form('/console/term/holidays/preview', { file: new File(['BEGIN:VCALENDAR\r\nnonsense'], 'x.ics') })
    expect(await flashOf(admin, '/console/term')).toStartWith('not an iCalendar file')
    const other = ics.replaceAll(`@test`, '@other')
    expect((await admin.form('/console/term/holidays/preview', { file: new File([other], 'x.ics') }, { csrfToken: false })).status).toBe(403)
    expect((await admin.form('/console/term/holidays', { file: Buffer.from(other).toString('base64url') }, { csrfToken: false })).status).toBe(403)
    expect((await admin.form('/console/term/holidays', { file: new File([other], 'x.ics') }, { csrfToken: false })).status).toBe(403)
    expect(await imported()).toHaveLength(2)
  })

  test('a term is added and listed; a bad one is refused; an escaped name; none without the CSRF value', async () => {
    const res = await admin.form('/console/term/terms', { name: '<script>alert(1)</script>', starts_on: `${year}-02-01`, ends_on: `${year}-06-30` })
    expect(res.status).toBe(303)
    const [row] = await t.database.db.select().from(terms)
    expect(row).toMatchObject({ name: '<script>alert(1)</script>', startsOn: `${year}-02-01`, endsOn: `${year}-06-30` })
    const page = await admin.get('/console/term')
    expect(page.text).toContain('Term &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; added.')
    expect(page.text).toContain(`<td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td><time datetime="${year}-02-01">01/02/${year}</time>`)
    expect(outsideAttributes(page.text)).not.toContain('<script>alert(1)</script>')
    await admin.form('/console/term/terms', { name: 'Весна', starts_on: `${year}-06-30`, ends_on: `${year}-02-01` }, { headers: { 'accept-language': 'ru' } })
    expect(await flashOf(admin, '/console/term')).toBe('starts_on не может быть позже ends_on')
    expect((await admin.form('/console/term/terms', { name: 'Осень', starts_on: `${year}-09-01`, ends_on: `${year}-12-30` }, { csrfToken: false })).status).toBe(403)
    expect(await t.database.db.select().from(terms)).toHaveLength(1)
  })

  test('a teacher may not use the page or its forms', async () => {
    const teacher = await loggedIn(t.app, 'teacher')
    expect((await teacher.get('/console/term')).status).toBe(403)
    expect((await teacher.form('/console/term/terms', { name: 'X', starts_on: `${year}-09-01`, ends_on: `${year}-12-30` })).status).toBe(403)
    expect(await t.database.db.select().from(terms)).toHaveLength(1)
    const other = ics.replaceAll(`@test`, '@teacher')
    expect((await teacher.form('/console/term/holidays/preview', { file: new File([other], 'x.ics') })).status).toBe(403)
    expect((await teacher.form('/console/term/holidays', { file: Buffer.from(other).toString('base64url') })).status).toBe(403)
    expect(await imported()).toHaveLength(2)
  })
})

describe('/console/closures', () => {
  const day = plusDays(mondayAfter(new Date(), 60), 0)
  const created = () => t.database.db.select().from(closures).where(eq(closures.reason, 'Ремонт отопления'))

  test('the page lists the upcoming closures and has the form', async () => {
    const page = await admin.get('/console/closures')
    expect(page.status).toBe(200)
    expect(page.text).toContain('<h1>Closures</h1>')
    expect(page.text).toContain('action="/console/closures/create"')
    expect(page.text).toContain('<span>B101</span>')
    expect(page.text).toContain('Новогодние каникулы')
    expect(page.text).toContain('data-confirm="Delete this closure? Rooms can be booked in its time again."')
  })

  test('a closure of two rooms is created in the rooms\' zone', async () => {
    const res = await admin.form('/console/closures/create', {
      scope: 'some', room_ids: [String(ids.B101), String(ids.B102)], start: input(day, 8), end: input(day, 18, 30), kind: 'maintenance', reason: 'Ремонт отопления',
    })
    expect(res.status).toBe(303)
    expect(await flashOf(admin, '/console/closures')).toBe('Closure created.')
    const [row] = await created()
    expect(row).toMatchObject({ allRooms: false, roomIds: [ids.B101, ids.B102], kind: 'maintenance', startTime: at(day, 8), endTime: at(day, 18, 30) })
    const page = await admin.get('/console/closures')
    expect(page.text).toContain('<td data-label="Rooms">B101, B102</td>')
  })

  test('bad input is refused with a notice and writes nothing', async () => {
    const before = (await t.database.db.select().from(closures)).length
    await admin.form('/console/closures/create', { scope: 'some', start: input(day, 8), end: input(day, 9), kind: 'exam', reason: 'x' })
    expect(await flashOf(admin, '/console/closures')).toBe('Choose the rooms, or "All rooms".')
    await admin.form('/console/closures/create', { scope: 'all', start: 'tomorrow', end: input(day, 9), kind: 'exam', reason: 'x' })
    expect(await flashOf(admin, '/console/closures')).toBe('Give the start and the end as a date and a time.')
    await admin.form('/console/closures/create', { scope: 'all', start: input(day, 9), end: input(day, 8), kind: 'exam', reason: 'x' }, { headers: { 'accept-language': 'ru' } })
    expect(await flashOf(admin, '/console/closures')).toBeTruthy()
    await admin.form('/console/closures/create', { scope: 'all', start: input(day, 8), end: input(day, 9), kind: 'exam', reason: 'x' }, { csrfToken: false })
    expect((await t.database.db.select().from(closures)).length).toBe(before)
  })

  test('a closure is changed through its form and deleted; an escaped reason', async () => {
    const [row] = await created()
    const form = await admin.get(`/console/closures/${row!.id}`)
    expect(form.status).toBe(200)
    expect(form.text).toContain(`value="${input(day, 8)}"`)
    const res = await admin.form(`/console/closures/${row!.id}/update`, { start: input(day, 7), end: input(day, 19), kind: 'other', reason: '<script>alert(1)</script>' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/console/closures')
    const [changed] = await t.database.db.select().from(closures).where(eq(closures.id, row!.id))
    expect(changed).toMatchObject({ startTime: at(day, 7), endTime: at(day, 19), kind: 'other', reason: '<script>alert(1)</script>' })
    const page = await admin.get('/console/closures')
    expect(page.text).toContain('<span>&lt;script&gt;alert(1)&lt;/script&gt;</span>')
    expect(outsideAttributes(page.text)).not.toContain('<script>alert(1)</script>')
    expect((await admin.form(`/console/closures/${row!.id}/delete`, {}, { csrfToken: false })).status).toBe(403)
    expect(await t.database.db.select().from(closures).where(eq(closures.id, row!.id))).toHaveLength(1)
    const deleted = await admin.form(`/console/closures/${row!.id}/delete`, {})
    expect(deleted.status).toBe(303)
    expect(await flashOf(admin, '/console/closures')).toBe('Closure deleted.')
    expect(await t.database.db.select().from(closures).where(eq(closures.id, row!.id))).toHaveLength(0)
    expect((await admin.get(`/console/closures/${row!.id}`)).status).toBe(404)
    expect((await admin.get('/console/closures/abc')).status).toBe(404)
  })

  test('an all-rooms closure over a booking can cancel it; past closures are behind their tab', async () => {
    const soon = plusDays(day, 1)
    const [booking] = await t.database.db.insert(reservations).values({
      roomId: ids.S001!, userId: ids.teacher!, startTime: at(soon, 10), endTime: at(soon, 11), checkInRequired: false, createdAt: new Date(), updatedAt: new Date(),
    }).returning()
    await admin.form('/console/closures/create', { scope: 'all', start: input(soon, 0), end: input(soon, 23), kind: 'exam', reason: 'Экзамены', cancel_affected: '1' })
    expect(await flashOf(admin, '/console/closures')).toBe('Closure created. 1 bookings inside it were cancelled.')
    const [after] = await t.database.db.select().from(reservations).where(eq(reservations.id, booking!.id))
    expect(after!.status).toBe('cancelled')

    const now = new Date()
    await t.database.db.insert(closures).values({ allRooms: true, kind: 'other', reason: 'Давно прошло', startTime: new Date(now.getTime() - 10 * DAY), endTime: new Date(now.getTime() - 9 * DAY), createdAt: now, updatedAt: now })
    expect((await admin.get('/console/closures')).text).not.toContain('Давно прошло')
    const past = await admin.get('/console/closures?show=past')
    expect(past.text).toContain('Давно прошло')
    expect(past.text).not.toContain('Экзамены')
    expect(past.text).toContain('aria-current="page">Past</a>')
  })
})
