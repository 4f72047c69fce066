/**
 * /console/users (issue 27), in-process: find users, create one, change a role, approve a teacher
 * who signed up, reset a password (the user then signs in with it through the API), lift a no-show
 * suspension; names are shown as text; a form post without the session's CSRF value changes nothing.
 * Each write is checked in the database. On both databases (TEST_DATABASE_URL for PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { changes, reservations, rooms, users } from '../src/db/schema'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

const DAY = 24 * 3600_000
const HOUR = 3600_000
let t: TestApp
let admin: Client

beforeAll(async () => {
  // NO_SHOW_STRIKES empty: the defaults (3 no-shows in 30 days suspend booking for 7 days), as in test/fair-use.test.ts
  t = await testApp({ env: { NO_SHOW_STRIKES: '', APP_TIMEZONE: 'Europe/Moscow' } })
  admin = await loggedIn(t.app, 'admin')
}, 120_000)
afterAll(async () => { await t?.close() })

async function userNamed(name: string) {
  const [user] = await t.database.db.select().from(users).where(eq(users.name, name))
  return user
}

/** The one-time notice the page shows after a form post. */
async function notice(client: Client, path: string): Promise<string | undefined> {
  const page = await client.get(path)
  return /<p class="flash \w+" role="\w+">([^<]*)<\/p>/.exec(page.text)?.[1]
}

describe('finding users', () => {
  test('lists users with their role and creation date; filters by name and role', async () => {
    const page = await admin.get('/console/users')
    expect(page.status).toBe(200)
    expect(page.text).toContain('<h1>Users</h1>')
    expect(page.text).toContain('>student</a>')
    expect(page.text).toMatch(/<time datetime="[^"]+Z">\d\d\/\d\d\/\d{4}<\/time>/)
    const teachers = await admin.get('/console/users?role=teacher')
    expect(teachers.text).toContain('>teacher</a>')
    expect(teachers.text).not.toContain('>student</a>')
    const byName = await admin.get('/console/users?q=stud')
    expect(byName.text).toContain('>student</a>')
    expect(byName.text).not.toContain('>teacher</a>')
    const russian = await admin.get('/console/users', { headers: { 'accept-language': 'ru' } })
    expect(russian.text).toContain('<h1>Пользователи</h1>')
    expect(russian.text).toContain('Новый пользователь')
  })

  test('a student or a teacher may not open it', async () => {
    expect((await (await loggedIn(t.app, 'student')).get('/console/users')).status).toBe(403)
    expect((await (await loggedIn(t.app, 'teacher')).get('/console/users/1')).status).toBe(403)
  })

  test('an unknown user is a 404 page', async () => {
    expect((await admin.get('/console/users/999999')).status).toBe(404)
    expect((await admin.get('/console/users/abc')).status).toBe(404)
  })
})

