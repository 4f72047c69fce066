/**
 * Issue 16.5, priority for lessons: a teacher (or admin) may book over students' bookings with
 * {"bump": true}; the students' bookings are cancelled (cancel_reason bumped, audited with the
 * teacher's name) and the lesson inserted in one transaction. Without bump, 409 names who holds
 * the slot. Nobody bumps a teacher's booking, and students cannot bump.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { and, eq } from 'drizzle-orm'
import { changes, reservations, rooms } from '../src/db/schema'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

const HOUR = 3600_000
let t: TestApp
let admin: Client, teacher: Client, student: Client
let roomId: number
const at = (hours: number) => new Date(Math.ceil(Date.now() / HOUR) * HOUR + 20 * 24 * HOUR + hours * HOUR).toISOString().replace('.000Z', 'Z')
const reserve = (c: Client, from: number, to: number, bump?: boolean) =>
  c.post(`/api/rooms/${roomId}/reserve`, { start_time: at(from), end_time: at(to), ...(bump === undefined ? {} : { bump }) })

beforeAll(async () => {
  t = await testApp()
  ;[admin, teacher, student] = await Promise.all(['admin', 'teacher', 'student'].map((n) => loggedIn(t.app, n))) as [Client, Client, Client]
  roomId = (await t.database.db.select().from(rooms).where(eq(rooms.name, 'B102')))[0]!.id
}, 120_000)
afterAll(() => t.close())

describe('bump', () => {
  test('without bump: 409 naming who holds the slot; with it the students give way, in one transaction', async () => {
    const a = await reserve(student, 0, 1)
    const b = await reserve(student, 1, 2)
    expect([a.status, b.status]).toEqual([201, 201])

    const refused = await reserve(teacher, 0, 2)
    expect(refused.status).toBe(409)
    expect(refused.body.msg).toBe('Reservation conflicts with existing booking')
    expect(refused.body.held_by.map((h: { id: number; user_name: string }) => [h.id, h.user_name])).toEqual([[a.body.reservation.id, 'student'], [b.body.reservation.id, 'student']])

    const lesson = await reserve(teacher, 0, 2, true)
    expect(lesson.status).toBe(201)
    const mine = (await student.get('/api/reservations/mine')).body.reservations
    for (const id of [a.body.reservation.id, b.body.reservation.id])
      expect(mine.find((r: { id: number }) => r.id === id)).toMatchObject({ status: 'cancelled', cancel_reason: 'bumped' })
    const audit = await t.database.db.select().from(changes).where(eq(changes.event, 'reservation.bumped'))
    expect(audit.filter((row) => row.data.reason === 'bumped' && row.description.startsWith('teacher bumped student'))).toHaveLength(2)
  })

  test("a teacher's booking is never bumped; students cannot bump", async () => {
    const held = await reserve(admin, 5, 6)
    expect(held.status).toBe(201)
    const refused = await reserve(teacher, 5, 6, true)
    expect(refused.status).toBe(409)
    expect(refused.body.held_by[0]).toMatchObject({ id: held.body.reservation.id, user_name: 'admin' })
    const forbidden = await reserve(student, 8, 9, true)
    expect(forbidden.status).toBe(403)
    expect(forbidden.body.msg).toBe('only teachers and admins can bump bookings')
    // nothing changed: the admin's booking is active, no booking of the student at that time
    const [row] = await t.database.db.select().from(reservations).where(eq(reservations.id, held.body.reservation.id))
    expect(row!.status).toBe('active')
    expect(await t.database.db.select().from(reservations).where(and(eq(reservations.roomId, roomId), eq(reservations.startTime, new Date(at(8)))))).toEqual([])
  })
})
