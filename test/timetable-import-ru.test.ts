/**
 * Issue 26: the timetable file a Russian college has. Russian Excel saves CSV in Windows-1251 with
 * `;` between cells and dates DD.MM.YYYY; its "CSV UTF-8" has a byte order mark; its "Unicode text"
 * is UTF-16 LE with a byte order mark and tabs. Each file is built here byte by byte as Excel writes
 * it and sent in one request through the app. Also: importing again changes nothing (or updates
 * what the file changed), holidays are left out while real clashes refuse, a term that has begun
 * is imported from now on, and a dry run says what it would do.
 * On both databases, on a fixed clock moved into TEST_CLOCK_YEAR by whole weeks.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { and, eq, inArray, like } from 'drizzle-orm'
import { changes, reservations, series, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { localParts, zonedToUtc } from '../src/lib/time'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

const TZ = 'Europe/Moscow'
const shifted = timeShifter('2030-08-19T08:00:00Z')
const NOW = new Date(shifted('2030-08-19T08:00:00Z')) // a Monday, two weeks before the term

/** A date as written for 2030, moved with the clock: "YYYY-MM-DD". */
const d = (date: string) => shifted(`${date}T12:00:00Z`).slice(0, 10)
/** The same date as Russian Excel writes it: "DD.MM.YYYY". */
const ru = (date: string) => d(date).split('-').reverse().join('.')
/** Local wall-clock time `hhmm` on `date` (2030, moved with the clock) in Moscow, as ISO UTC. */
function localAt(date: string, hhmm: string): string {
  const [y, m, day] = d(date).split('-').map(Number) as [number, number, number]
  const [h, min] = hhmm.split(':').map(Number) as [number, number]
  return zonedToUtc(y, m, day, h * 3600 + min * 60, TZ).toISOString().replace('.000Z', 'Z')
}
const localTime = (at: Date) => {
  const p = localParts(at, TZ)
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`
}

// Windows-1251 by hand (Bun's TextEncoder writes only UTF-8): ASCII as it is, А..я at 0xC0..0xFF.
const CYRILLIC = 'АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдежзийклмнопрстуфхцчшщъыьэюя'
const CP1251_EXTRA: Record<string, number> = { Ё: 0xa8, ё: 0xb8, '№': 0xb9 }
function cp1251(text: string): Uint8Array {
  return Uint8Array.from([...text].map((ch) => {
    const code = ch.charCodeAt(0)
    if (code < 0x80) return code
    const index = CYRILLIC.indexOf(ch)
    if (index >= 0) return 0xc0 + index
    if (CP1251_EXTRA[ch] !== undefined) return CP1251_EXTRA[ch]
    throw new Error(`no Windows-1251 byte for ${ch} in this test's table`)
  }))
}
/** UTF-16 with its byte order mark, little- or big-endian, as Excel's "Unicode text". */
function utf16(text: string, littleEndian = true): Uint8Array {
  const bytes = new Uint8Array(2 + text.length * 2)
  const view = new DataView(bytes.buffer)
  view.setUint16(0, 0xfeff, littleEndian)
  for (let i = 0; i < text.length; i++) view.setUint16(2 + 2 * i, text.charCodeAt(i), littleEndian)
  return bytes
}
const utf8WithBom = (text: string) => new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(text)])

const HEADER = 'день;начало;конец;аудитория;преподаватель;название;с;по'
/** A file as Russian Excel saves it: `;`, CRLF after every line. */
const excelCsv = (rows: string[], header = HEADER) => [header, ...rows].map((line) => `${line}\r\n`).join('')

interface World { t: TestApp; admin: Client; student: Client; ids: Record<string, number> }

async function world(clock = fixedClock(NOW)): Promise<World> {
  const t = await testApp({ clock, env: { APP_TIMEZONE: TZ } })
  const [admin, student] = await Promise.all([loggedIn(t.app, 'admin'), loggedIn(t.app, 'student')])
  const ids: Record<string, number> = {}
  for (const u of await t.database.db.select().from(users)) ids[u.name] = u.id
  return { t, admin, student, ids }
}

