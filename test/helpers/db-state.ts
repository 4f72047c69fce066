/** Reading a database's state in tests: row counts of the seeded tables, applied migrations. */
import { count } from 'drizzle-orm'
import { rowsOf, sql, type Database } from '../../src/db/client'
import { MIGRATIONS_FOLDER } from '../../src/db/migrate'
import { reservations, rooms, users } from '../../src/db/schema'

/** Number of migrations in drizzle/meta/_journal.json. */
export const MIGRATION_COUNT = ((await Bun.file(`${MIGRATIONS_FOLDER}/meta/_journal.json`).json()) as { entries: unknown[] }).entries.length

export async function counts(database: Database) {
  const n = async (table: typeof users | typeof rooms | typeof reservations) =>
    Number((await database.db.select({ n: count() }).from(table))[0]!.n)
  return { users: await n(users), rooms: await n(rooms), reservations: await n(reservations) }
}

/** Rows in Drizzle's migration journal table. */
export async function appliedMigrations(database: Database): Promise<number> {
  const [row] = rowsOf<{ n: number | string }>(await database.db.execute(sql`select count(*) as n from drizzle.__drizzle_migrations`))
  return Number(row!.n)
}

/** The seeded data in a form that does not depend on ids or hashes. */
export async function seededData(database: Database) {
  const allUsers = await database.db.select().from(users).orderBy(users.id)
  const allRooms = await database.db.select().from(rooms).orderBy(rooms.id)
  const allReservations = await database.db.select().from(reservations).orderBy(reservations.id)
  const userName = new Map(allUsers.map((u) => [u.id, u.name]))
  const roomName = new Map(allRooms.map((r) => [r.id, r.name]))
  return {
    users: allUsers.map((u) => ({ name: u.name, role: u.role })),
    rooms: allRooms.map((r) => ({ name: r.name, type: r.type, isBlocked: r.isBlocked })),
    reservations: allReservations.map((r) => ({
      room: roomName.get(r.roomId), user: userName.get(r.userId), start: r.startTime.toISOString(), end: r.endTime.toISOString(), status: r.status,
    })),
  }
}
