/**
 * /console/users and /console/rooms in Chromium (issue 27), as an admin does it, clicking and
 * typing: approve a teacher who signed up (from the overview's link), lift a no-show suspension,
 * create a user; edit a room, download the posters of three rooms (a real PDF of three pages),
 * pair a door display, open it and unpair it. The database is checked after each step.
 * Screenshots: users, rooms, room-edit, and users-ru, rooms-ru in Russian; axe-core on each page.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { readFile } from 'node:fs/promises'
import { eq, inArray } from 'drizzle-orm'
import { PDFDocument } from 'pdf-lib'
import { changes, reservations, rooms, users } from '../../../src/db/schema'
import { hasChromium } from '../../helpers/browser'
import { openConsole, type ConsoleHarness } from '../../helpers/console'

setDefaultTimeout(90_000)
let c: ConsoleHarness

const DAY = 24 * 3600_000
const HOUR = 3600_000

async function userNamed(name: string) {
  const [user] = await c.qrbook.database.db.select().from(users).where(eq(users.name, name))
  return user
}
async function roomNamed(name: string) {
  const [room] = await c.qrbook.database.db.select().from(rooms).where(eq(rooms.name, name))
  return room
}

describe.skipIf(!hasChromium)('console: users and rooms', () => {
  beforeAll(async () => {
    // NO_SHOW_STRIKES empty: the defaults (3 no-shows in 30 days suspend booking for 7 days)
    c = await openConsole({ NO_SHOW_STRIKES: '' })
    // a teacher signs up (SIGNUP_TEACHERS=approve, the default): they wait for an admin
    const signup = await fetch(`${c.base}/api/auth/signup`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ivanova', password: 'a-long-password-1', role: 'teacher' }),
    })
    expect(signup.status).toBe(201)
    // the seeded student has three no-shows of bookings they chose, as the sweeper leaves them
    const db = c.qrbook.database.db
    const student = await userNamed('student')
    const [room] = await db.select().from(rooms).where(eq(rooms.name, 'B102'))
    for (const daysAgo of [1, 2, 3]) {
      const start = new Date(Math.floor((Date.now() - daysAgo * DAY) / HOUR) * HOUR)
      await db.insert(reservations).values({
        roomId: room!.id, userId: student!.id, startTime: start, endTime: new Date(start.getTime() + HOUR), status: 'released',
        checkInRequired: true, setByOwner: true, createdAt: start, updatedAt: start,
      })
    }
  }, 120_000)
  afterAll(async () => { await c?.close() })

  test('users: approve a teacher, lift a suspension, create a user', async () => {
    const page = await c.signedIn('admin')
    page.on('dialog', (dialog) => void dialog.accept())

    // the overview's "teachers to verify" leads to them
    await Promise.all([page.waitForURL('**/console/users?teacher_pending=1'), page.locator('a.tile[href="/console/users?teacher_pending=1"]').click()])
    expect(await page.locator('tbody tr').count()).toBe(1)
    expect(await page.locator('tbody tr th').textContent()).toBe('ivanova')
    expect(await page.locator('tbody tr .badge.warn').textContent()).toBe('awaiting approval')

    await page.goto(`${c.base}/console/users`)
    await c.shoot(page, 'users')
    expect(await c.axe(page)).toEqual([])

    await page.goto(`${c.base}/console/users?teacher_pending=1`)
    await Promise.all([page.waitForURL('**/console/users?teacher_pending=1'), page.getByRole('button', { name: 'Approve teacher: ivanova' }).click()])
    expect(await page.locator('.flash.done').textContent()).toBe('ivanova is now a verified teacher.')
    expect((await userNamed('ivanova'))!.teacherPending).toBe(false)
    expect(await page.locator('tbody tr').count()).toBe(0)

    // the suspended student: found with "recent no-shows", lifted from their page
    await page.goto(`${c.base}/console/users`)
    await page.getByLabel('With recent no-shows').check()
    await Promise.all([page.waitForURL('**/console/users?*no_shows=1*'), page.getByRole('button', { name: 'Search' }).click()])
    expect(await page.locator('tbody tr th').allTextContents()).toEqual(['student'])
    expect(await page.locator('tbody tr .badge.bad').textContent()).toContain('suspended until')
    await Promise.all([page.waitForURL('**/console/users/*'), page.getByRole('link', { name: 'Manage: student' }).click()])
    expect(await page.locator('h1').textContent()).toBe('student')
    expect(await page.locator('dl.facts').textContent()).toContain('suspended until')
    await c.shoot(page, 'user-edit')
    expect(await c.axe(page)).toEqual([])
    await page.getByRole('button', { name: 'Lift suspension' }).click()
    await page.waitForSelector('.flash.done')
    expect(await page.locator('.flash.done').textContent()).toBe('Suspension of student lifted: their no-shows so far no longer count.')
    expect((await userNamed('student'))!.noShowsClearedAt).toBeInstanceOf(Date)
    expect(await c.qrbook.database.db.select().from(changes).where(eq(changes.event, 'user.suspension_lifted'))).toHaveLength(1)

    // a new user
    await page.goto(`${c.base}/console/users`)
    const form = page.locator('form[action="/console/users/create"]')
    await form.getByLabel('Name').fill('petrov')
    await form.getByLabel('Password').fill('a-long-password-2')
    await form.getByLabel('Role').selectOption('teacher')
    await Promise.all([page.waitForURL('**/console/users/*'), form.getByRole('button', { name: 'Create user' }).click()])
    expect(await page.locator('.flash.done').textContent()).toBe('User petrov created.')
    expect(await userNamed('petrov')).toMatchObject({ role: 'teacher', teacherPending: false })
  })

  test('rooms: edit a room, posters of three rooms, pair and unpair a door display', async () => {
    const page = await c.signedIn('admin')
    page.on('dialog', (dialog) => void dialog.accept())
    await page.goto(`${c.base}/console/rooms`)
    await c.shoot(page, 'rooms')
    expect(await c.axe(page)).toEqual([])

    // edit B101
    await Promise.all([page.waitForURL('**/console/rooms/*'), page.getByRole('link', { name: 'Edit: B101' }).click()])
    const settings = page.locator('form[action$="/update"]')
    await settings.getByLabel('Bookable from').fill('08:00')
    await settings.getByLabel('Bookable until').fill('20:30')
    await settings.getByLabel('Released if not checked in (minutes after the start)').fill('25')
    await settings.getByLabel('Proof of presence').selectOption('display')
    await settings.getByLabel('Lessons must be checked in too').check()
    await Promise.all([page.waitForURL('**/console/rooms/*'), settings.getByRole('button', { name: 'Save' }).click()])
    expect(await page.locator('.flash.done').textContent()).toBe('Room B101 saved.')
    expect(await page.locator('h1').textContent()).toBe('B101')
    expect(await roomNamed('B101')).toMatchObject({ bookingStart: '08:00:00', bookingEnd: '20:30:00', autoReleaseAfterMin: 25, checkInProof: 'display', seriesRequireCheckIn: true })
    await page.locator('details.pair summary').click()
    await c.shoot(page, 'room-edit')
    expect(await c.axe(page)).toEqual([])

    // pair a door display: its link opens the display with the rotating code
    const before = await roomNamed('B101')
    const link = await page.getByLabel('Display link').inputValue()
    expect(link).toMatch(new RegExp(`/display/${before!.id}\\?t=`))
    const [display] = await Promise.all([page.context().waitForEvent('page'), page.getByRole('link', { name: 'Open the display' }).click()])
    await display.waitForLoadState()
    expect(new URL(display.url()).pathname).toBe(`/display/${before!.id}`)
    expect(new URL(display.url()).search).toBe(new URL(link).search)
    expect(await display.locator('#code').getAttribute('src')).toMatch(/^data:image\/svg\+xml/)
    expect((await roomNamed('B101'))!.qrVersion).toBe(before!.qrVersion) // pairing changes nothing
    await display.close()
    // unpair: a new QR code, the old link no longer pairs
    await page.getByRole('button', { name: 'Unpair the display' }).click()
    await page.waitForSelector('.flash.done')
    expect((await roomNamed('B101'))!.qrVersion).toBe(before!.qrVersion + 1)
    expect((await fetch(`${c.base}${new URL(link).pathname}${new URL(link).search}`)).status).toBe(403)
    expect(await page.getByLabel('Display link').inputValue()).not.toBe(link)

    // block it from its page
    await page.getByRole('button', { name: 'Block the room' }).click()
    await page.waitForSelector('.flash.done')
    expect((await roomNamed('B101'))!.isBlocked).toBe(true)

    // posters of three rooms
    await page.goto(`${c.base}/console/rooms`)
    for (const name of ['A200', 'B101', 'B102']) await page.getByLabel(`Select ${name}`, { exact: true }).check()
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download posters (PDF)' }).click()])
    expect(download.suggestedFilename()).toBe('qrbook-posters.pdf')
    const bytes = new Uint8Array(await readFile((await download.path())!))
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe('%PDF-')
    expect((await PDFDocument.load(bytes)).getPageCount()).toBe(3)
    const printed = await c.qrbook.database.db.select({ name: rooms.name }).from(rooms).where(inArray(rooms.name, ['A200', 'B101', 'B102']))
    expect(printed).toHaveLength(3)
  })

  test('in Russian', async () => {
    const page = await c.signedIn('admin', { lang: 'ru' })
    await page.goto(`${c.base}/console/users`)
    expect(await page.locator('h1').textContent()).toBe('Пользователи')
    await c.shoot(page, 'users-ru')
    expect(await c.axe(page)).toEqual([])
    await page.goto(`${c.base}/console/rooms`)
    expect(await page.locator('h1').textContent()).toBe('Аудитории')
    await c.shoot(page, 'rooms-ru')
    expect(await c.axe(page)).toEqual([])
  })
})
