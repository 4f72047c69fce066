/**
 * /console/policies and /console/approvals in Chromium (issue 27): the admin applies the
 * recommended policies, follows a rule's link to what it would have refused last week (bookings
 * placed in that week first), edits it after a draft's preview, and approves one pending booking and
 * rejects another with a reason, in bulk; the database is checked after each step.
 * Screenshots: policies, policies-replay, policies-draft, approvals (and -ru).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq, inArray } from 'drizzle-orm'
import { bookingPolicies, reservations, rooms, users } from '../../../src/db/schema'
import { lastWeek } from '../../../src/core/console/policies'
import { hasChromium } from '../../helpers/browser'
import { loggedIn } from '../../helpers/app'
import { openConsole, type ConsoleHarness } from '../../helpers/console'

setDefaultTimeout(90_000)
const HOUR = 3600_000
const DAY = 24 * HOUR
let c: ConsoleHarness

describe.skipIf(!hasChromium)('console: policies and approvals', () => {
  let ids: Record<string, number>
  const pending: number[] = []

  beforeAll(async () => {
    c = await openConsole()
    const db = c.qrbook.database.db
    ids = {}
    for (const u of await db.select().from(users)) ids[u.name] = u.id
    for (const r of await db.select().from(rooms)) ids[r.name] = r.id
    // last week (Moscow): the student made a 5-hour booking, and one made 20 days ahead
    const week = lastWeek(c.qrbook.clock.now(), c.qrbook.config.appTimezone)
    const tuesday10 = new Date(week.start.getTime() + DAY + 10 * HOUR)
    await db.insert(reservations).values([
      { roomId: ids.B101!, userId: ids.student!, startTime: tuesday10, endTime: new Date(tuesday10.getTime() + 5 * HOUR), status: 'finished', createdAt: new Date(tuesday10.getTime() - DAY), updatedAt: tuesday10 },
      { roomId: ids.B102!, userId: ids.guest!, startTime: new Date(tuesday10.getTime() + DAY), endTime: new Date(tuesday10.getTime() + DAY + HOUR), status: 'finished', createdAt: new Date(tuesday10.getTime() - 19 * DAY), updatedAt: tuesday10 },
      { roomId: ids.B102!, userId: ids.student!, startTime: new Date(tuesday10.getTime() + 2 * DAY), endTime: new Date(tuesday10.getTime() + 2 * DAY + HOUR), status: 'finished', createdAt: new Date(tuesday10.getTime() - DAY), updatedAt: tuesday10 },
    ])
  })
  afterAll(async () => { await c?.close() })

  test('the admin applies the recommended set, edits a rule and reads what it would have refused last week', async () => {
    const db = c.qrbook.database.db
    const page = await c.signedIn('admin')
    await page.goto(`${c.base}/console/policies`)
    expect(await page.locator('h1').textContent()).toBe('Policies')
    await Promise.all([page.waitForURL('**/console/policies'), page.getByRole('button', { name: 'Apply the recommended set' }).click()])
    expect(await page.locator('.flash.done').textContent()).toBe('Recommended rules added: 2.')
    const rules = await db.select().from(bookingPolicies)
    expect(rules.map((r) => r.role).sort()).toEqual(['student', 'teacher'])
    const studentRule = rules.find((r) => r.role === 'student')!
    const card = page.locator(`#policy-${studentRule.id}`)
    expect(await card.locator('.rule-words').textContent()).toBe('Students, in every room: at most 10 hours a week; each booking at most 4 hours; at most 3 bookings not yet over at once; at most 14 days ahead')
    // the list replays nothing: each rule links to its replay
    expect(await page.locator('.replay-figure').count()).toBe(0)
    await Promise.all([page.waitForURL(`**/console/policies/${studentRule.id}/replay`), card.getByRole('link', { name: 'What would it have refused last week?' }).click()])
    expect(await page.locator('h1').textContent()).toBe(`Rule #${studentRule.id}: last week`)
    const replay = page.locator(`#policy-${studentRule.id}`)
    expect(await replay.locator('.rule-words').textContent()).toContain('Students, in every room: at most 10 hours a week')
    // the 5-hour booking and the one made 19 days ahead, of the 3 the students made last week
    expect(await replay.locator('.replay-figure').getAttribute('data-refused')).toBe('2')
    expect(await replay.locator('.replay-figure strong').textContent()).toBe('It would have refused 2 of the 3 bookings it binds.')
    expect(await replay.locator('.replay tbody tr').count()).toBe(2)
    expect(await replay.locator('.replay tbody').textContent()).toContain('booking too long: 5 h, the limit is 4 h per booking')
    await c.shoot(page, 'policies-replay')
    expect(await c.axe(page)).toEqual([])
    await Promise.all([page.waitForURL((u) => u.pathname === '/console/policies'), page.getByRole('link', { name: 'Edit it in the list of rules' }).click()])

    // edit: 2 hours a booking, 6 hours a week; first see what the draft would have refused
    await card.locator('summary').click()
    await card.locator('input[name=max_duration_min]').fill('120')
    await card.locator('input[name=weekly_hours]').fill('6')
    await Promise.all([page.waitForURL('**/console/policies/preview'), card.getByRole('button', { name: 'See what it would have refused last week' }).click()])
    const draft = page.locator('section.draft')
    expect(await draft.locator('h2').textContent()).toBe(`Draft of rule #${studentRule.id}, not saved`)
    expect(await draft.locator('.replay-figure').getAttribute('data-refused')).toBe('2')
    expect((await db.select().from(bookingPolicies).where(eq(bookingPolicies.id, studentRule.id)))[0]!.maxDurationMin).toBe(240)
    await c.shoot(page, 'policies-draft')
    await Promise.all([page.waitForURL((u) => u.pathname === '/console/policies'), draft.getByRole('button', { name: 'Save' }).click()])
    expect(await page.locator('.flash.done').textContent()).toBe('Rule saved.')
    const [saved] = await db.select().from(bookingPolicies).where(eq(bookingPolicies.id, studentRule.id))
    expect(saved).toMatchObject({ role: 'student', maxDurationMin: 120, maxMinutesPerWeek: 360, maxAdvanceDays: 14, maxActive: 3 })
    expect(await page.locator(`#policy-${studentRule.id} .rule-words`).textContent()).toContain('at most 6 hours a week; each booking at most 2 hours')
    await c.shoot(page, 'policies')
    expect(await c.axe(page)).toEqual([])
    // a rule that needs approval in B102, made in the new-rule form (used by the next test)
    const form = page.locator('section[aria-labelledby=new-rule] form')
    await form.locator('select[name=scope]').selectOption(`room:${ids.B102}`)
    await form.locator('input[name=requires_approval]').check()
    await Promise.all([page.waitForURL((u) => u.pathname === '/console/policies'), form.getByRole('button', { name: 'Create' }).click()])
    expect(await db.select().from(bookingPolicies).where(eq(bookingPolicies.roomId, ids.B102!))).toHaveLength(1)

    const ru = await c.signedIn('admin', { lang: 'ru' })
    await ru.goto(`${c.base}/console/policies`)
    expect(await ru.locator('h1').textContent()).toBe('Правила')
    await c.shoot(ru, 'policies-ru')
    expect(await c.axe(ru)).toEqual([])
  })

  test('the admin approves one pending booking and rejects another with a reason, in bulk', async () => {
    const db = c.qrbook.database.db
    // (two by the student, one by the guest: the recommended 3 bookings at once count the seeded ones)
    const [student, guest] = [await loggedIn(c.qrbook.app, 'student'), await loggedIn(c.qrbook.app, 'guest')]
    const tomorrow = new Date(Math.ceil((c.qrbook.clock.now().getTime() + DAY) / HOUR) * HOUR)
    for (const [who, offset] of [[student, 0], [student, 2], [guest, 4]] as const) {
      const start = new Date(tomorrow.getTime() + offset * HOUR)
      const res = await who.post(`/api/rooms/${ids.B102}/reserve`, { start_time: start.toISOString(), end_time: new Date(start.getTime() + HOUR).toISOString() })
      expect(res.status).toBe(201)
      expect(res.body.reservation.approval).toBe('pending')
      pending.push(res.body.reservation.id)
    }
    const page = await c.signedIn('admin')
    await page.goto(`${c.base}/console/approvals`)
    expect(await page.locator('h1').textContent()).toBe('Approvals')
    expect(await page.locator('tbody tr').count()).toBe(3)
    expect(await page.locator(`#approval-${pending[0]}`).textContent()).toContain('Students, in room B102: needs an administrator')
    await c.shoot(page, 'approvals')
    expect(await c.axe(page)).toEqual([])

    // one approved on its own row
    await Promise.all([page.waitForURL('**/console/approvals'), page.locator(`#approval-${pending[0]}`).getByRole('button', { name: 'Approve' }).click()])
    expect(await page.locator('.flash.done').textContent()).toBe(`Booking #${pending[0]} approved.`)
    // select all, then untick one: the other is rejected with the reason
    await page.locator('input[data-select-all]').check()
    expect(await page.locator('input[name=ids]:checked').count()).toBe(2)
    await page.locator(`#approval-${pending[2]} input[name=ids]`).uncheck()
    await page.locator('#bulk-reason').fill('the room is painted that day')
    await Promise.all([page.waitForURL('**/console/approvals'), page.getByRole('button', { name: 'Reject selected' }).click()])
    expect(await page.locator('.flash.done').textContent()).toBe('Rejected: 1.')
    const rows = await db.select().from(reservations).where(inArray(reservations.id, pending))
    const state = (id: number) => { const r = rows.find((x) => x.id === id)!; return [r.status, r.approval, r.cancelReason] }
    expect(state(pending[0]!)).toEqual(['active', 'approved', null])
    expect(state(pending[1]!)).toEqual(['cancelled', 'rejected', 'rejected'])
    expect(state(pending[2]!)).toEqual(['active', 'pending', null])
    expect(await page.locator('tbody tr').count()).toBe(1)

    const ru = await c.signedIn('admin', { lang: 'ru' })
    await ru.goto(`${c.base}/console/approvals`)
    expect(await ru.locator('h1').textContent()).toBe('Заявки')
    await c.shoot(ru, 'approvals-ru')
    expect(await c.axe(ru)).toEqual([])
  })
})