async function addRooms(w: World, ...names: string[]): Promise<void> {
  for (const name of names) {
    const created = await w.admin.post('/api/admin/rooms', { name, requires_check_in: false })
    expect(created.status, created.text).toBe(201)
    w.ids[name] = created.body.room.id
  }
}

const send = (w: World, file: Uint8Array, query = '') =>
  w.admin.request('POST', `/api/admin/timetable/import${query}`, { body: file, headers: { 'content-type': 'text/csv' }, csrf: true })

describe('a Windows-1251 file from Russian Excel', () => {
  let w: World
  beforeAll(async () => {
    w = await world()
    await addRooms(w, 'Ауд. 101', 'Ауд. 102')
  }, 120_000)
  afterAll(() => w.t.close())

  const rows = () => [
    `пн;09:00;10:30;Ауд. 101;teacher;Алгебра, практика;${ru('2030-09-02')};${ru('2030-12-22')}`,
    `Ср;09:00;10:30;Ауд. 101;teacher;Геометрия;${ru('2030-09-02')};${ru('2030-12-22')}`,
    `пт;13:00;14:30;Ауд. 102;admin;Физика;${ru('2030-09-02')};${ru('2030-12-22')}`,
  ]
  const seriesOfFile = () => w.t.database.db.select().from(series).where(inArray(series.roomId, [w.ids['Ауд. 101']!, w.ids['Ауд. 102']!]))
  const lessonsOfFile = () => w.t.database.db.select().from(reservations)
    .where(and(inArray(reservations.roomId, [w.ids['Ауд. 101']!, w.ids['Ауд. 102']!]), eq(reservations.status, 'active')))
  const seriesChanges = async () => (await w.t.database.db.select().from(changes).where(like(changes.event, 'series.%'))).length
  let firstIds: number[] = []

  test('a dry run reads it (windows-1251, ";"), says what it would create and writes nothing', async () => {
    const before = await seriesChanges()
    const dry = await send(w, cp1251(excelCsv(rows())), '?dry_run=1')
    expect(dry.status, dry.text).toBe(200)
    expect(dry.body).toMatchObject({ dry_run: true, encoding: 'windows-1251', delimiter: ';' })
    expect(dry.body.totals).toEqual({
      rows: 3, series: 3, occurrences: 48, would_create: 48, would_update: 0, would_cancel: 0, unchanged: 0,
      skipped_past: 0, skipped_closures: 0, conflicts: 0, errors: 0,
    })
    expect(dry.body.totals.created).toBeUndefined()
    expect(dry.body.rows[0]).toMatchObject({ line: 2, room: 'Ауд. 101', title: 'Алгебра, практика', would_create: 16, series_id: null, errors: [] })
    expect(dry.body.rows[0].created).toBeUndefined()
    expect(await seriesOfFile()).toEqual([])
    expect(await lessonsOfFile()).toEqual([])
    expect(await seriesChanges()).toBe(before)
  })

  test('the import creates a series per row with every lesson, titles and rooms in Russian intact', async () => {
    const reply = await send(w, cp1251(excelCsv(rows())))
    expect(reply.status, reply.text).toBe(201)
    expect(reply.body).toMatchObject({ dry_run: false, encoding: 'windows-1251', delimiter: ';' })
    expect(reply.body.totals).toMatchObject({ rows: 3, series: 3, occurrences: 48, created: 48, updated: 0, cancelled: 0, conflicts: 0, errors: 0 })
    expect(reply.body.totals.would_create).toBeUndefined()
    firstIds = reply.body.rows.map((r: { series_id: number }) => r.series_id)
    expect(firstIds.every((id) => Number.isInteger(id))).toBe(true)

    const stored = await seriesOfFile()
    expect(stored.map((s) => s.id).sort()).toEqual([...firstIds].sort())
    expect(stored.map((s): unknown[] => [s.title, s.userId, s.roomId]).sort()).toEqual([
      ['Алгебра, практика', w.ids.teacher, w.ids['Ауд. 101']],
      ['Геометрия', w.ids.teacher, w.ids['Ауд. 101']],
      ['Физика', w.ids.admin, w.ids['Ауд. 102']],
    ].sort())
    expect(stored.every((s) => s.importKey !== null)).toBe(true)
    const lessons = await lessonsOfFile()
    expect(lessons).toHaveLength(48)
    const algebra = lessons.filter((l) => l.seriesId === firstIds[0]).sort((a, b) => a.startTime.getTime() - b.startTime.getTime())
    expect(algebra).toHaveLength(16)
    expect(algebra[0]!.startTime.toISOString().replace('.000Z', 'Z')).toBe(localAt('2030-09-02', '09:00'))
    expect(algebra.at(-1)!.startTime.toISOString().replace('.000Z', 'Z')).toBe(localAt('2030-12-16', '09:00'))
    expect(new Set(algebra.map((l) => localTime(l.startTime)))).toEqual(new Set(['09:00']))
    expect(algebra.every((l) => l.title === 'Алгебра, практика')).toBe(true)
  })

  test('importing the same file again creates nothing: the same series, the same lessons, no change recorded', async () => {
    const lessonsBefore = (await lessonsOfFile()).map((l) => l.id).sort()
    const changesBefore = await seriesChanges()
    for (const query of ['', '?skip_conflicts=1']) {
      const again = await send(w, cp1251(excelCsv(rows())), query)
      expect(again.status, again.text).toBe(201)
      expect(again.body.totals).toMatchObject({ series: 3, occurrences: 48, created: 0, updated: 0, cancelled: 0, unchanged: 48, conflicts: 0 })
      expect(again.body.rows.map((r: { series_id: number }) => r.series_id)).toEqual(firstIds)
    }
    expect((await seriesOfFile()).map((s) => s.id).sort()).toEqual([...firstIds].sort())
    expect((await lessonsOfFile()).map((l) => l.id).sort()).toEqual(lessonsBefore)
    expect(await seriesChanges()).toBe(changesBefore)
  })

  test('a changed row updates its series: another teacher and title, a later end, an earlier until', async () => {
    const changed = [
      // two weeks shorter
      `пн;09:00;10:30;Ауд. 101;teacher;Алгебра, практика;${ru('2030-09-02')};${ru('2030-12-08')}`,
      // ends a quarter of an hour later
      `ср;09:00;10:45;Ауд. 101;teacher;Геометрия;${ru('2030-09-02')};${ru('2030-12-22')}`,
      // another teacher, another title
      `пт;13:00;14:30;Ауд. 102;teacher;Физика (лаб.);${ru('2030-09-02')};${ru('2030-12-22')}`,
    ]
    const dry = await send(w, cp1251(excelCsv(changed)), '?dry_run=1')
    expect(dry.body.totals).toMatchObject({ would_create: 0, would_update: 32, would_cancel: 2, unchanged: 14 })
    const reply = await send(w, cp1251(excelCsv(changed)))
    expect(reply.status, reply.text).toBe(201)
    expect(reply.body.totals).toMatchObject({ created: 0, updated: 32, cancelled: 2, unchanged: 14, conflicts: 0 })
    expect(reply.body.rows.map((r: { series_id: number }) => r.series_id)).toEqual(firstIds)
    expect(reply.body.rows.map((r: { cancelled: number; updated: number }) => [r.updated, r.cancelled])).toEqual([[0, 2], [16, 0], [16, 0]])

    const stored = new Map((await seriesOfFile()).map((s) => [s.id, s]))
    expect(stored.size).toBe(3)
    expect(stored.get(firstIds[2]!)).toMatchObject({ userId: w.ids.teacher, title: 'Физика (лаб.)' })
    const lessons = await lessonsOfFile()
    const of = (i: number) => lessons.filter((l) => l.seriesId === firstIds[i])
    expect(of(0)).toHaveLength(14)
    expect(of(1).map((l) => localTime(l.endTime))).toEqual(Array(16).fill('10:45'))
    expect(of(2).every((l) => l.userId === w.ids.teacher && l.title === 'Физика (лаб.)')).toBe(true)

    // And the changed file imported again is the same again.
    const again = await send(w, cp1251(excelCsv(changed)))
    expect(again.body.totals).toMatchObject({ created: 0, updated: 0, cancelled: 0, unchanged: 46 })
  })

  test('a date that does not exist is an error of its line, named in English', async () => {
    const reply = await send(w, cp1251(excelCsv([`вт;09:00;10:30;Ауд. 102;teacher;Химия;31.02.2030;${ru('2030-12-22')}`])))
    expect(reply.status).toBe(400)
    expect(reply.body.report.rows[0]).toMatchObject({ line: 2, errors: ['from must be a date YYYY-MM-DD or DD.MM.YYYY'] })
    expect(reply.body.report.totals.would_create).toBe(0)
  })
})

