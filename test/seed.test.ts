/**
 * First-start data: the guide's accounts, rooms and reservations relative to now; seeding twice
 * creates nothing twice. Neither do two real server processes starting at once on one fresh
 * PostgreSQL database (the advisory lock serializes migrate + seed): test/system/seed-race.test.ts.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { SEED_ACCOUNTS, seed } from '../src/db/seed'
import { users } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { verifyPassword } from '../src/lib/passwords'
import { testDatabase, type TestDatabase, stampedUser } from './helpers/db'
import { counts, seededData } from './helpers/db-state'

setDefaultTimeout(30_000) // see test/setup.ts

const NOW = '2031-03-10T12:00:00.000Z'
const MIN = 60_000
const iso = (offsetMin: number) => new Date(Date.parse(NOW) + offsetMin * MIN).toISOString()


const databases: TestDatabase[] = []
afterEach(async () => {
  await Promise.all(databases.splice(0).map((d) => d.drop()))
})

describe('seed()', () => {
  test('creates the guide\'s four accounts, four rooms and three reservations relative to now', async () => {
    const t = await testDatabase()
    databases.push(t)
    expect(await seed(t.database.db, fixedClock(NOW))).toBe(true)
    expect(await seededData(t.database)).toEqual({
      users: [
        { name: 'admin', role: 'admin' },
        { name: 'teacher', role: 'teacher' },
        { name: 'student', role: 'student' },
        { name: 'guest', role: 'student' },
      ],
      rooms: [
        { name: 'B101', type: 'public', isBlocked: false },
        { name: 'B102', type: 'public', isBlocked: false },
        { name: 'A200', type: 'admin', isBlocked: false },
        { name: 'S001', type: 'service', isBlocked: false },
      ],
      reservations: [
        { room: 'B101', user: 'teacher', start: iso(-30), end: iso(90), status: 'active' },
        { room: 'B102', user: 'student', start: iso(120), end: iso(240), status: 'active' },
        { room: 'A200', user: 'guest', start: iso(360), end: iso(480), status: 'active' },
      ],
    })
  })

  test('stores argon2id hashes of the documented passwords', async () => {
    const t = await testDatabase()
    databases.push(t)
    await seed(t.database.db, fixedClock(NOW))
    const stored = await t.database.db.select().from(users)
    expect(SEED_ACCOUNTS.map((a) => `${a.name}/${a.password}`)).toEqual(['admin/admin1234', 'teacher/teacher1234', 'student/student1234', 'guest/guest1234'])
    for (const account of SEED_ACCOUNTS) {
      const row = stored.find((u) => u.name === account.name)!
      expect(row.passwordHash.startsWith('$argon2id$')).toBe(true)
      expect(row.passwordHash).not.toContain(account.password)
      expect(await verifyPassword(account.password, row.passwordHash)).toBe(true)
      expect(await verifyPassword(`${account.password}x`, row.passwordHash)).toBe(false)
    }
  })

  test('is idempotent: a second run (even much later) creates nothing and changes nothing', async () => {
    const t = await testDatabase()
    databases.push(t)
    const clock = fixedClock(NOW)
    await seed(t.database.db, clock)
    const first = await seededData(t.database)
    clock.advance(3 * 86400_000)
    expect(await seed(t.database.db, clock)).toBe(false)
    expect(await seed(t.database.db, clock)).toBe(false)
    expect(await seededData(t.database)).toEqual(first)
    expect(await counts(t.database)).toEqual({ users: 4, rooms: 4, reservations: 3 })
  })

  test('does nothing on a database that already has users (an existing deployment)', async () => {
    const t = await testDatabase()
    databases.push(t)
    await t.database.db.insert(users).values(stampedUser({ name: 'someone', passwordHash: 'x', role: 'admin' }))
    expect(await seed(t.database.db, fixedClock(NOW))).toBe(false)
    expect(await counts(t.database)).toEqual({ users: 1, rooms: 0, reservations: 0 })
  })

  test('concurrent seed() calls on one database insert the data once', async () => {
    // Without the start-up lock, two transactions both see no users: the unique names make the
    // loser fail rather than duplicate anything.
    const t = await testDatabase()
    databases.push(t)
    const results = await Promise.allSettled([seed(t.database.db, fixedClock(NOW)), seed(t.database.db, fixedClock(NOW))])
    expect(results.filter((r) => r.status === 'fulfilled' && r.value === true)).toHaveLength(1)
    expect(await counts(t.database)).toEqual({ users: 4, rooms: 4, reservations: 3 })
  })
})
