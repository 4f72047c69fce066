/**
 * Creating users and setting passwords: shared by signup, register, change-password and the
 * admin routes, so every path applies the same rules (name, length, 409 on duplicates).
 */
import { eq } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { pgErrorCode, type Executor } from '../../db/client'
import { users, type User, type UserRole } from '../../db/schema'
import { BadRequest, Conflict } from '../../lib/errors'
import { nameKey, normalizeName } from '../../lib/names'
import { hashPassword, MIN_PASSWORD_LENGTH } from '../../lib/passwords'
import { revokeUserSessions } from './sessions'

export const MAX_NAME_LENGTH = 80

/** A user name from a request: no control or bidi characters, NFC, trimmed, 1..80 (src/lib/names.ts). */
export function cleanName(raw: unknown): string {
  return normalizeName(raw, MAX_NAME_LENGTH)
}

/**
 * The name columns of a user row: the cleaned name and its lookalike key, whose unique index
 * refuses (23505, answered 409 `user already exists`) a name that only differs from another by
 * case, confusable letters or invisible characters.
 */
export function userNameColumns(raw: unknown): { name: string; nameKey: string } {
  const name = cleanName(raw)
  return { name, nameKey: nameKey(name) }
}

export function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || password.length === 0) throw new BadRequest('password is required')
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new BadRequest(`password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  if (password.length > 1024) throw new BadRequest('password must be at most 1024 characters')
  return password
}

/** Inserts a user; `now` (the caller's clock) stamps created_at, updated_at and password_changed_at. */
export async function insertUser(tx: Executor, input: { name: string; password: string; role: UserRole }, now: Date): Promise<User> {
  const passwordHash = await hashPassword(checkPassword(input.password))
  try {
    const [user] = await tx.insert(users).values({
      ...userNameColumns(input.name), passwordHash, role: input.role, passwordChangedAt: now, createdAt: now, updatedAt: now,
    }).returning()
    return user!
  } catch (error) {
    if (pgErrorCode(error) === '23505') throw new Conflict('user already exists')
    throw error
  }
}

/**
 * Sets a new password, invalidates the user's existing access tokens (password_changed_at) and
 * revokes their sessions but the one named (the caller's own on a change-password).
 */
export async function setPassword(ctx: Ctx, tx: Executor, userId: number, password: string, keepSessionId?: string): Promise<User | undefined> {
  const passwordHash = await hashPassword(checkPassword(password))
  const now = ctx.clock.now()
  const [user] = await tx.update(users)
    .set({ passwordHash, passwordChangedAt: now, updatedAt: now })
    .where(eq(users.id, userId)).returning()
  if (user) await revokeUserSessions(ctx, tx, userId, keepSessionId)
  ctx.actors.invalidate(userId)
  return user
}
