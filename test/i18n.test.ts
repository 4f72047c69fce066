/**
 * Russian and English (issue 26, decision 030): every message the API documents has a Russian
 * translation; the answers a student meets come in Russian with Accept-Language: ru, with
 * numbers in their plural forms and times in the rooms' zone; without the header the answer is
 * the original's English, byte for byte.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { IMPORT_MSG } from '../src/core/bookings/messages'
import { CATALOGUE } from '../src/lib/catalogue'
import { catalogueEntryOf, pickLanguage, translate } from '../src/lib/i18n'
import { fixedClock } from '../src/lib/clock'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'

setDefaultTimeout(60_000)

const RU = { headers: { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.8' } }
// Monday 2 September 2030, 09:00 in Moscow (UTC+3)
const NOW = '2030-09-02T06:00:00Z'
const TZ = 'Europe/Moscow'

describe('pickLanguage', () => {
  test('Russian or English by q-value; English without a header or for any other language', () => {
    expect(pickLanguage(undefined)).toBe('en')
    expect(pickLanguage('')).toBe('en')
    expect(pickLanguage('de-DE,fr;q=0.8')).toBe('en')
    expect(pickLanguage('ru')).toBe('ru')
    expect(pickLanguage('ru-RU,ru;q=0.9,en-US;q=0.8')).toBe('ru')
    expect(pickLanguage('en-US,en;q=0.9,ru;q=0.8')).toBe('en')
    expect(pickLanguage('en;q=0.3, ru;q=0.7')).toBe('ru')
    expect(pickLanguage('ru;q=0, en')).toBe('en')
  })
})

describe('the catalogue', () => {
  let t: TestApp
  beforeAll(async () => { t = await testApp() })
  afterAll(() => t.close())

  test('every message the API document lists has a Russian translation', async () => {
    type Examples = Record<string, { value?: { msg?: unknown } }>
    type Operation = { responses?: Record<string, { content?: Record<string, { examples?: Examples }> }> }
    const doc = await (await t.app.handle(new Request('http://localhost/swagger/json'))).json() as { paths: Record<string, Record<string, Operation>> }
    const missing = new Set<string>()
    let documented = 0
    for (const operations of Object.values(doc.paths))
      for (const op of Object.values(operations))
        for (const [status, response] of Object.entries(op.responses ?? {})) {
          if (!status.startsWith('4') && !status.startsWith('5')) continue
          for (const example of Object.values(response.content?.['application/json']?.examples ?? {})) {
            const message = example.value?.msg
            if (typeof message !== 'string') continue
            documented++
            // A message may end in a note for the reader: "insufficient permissions (another student's reservation)".
            if (!catalogueEntryOf(message) && !catalogueEntryOf(message.replace(/ \([^()]*\)$/, ''))) missing.add(message)
          }
        }
    expect(documented).toBeGreaterThan(100)
    expect([...missing]).toEqual([])
  })

  test('every entry parses, is the one its own English matches, and renders without a leftover placeholder', () => {
    const now = new Date(NOW)
    for (const [en] of Object.entries(CATALOGUE)) {
      const sample = en.replace(/\{(\w+), number\}/g, '3').replace(/\{(\w+), duration\}/g, '1 h 30 min')
        .replace(/\{(\w+), instant\}/g, '2030-09-02T16:00:00Z').replace(/\{(\w+)\}/g, 'X')
      expect(catalogueEntryOf(sample), sample).toBe(en)
      const ru = translate(sample, 'ru', { timeZone: TZ, now })
      expect(ru, en).not.toBe(sample)
      expect(ru, en).not.toMatch(/[{}]/)
    }
  })

  test("every message of an import report's rows has a translation", () => {
    for (const [name, message] of Object.entries(IMPORT_MSG)) {
      const sample = typeof message === 'function' ? (message as (...args: unknown[]) => string)('3', '4') : message
      expect(catalogueEntryOf(sample), name).toBeDefined()
    }
  })

  test('plural forms, durations and instants as a Russian reader expects them', () => {
    const now = new Date(NOW)
    const ru = (message: string, params?: Record<string, unknown>) => translate(message, 'ru', { timeZone: TZ, now, params })
    expect(ru('Reservation is too long: at most 1 hour')).toBe('Бронь слишком длинная: не больше 1 часа')
    expect(ru('Reservation is too long: at most 4 hours')).toBe('Бронь слишком длинная: не больше 4 часов')
    expect(ru('Reservation ends too far ahead: it must end within 1 day from now')).toEndWith('в ближайшие 1 день')
    expect(ru('Reservation ends too far ahead: it must end within 3 days from now')).toEndWith('в ближайшие 3 дня')
    expect(ru('Reservation ends too far ahead: it must end within 30 days from now')).toEndWith('в ближайшие 30 дней')
    expect(ru('booking too long: 4 h 30 min, the limit is 4 h per booking')).toBe('бронь слишком длинная: 4 ч 30 мин, можно не больше 4 ч за раз')
    // an instant today is shown as its local hour, another day with its date
    expect(ru('booking suspended until 2030-09-02T16:00:00Z: 3 no-shows in 30 days')).toBe('бронирование приостановлено до 19:00: 3 неявки за 30 дней')
    expect(ru('booking suspended until 2030-09-09T16:00:00Z: 5 no-shows in 21 days')).toBe('бронирование приостановлено до 09.09 19:00: 5 неявок за 21 день')
    // unknown to the catalogue: left as it is, never a broken pattern
    expect(ru('something nobody wrote down')).toBe('something nobody wrote down')
    expect(translate('room not found', 'en', { timeZone: TZ, now })).toBe('room not found')
  })
})

describe('answers in the request language', () => {
  let t: TestApp
  let admin: Client, student: Client, teacher: Client
  let room: number
  beforeAll(async () => {
    t = await testApp({ clock: fixedClock(new Date(NOW)), env: { APP_TIMEZONE: TZ } })
    ;[admin, student, teacher] = await Promise.all(['admin', 'student', 'teacher'].map((n) => loggedIn(t.app, n))) as [Client, Client, Client]
    const created = await admin.post('/api/admin/rooms', { name: 'R1', booking_start: '08:00', booking_end: '19:00', requires_check_in: false })
    expect(created.status).toBe(201)
    room = created.body.room.id
  })
  afterAll(() => t.close())

  const book = (c: Client, start: string, end: string, options = {}) => c.post(`/api/rooms/${room}/reserve`, { start_time: start, end_time: end }, options)

  test('a wrong login', async () => {
    const anonymous = new (student.constructor as new (app: TestApp['app']) => Client)(t.app)
    const en = await anonymous.post('/api/auth/login', { name: 'student', password: 'wrong-password' }, { csrf: false })
    expect(en.status).toBe(401)
    expect(en.body.msg).toBe('invalid credentials')
    const ru = await anonymous.post('/api/auth/login', { name: 'student', password: 'wrong-password' }, { csrf: false, ...RU })
    expect(ru.status).toBe(401)
    expect(ru.body.msg).toBe('неверное имя или пароль')
    expect(ru.headers.get('vary')).toContain('Accept-Language')
    const ok = await anonymous.post('/api/auth/login', { name: 'student', password: 'student1234' }, { csrf: false, ...RU })
    expect(ok.status).toBe(200)
    expect(ok.body.msg).toBe('вход выполнен')
    expect((await anonymous.post('/api/auth/login', { name: 'student', password: 'student1234' }, { csrf: false })).body.msg).toBe('login successful')
  })

  test('outside the opening hours: the Russian answer names the hour in the rooms zone', async () => {
    // 18:00-20:00 Moscow: ends after 19:00
    const en = await book(student, '2030-09-03T15:00:00Z', '2030-09-03T17:00:00Z')
    expect(en.status).toBe(400)
    expect(en.body).toEqual({ msg: 'Reservation ends after allowed time' })
    const ru = await book(student, '2030-09-03T15:00:00Z', '2030-09-03T17:00:00Z', RU)
    expect(ru.body).toEqual({ msg: 'Бронь заканчивается позже разрешённого времени: аудиторию можно бронировать до 19:00' })
    const early = await book(student, '2030-09-03T04:00:00Z', '2030-09-03T06:00:00Z', RU)
    expect(early.body.msg).toBe('Бронь начинается раньше разрешённого времени: аудиторию можно бронировать с 08:00')
  })

  test('a closure: its reason and until when, in local time', async () => {
    const closure = await admin.post('/api/admin/closures', { room_ids: [room], kind: 'maintenance', reason: 'Покраска', start_time: '2030-09-04T05:00:00Z', end_time: '2030-09-04T16:00:00Z' })
    expect(closure.status).toBe(201)
    const en = await book(student, '2030-09-04T07:00:00Z', '2030-09-04T08:00:00Z')
    expect(en.body.msg).toBe('room is closed: Покраска')
    const ru = await book(student, '2030-09-04T07:00:00Z', '2030-09-04T08:00:00Z', RU)
    expect(ru.status).toBe(409)
    expect(ru.body.msg).toBe('аудитория закрыта до 04.09 19:00: Покраска')
  })

  test('a taken slot names the lesson and its local times', async () => {
    const series = await teacher.post('/api/series', {
      room_id: room, start_time: '2030-09-05T07:00:00Z', end_time: '2030-09-05T08:30:00Z', rrule: 'FREQ=WEEKLY;COUNT=2', title: 'Матанализ',
    })
    expect(series.status).toBe(201)
    const en = await book(student, '2030-09-05T07:30:00Z', '2030-09-05T08:00:00Z')
    expect(en.status).toBe(409)
    expect(en.body.msg).toBe('Reservation conflicts with existing booking')
    const ru = await book(student, '2030-09-05T07:30:00Z', '2030-09-05T08:00:00Z', RU)
    expect(ru.status).toBe(409)
    expect(ru.body.msg).toBe('Время занято: занятие «Матанализ» (teacher), 05.09 10:00–11:30')
    expect(ru.body.held_by).toEqual(en.body.held_by)
  })

  test("an import report's rows in Russian; without the header as the code wrote them", async () => {
    const file = 'аудитория;преподаватель;день;начало;конец;с;по\nZ999;teacher;пн;10:00;11:30;09.09.2030;30.09.2030\nR1;nobody;вт;10:00;11:30;09.09.2030;30.09.2030\n'
    const send = (headers: Record<string, string>) => admin.request('POST', '/api/admin/timetable/import?dry_run=1', { body: file, headers: { 'content-type': 'text/csv', ...headers }, csrf: true })
    const en = await send({})
    const ru = await send(RU.headers)
    expect(ru.status).toBe(en.status)
    const errors = (r: typeof en) => JSON.stringify(r.body).match(/"errors":\[[^\]]*\]/g)
    expect(errors(en)).toEqual(['"errors":["room not found: Z999"]', '"errors":["user not found: nobody"]'])
    expect(errors(ru)).toEqual(['"errors":["аудитория не найдена: Z999"]', '"errors":["пользователь не найден: nobody"]'])
    expect(ru.headers.get('vary')).toContain('Accept-Language')
  })

  test('the weekly limit, with Russian plural forms', async () => {
    const policy = await admin.post('/api/admin/policies', { role: 'student', max_minutes_per_week: 600 })
    expect(policy.status).toBe(201)
    // 8 hours this week (the demo seed's 2 on Monday, 4 on Tuesday, 2 on Friday), then 4 more asked for
    expect((await book(student, '2030-09-03T06:00:00Z', '2030-09-03T10:00:00Z')).status).toBe(201)
    expect((await book(student, '2030-09-06T06:00:00Z', '2030-09-06T08:00:00Z')).status).toBe(201)
    const en = await book(student, '2030-09-07T06:00:00Z', '2030-09-07T10:00:00Z')
    expect(en.status).toBe(403)
    expect(en.body.msg).toBe('weekly limit reached: 8 of 10 hours used, this booking needs 4')
    const ru = await book(student, '2030-09-07T06:00:00Z', '2030-09-07T10:00:00Z', RU)
    expect(ru.status).toBe(403)
    expect(ru.body.msg).toBe('недельный лимит исчерпан: использовано 8 из 10 часов, а эта бронь требует ещё 4 часа')
    expect(ru.body.rule).toEqual(en.body.rule)
  })
})
