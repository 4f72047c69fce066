/**
 * Issue 28, notices: a bump, a rejection, a release and a closure each reach the person they are
 * about, once per enabled channel: in the app (GET /api/me/notifications) and by e-mail to a real
 * SMTP server in this process (smtp-server, parsed with mailparser as a mail client would), in
 * Russian for a Russian user, with times in the rooms' zone and a valid .ics (read with ical.js,
 * not the generator). Preferences, the unsubscribe link, addresses set by an admin or confirmed
 * by a link, and an SMTP server that is down: nothing is lost, nothing is sent twice.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import ICAL from 'ical.js'
import type { ParsedMail } from 'mailparser'
import { mailDeliveries, notifications, rooms, users } from '../src/db/schema'
import { sweepOnce } from '../src/core/bookings/checkin/sweeper'
import { fixedClock } from '../src/lib/clock'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { startSmtp, type TestSmtp } from './helpers/smtp'

setDefaultTimeout(30_000)

// Monday 2 March 2026, 09:00 in Moscow (06:00 UTC).
const clock = fixedClock('2026-03-02T06:00:00Z')
const HOUR = 3600_000
const at = (hours: number) => new Date(Date.parse('2026-03-02T06:00:00Z') + hours * HOUR).toISOString().replace('.000Z', 'Z')

let t: TestApp
let smtp: TestSmtp
let admin: Client, teacher: Client, student: Client, guest: Client
const ids: Record<string, number> = {}

const userId = async (name: string) => (await t.database.db.select({ id: users.id }).from(users).where(eq(users.name, name)))[0]!.id
const roomId = async (name: string) => (await t.database.db.select({ id: rooms.id }).from(rooms).where(eq(rooms.name, name)))[0]!.id
const mailTo = (address: string) => smtp.messages.filter((m) => (m.to as { text: string }).text === address)
/** The List-Unsubscribe URL as the header carries it. */
const unsubscribeOf = (mail: ParsedMail) => mail.headerLines.find((h) => h.key === 'list-unsubscribe')?.line.replace(/^List-Unsubscribe:\s*<|>$/gi, '') ?? ''
const icsOf = (mail: ParsedMail) => {
  const attachment = mail.attachments.find((a) => a.filename === 'booking.ics')
  return attachment ? new ICAL.Component(ICAL.parse(attachment.content.toString('utf8'))) : null
}

/** Signs everyone in again: after the clock moved past their access tokens' lifetime (or back before it). */
async function signIn() {
  ;[admin, teacher, student, guest] = await Promise.all(['admin', 'teacher', 'student', 'guest'].map((n) => loggedIn(t.app, n))) as [Client, Client, Client, Client]
}

beforeAll(async () => {
  smtp = await startSmtp()
  t = await testApp({ clock, env: { SMTP_URL: smtp.url, APP_TIMEZONE: 'Europe/Moscow', MAIL_FROM: 'QRBOOK <rooms@college.test>' } })
  await signIn()
  for (const name of ['student', 'guest', 'teacher']) ids[name] = await userId(name)
  ids.B102 = await roomId('B102')
  // Addresses set by an admin (no link needed); the student reads Russian, the guest English.
  expect((await admin.patch(`/api/admin/users/${ids.student}`, { email: 'student@college.test' })).body.user.email).toBe('student@college.test')
  expect((await admin.patch(`/api/admin/users/${ids.guest}`, { email: 'Guest@College.TEST' })).body.user.email).toBe('Guest@college.test')
  expect((await student.put('/api/me/notification-preferences', { lang: 'ru' })).status).toBe(200)
  await t.ctx.notifier.drain()
  smtp.messages.length = 0
}, 120_000)
afterAll(async () => {
  await t.close()
  await smtp.stop()
})

