/**
 * Who is calling: the user behind a verified token, read from the database and cached for a short
 * time. Roles are taken from the database, not from the token, so a role change, password reset,
 * deletion, logout or session revocation reaches existing tokens within ACTOR_CACHE_TTL_MS (the
 * contract allows 60 s); the instance that makes the change drops its entry at once.
 *
 * One query per user per TTL per instance loads the user and the ids of their sessions revoked
 * within the last access-token lifetime: only those can still have unexpired access tokens, so
 * the set stays small however many sessions a user has had (docs/decisions/014-auth-hardening.md).
 */
import { eq, sql } from 'drizzle-orm'
import type { Db } from '../../db/client'
import { sessions, users, type UserRole } from '../../db/schema'
import type { Clock } from '../../lib/clock'
import type { TokenClaims } from './tokens'

export const ACTOR_CACHE_TTL_MS = 30_000
const MAX_CACHED = 10_000

export interface Actor {
  id: number
  name: string
  role: UserRole
  /** users.token_version: a token of another generation is refused (password change or reset). */
  tokenVersion: number
  /** For tokens without a `ver` claim (issued before migration 0006): refused if issued before this second. */
  passwordChangedAtS: number
  /** Sessions revoked recently enough that some of their access tokens may not have expired yet. */
  revokedSessions: ReadonlySet<string>
}

export interface ActorCache {
  get(id: number): Promise<Actor | null>
  /** Drop a user at once on this instance (other instances catch up within the TTL). Call it after the change commits. */
  invalidate(id: number): void
}

/**
 * True when the token was issued before the user's last password change or reset: its `ver` is
 * not the user's token_version. Tokens without `ver` (issued before migration 0006) fall back to
 * the old rule, issued in an earlier second than password_changed_at.
 */
export function olderGeneration(user: Pick<Actor, 'tokenVersion' | 'passwordChangedAtS'>, claims: Pick<TokenClaims, 'ver' | 'iat'>): boolean {
  return claims.ver === undefined ? claims.iat < user.passwordChangedAtS : claims.ver !== user.tokenVersion
}

/** True when a token of this actor is no longer accepted: an older generation, or a revoked session's. */
export function tokenRevoked(actor: Actor, claims: Pick<TokenClaims, 'ver' | 'iat' | 'sid'>): boolean {
  return olderGeneration(actor, claims) || (claims.sid !== undefined && actor.revokedSessions.has(claims.sid))
}

export function createActorCache(db: Db, clock: Clock, accessTokenTtlS: number): ActorCache {
  const cache = new Map<number, { actor: Actor | null; at: number }>()
  return {
    async get(id) {
      const now = clock.now().getTime()
      const hit = cache.get(id)
      if (hit && now - hit.at < ACTOR_CACHE_TTL_MS) return hit.actor
      // Revoked before the cutoff means every access token of that session has expired.
      const cutoff = new Date(now - accessTokenTtlS * 1000).toISOString()
      const [row] = await db.select({
        id: users.id, name: users.name, role: users.role, teacherPending: users.teacherPending, passwordChangedAt: users.passwordChangedAt, tokenVersion: users.tokenVersion,
        // Qualified by hand: drizzle leaves columns unqualified in a one-table select.
        revoked: sql<string[] | string>`array(select s.id::text from ${sessions} s where s.user_id = "users"."id" and s.revoked_at > ${cutoff}::timestamptz)`,
      }).from(users).where(eq(users.id, id))
      const actor = row
        ? {
          // A teacher awaiting approval acts as a student (SIGNUP_TEACHERS=approve).
          id: row.id, name: row.name, role: row.teacherPending && row.role === 'teacher' ? 'student' as const : row.role, tokenVersion: row.tokenVersion,
          passwordChangedAtS: Math.floor(row.passwordChangedAt.getTime() / 1000),
          revokedSessions: new Set(textArray(row.revoked)),
        }
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

/** A text[] as the driver returns it: an array (postgres.js, PGlite), or its literal `{a,b}` if a driver leaves it unparsed. */
function textArray(value: string[] | string | null): string[] {
  if (Array.isArray(value)) return value
  if (typeof value !== 'string' || value === '{}') return []
  return value.replace(/^\{|\}$/g, '').split(',').map((v) => v.replace(/^"|"$/g, ''))
}

const RANK: Record<UserRole, number> = { student: 1, teacher: 2, admin: 3 }

/** student < teacher < admin: a route for teachers admits admins too. */
export function hasRole(actor: Pick<Actor, 'role'>, required: UserRole): boolean {
  return RANK[actor.role] >= RANK[required]
}
