/**
 * The console's audit log and reports (issue 27), in-process: the figures of a small known
 * dataset (utilisation against the open hours, a closure taken off, lessons apart from student
 * bookings, a no-show), the CSV and XLSX downloads (read back with exceljs) with a formula-like
 * room name neutralised, the range checks, and the audit log's filters and pages; the report built
 * from the weeks kept in memory equals a fresh one after every kind of change, scanning again only
 * the weeks that changed.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import ExcelJS from 'exceljs'
import { parse } from 'csv-parse/sync'
import { recordChanges, writeTransaction, type Change } from '../src/core/changes'
import { cachedRoomReport, roomReport, reportRange, reportDayStats, incrementalRoomReport } from '../src/core/console/reports'
import { closures, reservations, rooms, series, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(60_000)

const TZ = 'Europe/Moscow' // UTC+3 all year
// Wednesday 11 September 2030, 15:00 in Moscow: the week of Monday 2 September is a full week before it
const clock = fixedClock('2030-09-11T12:00:00Z')
const WEEK = '2030-09-02'
const EVIL = '=HYPERLINK("http://evil","x")'
const XSS = '<script>alert(1)</script>'

let t: TestApp
let admin: Client
let roomId: number
let plainId: number
let evilId: number
let xssId: number
let nightId: number

/** A Moscow wall-clock time as an instant ("2030-09-02 10:00" → 07:00Z). */
const msk = (local: string) => new Date(`${local.replace(' ', 'T')}:00+03:00`)

beforeAll(async () => {
  t = await testApp({ clock, env: { APP_TIMEZONE: TZ } })
  admin = await loggedIn(t.app, 'admin')
  const db = t.database.db
  const stamps = { createdAt: clock.now(), updatedAt: clock.now() }
  const [student] = await db.select().from(users).where(eq(users.name, 'student'))
  const userId = student!.id
  // Q9: open 09:00-17:00 every day (56 h a week); Q10: no window (the default: 08:00-20:00 on weekdays, 60 h)
  const made = await db.insert(rooms).values([
    { name: 'Q9', bookingStart: '09:00', bookingEnd: '17:00', requiresCheckIn: true, ...stamps },
    { name: 'Q10', ...stamps },
    { name: EVIL, ...stamps },
    { name: XSS, ...stamps },
    // Q11: open 20:00-02:00, past midnight (6 h a day, 42 h a week)
    { name: 'Q11', bookingStart: '20:00', bookingEnd: '02:00', ...stamps },
  ]).returning({ id: rooms.id })
  ;[roomId, plainId, evilId, xssId, nightId] = made.map((r) => r.id) as [number, number, number, number, number]
  const [lesson] = await db.insert(series).values({
    roomId, userId, title: 'Algebra', rrule: 'FREQ=WEEKLY;COUNT=1', timeZone: TZ,
    firstStart: msk('2030-09-02 10:00'), firstEnd: msk('2030-09-02 12:00'), until: msk('2030-09-02 10:00'), ...stamps,
  }).returning({ id: series.id })
  const booking = (room: number, start: string, end: string, extra: Partial<typeof reservations.$inferInsert> = {}) =>
    ({ roomId: room, userId, startTime: msk(start), endTime: msk(end), status: 'finished' as const, ...stamps, ...extra })
  await db.insert(reservations).values([
    // a lesson, Monday 10:00-12:00: 2 h
    booking(roomId, '2030-09-02 10:00', '2030-09-02 12:00', { seriesId: lesson!.id, title: 'Algebra' }),
    // a student booking, Wednesday 16:00-18:00: 1 h of it within the window (2 h in the heatmap)
    booking(roomId, '2030-09-04 16:00', '2030-09-04 18:00'),
    // a no-show, Thursday 10:00-11:00: not booked time, one no-show of two bookings that needed a check-in
    booking(roomId, '2030-09-05 10:00', '2030-09-05 11:00', { status: 'released', checkInRequired: true }),
    // checked in, Friday 09:00-10:00: 1 h
    booking(roomId, '2030-09-06 09:00', '2030-09-06 10:00', { checkInRequired: true, checkedInAt: msk('2030-09-06 09:02') }),
    // cancelled: nothing
    booking(roomId, '2030-09-07 10:00', '2030-09-07 14:00', { status: 'cancelled', cancelledAt: msk('2030-09-01 10:00') }),
    // Q10 on Saturday 10:00-12:00: outside its default open hours (heatmap only); Tuesday 19:00-21:00: 1 h open
    booking(plainId, '2030-09-07 10:00', '2030-09-07 12:00'),
    booking(plainId, '2030-09-03 19:00', '2030-09-03 21:00'),
    booking(evilId, '2030-09-03 08:00', '2030-09-03 14:00'),
    // Q11: Monday 23:00 to Tuesday 01:30 (across midnight: 2.5 h, all open); Wednesday 01:00-03:00 (1 h open)
    booking(nightId, '2030-09-02 23:00', '2030-09-03 01:30'),
    booking(nightId, '2030-09-04 01:00', '2030-09-04 03:00'),
  ])
  // Q9 closed on Tuesday 09:00-13:00: 4 of its open hours
  await db.insert(closures).values({ allRooms: false, roomIds: [roomId], kind: 'maintenance', reason: 'paint', startTime: msk('2030-09-03 09:00'), endTime: msk('2030-09-03 13:00'), ...stamps })
})
afterAll(() => t.close())

