/**
 * First-start data (SEED): `demo` is the deployment guide's four accounts, four rooms and three
 * reservations relative to now; `accounts` only the four accounts (production's default: the guide
 * tells the operator to change their passwords, and a college has no use for fake rooms); `none`
 * nothing. Runs only while the users table is empty, under the migration lock.
 * Public rooms require check-in (as createRoom makes them). The in-progress B101 booking is seeded
 * as checked in, so a fresh start shows B101 occupied as the guide's demo does instead of the
 * sweeper releasing it; B102's later booking must be checked in at the door or it is released.
 */
import { count } from 'drizzle-orm'
import type { SeedMode } from '../config'
import type { Clock } from '../lib/clock'
import { nameKey } from '../lib/names'
import { DEFAULT_PASSWORD_HASH_COST, hashPassword, type PasswordHashCost } from '../lib/passwords'
import type { Db } from './client'
import { reservations, rooms, users, type RoomType, type UserRole } from './schema'

export const SEED_ACCOUNTS: { name: string; password: string; role: UserRole }[] = [
  { name: 'admin', password: 'admin1234', role: 'admin' },
  { name: 'teacher', password: 'teacher1234', role: 'teacher' },
  { name: 'student', password: 'student1234', role: 'student' },
  { name: 'guest', password: 'guest1234', role: 'student' },
]

const SEED_ROOMS: { name: string; type: RoomType }[] = [
  { name: 'B101', type: 'public' },
  { name: 'B102', type: 'public' },
  { name: 'A200', type: 'admin' },
  { name: 'S001', type: 'service' },
]

const MINUTE = 60_000

/**
 * Returns true when it seeded, false when users already existed (or mode is `none`). The accounts'
 * passwords are hashed at `cost` (config.passwordHashCost; production's when not given).
 */
export async function seed(db: Db, clock: Clock, mode: SeedMode = 'demo', cost: PasswordHashCost = DEFAULT_PASSWORD_HASH_COST): Promise<boolean> {
  if (mode === 'none') return false
  const hashes = await Promise.all(SEED_ACCOUNTS.map((a) => hashPassword(a.password, cost)))
  return db.transaction(async (tx) => {
    const [{ users: existing }] = (await tx.select({ users: count() }).from(users)) as [{ users: number }]
    if (Number(existing) > 0) return false

    const seededAt = clock.now()
    const stamps = { createdAt: seededAt, updatedAt: seededAt }
    const insertedUsers = await tx.insert(users)
      .values(SEED_ACCOUNTS.map((a, i) => ({ name: a.name, nameKey: nameKey(a.name), role: a.role, passwordHash: hashes[i]!, passwordChangedAt: seededAt, ...stamps })))
      .returning({ id: users.id, name: users.name })
    if (mode === 'accounts') return true
    const insertedRooms = await tx.insert(rooms)
      .values(SEED_ROOMS.map((r) => ({ ...r, requiresCheckIn: r.type === 'public', ...stamps })))
      .returning({ id: rooms.id, name: rooms.name, requiresCheckIn: rooms.requiresCheckIn })
    const userId = (name: string) => insertedUsers.find((u) => u.name === name)!.id
    const roomId = (name: string) => insertedRooms.find((r) => r.name === name)!.id
    const needsCheckIn = (name: string) => insertedRooms.find((r) => r.name === name)!.requiresCheckIn

    const now = seededAt.getTime()
    const at = (minutes: number) => new Date(now + minutes * MINUTE)
    await tx.insert(reservations).values([
      { roomId: roomId('B101'), userId: userId('teacher'), startTime: at(-30), endTime: at(90), checkInRequired: needsCheckIn('B101'), checkedInAt: at(-30), ...stamps },
      { roomId: roomId('B102'), userId: userId('student'), startTime: at(120), endTime: at(240), checkInRequired: needsCheckIn('B102'), ...stamps },
      { roomId: roomId('A200'), userId: userId('guest'), startTime: at(360), endTime: at(480), checkInRequired: needsCheckIn('A200'), ...stamps },
    ])
    return true
  })
}
