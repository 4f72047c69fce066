/**
 * Issue 12, names (docs/decisions/015-booking-limits-and-names.md): user and room names refuse
 * control characters (BEL, ESC, CR/LF, C1) and bidirectional overrides (U+202E), and are stored
 * NFC-normalized; a user name that differs from an existing one only by case, by a confusable
 * letter (Cyrillic "а" for Latin "a") or by an invisible character is refused as taken (409, as an
 * exact duplicate), also when both are signed up at the same instant (users.name_key, unique).
 * Room names keep exact uniqueness. Login keeps matching the exact name.
 */
import { setDefaultTimeout, afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { eq, inArray } from 'drizzle-orm'
import { pgErrorCode } from '../src/db/client'
import { backfillNameKeys } from '../src/db/name-keys'
import { rooms, users } from '../src/db/schema'
import { nameKey, normalizeName } from '../src/lib/names'
import type { Logger } from '../src/lib/log'
import { hashPassword } from '../src/lib/passwords'
import { Client, loggedIn, testApp, type TestApp } from './helpers/app'
import { stampedUser } from './helpers/db'

setDefaultTimeout(30_000) // see test/setup.ts

const PW = 'Quartz-lantern-48'
const CONTROL = 'name must not contain control characters'
const TAKEN = { status: 409, body: { msg: 'user already exists' } }
/** Names with a forbidden character: BEL, ESC, CR LF, a C1 control, RIGHT-TO-LEFT OVERRIDE, a line separator */
const BAD_NAMES = ['bell\u0007', 'esc\u001b[31mred', 'two\r\nlines', 'nel\u0085', 'evil\u202Etxt.exe', 'line\u2028sep', '\u202Eleading']

let t: TestApp
let admin: Client

beforeAll(async () => {
  t = await testApp()
  admin = await loggedIn(t.app, 'admin')
}, 120_000) // seeding and logging in hash passwords (argon2id): slow on a busy machine
afterAll(() => t.close())

const db = () => t.database.db
const signup = (name: string, password = PW) => new Client(t.app).post('/api/auth/signup', { name, password }, { csrf: false })
const answer = (r: { status: number; body: unknown }) => ({ status: r.status, body: r.body })
async function userRow(name: string) {
  const [row] = await db().select().from(users).where(eq(users.name, name))
  return row
}

describe('control and bidi characters are refused', () => {
  test('user names: signup, register, admin create and rename; nothing is written', async () => {
    const before = (await db().select().from(users)).length
    for (const name of BAD_NAMES) {
      expect(answer(await signup(name))).toEqual({ status: 400, body: { msg: CONTROL } })
      expect(answer(await admin.post('/api/auth/register', { name, password: PW }))).toEqual({ status: 400, body: { msg: CONTROL } })
      expect(answer(await admin.post('/api/admin/users', { name, password: PW }))).toEqual({ status: 400, body: { msg: CONTROL } })
      expect(answer(await admin.patch('/api/admin/users/4', { name }))).toEqual({ status: 400, body: { msg: CONTROL } })
    }
    expect((await db().select().from(users)).length).toBe(before)
    expect((await userRow('guest'))).toBeDefined()
  })

  test('room names: POST /rooms, POST and PATCH /admin/rooms; nothing is written', async () => {
    const before = (await db().select().from(rooms)).length
    for (const name of BAD_NAMES) {
      expect(answer(await admin.post('/api/rooms', { name }))).toEqual({ status: 400, body: { msg: CONTROL } })
      expect(answer(await admin.post('/api/admin/rooms', { name }))).toEqual({ status: 400, body: { msg: CONTROL } })
      expect(answer(await admin.patch('/api/admin/rooms/4', { name }))).toEqual({ status: 400, body: { msg: CONTROL } })
    }
    expect((await db().select().from(rooms)).length).toBe(before)
    expect((await db().select().from(rooms).where(eq(rooms.id, 4)))[0]!.name).toBe('S001')
  })

  test('ordinary names stay accepted: letters of any script, spaces, punctuation, emoji, joiners', () => {
    for (const name of ['Мария Иванова', 'José-Luis O\'Neil', '李小龙', 'نور', 'B-101 (Lab)', 'Zoë 👩‍🔬', 'می‌خواهم'])
      expect(normalizeName(name, 80)).toBe(name.normalize('NFC'))
  })
})

describe('names are stored NFC-normalized', () => {
  const decomposed = 'Jose\u0301 Nun\u0303ez' // e + combining acute, n + combining tilde
  const composed = 'José Núñez'.replace('ú', 'u') // "José Nuñez" with precomposed letters
  test('a user signed up with a decomposed é is stored and answered composed, and logs in either way', async () => {
    expect(decomposed).not.toBe(composed)
    expect(decomposed.normalize('NFC')).toBe(composed)
    const r = await signup(decomposed)
    expect(r.status).toBe(201)
    expect(r.body.name).toBe(composed)
    const row = await userRow(composed)
    expect(row?.name).toBe(composed)
    expect(await userRow(decomposed)).toBeUndefined()
    // login matches the name exactly, in the form the client sends or its NFC form
    await loggedIn(t.app, decomposed, PW)
    await loggedIn(t.app, composed, PW)
    // a composed signup of the same name is the same name
    expect(answer(await signup(composed))).toEqual(TAKEN)
  })

  test('room names too (admin create and rename)', async () => {
    const created = await admin.post('/api/admin/rooms', { name: 'Cafe\u0301 101' })
    expect(created.status).toBe(201)
    expect(created.body.room.name).toBe('Café 101')
    const id = created.body.room.id
    expect((await db().select().from(rooms).where(eq(rooms.id, id)))[0]!.name).toBe('Café 101')
    const renamed = await admin.patch(`/api/admin/rooms/${id}`, { name: 'Cafe\u0301 102' })
    expect(renamed.status).toBe(200)
    expect((await db().select().from(rooms).where(eq(rooms.id, id)))[0]!.name).toBe('Café 102')
    expect((await admin.post('/api/rooms', { name: 'Cafe\u0301 102' })).status).toBe(409)
  })
})

describe('a user name that only looks like a taken one is taken', () => {
  test('case, Cyrillic а, zero-width space, digit for letter, fullwidth letters: 409 like an exact duplicate', async () => {
    for (const name of ['admin', 'Admin', 'ADMIN', '\u0430dmin', 'ad\u200Bmin', '\u200Badmin\u200D', 'adrnin', 'ＡＤＭＩＮ', 'teacher', 'TEACHER', 'te\u0430cher', 'stud\u0435nt', 'gu\u2060est'])
      expect({ name, ...answer(await signup(name)) }).toEqual({ name, ...TAKEN })
    expect((await signup('carol')).status).toBe(201)
    for (const name of ['car0l', 'caro1', 'CAR0L']) expect({ name, ...answer(await signup(name)) }).toEqual({ name, ...TAKEN })
    // on every path that creates or renames a user
    expect(answer(await admin.post('/api/auth/register', { name: 'Student', password: PW }))).toEqual(TAKEN)
    expect(answer(await admin.post('/api/admin/users', { name: 'GUEST', password: PW }))).toEqual(TAKEN)
    expect(answer(await admin.patch('/api/admin/users/4', { name: 'Te\u0430cher' }))).toEqual(TAKEN)
    expect((await db().select().from(users)).filter((u) => nameKey(u.name) === nameKey('admin'))).toHaveLength(1)
  })

  test('a user may be renamed to another spelling of their own name', async () => {
    const r = await admin.patch('/api/admin/users/4', { name: 'Guest' })
    expect(r.status).toBe(200)
    expect(r.body.user.name).toBe('Guest')
    expect((await admin.patch('/api/admin/users/4', { name: 'guest' })).status).toBe(200)
  })

  test('login matches the exact name only, as the original did', async () => {
    const wrongCase = await new Client(t.app).post('/api/auth/login', { name: 'Admin', password: 'admin1234' }, { csrf: false })
    expect(wrongCase.status).toBe(401)
    const lookalike = await new Client(t.app).post('/api/auth/login', { name: '\u0430dmin', password: 'admin1234' }, { csrf: false })
    expect(lookalike.status).toBe(401)
    await loggedIn(t.app, 'admin')
  })

  test('different names are still fine', async () => {
    for (const name of ['adminx', 'admin two', 'Aleksandr', 'Александр']) expect((await signup(name)).status).toBe(201)
  })

  test('rooms keep exact uniqueness: "b101" next to "B101" is a different room', async () => {
    const r = await admin.post('/api/admin/rooms', { name: 'b101' })
    expect(r.status).toBe(201)
    expect((await admin.post('/api/admin/rooms', { name: 'B101' })).status).toBe(409)
  })

  test('two lookalike signups at the same instant: exactly one 201, the others 409', async () => {
    const names = ['zoe.park', 'Zoe.Park', 'z\u043Ee.park', 'zoe.p\u0430rk'] // Latin, case, Cyrillic о, Cyrillic а
    const replies = await Promise.all(names.map((name) => signup(name)))
    const statuses = replies.map((r) => r.status).sort()
    expect(statuses).toEqual([201, 409, 409, 409])
    for (const r of replies.filter((r) => r.status === 409)) expect(r.body).toEqual({ msg: 'user already exists' })
    const stored = (await db().select().from(users)).filter((u) => nameKey(u.name) === nameKey('zoe.park'))
    expect(stored).toHaveLength(1)
  })
})

describe('the lookalike key', () => {
  test('every user row written by the app carries one; the database refuses a second row with it', async () => {
    const rows = await db().select().from(users)
    for (const row of rows) expect(row.nameKey).toBe(nameKey(row.name))
    const hash = await hashPassword(PW, t.config.passwordHashCost)
    const direct = await db().insert(users).values(stampedUser({ name: 'ADMIN', nameKey: nameKey('ADMIN'), passwordHash: hash }))
      .then(() => 'inserted', (error) => pgErrorCode(error))
    expect(direct).toBe('23505')
  })

  test('start-up backfill: the older of two lookalike legacy accounts gets the key, the other keeps working and is named in a warning', async () => {
    const hash = await hashPassword(PW, t.config.passwordHashCost)
    // rows from before the key existed (migration 0006): no key
    await db().insert(users).values([
      stampedUser({ name: 'legacy.user', passwordHash: hash }),
      stampedUser({ name: 'Legacy.User', passwordHash: hash }),
      stampedUser({ name: 'another.legacy', passwordHash: hash }),
      stampedUser({ name: 'ADMIN', passwordHash: hash }), // looks like the seeded admin, which holds the key
    ])
    const warnings: string[] = []
    const log: Logger = { debug() {}, info() {}, error() {}, warn: (msg) => { warnings.push(msg) } }
    const result = await backfillNameKeys(db(), log)
    expect(result.filled).toBe(2)
    expect(result.clashes.map((c) => [c.name, c.heldBy?.name])).toEqual([['Legacy.User', 'legacy.user'], ['ADMIN', 'admin']])
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toContain('"Legacy.User" looks like "legacy.user"')

    const rows = await db().select().from(users).where(inArray(users.name, ['legacy.user', 'Legacy.User', 'another.legacy', 'ADMIN']))
    const keyOf = (name: string) => rows.find((r) => r.name === name)!.nameKey
    expect(keyOf('legacy.user')).toBe(nameKey('legacy.user'))
    expect(keyOf('another.legacy')).toBe(nameKey('another.legacy'))
    expect(keyOf('Legacy.User')).toBeNull()
    expect(keyOf('ADMIN')).toBeNull()
    // nobody is locked out, and the key still blocks new lookalikes
    await loggedIn(t.app, 'Legacy.User', PW)
    await loggedIn(t.app, 'legacy.user', PW)
    expect(answer(await signup('LEGACY.USER'))).toEqual(TAKEN)
    // a second start finds the same clashes and changes nothing
    expect((await backfillNameKeys(db(), log)).filled).toBe(0)
    // an admin renames the clashing account: it gets a key
    const clash = rows.find((r) => r.name === 'Legacy.User')!
    expect((await admin.patch(`/api/admin/users/${clash.id}`, { name: 'legacy.user.2' })).status).toBe(200)
    expect((await userRow('legacy.user.2'))!.nameKey).toBe(nameKey('legacy.user.2'))
  })
})
