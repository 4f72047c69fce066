/**
 * The console's reports and audit log in Chromium (issue 27): the admin opens the reports, sees
 * the heatmap, downloads the utilisation table as CSV and as XLSX through the page's links (a real
 * workbook exceljs reads back, with a formula-like room name kept as plain text), and filters the
 * audit log by kind. Screenshots: reports, audit, and both in Russian.
 */
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import ExcelJS from 'exceljs'
import { recordChanges, writeTransaction } from '../../../src/core/changes'
import { reportRange } from '../../../src/core/console/reports'
import { reservations, rooms, users } from '../../../src/db/schema'
import { hasChromium } from '../../helpers/browser'
import { openConsole, type ConsoleHarness } from '../../helpers/console'

setDefaultTimeout(90_000)
let c: ConsoleHarness
const EVIL = '=HYPERLINK("http://evil","x")'
let lastWeek: string

describe.skipIf(!hasChromium)('console: reports and audit log', () => {
  beforeAll(async () => {
    c = await openConsole()
    const db = c.qrbook.database.db
    const now = c.qrbook.clock.now()
    const stamps = { createdAt: now, updatedAt: now }
    // the last full week (Monday 00:00 in the rooms' zone, Europe/Moscow)
    const week = reportRange(now, c.qrbook.config.appTimezone)!.weeks[3]!
    lastWeek = week.key
    const at = (day: number, hour: number) => new Date(week.start.getTime() + (day * 24 + hour) * 3600_000)
    const [student] = await db.select().from(users).where(eq(users.name, 'student'))
    const [l5, evil] = await db.insert(rooms).values([
      { name: 'L5', bookingStart: '09:00', bookingEnd: '17:00', ...stamps },
      { name: EVIL, ...stamps },
    ]).returning({ id: rooms.id })
    await db.insert(reservations).values([
      // L5: Monday 10:00-12:00 and Thursday 14:00-15:00 (3 of its 56 open hours)
      { roomId: l5!.id, userId: student!.id, startTime: at(0, 10), endTime: at(0, 12), status: 'finished', ...stamps },
      { roomId: l5!.id, userId: student!.id, startTime: at(3, 14), endTime: at(3, 15), status: 'finished', ...stamps },
      { roomId: evil!.id, userId: student!.id, startTime: at(1, 9), endTime: at(1, 11), status: 'finished', ...stamps },
    ])
    await writeTransaction(c.qrbook.database, async (tx) => recordChanges(tx, [
      { event: 'reservation.released', actorId: null, rooms: [l5!.id], description: 'reservation #77 released as a no-show', at: at(2, 10) },
      { event: 'room.blocked', actorId: null, rooms: [evil!.id], description: 'room blocked for painting', at: at(2, 11) },
    ]))
  })
  afterAll(async () => { await c?.close() })

  test('reports: the heatmap, and the utilisation table as CSV and as XLSX', async () => {
    const page = await c.signedIn('admin')
    await page.goto(`${c.base}/console/reports`)
    expect(await page.locator('h1').textContent()).toBe('Reports')
    const heatmap = page.locator('svg.heatmap')
    expect(await heatmap.isVisible()).toBe(true)
    expect(await heatmap.getAttribute('role')).toBe('img')
    expect(await heatmap.locator('rect').count()).toBeGreaterThanOrEqual(7 * 24)
    expect(await page.locator('svg.weekly').isVisible()).toBe(true)
    const l5 = page.locator('table.report tr', { has: page.locator('th', { hasText: /^L5$/ }) })
    expect(await l5.locator('td strong').allTextContents()).toContain('5%') // 3 / 56

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Utilisation by room: CSV' }).click()])
    expect(csv.suggestedFilename()).toMatch(/^qrbook-utilisation-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$/)
    const text = (await readFile((await csv.path())!, 'utf8')).replace(/^\ufeff/, '')
    expect(text.split('\r\n')[0]).toBe('Room,Building,Daily window,Week (Monday),Open hours,Lesson hours,Student booking hours,Booked hours,"Utilisation, %","Lessons, %","Student bookings, %"')
    expect(text).toContain(`L5,L,09:00–17:00,${lastWeek},56,0,3,3,5.4,0,5.4`)
    expect(text).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`)

    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Utilisation by room: XLSX' }).click()])
    expect(xlsx.suggestedFilename()).toMatch(/\.xlsx$/)
    const book = new ExcelJS.Workbook()
    const data = await readFile((await xlsx.path())!)
    await book.xlsx.load(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer)
    const sheet = book.worksheets[0]!
    const rows: ExcelJS.Row[] = []
    sheet.eachRow((row) => rows.push(row))
    expect(rows[0]!.getCell(1).value).toBe('Room')
    const row = rows.find((r) => r.getCell(1).value === 'L5' && (r.getCell(4).value as Date).toISOString().startsWith(lastWeek))!
    expect(row.getCell(5).value).toBe(56)
    expect(row.getCell(8).value).toBe(3)
    expect(row.getCell(9).value).toBeCloseTo(3 / 56, 10)
    const evil = rows.find((r) => String(r.getCell(1).value).includes('HYPERLINK'))!
    expect(evil.getCell(1).value).toBe(EVIL)
    expect(evil.getCell(1).type).toBe(ExcelJS.ValueType.String)

    await c.shoot(page, 'reports')
    expect(await c.axe(page)).toEqual([])
  })

  test('audit log: filtered by kind', async () => {
    const page = await c.signedIn('admin')
    await page.goto(`${c.base}/console/audit`)
    expect(await page.locator('h1').textContent()).toBe('Audit log')
    expect(await page.locator('table.audit tbody tr').count()).toBeGreaterThan(2)
    await page.getByLabel('Kind').selectOption({ label: 'Released as a no-show' })
    await Promise.all([page.waitForURL(/event=reservation\.released/), page.getByRole('button', { name: 'Filter' }).click()])
    const rows = page.locator('table.audit tbody tr')
    expect(await rows.count()).toBe(1)
    expect(await rows.first().textContent()).toContain('reservation #77 released as a no-show')
    expect(await rows.first().locator('td').nth(3).textContent()).toBe('L5')
    await c.shoot(page, 'audit')
    expect(await c.axe(page)).toEqual([])
  })

  test('both pages in Russian', async () => {
    const page = await c.signedIn('admin', { lang: 'ru' })
    await page.goto(`${c.base}/console/audit`)
    expect(await page.locator('h1').textContent()).toBe('Журнал')
    await c.shoot(page, 'audit-ru')
    expect(await c.axe(page)).toEqual([])
    await page.goto(`${c.base}/console/reports`)
    expect(await page.locator('h1').textContent()).toBe('Отчёты')
    expect(await page.locator('h2#rooms').textContent()).toBe('Загрузка по аудиториям')
    await c.shoot(page, 'reports-ru')
    expect(await c.axe(page)).toEqual([])
  })
})