describe('holidays and clashes', () => {
  let w: World
  let holiday: number
  let booking: number
  beforeAll(async () => {
    w = await world()
    await addRooms(w, 'Ауд. 201', 'Ауд. 202')
    const closed = await w.admin.post('/api/admin/closures', {
      room_ids: [w.ids['Ауд. 201'], w.ids['Ауд. 202']], start_time: localAt('2030-11-04', '00:00'), end_time: localAt('2030-11-05', '00:00'),
      kind: 'holiday', reason: 'День народного единства',
    })
    expect(closed.status, closed.text).toBe(201)
    holiday = closed.body.closure.id
    const booked = await w.student.post(`/api/rooms/${w.ids['Ауд. 201']}/reserve`, { start_time: localAt('2030-09-11', '09:30'), end_time: localAt('2030-09-11', '10:00') })
    expect(booked.status, booked.text).toBe(201)
    booking = booked.body.reservation.id
  }, 120_000)
  afterAll(() => w.t.close())

  const lessonsIn = async (room: string) =>
    (await w.t.database.db.select().from(reservations).where(and(eq(reservations.roomId, w.ids[room]!), eq(reservations.status, 'active'), eq(reservations.userId, w.ids.teacher!)))).length

  test('a holiday in the term is left out and reported, without skip_conflicts', async () => {
    const reply = await send(w, cp1251(excelCsv([`пн;09:00;10:30;Ауд. 202;teacher;История;${ru('2030-09-02')};${ru('2030-12-22')}`])))
    expect(reply.status, reply.text).toBe(201)
    expect(reply.body.totals).toMatchObject({ occurrences: 16, created: 15, skipped_closures: 1, conflicts: 0 })
    expect(reply.body.rows[0].skipped_closures).toEqual([
      { start_time: localAt('2030-11-04', '09:00'), end_time: localAt('2030-11-04', '10:30'), closure_id: holiday, msg: 'room is closed: День народного единства' },
    ])
    expect(reply.body.rows[0].conflicts).toEqual([])
    expect(await lessonsIn('Ауд. 202')).toBe(15)
  })

  test('a real clash still refuses the whole file (409, the holiday apart), unless skip_conflicts', async () => {
    const file = cp1251(excelCsv([
      `пн;09:00;10:30;Ауд. 201;teacher;Алгебра;${ru('2030-09-02')};${ru('2030-12-22')}`,
      `ср;09:00;10:30;Ауд. 201;teacher;Геометрия;${ru('2030-09-02')};${ru('2030-12-22')}`,
    ]))
    const refused = await send(w, file)
    expect(refused.status, refused.text).toBe(409)
    expect(refused.body.msg).toBe('nothing was imported: see the rows with errors or conflicts; send skip_conflicts=1 to leave the conflicting lessons out')
    const report = refused.body.report
    expect(report.totals).toMatchObject({ would_create: 30, conflicts: 1, skipped_closures: 1 })
    expect(report.rows[0].skipped_closures.map((s: { closure_id: number }) => s.closure_id)).toEqual([holiday])
    expect(report.rows[1].conflicts).toEqual([{
      start_time: localAt('2030-09-11', '09:00'), end_time: localAt('2030-09-11', '10:30'), kind: 'booking', id: booking, msg: 'Reservation conflicts with existing booking',
    }])
    expect(await lessonsIn('Ауд. 201')).toBe(0)

    const skipped = await send(w, file, '?skip_conflicts=1')
    expect(skipped.status, skipped.text).toBe(201)
    expect(skipped.body.totals).toMatchObject({ created: 30, conflicts: 1, skipped_closures: 1 })
    expect(await lessonsIn('Ауд. 201')).toBe(30)
    // Imported again, even without skip_conflicts: nothing made twice, and the lesson the clash kept
    // out is not put back (its series leaves it out, as one cancelled on its own); the holiday is reported again.
    const again = await send(w, file)
    expect(again.status, again.text).toBe(201)
    expect(again.body.totals).toMatchObject({ created: 0, unchanged: 31, conflicts: 0, skipped_closures: 1 })
    expect(await lessonsIn('Ауд. 201')).toBe(30)
  })
})

