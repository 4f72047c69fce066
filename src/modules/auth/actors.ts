/**
 * Who is calling: the user behind a verified token, read from the database and cached for a short
 * time. Roles are taken from the database, not from the token, so a role change, password reset
 * or deletion reaches existing tokens within ACTOR_CACHE_TTL_MS (the contract allows 60 s).
 */
import { eq } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { users, type UserRole } from '../../db/schema'
import type { Clock } from '../../lib/clock'

export const ACTOR_CACHE_TTL_MS = 30_000
const MAX_CACHED = 10_000

export interface Actor {
  id: number
  name: string
  role: UserRole
  /** Tokens issued before this moment (seconds) are no longer accepted: set by password changes. */
  tokensValidAfter: number
}

export interface ActorCache {
  get(id: number): Promise<Actor | null>
  /** Drop a user at once on this instance (other instances catch up within the TTL). */
  invalidate(id: number): void
}

export function createActorCache(db: Db, clock: Clock): ActorCache {
  const cache = new Map<number, { actor: Actor | null; at: number }>()
  return {
    async get(id) {
      const now = clock.now().getTime()
      const hit = cache.get(id)
      if (hit && now - hit.at < ACTOR_CACHE_TTL_MS) return hit.actor
      const [row] = await db.select({
        id: users.id, name: users.name, role: users.role, passwordChangedAt: users.passwordChangedAt,
      }).from(users).where(eq(users.id, id))
      const actor = row
        ? { id: row.id, name: row.name, role: row.role, tokensValidAfter: Math.floor(row.passwordChangedAt.getTime() / 1000) }
        : null
      if (cache.size >= MAX_CACHED) cache.clear()
      cache.set(id, { actor, at: now })
      return actor
    },
    invalidate(id) {
      cache.delete(id)
    },
  }
}

const RANK: Record<UserRole, number> = { student: 1, teacher: 2, admin: 3 }

/** student < teacher < admin: a route for teachers admits admins too. */
export function hasRole(actor: Pick<Actor, 'role'>, required: UserRole): boolean {
  return RANK[actor.role] >= RANK[required]
}
