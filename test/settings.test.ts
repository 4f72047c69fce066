/**
 * The rooms' time zone set from the admin side (issue 26, decision 032): APP_TIMEZONE is the
 * default; an admin's zone replaces it for every rule, page and message, is recorded in the change
 * record, survives a restart, and null goes back to APP_TIMEZONE.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { desc, eq } from 'drizzle-orm'
import { createApp } from '../src/app'
import { changes, settings } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { silentLogger } from '../src/lib/log'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { onPostgres } from './helpers/db'

setDefaultTimeout(60_000)

// Monday 2 September 2030; Berlin is UTC+2, Moscow UTC+3
const clock = fixedClock(new Date('2030-09-02T06:00:00Z'))

describe('GET/PATCH /api/admin/settings', () => {
  let t: TestApp
  let admin: Client, student: Client
  let room: number
  beforeAll(async () => {
    t = await testApp({ clock, env: { APP_TIMEZONE: 'Europe/Berlin' } })
    ;[admin, student] = await Promise.all([loggedIn(t.app, 'admin'), loggedIn(t.app, 'student')]) as [Client, Client]
    const created = await admin.post('/api/admin/rooms', { name: 'TZ1', booking_start: '08:00', booking_end: '19:00', requires_check_in: false })
    room = created.body.room.id
  })
  afterAll(() => t.close())

  // 15:30-16:30 UTC: 17:30-18:30 in Berlin (inside 08:00-19:00), 18:30-19:30 in Moscow (ends late)
  const late = () => student.post(`/api/rooms/${room}/reserve`, { start_time: '2030-09-03T15:30:00Z', end_time: '2030-09-03T16:30:00Z' })

  test('APP_TIMEZONE until an admin sets a zone', async () => {
    const r = await admin.get('/api/admin/settings')
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ app_timezone: 'Europe/Berlin', app_timezone_source: 'environment', environment_timezone: 'Europe/Berlin' })
    expect((await student.get('/api/admin/settings')).status).toBe(403)
  })

  test('a bad zone is 400 naming what to send, in Russian too; a student may not set one', async () => {
    for (const zone of ['Mars/Olympus', '', 'x'.repeat(61), 5]) {
      const r = await admin.patch('/api/admin/settings', { app_timezone: zone })
      expect(r.status).toBe(400)
    }
    const r = await admin.patch('/api/admin/settings', { app_timezone: 'Mars/Olympus' })
    expect(r.body).toEqual({ msg: 'app_timezone must be an IANA time zone such as Europe/Moscow, or null for APP_TIMEZONE' })
    const ru = await admin.patch('/api/admin/settings', { app_timezone: 'Mars/Olympus' }, { headers: { 'accept-language': 'ru' } })
    expect(ru.body.msg).toStartWith('app_timezone: часовой пояс IANA')
    expect((await student.patch('/api/admin/settings', { app_timezone: 'Europe/Moscow' })).status).toBe(403)
    expect(await t.database.db.select().from(settings)).toEqual([])
  })

  test('an admin zone applies to the booking rules at once, is recorded, and survives a restart', async () => {
    const booked = await late()
    expect(booked.status).toBe(201)
    expect((await student.delete(`/api/reservations/${booked.body.reservation.id}`)).status).toBe(200)

    const set = await admin.patch('/api/admin/settings', { app_timezone: 'Europe/Moscow' })
    expect(set.status).toBe(200)
    expect(set.body).toEqual({ app_timezone: 'Europe/Moscow', app_timezone_source: 'admin', environment_timezone: 'Europe/Berlin' })
    const refused = await late()
    expect(refused.status).toBe(400)
    expect(refused.body.msg).toBe('Reservation ends after allowed time')

    const [change] = await t.database.db.select().from(changes).orderBy(desc(changes.position)).limit(1)
    expect(change).toMatchObject({ event: 'settings.updated', allRooms: true, data: { app_timezone: { from: null, to: 'Europe/Moscow' } } })
    const audit = await admin.get('/api/admin/audit/logs?event=settings.updated')
    expect(audit.status).toBe(200)
    expect(audit.body.logs[0]).toMatchObject({ action: 'update_room', event: 'settings.updated' })

    // another start on the same database reads it before serving
    const again = createApp({ config: { ...t.config, appTimezone: 'Europe/Berlin' }, database: t.database, clock, log: silentLogger, startedAt: Date.now() })
    try {
      await again.start()
      expect(again.ctx.config.appTimezone).toBe('Europe/Moscow')
    } finally {
      await again.stop()
    }
  })

  test('null goes back to APP_TIMEZONE; setting the same zone twice records one change', async () => {
    await admin.patch('/api/admin/settings', { app_timezone: 'Europe/Moscow' })
    const count = async () => (await t.database.db.select().from(changes).where(eq(changes.event, 'settings.updated'))).length
    const before = await count()
    expect((await admin.patch('/api/admin/settings', { app_timezone: 'Europe/Moscow' })).status).toBe(200)
    expect(await count()).toBe(before)
    const reset = await admin.patch('/api/admin/settings', { app_timezone: null })
    expect(reset.body).toEqual({ app_timezone: 'Europe/Berlin', app_timezone_source: 'environment', environment_timezone: 'Europe/Berlin' })
    expect(await count()).toBe(before + 1)
    expect(await t.database.db.select().from(settings)).toEqual([])
    expect((await late()).status).toBe(201)
  })

  test.if(onPostgres)('another instance on the database follows the change through the change record', async () => {
    const other = createApp({ config: { ...t.config, appTimezone: 'Europe/Berlin' }, database: t.database, clock, log: silentLogger, startedAt: Date.now() })
    try {
      await other.start()
      expect((await admin.patch('/api/admin/settings', { app_timezone: 'Asia/Tokyo' })).status).toBe(200)
      const deadline = Date.now() + 3000
      while (Date.now() < deadline && other.ctx.config.appTimezone !== 'Asia/Tokyo') await Bun.sleep(20)
      expect(other.ctx.config.appTimezone).toBe('Asia/Tokyo')
      await admin.patch('/api/admin/settings', { app_timezone: null })
      while (Date.now() < deadline + 3000 && other.ctx.config.appTimezone !== 'Europe/Berlin') await Bun.sleep(20)
      expect(other.ctx.config.appTimezone).toBe('Europe/Berlin')
    } finally {
      await other.stop()
    }
  })
})
