/**
 * Issue 16.3, verified teachers: anyone may sign up as a teacher (the original frontend offers it,
 * and the contract answers 201 role teacher), but with SIGNUP_TEACHERS=approve (the default) the
 * account has a student's powers until an admin approves it. Observed before: an anonymous
 * signup as teacher, then DELETE of a stranger's booking -> 200.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { reservations, rooms, users } from '../src/db/schema'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

const PASSWORD = 'a-long-password-1'
const HOUR = 3600_000

async function setup(mode?: string) {
  const t = await testApp({ env: mode ? { SIGNUP_TEACHERS: mode } : {} })
  const [admin, student] = await Promise.all([loggedIn(t.app, 'admin'), loggedIn(t.app, 'student')])
  const [room] = await t.database.db.select().from(rooms).where(eq(rooms.name, 'B102'))
  const start = new Date(Date.now() + 30 * 24 * HOUR)
  const booked = await student.post(`/api/rooms/${room!.id}/reserve`, { start_time: start.toISOString(), end_time: new Date(start.getTime() + HOUR).toISOString() })
  expect(booked.status).toBe(201)
  return { t, admin, student, bookingId: booked.body.reservation.id as number }
}

async function signUp(t: TestApp, name: string) {
  const client = new Client(t.app)
  const reply = await client.post('/api/auth/signup', { name, password: PASSWORD, role: 'teacher' }, { csrf: false })
  return { client, reply }
}

describe('SIGNUP_TEACHERS=approve (the default)', () => {
  let w: Awaited<ReturnType<typeof setup>>
  beforeAll(async () => {
    w = await setup()
  }, 120_000)
  afterAll(() => w.t.close())

  test('the new teacher waits: role teacher, teacher_pending, and only a student\'s powers until an admin approves', async () => {
    const { client, reply } = await signUp(w.t, 'newteacher')
    expect(reply.status).toBe(201)
    expect(reply.body).toEqual({ id: expect.any(Number), name: 'newteacher', role: 'teacher', teacher_pending: true })
    expect((await client.get('/api/auth/me')).body).toMatchObject({ role: 'teacher', teacher_pending: true })

    // A stranger's booking: not theirs to cancel or move while they wait.
    const cancel = await client.delete(`/api/reservations/${w.bookingId}`)
    expect(cancel.status).toBe(403)
    expect((await w.t.database.db.select().from(reservations).where(eq(reservations.id, w.bookingId)))[0]!.status).toBe('active')
    expect((await client.get(`/api/reservations/room/1/history`)).status).toBe(403)

    const waiting = await w.admin.get('/api/admin/users?teacher_pending=1')
    expect(waiting.body.users.map((u: { name: string }) => u.name)).toEqual(['newteacher'])
    expect(waiting.body.users[0]).toMatchObject({ role: 'teacher', teacher_pending: true })

    const approved = await w.admin.patch(`/api/admin/users/${reply.body.id}`, { teacher_pending: false })
    expect(approved.status).toBe(200)
    expect(approved.body.user).toMatchObject({ role: 'teacher', teacher_pending: false })
    const [row] = await w.t.database.db.select().from(users).where(eq(users.id, reply.body.id))
    expect(row!.teacherPending).toBe(false)
    expect((await client.get('/api/auth/me')).body).toEqual({ id: reply.body.id, name: 'newteacher', role: 'teacher' })
    // Approved: a teacher's powers at once (the actor cache entry is dropped on approval).
    expect((await client.delete(`/api/reservations/${w.bookingId}`)).status).toBe(200)
    expect((await w.admin.get('/api/admin/users?teacher_pending=1')).body.users).toEqual([])
  })

  test('a student signs up as before', async () => {
    const client = new Client(w.t.app)
    const reply = await client.post('/api/auth/signup', { name: 'newstudent', password: PASSWORD }, { csrf: false })
    expect(reply.body).toEqual({ id: expect.any(Number), name: 'newstudent', role: 'student' })
  })
})

describe('SIGNUP_TEACHERS=open (the original behaviour)', () => {
  test('a teacher at once', async () => {
    const w = await setup('open')
    try {
      const { client, reply } = await signUp(w.t, 'openteacher')
      expect(reply.status).toBe(201)
      expect(reply.body).toEqual({ id: expect.any(Number), name: 'openteacher', role: 'teacher' })
      expect((await client.delete(`/api/reservations/${w.bookingId}`)).status).toBe(200)
    } finally {
      await w.t.close()
    }
  })
})

describe('SIGNUP_TEACHERS=off', () => {
  test('self-signup as a teacher is refused and writes nothing; as a student it works', async () => {
    const w = await setup('off')
    try {
      const { reply } = await signUp(w.t, 'offteacher')
      expect(reply.status).toBe(403)
      expect(reply.body.msg).toBe('teacher accounts are made by an admin here: sign up as a student')
      expect(await w.t.database.db.select().from(users).where(eq(users.name, 'offteacher'))).toEqual([])
      const student = await new Client(w.t.app).post('/api/auth/signup', { name: 'offstudent', password: PASSWORD }, { csrf: false })
      expect(student.status).toBe(201)
    } finally {
      await w.t.close()
    }
  })
})