describe('writes', () => {
  test('create a user: the row exists with its role, and the page shows it', async () => {
    const res = await admin.form('/console/users/create', { name: 'newbie', password: 'a-long-password-1', role: 'teacher' })
    expect(res.status).toBe(303)
    const user = await userNamed('newbie')
    expect(user).toMatchObject({ role: 'teacher', teacherPending: false })
    expect(res.headers.get('location')).toBe(`/console/users/${user!.id}`)
    expect(await notice(admin, `/console/users/${user!.id}`)).toBe('User newbie created.')
    // a taken name is refused in the viewer's language, nothing more is created
    const again = await admin.form('/console/users/create', { name: 'newbie', password: 'a-long-password-1', role: 'student' }, { headers: { 'accept-language': 'ru' } })
    expect(again.headers.get('location')).toBe('/console/users')
    expect(await notice(admin, '/console/users')).toBe('пользователь уже существует')
    expect(await t.database.db.select().from(users).where(eq(users.name, 'newbie'))).toHaveLength(1)
    // a bad role is refused with a clear message, not a 500
    const bad = await admin.form('/console/users/create', { name: 'newbie2', password: 'a-long-password-1', role: 'king' })
    expect(bad.status).toBe(303)
    expect(await notice(admin, '/console/users')).toBe('Choose a role: student, teacher or administrator.')
    expect(await userNamed('newbie2')).toBeUndefined()
  })

  test('change a role and a name', async () => {
    const user = await userNamed('newbie')
    const res = await admin.form(`/console/users/${user!.id}/update`, { name: 'newbie-renamed', role: 'admin' })
    expect(res.status).toBe(303)
    expect(await t.database.db.select({ name: users.name, role: users.role }).from(users).where(eq(users.id, user!.id))).toEqual([{ name: 'newbie-renamed', role: 'admin' }])
    const [change] = await t.database.db.select().from(changes).where(eq(changes.event, 'user.updated'))
    expect(change!.description).toContain('from teacher to admin')
    const page = await admin.get(`/console/users/${user!.id}`)
    expect(page.text).toContain('User newbie-renamed saved.')
    expect(page.text).toContain('<option value="admin" selected>administrator</option>')
  })

  test('approve a teacher who signed up, from the list of teachers awaiting approval', async () => {
    const visitor = new Client(t.app)
    const signup = await visitor.post('/api/auth/signup', { name: 'pendingteacher', password: 'a-long-password-1', role: 'teacher' }, { csrf: false })
    expect(signup.status).toBe(201)
    expect((await userNamed('pendingteacher'))!.teacherPending).toBe(true)
    const waiting = await admin.get('/console/users?teacher_pending=1')
    expect(waiting.text).toContain('>pendingteacher</a>')
    expect(waiting.text).toContain('awaiting approval')
    expect(waiting.text).not.toContain('>student</a>')
    const id = signup.body.id as number
    const res = await admin.form(`/console/users/${id}/verify`, { back: '/console/users?teacher_pending=1' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/console/users?teacher_pending=1')
    expect((await userNamed('pendingteacher'))!.teacherPending).toBe(false)
    const after = await admin.get('/console/users?teacher_pending=1')
    expect(after.text).toContain('pendingteacher is now a verified teacher.')
    expect(after.text).not.toContain('>pendingteacher</a>')
    // "back" never leads off the console
    const offSite = await admin.form(`/console/users/${id}/verify`, { back: 'https://evil.example/' })
    expect(offSite.headers.get('location')).toBe('/console/users')
  })

  test('reset a password: the user signs in with the new one through the API, not the old one', async () => {
    const user = await userNamed('student')
    const res = await admin.form(`/console/users/${user!.id}/password`, { password: 'a-brand-new-password-7' })
    expect(res.status).toBe(303)
    expect(await notice(admin, `/console/users/${user!.id}`)).toBe('Password of student reset; their sessions have ended.')
    const client = new Client(t.app)
    expect((await client.post('/api/auth/login', { name: 'student', password: 'student1234' }, { csrf: false })).status).toBe(401)
    expect((await client.post('/api/auth/login', { name: 'student', password: 'a-brand-new-password-7' }, { csrf: false })).status).toBe(200)
    // a password the rules refuse is said so, and nothing changes
    const weak = await admin.form(`/console/users/${user!.id}/password`, { password: 'x' })
    expect(weak.status).toBe(303)
    expect(await notice(admin, `/console/users/${user!.id}`)).toMatch(/password/)
    expect((await client.post('/api/auth/login', { name: 'student', password: 'a-brand-new-password-7' }, { csrf: false })).status).toBe(200)
  })

  test('a no-show suspension is shown, and lifted', async () => {
    const student = await userNamed('student2') ?? (await (async () => {
      await admin.form('/console/users/create', { name: 'student2', password: 'a-long-password-2', role: 'student' })
      return userNamed('student2')
    })())
    const [room] = await t.database.db.select().from(rooms).limit(1)
    const now = Date.now()
    // three no-shows of bookings the student chose, as the sweeper leaves them (test/fair-use.test.ts makes them by booking and sweeping)
    for (const daysAgo of [1, 2, 3]) {
      const start = new Date(now - daysAgo * DAY)
      await t.database.db.insert(reservations).values({
        roomId: room!.id, userId: student!.id, startTime: start, endTime: new Date(start.getTime() + HOUR), status: 'released',
        checkInRequired: true, setByOwner: true, createdAt: start, updatedAt: start,
      })
    }
    const until = new Date(now - DAY + 7 * DAY)
    const list = await admin.get('/console/users?no_shows=1')
    expect(list.text).toContain('>student2</a>')
    expect(list.text).not.toContain('>teacher</a>')
    expect(list.text).toContain('suspended until')
    // the end of the suspension in the rooms' zone (Moscow, UTC+3), the exact instant in datetime
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Moscow', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(until)
    expect(list.text).toContain(`>${local}</time>`)
    const detail = await admin.get(`/console/users/${student!.id}`)
    expect(detail.text).toContain('3 of 3 no-shows')

    const res = await admin.form(`/console/users/${student!.id}/lift`, { back: `/console/users/${student!.id}` })
    expect(res.status).toBe(303)
    const [row] = await t.database.db.select().from(users).where(eq(users.id, student!.id))
    expect(row!.noShowsClearedAt).toBeInstanceOf(Date)
    const lifted = await t.database.db.select().from(changes).where(eq(changes.event, 'user.suspension_lifted'))
    expect(lifted).toHaveLength(1)
    const after = await admin.get(`/console/users/${student!.id}`)
    expect(after.text).toContain('Suspension of student2 lifted')
    expect(after.text).toContain('Not suspended.')
    expect(after.text).not.toContain('suspended until')
    expect((await admin.get('/console/users?no_shows=1')).text).not.toContain('>student2</a>')
    // the student may book again (the booking path reads the same record)
    const client = await loggedIn(t.app, 'student2', 'a-long-password-2')
    const start = new Date(Math.ceil((now + 2 * DAY) / HOUR) * HOUR)
    const booked = await client.post(`/api/rooms/${room!.id}/reserve`, { start_time: start.toISOString(), end_time: new Date(start.getTime() + HOUR).toISOString() })
    expect(booked.status).toBe(201)
  })
})

describe('safety', () => {
  test('a name with markup is shown as text', async () => {
    const name = '<script>alert(1)</script>'
    const res = await admin.form('/console/users/create', { name, password: 'a-long-password-3', role: 'student' })
    expect(res.status).toBe(303)
    const user = await userNamed(name)
    expect(user).toBeDefined()
    for (const path of ['/console/users', `/console/users/${user!.id}`]) {
      const page = await admin.get(path)
      // as text where it is text; inside a quoted attribute value (an aria-label) "<" is only a character
      expect(page.text.replace(/="[^"]*"/g, '=""'), path).not.toContain(name)
      expect(page.text, path).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    }
  })

  test('a form post without the session\'s CSRF value changes nothing', async () => {
    const student = await userNamed('student')
    const before = await t.database.db.select().from(users).where(eq(users.id, student!.id))
    const recorded = (await t.database.db.select().from(changes)).length
    const refused = [
      await admin.form('/console/users/create', { name: 'forged', password: 'a-long-password-1', role: 'admin' }, { csrfToken: false }),
      await admin.form(`/console/users/${student!.id}/update`, { name: 'student', role: 'admin' }, { csrfToken: false }),
      await admin.form(`/console/users/${student!.id}/password`, { password: 'forged-password-1234' }, { csrfToken: false }),
      await admin.form(`/console/users/${student!.id}/lift`, {}, { csrfToken: 'not-the-token' }),
    ]
    for (const res of refused) expect([401, 403]).toContain(res.status)
    expect(await userNamed('forged')).toBeUndefined()
    expect(await t.database.db.select().from(users).where(eq(users.id, student!.id))).toEqual(before)
    expect((await t.database.db.select().from(changes)).length).toBe(recorded)
  })
})
