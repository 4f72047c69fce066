/**
 * Issue 15: series (recurring bookings), closures and terms, and importing a term's timetable.
 * On both databases (CI runs this file on PGlite and on PostgreSQL), on a fake clock moved into
 * TEST_CLOCK_YEAR by whole weeks (weekdays stay; the DST change stays in late October).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { closures, reservations, rooms, series, users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { localParts, zonedToUtc } from '../src/lib/time'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

const shifted = timeShifter('2030-08-19T08:00:00Z')
const NOW = new Date(shifted('2030-08-19T08:00:00Z')) // a Monday, two weeks before the term

/** Local wall-clock time `hhmm` on `date` (as written for 2030, moved with the clock) in `timeZone`, as ISO UTC. */
function localAt(date: string, hhmm: string, timeZone: string): string {
  const day = new Date(shifted(`${date}T12:00:00Z`))
  const [h, m] = hhmm.split(':').map(Number) as [number, number]
  return zonedToUtc(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), h * 3600 + m * 60, timeZone).toISOString().replace('.000Z', 'Z')
}
const localTime = (iso: string, timeZone: string) => {
  const p = localParts(new Date(iso), timeZone)
  return `${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`
}

interface World { t: TestApp; admin: Client; teacher: Client; student: Client; ids: Record<string, number> }

async function world(timeZone: string): Promise<World> {
  const t = await testApp({ clock: fixedClock(NOW), env: { APP_TIMEZONE: timeZone } })
  const [admin, teacher, student] = await Promise.all(['admin', 'teacher', 'student'].map((n) => loggedIn(t.app, n))) as [Client, Client, Client]
  const ids: Record<string, number> = {}
  for (const u of await t.database.db.select().from(users)) ids[u.name] = u.id
  for (const name of ['L1', 'L2', 'L3', 'L4', 'L5']) {
    const created = await admin.post('/api/admin/rooms', { name, requires_check_in: false })
    expect(created.status).toBe(201)
    ids[name] = created.body.room.id
  }
  return { t, admin, teacher, student, ids }
}

const weeklyMondays = (w: World, room: string, tz: string, extra: Record<string, unknown> = {}) => ({
  room_id: w.ids[room], start_time: localAt('2030-09-02', '10:00', tz), end_time: localAt('2030-09-02', '11:30', tz),
  rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=17', ...extra,
})

describe('series across a DST change', () => {
  for (const tz of ['Europe/Berlin', 'Europe/Moscow']) {
    test(`17 weekly Mondays at 10:00 local in ${tz}, each an ordinary reservation`, async () => {
      const w = await world(tz)
      try {
        const r = await w.teacher.post('/api/series', weeklyMondays(w, 'L1', tz, { title: 'Linear algebra' }))
        expect(r.status).toBe(201)
        expect(r.body.created).toHaveLength(17)
        expect(r.body.skipped).toEqual([])
        expect(r.body.series).toMatchObject({ room_id: w.ids.L1, user_id: w.ids.teacher, title: 'Linear algebra', time_zone: tz })
        const starts: string[] = r.body.created.map((o: { start_time: string }) => o.start_time)
        expect(starts.map((s) => localTime(s, tz))).toEqual(Array(17).fill('10:00'))
        expect(starts.map((s) => new Date(s).getUTCDay())).toEqual(Array(17).fill(1))
        const utcHours = new Set(starts.map((s) => new Date(s).getUTCHours()))
        // Berlin changes from UTC+2 to UTC+1 in late October; Moscow stays at UTC+3.
        expect([...utcHours].sort()).toEqual(tz === 'Europe/Berlin' ? [8, 9] : [7])
        // In the database: 17 active reservations of the series, with its title; GET /reservations/mine shows them.
        const rows = await w.t.database.db.select().from(reservations).where(eq(reservations.seriesId, r.body.series.id))
        expect(rows.filter((row) => row.status === 'active' && row.title === 'Linear algebra')).toHaveLength(17)
        const mine = await w.teacher.get('/api/reservations/mine')
        expect(mine.body.reservations.filter((x: { start_time: string }) => starts.includes(x.start_time))).toHaveLength(17)
      } finally {
        await w.t.close()
      }
    })
  }
})