describe('a term that has begun', () => {
  test('is imported from now on: the lessons before are counted, today\'s only if it has not started', async () => {
    // Wednesday of the fifth week, 11:00 in Moscow.
    const clock = fixedClock(localAt('2030-10-02', '11:00'))
    const w = await world(clock)
    try {
      await addRooms(w, 'Ауд. 301')
      const file = cp1251(excelCsv([
        `пн;09:00;10:30;Ауд. 301;teacher;Алгебра;${ru('2030-09-02')};${ru('2030-12-22')}`,
        `ср;09:00;10:30;Ауд. 301;teacher;Геометрия;${ru('2030-09-02')};${ru('2030-12-22')}`,
        `ср;12:00;13:30;Ауд. 301;teacher;Физика;${ru('2030-09-02')};${ru('2030-12-22')}`,
        // over before today
        `вт;09:00;10:30;Ауд. 301;teacher;Вводный курс;${ru('2030-09-02')};${ru('2030-09-30')}`,
      ]))
      const reply = await send(w, file)
      expect(reply.status, reply.text).toBe(201)
      const byRow = reply.body.rows.map((r: { skipped_past: number; occurrences: number; created: number; errors: string[] }) =>
        [r.skipped_past, r.occurrences, r.created, r.errors])
      expect(byRow).toEqual([[5, 11, 11, []], [5, 11, 11, []], [4, 12, 12, []], [4, 0, 0, []]])
      expect(reply.body.totals).toMatchObject({ skipped_past: 18, created: 34, errors: 0 })
      expect(reply.body.rows[3].series_id).toBeNull()

      const firsts = (await w.t.database.db.select().from(series).where(eq(series.roomId, w.ids['Ауд. 301']!)))
        .map((s) => [s.title, s.firstStart.toISOString().replace('.000Z', 'Z')]).sort()
      expect(firsts).toEqual([
        ['Алгебра', localAt('2030-10-07', '09:00')], ['Геометрия', localAt('2030-10-09', '09:00')], ['Физика', localAt('2030-10-02', '12:00')],
      ].sort())

      // A week later the same file again: a week more is past, nothing is created, the rest is kept.
      const lessons = async () => (await w.t.database.db.select().from(reservations).where(eq(reservations.roomId, w.ids['Ауд. 301']!))).length
      const before = await lessons()
      clock.set(localAt('2030-10-09', '11:00'))
      await w.admin.login('admin') // the access token has expired meanwhile
      const later = await send(w, file)
      expect(later.status, later.text).toBe(201)
      expect(later.body.totals).toMatchObject({ skipped_past: 21, occurrences: 31, created: 0, updated: 0, cancelled: 0, unchanged: 31 })
      expect(await lessons()).toBe(before)
    } finally {
      await w.t.close()
    }
  })
})

