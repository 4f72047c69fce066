/**
 * Creating users and setting passwords: shared by signup, register, change-password and the
 * admin routes, so every path applies the same rules (name, password, 409 on duplicates).
 */
import { eq, sql } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { pgErrorCode, type Executor } from '../../db/client'
import { users, type User, type UserRole } from '../../db/schema'
import { BadRequest, Conflict } from '../../lib/errors'
import { nameKey, normalizeName } from '../../lib/names'
import { hashPassword, passwordProblem, type PasswordHashCost } from '../../lib/passwords'
import { revokeUserSessions } from './sessions'
import { ACCOUNT_MSG } from './messages'

const MAX_NAME_LENGTH = 80

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

/** A new password for the user of this name, or 400 {msg} saying why not (rules: passwordProblem). */
function checkPassword(password: unknown, name: unknown): string {
  const problem = passwordProblem(password, name)
  if (problem) throw new BadRequest(problem)
  return password as string
}

/**
 * Inserts a user; `now` (the caller's clock) stamps created_at, updated_at and password_changed_at;
 * `cost` is config.passwordHashCost.
 */
export async function insertUser(tx: Executor, input: { name: string; password: string; role: UserRole; teacherPending?: boolean }, now: Date, cost: PasswordHashCost): Promise<User> {
  const passwordHash = await hashPassword(checkPassword(input.password, input.name), cost)
  try {
    const [user] = await tx.insert(users).values({
      ...userNameColumns(input.name), passwordHash, role: input.role, teacherPending: input.teacherPending ?? false, passwordChangedAt: now, createdAt: now, updatedAt: now,
    }).returning()
    return user!
  } catch (error) {
    if (pgErrorCode(error) === '23505') throw new Conflict(ACCOUNT_MSG.exists)
    throw error
  }
}

/**
 * Sets a new password and moves the user's token generation on (token_version + 1), so every token
 * issued before, even within the same second, is refused; revokes their sessions but the one
 * named (the caller's own on a change-password). The caller calls ctx.actors.invalidate(user.id)
 * once its transaction has committed: dropping the entry earlier would let a concurrent request
 * cache the old generation again for ACTOR_CACHE_TTL_MS.
 */
export async function setPassword(ctx: Ctx, tx: Executor, target: Pick<User, 'id' | 'name'>, password: string, keepSessionId?: string): Promise<User | undefined> {
  const passwordHash = await hashPassword(checkPassword(password, target.name), ctx.config.passwordHashCost)
  const now = ctx.clock.now()
  const [user] = await tx.update(users)
    .set({ passwordHash, passwordChangedAt: now, updatedAt: now, tokenVersion: sql`${users.tokenVersion} + 1` })
    .where(eq(users.id, target.id)).returning()
  if (user) await revokeUserSessions(ctx, tx, target.id, keepSessionId)
  return user
}