describe('notices from the change record', () => {
  test('a bump: the student is told in the app and by e-mail, in Russian, Moscow time, with the .ics; once', async () => {
    const booked = await student.post(`/api/rooms/${ids.B102}/reserve`, { start_time: at(4), end_time: at(5) })
    expect(booked.status).toBe(201)
    const lesson = await teacher.post(`/api/rooms/${ids.B102}/reserve`, { start_time: at(4), end_time: at(6), bump: true })
    expect(lesson.status).toBe(201)
    await t.ctx.notifier.drain()
    await t.ctx.notifier.drain() // a second pass makes nothing twice

    const list = await student.get('/api/me/notifications', { headers: { 'accept-language': 'ru' } })
    expect(list.status).toBe(200)
    const bumped = list.body.notifications.filter((n: { kind: string }) => n.kind === 'bumped')
    expect(bumped).toHaveLength(1)
    expect(bumped[0].title).toBe('Бронь отменена ради занятия: B102')
    // 10:00 UTC is 13:00 in Moscow
    expect(bumped[0].body).toContain('13:00–14:00')
    expect(bumped[0].body).toContain('Бронь отменил(а) teacher ради занятия.')
    expect(list.body.unread).toBeGreaterThanOrEqual(1)
    // the confirmation of one's own booking is off by default: none
    expect(list.body.notifications.some((n: { kind: string }) => n.kind === 'booking_confirmed')).toBe(false)

    const mails = mailTo('student@college.test')
    expect(mails).toHaveLength(1)
    const mail = mails[0]!
    expect(mail.subject).toBe('Бронь отменена ради занятия: B102')
    expect(mail.text).toContain('пн, 2 мар., 13:00–14:00')
    expect(mail.html).toContain('Бронь отменена ради занятия')
    expect((mail.from as { value: { name: string; address: string }[] }).value[0]).toEqual({ name: 'QRBOOK', address: 'rooms@college.test' })
    // List-Unsubscribe, one click (RFC 8058)
    const unsubscribe = unsubscribeOf(mail)
    expect(unsubscribe).toStartWith('http://qrbook.test/api/notifications/unsubscribe?')
    expect(mail.headerLines.find((h) => h.key === 'list-unsubscribe-post')?.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click')
    // the booking, cancelled, as iCalendar
    const ics = icsOf(mail)!
    const event = ics.getFirstSubcomponent('vevent')!
    expect(event.getFirstPropertyValue('status')).toBe('CANCELLED')
    expect((event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate().toISOString()).toBe(new Date(at(4)).toISOString())
    expect(String(event.getFirstPropertyValue('location'))).toContain('B102')

    // the teacher who bumped is told nothing about it
    const teacherList = await teacher.get('/api/me/notifications')
    expect(teacherList.body.notifications.some((n: { kind: string }) => n.kind === 'bumped')).toBe(false)
  })

  test('a rejection: the booker learns the reason; the admins were told a request waits', async () => {
    expect((await admin.post('/api/admin/policies', { role: 'student', room_id: ids.B102, requires_approval: true })).status).toBe(201)
    const pending = await guest.post(`/api/rooms/${ids.B102}/reserve`, { start_time: at(24), end_time: at(25) })
    expect(pending.status).toBe(201)
    await t.ctx.notifier.drain()
    const waiting = (await admin.get('/api/me/notifications')).body.notifications.filter((n: { kind: string }) => n.kind === 'approval_requested')
    expect(waiting).toHaveLength(1)
    expect(waiting[0].body).toContain('By guest')

    expect((await admin.post(`/api/admin/approvals/${pending.body.reservation.id}`, { decision: 'reject', reason: 'Exam week' })).status).toBe(200)
    await t.ctx.notifier.drain()
    const decided = (await guest.get('/api/me/notifications')).body.notifications.filter((n: { kind: string }) => n.kind === 'approval_decided')
    expect(decided).toHaveLength(1)
    expect(decided[0].title).toBe('Booking rejected: B102')
    expect(decided[0].body).toContain('Reason: Exam week')
    const mails = mailTo('Guest@college.test').filter((m) => m.subject === 'Booking rejected: B102')
    expect(mails).toHaveLength(1)
    expect(mails[0]!.text).toContain('Tue 3 Mar, 09:00–10:00')
    expect(icsOf(mails[0]!)!.getFirstSubcomponent('vevent')!.getFirstPropertyValue('status')).toBe('CANCELLED')
    // drop the policy for the tests that follow
    const policies = (await admin.get('/api/admin/policies')).body.policies as { id: number }[]
    for (const p of policies) await admin.delete(`/api/admin/policies/${p.id}`)
  })

  test('a release as a no-show: told once, after the reminder that check-in had opened', async () => {
    const room = await admin.post('/api/admin/rooms', { name: 'N1', requires_check_in: true, check_in_proof: 'none', check_in_opens_min: 10, auto_release_after_min: 15 })
    expect(room.status).toBe(201)
    const booked = await student.post(`/api/rooms/${room.body.room.id}/reserve`, { start_time: at(2), end_time: at(3) })
    expect(booked.status).toBe(201)
    clock.set(new Date(Date.parse(at(2)) - 5 * 60_000)) // check-in has opened
    await t.ctx.notifier.drain()
    await t.ctx.notifier.drain()
    const reminders = mailTo('student@college.test').filter((m) => m.subject === 'Отметьтесь в аудитории N1')
    expect(reminders).toHaveLength(1)
    expect(reminders[0]!.text).toContain('до 11:15') // 08:15 UTC, Moscow

    clock.set(new Date(Date.parse(at(2)) + 16 * 60_000))
    await sweepOnce(t.ctx)
    await t.ctx.notifier.drain()
    await signIn()
    const released = (await student.get('/api/me/notifications')).body.notifications.filter((n: { kind: string; data: { room_name?: string } }) => n.kind === 'released_no_show' && (n as { data: { room_name?: string } }).data.room_name === 'N1')
    expect(released).toHaveLength(1)
    expect(mailTo('student@college.test').filter((m) => m.subject === 'Бронь снята: вы не отметились (N1)')).toHaveLength(1)
    clock.set('2026-03-02T06:00:00Z')
    await signIn()
  })

  test('a closure that cancels a booking: its owner is told why', async () => {
    const booked = await guest.post(`/api/rooms/${ids.B102}/reserve`, { start_time: at(30), end_time: at(31) })
    expect(booked.status).toBe(201)
    const closure = await admin.post('/api/admin/closures', { room_ids: [ids.B102], start_time: at(29), end_time: at(33), kind: 'maintenance', reason: 'Projector repair', cancel_affected: true })
    expect(closure.status).toBe(201)
    await t.ctx.notifier.drain()
    const told = (await guest.get('/api/me/notifications')).body.notifications.filter((n: { kind: string }) => n.kind === 'closure_cancelled')
    expect(told).toHaveLength(1)
    expect(told[0].body).toContain('The room is closed: Projector repair.')
    expect(mailTo('Guest@college.test').filter((m) => m.subject === 'Booking cancelled: room closed (B102)')).toHaveLength(1)
  })

  test('a slot waited for is booked for the waiter, and they are told', async () => {
    const held = await student.post(`/api/rooms/${ids.B102}/reserve`, { start_time: at(50), end_time: at(51) })
    expect(held.status).toBe(201)
    expect((await guest.post(`/api/rooms/${ids.B102}/waitlist`, { start_time: at(50), end_time: at(51) })).status).toBe(201)
    expect((await student.delete(`/api/reservations/${held.body.reservation.id}`)).status).toBe(200)
    await t.ctx.waitlist.drain()
    await t.ctx.notifier.drain()
    const told = (await guest.get('/api/me/notifications')).body.notifications.filter((n: { kind: string }) => n.kind === 'waitlist_booked')
    expect(told).toHaveLength(1)
    expect(told[0].title).toBe('Booked from the waitlist: B102')
    const mine = (await guest.get('/api/reservations/mine')).body.reservations
    expect(mine.find((r: { id: number }) => r.id === told[0].data.reservation_id)).toMatchObject({ status: 'active' })
    expect(mailTo('Guest@college.test').filter((m) => m.subject === 'Booked from the waitlist: B102')).toHaveLength(1)
  })

  test('marking read lowers the unread count; another user cannot read mine', async () => {
    const before = (await guest.get('/api/me/notifications')).body
    expect(before.unread).toBeGreaterThan(0)
    const one = before.notifications[0].id
    expect((await student.post('/api/me/notifications/read', { ids: [one] })).status).toBe(200)
    expect((await guest.get('/api/me/notifications')).body.unread).toBe(before.unread)
    expect((await guest.post('/api/me/notifications/read', { ids: [one] })).body.unread).toBe(before.unread - 1)
    expect((await guest.post('/api/me/notifications/read', { all: true })).body.unread).toBe(0)
    expect((await guest.get('/api/me/notifications?unread=true')).body.notifications).toEqual([])
  })
})

describe('preferences and addresses', () => {
  test('turning a kind off by e-mail keeps it in the app; the unsubscribe link does the same in one click', async () => {
    const prefs = await guest.put('/api/me/notification-preferences', { preferences: [{ kind: 'closure_cancelled', channel: 'email', enabled: false }] })
    expect(prefs.status).toBe(200)
    expect(prefs.body.preferences.find((p: { kind: string }) => p.kind === 'closure_cancelled')).toEqual({ kind: 'closure_cancelled', in_app: true, email: false })
    expect(prefs.body.lang).toBeNull() // untouched when not sent
    expect((await guest.put('/api/me/notification-preferences', { preferences: [{ kind: 'nope', channel: 'email', enabled: false }] })).status).toBe(400)

    const sent = smtp.messages.length
    const booked = await guest.post(`/api/rooms/${ids.B102}/reserve`, { start_time: at(40), end_time: at(41) })
    expect((await admin.post('/api/admin/closures', { room_ids: [ids.B102], start_time: at(40), end_time: at(41), kind: 'other', reason: 'Cleaning', cancel_affected: true })).status).toBe(201)
    expect(booked.status).toBe(201)
    await t.ctx.notifier.drain()
    expect(smtp.messages.length).toBe(sent)
    expect((await guest.get('/api/me/notifications')).body.notifications.filter((n: { kind: string }) => n.kind === 'closure_cancelled')).toHaveLength(2)

    // The student's unsubscribe link from the bump e-mail: GET asks, POST (one click) does it.
    const mail = mailTo('student@college.test').find((m) => m.subject === 'Бронь отменена ради занятия: B102')!
    const link = new URL(unsubscribeOf(mail))
    const path = `${link.pathname}${link.search}`
    const page = await t.app.handle(new Request(`http://qrbook.test${path}`, { headers: { 'accept-language': 'ru' } }))
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Отписаться')
    const done = await t.app.handle(new Request(`http://qrbook.test${path}`, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } }))
    expect(done.status).toBe(200)
    const after = (await student.get('/api/me/notification-preferences')).body.preferences.find((p: { kind: string }) => p.kind === 'bumped')
    expect(after).toEqual({ kind: 'bumped', in_app: true, email: false })
    // a forged link does nothing
    const forged = await t.app.handle(new Request(`http://qrbook.test/api/notifications/unsubscribe?u=${ids.guest}&k=bumped&t=${link.searchParams.get('t')}`, { method: 'POST' }))
    expect(forged.status).toBe(404)
  })

  test('the language a user signs in with is the language of their e-mail', async () => {
    const signIn = (lang?: string) => t.app.handle(new Request('http://qrbook.test/api/auth/login', {
      method: 'POST', headers: { 'content-type': 'application/json', ...(lang ? { 'accept-language': lang } : {}) }, body: JSON.stringify({ name: 'teacher', password: 'teacher1234' }),
    }))
    const langOf = async () => (await t.database.db.select({ lang: users.lang }).from(users).where(eq(users.id, ids.teacher!)))[0]!.lang
    expect((await signIn('ru-RU,ru;q=0.9,en;q=0.5')).status).toBe(200)
    expect(await langOf()).toBe('ru')
    expect((await signIn()).status).toBe(200) // no preference said: kept
    expect(await langOf()).toBe('ru')
    expect((await signIn('en-GB')).status).toBe(200)
    expect(await langOf()).toBe('en')
  })

  test('a user sets an address by following the link sent to it; a bad address is 400', async () => {
    expect((await teacher.post('/api/me/email', { email: 'not an address' })).status).toBe(400)
    const asked = await teacher.post('/api/me/email', { email: 'teacher@college.test' })
    expect(asked.status).toBe(202)
    expect(asked.body).toEqual({ pending: 'teacher@college.test' })
    await t.ctx.notifier.drain()
    const mail = mailTo('teacher@college.test')
    expect(mail).toHaveLength(1)
    const link = new URL(mail[0]!.text!.match(/http:\/\/qrbook\.test\/api\/me\/email\/verify\?token=\S+/)![0])
    expect((await teacher.get('/api/me/notification-preferences')).body.email).toBeNull()
    const opened = await t.app.handle(new Request(`http://qrbook.test${link.pathname}${link.search}`))
    expect(opened.status).toBe(200)
    expect((await teacher.get('/api/me/notification-preferences')).body.email).toBe('teacher@college.test')
    // used once; the link is not kept after it went out
    expect((await t.app.handle(new Request(`http://qrbook.test${link.pathname}${link.search}`))).status).toBe(404)
    const stored = await t.database.db.select().from(notifications).where(eq(notifications.kind, 'email_verification'))
    expect(stored.every((n) => n.data.link === undefined)).toBe(true)
  })

  test('with the SMTP server down nothing is lost: bookings answer, the notices go once it is back', async () => {
    await smtp.stop()
    const sent = smtp.messages.length
    const bookings = []
    for (let i = 0; i < 5; i++) bookings.push(await guest.post(`/api/rooms/${ids.B102}/reserve`, { start_time: at(60 + i), end_time: at(60.5 + i) }))
    expect(bookings.map((b) => [b.status, b.body.msg])).toEqual(Array(5).fill([201, undefined]))
    // a teacher's lesson bumps each of them: five notices for the guest
    for (let i = 0; i < 5; i++) expect((await teacher.post(`/api/rooms/${ids.B102}/reserve`, { start_time: at(60 + i), end_time: at(60.5 + i), bump: true })).status).toBe(201)
    await t.ctx.notifier.drain()
    const waiting = await t.database.db.select().from(mailDeliveries).where(eq(mailDeliveries.status, 'pending'))
    expect(waiting).toHaveLength(5)
    // tried once (or put back untried when the server was found gone), each with the reason
    expect(waiting.every((d) => d.lastError !== null && d.attempts <= 1)).toBe(true)
    // admins see them retrying
    const failed = await admin.get('/api/admin/notifications/failed')
    expect(failed.body.retrying).toBe(waiting.length)

    await smtp.restart()
    clock.set(new Date(Date.parse('2026-03-02T06:00:00Z') + 60_000))
    await t.ctx.notifier.drain()
    expect(smtp.messages.length).toBe(sent + waiting.length)
    expect((await t.database.db.select().from(mailDeliveries).where(eq(mailDeliveries.status, 'pending')))).toEqual([])
  })
})
