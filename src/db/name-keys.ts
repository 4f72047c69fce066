/**
 * Fills users.name_key (src/lib/names.ts) where it is null: accounts made before the column
 * existed (migration 0006), or by an older version of the app still running during a rolling
 * deploy. Runs at start after the migrations, under the migration lock.
 *
 * Existing data may hold two names with one key (say "Admin" and "admin", or a Latin and a
 * Cyrillic "a"). Nothing is renamed or locked out: the account that holds the key already, else
 * the oldest (lowest id), gets it; the other keeps a null key, goes on logging in with its exact
 * name, and is named in a warning at every start until an admin renames it (a rename gives it a
 * key). New names that look like either are refused as taken, since the key is held.
 */
import { asc, eq, isNull } from 'drizzle-orm'
import { nameKey } from '../lib/names'
import type { Logger } from '../lib/log'
import { pgErrorCode, type Db } from './client'
import { users } from './schema'

export interface NameKeyBackfill {
  /** rows that got their key */
  filled: number
  /** rows left without a key because another account holds it: [this account, the holder] */
  clashes: { id: number; name: string; heldBy: { id: number; name: string } | null }[]
}

export async function backfillNameKeys(db: Db, log: Logger): Promise<NameKeyBackfill> {
  const result: NameKeyBackfill = { filled: 0, clashes: [] }
  const missing = await db.select({ id: users.id }).from(users).where(isNull(users.nameKey)).limit(1)
  if (missing.length === 0) return result

  const rows = await db.select({ id: users.id, name: users.name, nameKey: users.nameKey }).from(users).orderBy(asc(users.id))
  const holders = new Map<string, { id: number; name: string }>()
  for (const row of rows) if (row.nameKey !== null) holders.set(row.nameKey, row)
  for (const row of rows) {
    if (row.nameKey !== null) continue
    const key = nameKey(row.name)
    const holder = holders.get(key)
    if (holder) {
      result.clashes.push({ id: row.id, name: row.name, heldBy: holder })
      continue
    }
    try {
      // One statement per row (no transaction): a key taken meanwhile by a signup on another,
      // already running instance fails this row alone.
      await db.update(users).set({ nameKey: key }).where(eq(users.id, row.id))
      holders.set(key, row)
      result.filled++
    } catch (error) {
      if (pgErrorCode(error) !== '23505') throw error
      result.clashes.push({ id: row.id, name: row.name, heldBy: null })
    }
  }
  if (result.filled) log.info('filled the lookalike keys of existing user names', { users: result.filled })
  for (const clash of result.clashes)
    log.warn(`user "${clash.name}" looks like ${clash.heldBy ? `"${clash.heldBy.name}" (user #${clash.heldBy.id})` : 'another user'}: it keeps working under its exact name, but consider renaming it (PATCH /api/admin/users/${clash.id})`,
      { user_id: clash.id, held_by: clash.heldBy?.id ?? null })
  return result
}