describe('series, closures and terms (Europe/Berlin)', () => {
  const tz = 'Europe/Berlin'
  let w: World
  beforeAll(async () => {
    w = await world(tz)
  }, 120_000)
  afterAll(() => w.t.close())

  const countSeries = async () => (await w.t.database.db.select().from(series)).length
  const activeIn = async (room: string) =>
    (await w.t.database.db.select().from(reservations).where(and(eq(reservations.roomId, w.ids[room]!), eq(reservations.status, 'active')))).length

  test('a holiday and a booking: 409 listing both and nothing created; with skip_conflicts they are skipped', async () => {
    const holiday = await w.admin.post('/api/admin/closures', {
      room_ids: [w.ids.L2], start_time: localAt('2030-10-14', '00:00', tz), end_time: localAt('2030-10-15', '00:00', tz), kind: 'holiday', reason: 'Founders day',
    })
    expect(holiday.status).toBe(201)
    const booked = await w.student.post(`/api/rooms/${w.ids.L2}/reserve`, { start_time: localAt('2030-09-23', '10:30', tz), end_time: localAt('2030-09-23', '11:00', tz) })
    expect(booked.status).toBe(201)
    const before = { series: await countSeries(), active: await activeIn('L2') }

    const refused = await w.teacher.post('/api/series', weeklyMondays(w, 'L2', tz))
    expect(refused.status).toBe(409)
    expect(refused.body.conflicts).toEqual([
      { start_time: localAt('2030-09-23', '10:00', tz), end_time: localAt('2030-09-23', '11:30', tz), conflict: { kind: 'booking', id: booked.body.reservation.id, msg: 'Reservation conflicts with existing booking' } },
      { start_time: localAt('2030-10-14', '10:00', tz), end_time: localAt('2030-10-14', '11:30', tz), conflict: { kind: 'closure', id: holiday.body.closure.id, msg: 'room is closed: Founders day' } },
    ])
    expect({ series: await countSeries(), active: await activeIn('L2') }).toEqual(before)

    const precheck = await w.teacher.post('/api/series/precheck', weeklyMondays(w, 'L2', tz))
    expect(precheck.status).toBe(200)
    expect(precheck.body.occurrences.filter((o: { conflict: unknown }) => o.conflict)).toHaveLength(2)

    const created = await w.teacher.post('/api/series', weeklyMondays(w, 'L2', tz, { skip_conflicts: true }))
    expect(created.status).toBe(201)
    expect(created.body.created).toHaveLength(15)
    expect(created.body.skipped.map((s: { reason: string }) => s.reason)).toEqual(['Reservation conflicts with existing booking', 'room is closed: Founders day'])
    expect(await activeIn('L2')).toBe(before.active + 15)
  })

  test('two overlapping series asked for at once: exactly one wins', async () => {
    const ask = () => w.teacher.post('/api/series', weeklyMondays(w, 'L3', tz))
    const [a, b] = await Promise.all([ask(), ask()])
    expect([a.status, b.status].sort()).toEqual([201, 409])
    expect(await activeIn('L3')).toBe(17)
  })

  test('DELETE ?from= cancels exactly the occurrences from then on; a moved one survives edits of its series', async () => {
    const created = await w.teacher.post('/api/series', weeklyMondays(w, 'L4', tz, { title: 'Optics' }))
    expect(created.status).toBe(201)
    const occurrences: { id: number; start_time: string }[] = created.body.created
    // Move the 12th lesson to Tuesday: it becomes an exception.
    const moved = occurrences[11]!
    const move = await w.teacher.patch(`/api/reservations/${moved.id}`, { start_time: localAt('2030-11-19', '10:00', tz), end_time: localAt('2030-11-19', '11:30', tz) })
    expect(move.status).toBe(200)

    const renamed = await w.teacher.patch(`/api/series/${created.body.series.id}`, { title: 'Optics II' })
    expect(renamed.status).toBe(200)
    const from = occurrences[10]!.start_time
    const cancelled = await w.teacher.delete(`/api/series/${created.body.series.id}?from=${encodeURIComponent(from)}`)
    expect(cancelled.status).toBe(200)
    expect(cancelled.body.cancelled.sort((x: number, y: number) => x - y)).toEqual(occurrences.slice(10).map((o) => o.id).filter((id) => id !== moved.id))

    const detail = await w.teacher.get(`/api/series/${created.body.series.id}`)
    const byId = new Map<number, { status: string; title: string; exception: boolean }>(detail.body.occurrences.map((o: { id: number }) => [o.id, o]))
    for (const [i, o] of occurrences.entries()) {
      const now = byId.get(o.id)!
      if (o.id === moved.id) expect(now).toMatchObject({ status: 'active', title: 'Optics', exception: true })
      else expect(now).toMatchObject({ status: i < 10 ? 'active' : 'cancelled', title: 'Optics II', exception: false })
    }
  })

  test('shortening a series cancels what lies after the new end; lengthening is refused', async () => {
    const created = await w.teacher.post('/api/series', weeklyMondays(w, 'L5', tz, { rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=5' }))
    expect(created.status).toBe(201)
    const ids = created.body.created.map((o: { id: number }) => o.id)
    const shorter = await w.teacher.patch(`/api/series/${created.body.series.id}`, { until: localAt('2030-09-16', '23:00', tz) })
    expect(shorter.status).toBe(200)
    expect(shorter.body.cancelled.sort((x: number, y: number) => x - y)).toEqual(ids.slice(3))
    const longer = await w.teacher.patch(`/api/series/${created.body.series.id}`, { until: localAt('2030-12-30', '23:00', tz) })
    expect(longer.status).toBe(400)
    expect(longer.body.msg).toBe('until can only move earlier: create a new series for more occurrences')
  })

  test('a booking or a reschedule into a closure is 409 with its reason; the room shows the closure while it lasts', async () => {
    const start = localAt('2030-09-04', '08:00', tz)
    const end = localAt('2030-09-04', '18:00', tz)
    const closure = await w.admin.post('/api/admin/closures', { room_ids: [w.ids.L5], start_time: start, end_time: end, kind: 'maintenance', reason: 'Projector repair' })
    expect(closure.status).toBe(201)
    const into = await w.student.post(`/api/rooms/${w.ids.L5}/reserve`, { start_time: localAt('2030-09-04', '12:00', tz), end_time: localAt('2030-09-04', '13:00', tz) })
    expect(into.status).toBe(409)
    expect(into.body.msg).toBe('room is closed: Projector repair')
    const other = await w.student.post(`/api/rooms/${w.ids.L4}/reserve`, { start_time: localAt('2030-09-04', '12:00', tz), end_time: localAt('2030-09-04', '13:00', tz) })
    expect(other.status).toBe(201)
    const later = await w.student.post(`/api/rooms/${w.ids.L5}/reserve`, { start_time: localAt('2030-09-05', '12:00', tz), end_time: localAt('2030-09-05', '13:00', tz) })
    expect(later.status).toBe(201)
    const moved = await w.teacher.patch(`/api/reservations/${later.body.reservation.id}`, { start_time: localAt('2030-09-04', '17:00', tz), end_time: localAt('2030-09-04', '19:00', tz) })
    expect(moved.status).toBe(409)
    expect(moved.body.msg).toBe('room is closed: Projector repair')

    // The public list of closures has it.
    const listed = await w.student.get(`/api/closures?room_id=${w.ids.L5}&from=${encodeURIComponent(start)}`)
    expect(listed.body.closures.map((c: { reason: string }) => c.reason)).toContain('Projector repair')
  })

  test('students cannot create series; a bad RRULE is 400 naming the problem', async () => {
    expect((await w.student.post('/api/series', weeklyMondays(w, 'L1', tz))).status).toBe(403)
    const bad = async (rrule: string) => (await w.teacher.post('/api/series/precheck', weeklyMondays(w, 'L1', tz, { rrule }))).body.msg
    expect(await bad('FREQ=WEEKLY;BYDAY=MO;BYEASTER=1;COUNT=3')).toStartWith('rrule: unknown part BYEASTER')
    expect(await bad('FREQ=WEEKLY;BYDAY=MO')).toBe('rrule: it never ends: give COUNT, UNTIL or until_term')
    expect(await bad('FREQ=DAILY;COUNT=201')).toBe('rrule: more than 200 occurrences: a series holds at most 200')
    expect(await bad('FREQ=WEEKLY;BYDAY=XX;COUNT=3')).toStartWith('rrule: ')
  })

  test('lessons need a check-in only where the room says so for series', async () => {
    const room = (await w.admin.post('/api/admin/rooms', { name: 'CHK', requires_check_in: true })).body.room
    expect(room.series_require_check_in).toBe(false)
    const first = await w.teacher.post('/api/series', weeklyMondays(w, 'L1', tz, { room_id: room.id, rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=2' }))
    expect(first.body.created.map((o: { check_in_required: boolean }) => o.check_in_required)).toEqual([false, false])
    const changed = await w.admin.patch(`/api/admin/rooms/${room.id}`, { series_require_check_in: true })
    expect(changed.body.room.series_require_check_in).toBe(true)
    const second = await w.teacher.post('/api/series', weeklyMondays(w, 'L1', tz, {
      room_id: room.id, start_time: localAt('2030-09-02', '14:00', tz), end_time: localAt('2030-09-02', '15:00', tz), rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=2',
    }))
    expect(second.body.created.map((o: { check_in_required: boolean }) => o.check_in_required)).toEqual([true, true])
  })

  test('a series may end with a term', async () => {
    const term = await w.admin.post('/api/admin/terms', { name: 'Autumn', starts_on: shifted('2030-09-02T12:00:00Z').slice(0, 10), ends_on: shifted('2030-10-06T12:00:00Z').slice(0, 10) })
    expect(term.status).toBe(201)
    const r = await w.teacher.post('/api/series/precheck', weeklyMondays(w, 'L1', tz, { rrule: 'FREQ=WEEKLY;BYDAY=FR', until_term: term.body.term.id }))
    expect(r.status).toBe(200)
    // Fridays from 2030-09-06 to 2030-10-04: five of them.
    expect(r.body.occurrences).toHaveLength(5)
  })
})

describe('the room while a closure lasts', () => {
  test('status blocked with the closure; free slots leave it out', async () => {
    const tz = 'Europe/Berlin'
    const clock = fixedClock(NOW)
    const t = await testApp({ clock, env: { APP_TIMEZONE: tz } })
    try {
      const admin = await loggedIn(t.app, 'admin')
      const room = (await admin.post('/api/admin/rooms', { name: 'CL1', requires_check_in: false })).body.room
      const from = new Date(NOW.getTime() + 3600_000)
      const to = new Date(NOW.getTime() + 3 * 3600_000)
      const closure = await admin.post('/api/admin/closures', { room_ids: [room.id], start_time: from.toISOString(), end_time: to.toISOString(), kind: 'exam', reason: 'Final exam' })
      expect(closure.status).toBe(201)
      let detail = await admin.get(`/api/rooms/${room.id}`)
      expect(detail.body.room).toMatchObject({ status: 'available', closure: null })
      expect(detail.body.free_slots[0]).toEqual({ start: NOW.toISOString().replace('.000Z', 'Z'), end: from.toISOString().replace('.000Z', 'Z') })
      expect(detail.body.free_slots[1].start).toBe(to.toISOString().replace('.000Z', 'Z'))
      clock.set(new Date(from.getTime() + 60_000))
      await admin.login('admin') // the access token has expired meanwhile
      detail = await admin.get(`/api/rooms/${room.id}`)
      expect(detail.body.room.status).toBe('blocked')
      expect(detail.body.room.closure).toMatchObject({ id: closure.body.closure.id, kind: 'exam', reason: 'Final exam' })
      const listed = await admin.get('/api/rooms')
      expect(listed.body.rooms.find((r: { id: number }) => r.id === room.id).status).toBe('blocked')
      // The scan page and the door display say why, and until when.
      const page = await admin.request('GET', `/r/${room.id}`, { headers: { 'accept-language': 'en' } })
      expect(page.text).toContain('Closed until')
      expect(page.text).toContain('Final exam')
      const display = await admin.get(`/display/${room.id}`)
      expect(display.text).toContain('Closed until')
      const blockedOnly = await admin.get('/api/admin/rooms?status=blocked')
      expect(blockedOnly.status, blockedOnly.text).toBe(200)
      expect(blockedOnly.body.rooms.map((r: { id: number }) => r.id)).toContain(room.id)
    } finally {
      await t.close()
    }
  })
})

describe('importing', () => {
  const tz = 'Europe/Moscow'
  let w: World
  beforeAll(async () => {
    w = await world(tz)
  }, 120_000)
  afterAll(() => w.t.close())

  const d = (date: string) => shifted(`${date}T12:00:00Z`).slice(0, 10)
  const csv = (rows: string[]) => ['room;teacher;weekday;start;end;from;until;title', ...rows].join('\n')
  const importCsv = (body: string, query = '') => w.admin.request('POST', `/api/admin/timetable/import${query}`, { body, headers: { 'content-type': 'text/csv' }, csrf: true })

  test('a dry run reports what the import then does; an unknown room is an error of its line, and keeps the file out', async () => {
    const good = [`L1;teacher;пн;09:00;10:30;${d('2030-09-02')};${d('2030-12-22')};Algebra`, `L1;teacher;wed;09:00;10:30;${d('2030-09-02')};${d('2030-12-22')};Geometry`]
    const dry = await importCsv(csv(good), '?dry_run=1')
    expect(dry.status).toBe(200)
    const counts = { rows: 2, series: 2, occurrences: 32, unchanged: 0, skipped_past: 0, skipped_closures: 0, conflicts: 0, errors: 0 }
    // A dry run says what it would do; the import what it did (issue 26).
    expect(dry.body.totals).toEqual({ ...counts, would_create: 32, would_update: 0, would_cancel: 0 })
    expect((await w.t.database.db.select().from(series)).length).toBe(0)

    const withError = await importCsv(csv([...good, `NOWHERE;teacher;3;09:00;10:30;${d('2030-09-02')};${d('2030-12-22')};X`]))
    expect(withError.status).toBe(400)
    expect(withError.body.report.rows[2]).toMatchObject({ line: 4, errors: ['room not found: NOWHERE'] })
    expect((await w.t.database.db.select().from(series)).length).toBe(0)

    const real = await importCsv(csv(good))
    expect(real.status).toBe(201)
    expect(real.body.totals).toEqual({ ...counts, created: 32, updated: 0, cancelled: 0 })
    expect((await w.t.database.db.select().from(reservations).where(eq(reservations.title, 'Geometry'))).length).toBe(16)
  })

  test('conflicts inside the file: all or nothing, unless skip_conflicts=1', async () => {
    const rows = [`L2;teacher;1;12:00;13:00;${d('2030-09-02')};${d('2030-10-27')};A`, `L2;admin;mon;12:30;13:30;${d('2030-09-02')};${d('2030-10-27')};B`]
    const refused = await importCsv(csv(rows))
    expect(refused.status).toBe(409)
    expect(refused.body.report.totals.conflicts).toBe(8)
    expect((await w.t.database.db.select().from(reservations).where(eq(reservations.roomId, w.ids.L2!))).length).toBe(0)
    const skipped = await importCsv(csv(rows), '?skip_conflicts=1')
    expect(skipped.status).toBe(201)
    expect(skipped.body.totals).toMatchObject({ created: 8, conflicts: 8 })
  })

  test('an iCalendar of holidays becomes all-rooms closures, once per UID', async () => {
    const y = Number(d('2030-12-30').slice(0, 4)) + 1
    const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//holidays//EN',
      'BEGIN:VEVENT', `UID:new-year-${y}@holidays`, `DTSTART;VALUE=DATE:${y}0101`, `DTEND;VALUE=DATE:${y}0103`, 'SUMMARY:New Year', 'END:VEVENT',
      'BEGIN:VEVENT', `UID:xmas-${y}@holidays`, `DTSTART;VALUE=DATE:${y}0107`, 'SUMMARY:Christmas', 'END:VEVENT',
      'END:VCALENDAR'].join('\r\n')
    const send = () => w.admin.request('POST', '/api/admin/closures/import', { body: ics, headers: { 'content-type': 'text/calendar' }, csrf: true })
    const first = await send()
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ created: 2, updated: 0, unchanged: 0 })
    const again = await send()
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ created: 0, updated: 0, unchanged: 2 })
    const stored = await w.t.database.db.select().from(closures)
    const xmas = stored.find((c) => c.uid === `xmas-${y}@holidays`)!
    // An all-day date is local midnight to midnight in APP_TIMEZONE (Moscow, UTC+3).
    expect(xmas.startTime.toISOString()).toBe(`${y}-01-06T21:00:00.000Z`)
    expect(xmas.endTime.toISOString()).toBe(`${y}-01-07T21:00:00.000Z`)
    expect(xmas.allRooms).toBe(true)
    const bad = await w.admin.request('POST', '/api/admin/closures/import', { body: 'not a calendar', headers: { 'content-type': 'text/calendar' }, csrf: true })
    expect(bad.status).toBe(400)
    expect(bad.body.msg).toStartWith('not an iCalendar file:')
  })
})

void rooms