const ONE_WEEK = `from=${WEEK}&to=2030-09-08`

describe('the report figures', () => {
  test('the default range: the last four full weeks and the current one, Monday to Monday in the rooms\' zone', () => {
    const range = reportRange(clock.now(), TZ)!
    expect(range.weeks.map((w) => w.key)).toEqual(['2030-08-12', '2030-08-19', '2030-08-26', '2030-09-02', '2030-09-09'])
    expect(range.start.toISOString()).toBe('2030-08-11T21:00:00.000Z')
    expect(range.end.toISOString()).toBe('2030-09-15T21:00:00.000Z')
    expect(reportRange(clock.now(), TZ, '2030-09-04', '2030-09-04')!.weeks.map((w) => w.key)).toEqual([WEEK])
    expect(reportRange(clock.now(), TZ, '2030-01-01', '2030-09-04')).toBeNull() // more than 26 weeks
    expect(reportRange(clock.now(), TZ, '2030-09-10', '2030-09-01')).toBeNull()
    expect(reportRange(clock.now(), TZ, '2030-02-30')).toBeNull()
  })

  test('utilisation: booked hours within the open hours over the open hours less closures; lessons apart; no-shows', async () => {
    const report = await roomReport(t.ctx, reportRange(clock.now(), TZ, WEEK, WEEK)!)
    const q9 = report.rooms.find((r) => r.id === roomId)!
    expect(q9.building).toBe('Q')
    expect(q9.window).toBe('09:00–17:00')
    expect(q9.weeks).toEqual([{ open: 52, lessons: 2, bookings: 2 }])
    const q10 = report.rooms.find((r) => r.id === plainId)!
    expect(q10.window).toBeNull()
    expect(q10.weeks).toEqual([{ open: 60, lessons: 0, bookings: 1 }])
    const night = report.rooms.find((r) => r.id === nightId)!
    expect(night.weeks).toEqual([{ open: 42, lessons: 0, bookings: 3.5 }])
    const building = report.buildings.find((b) => b.name === 'Q')!
    expect(building).toEqual({ name: 'Q', rooms: 3, weeks: [{ open: 154, lessons: 2, bookings: 6.5 }] })
    expect(report.noShows.find((r) => r.id === roomId)!.weeks).toEqual([{ required: 2, released: 1 }])
    expect(report.noShows.some((r) => r.id === plainId)).toBe(false)
    // heatmap: every booked hour, open or not; [weekday - 1][hour]
    expect(report.heatmap[0]![10]).toBe(1)
    expect(report.heatmap[0]![11]).toBe(1)
    expect(report.heatmap[2]![17]).toBe(1) // Wednesday 17:00-18:00, outside Q9's window
    expect(report.heatmap[5]![10]).toBe(1) // Saturday: the cancelled booking does not count, Q10's does
    expect(report.heatmap[3]![10]).toBe(0) // the no-show
    expect(report.heatmap[1]![8]).toBe(1) // the formula room, Tuesday 08:00
    expect([report.heatmap[0]![23], report.heatmap[1]![0], report.heatmap[1]![1], report.heatmap[2]![1], report.heatmap[2]![2]]).toEqual([1, 1, 0.5, 1, 1])
    expect(report.heatmap.flat().reduce((a, b) => a + b, 0)).toBe(2 + 2 + 1 + 2 + 2 + 6 + 2.5 + 2)
  })

  test('in a zone with summer time, hours are local on both sides of the change', async () => {
    const berlin = (local: string, offset: string) => new Date(`${local.replace(' ', 'T')}:00${offset}`)
    const stamps = { createdAt: clock.now(), updatedAt: clock.now() }
    const [student] = await t.database.db.select().from(users).where(eq(users.name, 'student'))
    // summer time starts on Sunday 31 March 2030 at 02:00 (+01:00 before, +02:00 after)
    await t.database.db.insert(reservations).values([
      { roomId: plainId, userId: student!.id, startTime: berlin('2030-03-25 10:00', '+01:00'), endTime: berlin('2030-03-25 12:00', '+01:00'), status: 'finished', ...stamps },
      { roomId: plainId, userId: student!.id, startTime: berlin('2030-03-31 10:00', '+02:00'), endTime: berlin('2030-03-31 12:00', '+02:00'), status: 'finished', ...stamps },
    ])
    const zone = t.ctx.config.appTimezone
    t.ctx.config.appTimezone = 'Europe/Berlin'
    try {
      const report = await roomReport(t.ctx, reportRange(clock.now(), 'Europe/Berlin', '2030-03-25', '2030-03-25')!)
      expect(report.range.start.toISOString()).toBe('2030-03-24T23:00:00.000Z')
      expect(report.range.end.toISOString()).toBe('2030-03-31T22:00:00.000Z')
      expect(report.heatmap[0]!.slice(9, 13)).toEqual([0, 1, 1, 0])
      expect(report.heatmap[6]!.slice(9, 13)).toEqual([0, 1, 1, 0])
      expect(report.rooms.find((r) => r.id === plainId)!.weeks).toEqual([{ open: 60, lessons: 0, bookings: 2 }])
    } finally {
      t.ctx.config.appTimezone = zone
    }
  })

  test('the page shows the figures, the SVG charts and the download links', async () => {
    const res = await admin.get(`/console/reports?${ONE_WEEK}`)
    expect(res.status).toBe(200)
    const row = /<tr><th scope="row">Q9<\/th>[\s\S]*?<\/tr>/.exec(res.text)![0]
    expect(row).toContain('09:00–17:00')
    expect(row).toContain('<strong>8%</strong>') // 4 / 52
    expect(row).toContain('L 4 · S 4')
    expect(res.text).toContain('<svg class="chart heatmap"')
    expect(res.text).toContain('role="img"')
    expect((res.text.match(/<rect [^>]*fill="#/g) ?? []).length).toBeGreaterThanOrEqual(7 * 24)
    expect(res.text).toContain('<title>Mon 10:00–11:00: 1 room-hours</title>')
    expect(res.text).not.toMatch(/style=|<script>alert/)
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(res.text).toContain(`href="/console/reports/utilisation.xlsx?from=${WEEK}&to=${WEEK}"`)
    expect(res.text).toContain('1 / 2 (50%)')
    const ru = await admin.get(`/console/reports?${ONE_WEEK}`, { headers: { 'accept-language': 'ru' } })
    expect(ru.text).toContain('Загрузка по аудиториям')
    expect(ru.text).toContain('З 4 · С 4')
  })

  test('a bad or too long range is refused with a message, and the default weeks are shown', async () => {
    for (const q of ['from=2030-01-01&to=2030-09-04', 'from=yesterday', 'from=2030-09-10&to=2030-09-01']) {
      const res = await admin.get(`/console/reports?${q}`)
      expect(res.status, q).toBe(400)
      expect(res.text, q).toContain('at most 26 weeks')
      expect(res.text, q).toContain('<time datetime="2030-09-09">')
    }
    expect((await admin.get('/console/reports/utilisation.csv?from=nonsense')).status).toBe(400)
  })
})

describe('downloads', () => {
  test('CSV: an attachment with headers, the figures, and a formula-like room name defused', async () => {
    const res = await admin.get(`/console/reports/utilisation.csv?${ONE_WEEK}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="qrbook-utilisation-${WEEK}-${WEEK}.csv"`)
    const rows = parse(res.text.replace(/^\ufeff/, '')) as string[][]
    expect(rows[0]).toEqual(['Room', 'Building', 'Daily window', 'Week (Monday)', 'Open hours', 'Lesson hours', 'Student booking hours', 'Booked hours', 'Utilisation, %', 'Lessons, %', 'Student bookings, %'])
    expect(rows.find((r) => r[0] === 'Q9')).toEqual(['Q9', 'Q', '09:00–17:00', WEEK, '52', '2', '2', '4', '7.7', '3.8', '3.8'])
    expect(rows.find((r) => r[0] === 'Q10')).toEqual(['Q10', 'Q', '08:00–20:00 (default)', WEEK, '60', '0', '1', '1', '1.7', '0', '1.7'])
    const evil = rows.find((r) => r[0]!.includes('HYPERLINK'))!
    expect(evil[0]).toBe(`'${EVIL}`)
    expect(evil[1]).toBe(`'${EVIL}`) // its building (no digit, no space: the whole name)
    expect(rows.find((r) => r[0] === XSS)).toBeDefined()
    const noShows = parse((await admin.get(`/console/reports/noshows.csv?${ONE_WEEK}`)).text.replace(/^\ufeff/, '')) as string[][]
    expect(noShows).toContainEqual(['Q9', 'Q', WEEK, '2', '1', '50'])
    const heat = parse((await admin.get(`/console/reports/heatmap.csv?${ONE_WEEK}`)).text.replace(/^\ufeff/, '')) as string[][]
    expect(heat[0]!.slice(0, 3)).toEqual(['Weekday', '00:00', '01:00'])
    expect(heat[1]!.slice(0, 1).concat(heat[1]![11]!)).toEqual(['Mon', '1'])
    const ru = await admin.get(`/console/reports/buildings.csv?${ONE_WEEK}`, { headers: { 'accept-language': 'ru' } })
    const ruRows = parse(ru.text.replace(/^\ufeff/, '')) as string[][]
    expect(ruRows[0]![0]).toBe('Корпус')
    expect(ruRows).toContainEqual(['Q', '3', WEEK, '154', '2', '6.5', '8.5', '5.5', '1.3', '4.2'])
  })

  test('XLSX: a workbook exceljs reads back, numbers as numbers, the formula-like name a plain string', async () => {
    // the bytes as they are (Client reads a body as text)
    const res = await t.app.handle(new Request(`http://localhost/console/reports/utilisation.xlsx?${ONE_WEEK}`, {
      headers: { cookie: [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    }))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="qrbook-utilisation-${WEEK}-${WEEK}.xlsx"`)
    const bytes = await res.arrayBuffer()
    const book = new ExcelJS.Workbook()
    await book.xlsx.load(bytes)
    const sheet = book.worksheets[0]!
    expect(sheet.name).toBe('Utilisation by room')
    expect(sheet.getRow(1).values).toEqual([undefined, 'Room', 'Building', 'Daily window', 'Week (Monday)', 'Open hours', 'Lesson hours', 'Student booking hours', 'Booked hours', 'Utilisation, %', 'Lessons, %', 'Student bookings, %'])
    let q9: ExcelJS.Row | undefined
    let evil: ExcelJS.Row | undefined
    sheet.eachRow((row) => {
      if (row.getCell(1).value === 'Q9') q9 = row
      if (String(row.getCell(1).value).includes('HYPERLINK')) evil = row
    })
    expect(q9!.getCell(4).value).toEqual(new Date(Date.UTC(2030, 8, 2)))
    expect(q9!.getCell(5).value).toBe(52)
    expect(q9!.getCell(8).value).toBe(4)
    expect(q9!.getCell(9).value).toBeCloseTo(4 / 52, 10)
    expect(q9!.getCell(9).numFmt).toBe('0.0%')
    expect(evil!.getCell(1).value).toBe(EVIL)
    expect(evil!.getCell(1).type).toBe(ExcelJS.ValueType.String)
    expect(evil!.getCell(1).formula).toBeUndefined()
  })

  test('downloads are the admin\'s: anonymous to the sign-in, a student 403, an unknown file 404', async () => {
    const anonymous = await new Client(t.app).get(`/console/reports/utilisation.csv?${ONE_WEEK}`)
    expect(anonymous.status).toBe(303)
    expect(anonymous.headers.get('location')).toStartWith('/console/login?')
    expect((await (await loggedIn(t.app, 'student')).get('/console/reports/utilisation.csv')).status).toBe(403)
    expect((await (await loggedIn(t.app, 'teacher')).get('/console/reports/utilisation.xlsx')).status).toBe(403)
    expect((await admin.get('/console/reports/passwords.csv')).status).toBe(404)
    expect((await admin.get('/console/reports/utilisation.pdf')).status).toBe(404)
  })
})

describe('the audit log page', () => {
  const record = (changes: Change[]) => writeTransaction(t.database, async (tx) => recordChanges(tx, changes))
  let teacherId: number

  beforeAll(async () => {
    teacherId = (await t.database.db.select().from(users).where(eq(users.name, 'teacher')))[0]!.id
    // 60 room updates by the teacher on Q9, a minute apart, ending 2030-09-09 00:00 Moscow
    const end = msk('2030-09-09 00:00').getTime()
    await record(Array.from({ length: 60 }, (_, i) => ({
      event: 'room.updated' as const, actorId: teacherId, rooms: [roomId], description: `teacher edit ${i}`, at: new Date(end - (60 - i) * 60_000),
    })))
    await record([
      // 01:30 in Moscow on 2 September is still 1 September in UTC
      { event: 'closure.created', actorId: null, rooms: 'all', description: 'holiday closure', at: msk('2030-09-02 01:30') },
      { event: 'reservation.released', actorId: null, rooms: [plainId], description: `no-show in ${XSS}`, at: msk('2030-09-05 10:15') },
      { event: 'room.blocked', actorId: null, rooms: [xssId], description: 'blocked the odd room', at: msk('2030-09-05 10:16') },
    ])
  })

  test('newest first, times in the rooms\' zone, names escaped, pages of 50 by keyset', async () => {
    const released = await admin.get('/console/audit?from=2030-09-05&to=2030-09-05')
    expect(released.text).toContain('no-show in &lt;script&gt;alert(1)&lt;/script&gt;')
    expect(released.text).toContain(`<a href="/console/audit?room=${xssId}&from=2030-09-05&to=2030-09-05">&lt;script&gt;alert(1)&lt;/script&gt;</a>`)
    expect(released.text).not.toContain('<script>alert(1)')
    const res = await admin.get('/console/audit')
    expect(res.status).toBe(200)
    const bodies = (text: string) => [...text.matchAll(/teacher edit (\d+)/g)].map((m) => Number(m[1]))
    const first = bodies(res.text)
    expect(first[0]).toBe(59)
    expect(first).toEqual([...first].sort((a, b) => b - a))
    const older = /href="(\/console\/audit\?before=\d+)" rel="next"/.exec(res.text)![1]!
    const page2 = await admin.get(older)
    const second = bodies(page2.text)
    expect(second.length).toBeGreaterThan(0)
    expect(Math.max(...second)).toBeLessThan(Math.min(...first))
    expect(new Set([...first, ...second]).size).toBe(first.length + second.length)
    const newer = /href="(\/console\/audit\?after=\d+)" rel="prev"/.exec(page2.text)![1]!.replace(/&amp;/g, '&')
    expect(bodies((await admin.get(newer)).text)).toEqual(first)
    // 23:59 on 8 September in Moscow (20:59 UTC)
    expect(res.text).toContain('<time datetime="2030-09-08T20:59:00.000Z">08/09/2030, 23:59</time>')
  })

  test('filters: actor, room, kind and dates (local days)', async () => {
    const byKind = await admin.get('/console/audit?event=reservation.released')
    expect(byKind.text).toContain('Released as a no-show')
    expect(byKind.text).not.toContain('teacher edit')
    expect(byKind.text).not.toContain('holiday closure')

    const byRoom = await admin.get(`/console/audit?room=${plainId}`)
    expect(byRoom.text).toContain('no-show in')
    expect(byRoom.text).not.toContain('teacher edit')

    const byActor = await admin.get('/console/audit?actor=Teacher&from=2030-09-08&to=2030-09-08')
    const rows = [...byActor.text.matchAll(/teacher edit (\d+)/g)]
    expect(rows.length).toBe(50)
    expect(byActor.text).not.toContain('no-show in')
    expect(byActor.text).toContain('rel="next"')

    const byDay = await admin.get('/console/audit?from=2030-09-02&to=2030-09-02')
    expect(byDay.text).toContain('holiday closure')
    expect(byDay.text).not.toContain('teacher edit')
    const dayBefore = await admin.get('/console/audit?from=2030-09-01&to=2030-09-01')
    expect(dayBefore.text).not.toContain('holiday closure')

    const nobody = await admin.get('/console/audit?actor=nobody-at-all')
    expect(nobody.text).toContain('There is no user called &quot;nobody-at-all&quot;.')

    for (const q of ['from=2030-13-01', 'event=nope', 'room=abc', 'from=2030-09-05&to=2030-09-01']) {
      const bad = await admin.get(`/console/audit?${q}`)
      expect(bad.status, q).toBe(400)
      expect(bad.text, q).toContain('class="flash error"')
    }
    const ru = await admin.get('/console/audit?event=reservation.released', { headers: { 'accept-language': 'ru' } })
    expect(ru.text).toContain('Снято за неявку')
  })

  test('the audit log and reports are an admin\'s pages', async () => {
    for (const path of ['/console/audit', '/console/reports']) {
      expect((await (await loggedIn(t.app, 'teacher')).get(path)).status).toBe(403)
      expect((await new Client(t.app).get(path)).status).toBe(303)
    }
  })
})

describe('the report kept in memory', () => {
  test('while the live feed runs, the same range is answered from memory until a change; without it, built afresh', async () => {
    const range = reportRange(clock.now(), TZ)!
    // no live feed (the test app's is not started): nothing is kept
    expect(await cachedRoomReport(t.ctx, range)).not.toBe(await cachedRoomReport(t.ctx, range))
    await t.ctx.events.start()
    try {
      const first = await cachedRoomReport(t.ctx, range)
      expect(await cachedRoomReport(t.ctx, range)).toBe(first)
      const bookingsBefore = first.rooms.find((r) => r.id === plainId)!.weeks.at(-1)!.bookings
      // a student books Q10 on Thursday of the current week, 10:00-12:00 Moscow time, through the API
      const booked = await (await loggedIn(t.app, 'student')).post(`/api/rooms/${plainId}/reserve`, {
        start_time: msk('2030-09-12 10:00').toISOString(), end_time: msk('2030-09-12 12:00').toISOString(),
      })
      expect(booked.status).toBe(201)
      const after = await cachedRoomReport(t.ctx, range)
      expect(after).not.toBe(first)
      expect(after.rooms.find((r) => r.id === plainId)!.weeks.at(-1)!.bookings).toBe(bookingsBefore + 2)
      await t.database.db.delete(reservations).where(eq(reservations.id, booked.body.reservation.id))
    } finally {
      await t.ctx.events.stop()
    }
  })
})

describe('the report built from the days kept in memory', () => {
  const db = () => t.database.db
  const range = () => reportRange(clock.now(), TZ)!
  /** incrementalRoomReport over the range, checked equal to a fresh roomReport; the days it scanned */
  const check = async (r = range()) => {
    const weekly = await incrementalRoomReport(t.ctx, r)
    const scanned = reportDayStats(t.ctx).lastScanned
    expect(weekly).toEqual(await roomReport(t.ctx, r))
    return { report: weekly, scanned }
  }
  const student = async () => (await db().select().from(users).where(eq(users.name, 'student')))[0]!.id
  const stamps = () => ({ createdAt: clock.now(), updatedAt: clock.now() })
  const q10 = (report: Awaited<ReturnType<typeof roomReport>>) => report.rooms.find((r) => r.id === plainId)!.weeks

  test('nothing changed: no day is scanned again', async () => {
    const first = await check()
    expect(first.report.range.weeks.length).toBe(5)
    const again = await check()
    expect(again.scanned).toEqual([])
    expect(again.report).toEqual(first.report)
  })

  test('a booking added in a past week directly in the database: only that day is scanned again', async () => {
    await check()
    const before = reportDayStats(t.ctx)
    const [row] = await db().insert(reservations).values({
      roomId: plainId, userId: await student(), startTime: msk('2030-08-20 10:00'), endTime: msk('2030-08-20 11:30'), status: 'finished', ...stamps(),
    }).returning({ id: reservations.id })
    try {
      const after = await check()
      expect(after.scanned).toEqual(['2030-08-20'])
      expect(reportDayStats(t.ctx).reused - before.reused).toBe(34)
      expect(q10(after.report)[1]!.bookings).toBe(1.5)
      // changed by hand without touching updated_at, the same count in the week (the fingerprint reads xmin): still seen
      await db().update(reservations).set({ endTime: msk('2030-08-20 11:00') }).where(eq(reservations.id, row!.id))
      const shorter = await check()
      expect(shorter.scanned).toEqual(['2030-08-20'])
      expect(q10(shorter.report)[1]!.bookings).toBe(1)
      await db().update(reservations).set({ status: 'cancelled' }).where(eq(reservations.id, row!.id))
      const cancelled = await check()
      expect(cancelled.scanned).toEqual(['2030-08-20'])
      expect(q10(cancelled.report)[1]!.bookings).toBe(0)
      await db().update(reservations).set({ status: 'finished', startTime: msk('2030-08-27 10:00'), endTime: msk('2030-08-27 11:00') }).where(eq(reservations.id, row!.id))
      const moved = await check()
      expect(moved.scanned).toEqual(['2030-08-27'])
      expect(q10(moved.report)[2]!.bookings).toBe(1)
    } finally {
      await db().delete(reservations).where(eq(reservations.id, row!.id))
    }
    expect((await check()).scanned).toEqual(['2030-08-27'])
  })

  test('a booking made through the API in the current week: only its day is scanned again', async () => {
    await check()
    const booked = await (await loggedIn(t.app, 'student')).post(`/api/rooms/${plainId}/reserve`, {
      start_time: msk('2030-09-13 10:00').toISOString(), end_time: msk('2030-09-13 12:00').toISOString(),
    })
    expect(booked.status).toBe(201)
    try {
      const after = await check()
      expect(after.scanned).toEqual(['2030-09-13'])
      expect(q10(after.report)[4]!.bookings).toBe(2)
      // cancelled through the API: scanned again, back to nothing
      const cancelled = await (await loggedIn(t.app, 'student')).delete(`/api/reservations/${booked.body.reservation.id}`)
      expect(cancelled.status).toBe(200)
      const back = await check()
      expect(back.scanned).toEqual(['2030-09-13'])
      expect(q10(back.report)[4]!.bookings).toBe(0)
    } finally {
      await db().delete(reservations).where(eq(reservations.id, booked.body.reservation.id))
    }
  })

  test('a booking across the Monday midnight between two weeks: both days scanned again, cut as one scan cuts it', async () => {
    await check()
    const [row] = await db().insert(reservations).values({
      roomId: nightId, userId: await student(), startTime: msk('2030-09-08 22:00'), endTime: msk('2030-09-09 03:00'), status: 'finished', checkInRequired: true, ...stamps(),
    }).returning({ id: reservations.id })
    try {
      const after = await check()
      expect(after.scanned).toEqual(['2030-09-08', '2030-09-09'])
      const night = after.report.rooms.find((r) => r.id === nightId)!.weeks
      expect([night[3]!.bookings, night[4]!.bookings]).toEqual([3.5 + 2, 2]) // Sunday 22:00-24:00; Monday 00:00-02:00 (open till 02:00)
      // its no-show count is the week it started in
      expect(after.report.noShows.find((r) => r.id === nightId)!.weeks.map((w) => w.required)).toEqual([0, 0, 0, 1, 0])
      // a range that starts at the second week: the booking's first hours are not in it
      const second = await check(reportRange(clock.now(), TZ, '2030-09-09', '2030-09-09')!)
      expect(second.scanned).toEqual([])
      expect(second.report.rooms.find((r) => r.id === nightId)!.weeks).toEqual([{ open: 42, lessons: 0, bookings: 2 }])
    } finally {
      await db().delete(reservations).where(eq(reservations.id, row!.id))
    }
  })

  test('a closure added changes the open hours, without scanning any day again', async () => {
    const before = await check()
    const [closure] = await db().insert(closures).values({
      allRooms: true, kind: 'holiday', reason: 'inspection', startTime: msk('2030-08-13 09:00'), endTime: msk('2030-08-13 12:00'), ...stamps(),
    }).returning({ id: closures.id })
    try {
      const after = await check()
      expect(after.scanned).toEqual([])
      expect(q10(after.report)[0]!.open).toBe(q10(before.report)[0]!.open - 3)
      expect(after.report.totals[0]!.open).toBeLessThan(before.report.totals[0]!.open)
    } finally {
      await db().delete(closures).where(eq(closures.id, closure!.id))
    }
    expect((await check()).report).toEqual(before.report)
  })

  test('a room\'s daily window changed: every day is scanned again (booked time is counted within it)', async () => {
    await check()
    await db().update(rooms).set({ bookingStart: '07:00', bookingEnd: '22:00' }).where(eq(rooms.id, plainId))
    try {
      const after = await check()
      expect(after.scanned.length).toBe(35)
      expect(q10(after.report)[3]).toEqual({ open: 105, lessons: 0, bookings: 4 }) // Tuesday 19:00-21:00 and Saturday 10:00-12:00, all within 07:00-22:00
    } finally {
      await db().update(rooms).set({ bookingStart: null, bookingEnd: null }).where(eq(rooms.id, plainId))
    }
    expect((await check()).scanned.length).toBe(35)
  })

  test('today is scanned again when now passes the start of a booking that needs a check-in', async () => {
    const [row] = await db().insert(reservations).values({
      roomId, userId: await student(), startTime: msk('2030-09-11 16:00'), endTime: msk('2030-09-11 17:00'), status: 'active', checkInRequired: true, ...stamps(),
    }).returning({ id: reservations.id })
    const was = clock.now()
    try {
      const first = await check()
      const required = first.report.noShowTotals[4]!.required
      clock.advance(60_000) // 15:01: nothing started
      expect((await check()).scanned).toEqual([])
      clock.set(msk('2030-09-11 16:30')) // it has started: it counts
      const started = await check()
      expect(started.scanned).toEqual(['2030-09-11'])
      expect(started.report.noShowTotals[4]!.required).toBe(required + 1)
      clock.set(was) // and back (a test's clock may go back)
      const back = await check()
      expect(back.scanned).toEqual(['2030-09-11'])
      expect(back.report).toEqual(first.report)
    } finally {
      clock.set(was)
      await db().delete(reservations).where(eq(reservations.id, row!.id))
    }
  })

  test('without the live feed, cachedRoomReport sees a change made directly in the database', async () => {
    const r = range()
    const before = await cachedRoomReport(t.ctx, r)
    const [row] = await db().insert(reservations).values({
      roomId: plainId, userId: await student(), startTime: msk('2030-09-10 08:00'), endTime: msk('2030-09-10 09:00'), status: 'active', ...stamps(),
    }).returning({ id: reservations.id })
    try {
      const after = await cachedRoomReport(t.ctx, r)
      expect(q10(after)[4]!.bookings).toBe(q10(before)[4]!.bookings + 1)
      expect(after).toEqual(await roomReport(t.ctx, r))
    } finally {
      await db().delete(reservations).where(eq(reservations.id, row!.id))
    }
  })

  test('in a zone with summer time, weeks on both sides of the change add up to one scan of them', async () => {
    const zone = t.ctx.config.appTimezone
    t.ctx.config.appTimezone = 'Europe/Berlin'
    try {
      const r = reportRange(clock.now(), 'Europe/Berlin', '2030-03-18', '2030-04-07')!
      const first = await check(r)
      expect(first.report.rooms.find((x) => x.id === plainId)!.weeks[1]).toEqual({ open: 60, lessons: 0, bookings: 2 })
      expect((await check(r)).scanned).toEqual([])
    } finally {
      t.ctx.config.appTimezone = zone
    }
  })

  test('where the zone skips a Monday midnight (Tehran, 22 March 2021), the days add up to one scan of them', async () => {
    const zone = t.ctx.config.appTimezone
    t.ctx.config.appTimezone = 'Asia/Tehran'
    const userId = await student()
    const made = await db().insert(reservations).values([
      // across the skipped midnight (23:00 +03:30 to 02:00 +04:30), ending at it, and just after it
      { roomId: nightId, userId, startTime: new Date('2021-03-21T19:30:00Z'), endTime: new Date('2021-03-21T21:30:00Z'), status: 'finished', checkInRequired: true, ...stamps() },
      { roomId: plainId, userId, startTime: new Date('2021-03-21T16:30:00Z'), endTime: new Date('2021-03-21T20:30:00Z'), status: 'finished', ...stamps() },
      { roomId: plainId, userId, startTime: new Date('2021-03-21T20:30:00Z'), endTime: new Date('2021-03-21T22:30:00Z'), status: 'released', checkInRequired: true, ...stamps() },
    ]).returning({ id: reservations.id })
    try {
      for (const [from, to] of [['2021-03-15', '2021-03-28'], ['2021-03-15', '2021-03-21'], ['2021-03-22', '2021-03-28']]) { // both weeks first: the days kept serve the other two
        const r = reportRange(clock.now(), 'Asia/Tehran', from, to)!
        await check(r)
        expect((await check(r)).scanned).toEqual([])
      }
      expect((await check(reportRange(clock.now(), 'Asia/Tehran', '2021-03-15', '2021-03-28')!)).report.heatmap.flat().some((h) => h > 0)).toBe(true)
    } finally {
      t.ctx.config.appTimezone = zone
      for (const { id } of made) await db().delete(reservations).where(eq(reservations.id, id))
    }
  })

  test('many bookings of every kind, some across midnights and weeks: equal to one scan', async () => {
    const userId = await student()
    const statuses = ['finished', 'finished', 'released', 'cancelled'] as const // active ones may not overlap
    let seed = 27
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
    const ids = [roomId, plainId, evilId, xssId, nightId]
    const rows = Array.from({ length: 300 }, (_, i) => {
      const start = msk('2030-08-10 00:00').getTime() + Math.floor(random() * 40 * 24 * 4) * 15 * 60_000
      const long = random() < 0.1 ? Math.floor(random() * 72) : Math.floor(random() * 4) + 1
      return {
        roomId: ids[i % ids.length]!, userId, startTime: new Date(start), endTime: new Date(start + long * 3600_000 + 30 * 60_000),
        status: statuses[Math.floor(random() * 4)]!, checkInRequired: random() < 0.5, ...stamps(),
      }
    })
    const made = await db().insert(reservations).values(rows).returning({ id: reservations.id })
    try {
      const after = await check()
      expect(after.scanned.length).toBeGreaterThan(20)
      expect(after.report.noShowTotals.some((n) => n.released > 0)).toBe(true)
      expect((await check()).scanned).toEqual([])
      for (const [from, to] of [['2030-08-19', '2030-08-26'], ['2030-09-02', '2030-09-16'], ['2030-08-05', '2030-08-19']]) await check(reportRange(clock.now(), TZ, from, to)!)
    } finally {
      for (const { id } of made) await db().delete(reservations).where(eq(reservations.id, id))
    }
  })
})