describe('other encodings Excel saves', () => {
  let w: World
  beforeAll(async () => {
    w = await world()
    await addRooms(w, 'Ауд. 401', 'Ауд. 402', 'Ауд. 403')
  }, 120_000)
  afterAll(() => w.t.close())

  test('UTF-16 LE with its byte order mark and tabs ("Unicode text")', async () => {
    const text = excelCsv([`чт\t09:00\t10:30\tАуд. 401\tteacher\tЛитература\t${ru('2030-09-02')}\t${ru('2030-12-22')}`], HEADER.replaceAll(';', '\t'))
    const reply = await send(w, utf16(text))
    expect(reply.status, reply.text).toBe(201)
    expect(reply.body).toMatchObject({ encoding: 'utf-16le', delimiter: '\t' })
    expect(reply.body.rows[0]).toMatchObject({ room: 'Ауд. 401', title: 'Литература', created: 16 })
  })

  test('UTF-16 BE with its byte order mark', async () => {
    const reply = await send(w, utf16(excelCsv([`чт;11:00;12:30;Ауд. 401;teacher;Литература;${ru('2030-09-02')};${ru('2030-12-22')}`]), false), '?dry_run=1')
    expect(reply.status, reply.text).toBe(200)
    expect(reply.body).toMatchObject({ encoding: 'utf-16be', totals: { would_create: 16, errors: 0 } })
  })

  test('UTF-8 with its byte order mark ("CSV UTF-8"), English headers, commas and ISO dates', async () => {
    const text = ['room,teacher,weekday,start,end,from,until,title', `Ауд. 402,teacher,fri,09:00,10:30,${d('2030-09-02')},${d('2030-12-22')},"Музыка, хор"`].join('\r\n')
    const reply = await send(w, utf8WithBom(text))
    expect(reply.status, reply.text).toBe(201)
    expect(reply.body).toMatchObject({ encoding: 'utf-8', delimiter: ',' })
    expect(reply.body.rows[0]).toMatchObject({ room: 'Ауд. 402', title: 'Музыка, хор', created: 16 })
  })

  test('Windows-1251 with English headers and only the room names in Cyrillic', async () => {
    const text = ['room;teacher;weekday;start;end;from;until;title', `Ауд. 403;teacher;mon;09:00;10:30;${ru('2030-09-02')};${ru('2030-12-22')};Art`].join('\r\n')
    const reply = await send(w, cp1251(text), '?dry_run=1')
    expect(reply.status, reply.text).toBe(200)
    expect(reply.body).toMatchObject({ encoding: 'windows-1251', totals: { would_create: 16, errors: 0 } })
  })

  test('a file whose header names no timetable column is refused before it is planned', async () => {
    const reply = await send(w, cp1251('имя;фамилия\r\nИван;Петров\r\n'))
    expect(reply.status).toBe(400)
    expect(reply.body.msg).toStartWith('the header must name the columns room,teacher,weekday,start,end,from,until')
  })
})

describe('the API document', () => {
  test("the import's example (Russian, dry run) and the series example do not collide: both work, one after the other", async () => {
    const w = await world()
    try {
      const doc = await (await w.t.app.handle(new Request('http://localhost/swagger/json'))).json() as any
      const op = doc.paths['/api/admin/timetable/import'].post
      const file: string = op.requestBody.content['text/csv'].example
      expect(file.split('\n')[0]).toBe(HEADER)
      const dryRun = op.parameters.find((p: { name: string }) => p.name === 'dry_run')
      expect(dryRun.schema.examples ?? [dryRun.example]).toEqual(['1'])
      const seriesRef: string = doc.paths['/api/series'].post.requestBody.content['application/json'].schema.$ref
      const seriesExample = doc.components.schemas[seriesRef.split('/').at(-1)!].examples[0]

      const created = await w.admin.post('/api/series', seriesExample)
      expect(created.status, created.text).toBe(201)
      const before = (await w.t.database.db.select().from(series)).length
      const tried = await w.admin.request('POST', '/api/admin/timetable/import?dry_run=1', { body: file, headers: { 'content-type': 'text/csv' }, csrf: true })
      expect(tried.status, tried.text).toBe(200)
      expect(tried.body.totals).toMatchObject({ errors: 0, conflicts: 0, skipped_past: 0, would_create: 32 })
      expect((await w.t.database.db.select().from(series)).length).toBe(before)
    } finally {
      await w.t.close()
    }
  })
})
