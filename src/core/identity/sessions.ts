/**
 * Server-side sessions. Each login creates a row holding the hash of the one refresh token it
 * currently accepts. Refresh rotates it; presenting an older token of the same session means the
 * token was stolen or replayed, so the whole session is revoked. Logout revokes the session.
 */
import { and, eq, isNull, ne } from 'drizzle-orm'
import type { Ctx } from '../../context'
import type { Executor } from '../../db/client'
import { sessions, users } from '../../db/schema'
import { Unauthorized } from '../../lib/errors'
import { olderGeneration } from './actors'
import type { IssuedToken, TokenClaims, TokenSubject } from './tokens'
import { TOKEN_MSG } from './messages'
import { writeTransaction } from '../changes'
import { tokenHash } from '../../lib/secret-tokens'

/** How long the token a refresh replaced is refused quietly instead of being treated as stolen. */
const ROTATION_GRACE_MS = 10_000

export interface TokenPair {
  sessionId: string
  access: IssuedToken
  refresh: IssuedToken
}

async function issuePair(ctx: Ctx, user: TokenSubject, sessionId: string) {
  const [access, refresh] = await Promise.all([
    ctx.tokens.issue('access', user, { sid: sessionId }),
    ctx.tokens.issue('refresh', user, { sid: sessionId }),
  ])
  return { access, refresh }
}

/** A new session for the user; `user` must carry its current token_version (as just read or written). */
export async function startSession(ctx: Ctx, tx: Executor, user: TokenSubject): Promise<TokenPair> {
  const sessionId = crypto.randomUUID()
  const { access, refresh } = await issuePair(ctx, user, sessionId)
  await tx.insert(sessions).values({
    id: sessionId,
    userId: user.id,
    refreshTokenHash: tokenHash(refresh.token),
    expiresAt: new Date(refresh.claims.exp * 1000),
    createdAt: ctx.clock.now(),
    lastUsedAt: ctx.clock.now(),
  })
  return { sessionId, access, refresh }
}

/**
 * Exchanges a verified refresh token for a new pair; refuses deleted users, revoked sessions,
 * tokens of an older generation (a password change or reset since) and replayed tokens. The user
 * is read in the transaction rather than from the actor cache, so the new tokens carry the
 * current role and generation even if another instance changed them a moment ago.
 */
export async function rotateSession(ctx: Ctx, token: string, claims: TokenClaims): Promise<TokenPair> {
  const userId = Number(claims.sub)
  const now = ctx.clock.now()
  const result = await writeTransaction(ctx.database, async (tx) => {
    const [user] = await tx.select({
      id: users.id, role: users.role, tokenVersion: users.tokenVersion, passwordChangedAt: users.passwordChangedAt,
    }).from(users).where(eq(users.id, userId))
    if (!user) throw new Unauthorized(TOKEN_MSG.userGone)
    const generation = { tokenVersion: user.tokenVersion, passwordChangedAtS: Math.floor(user.passwordChangedAt.getTime() / 1000) }
    if (olderGeneration(generation, claims) || !claims.sid) throw new Unauthorized(TOKEN_MSG.revoked)
    const sessionId = claims.sid
    const [session] = await tx.select().from(sessions).where(eq(sessions.id, sessionId)).for('update')
    if (!session || session.revokedAt || session.expiresAt <= now || session.userId !== user.id)
      throw new Unauthorized(TOKEN_MSG.revoked)
    const presented = tokenHash(token)
    if (session.refreshTokenHash !== presented) {
      const justRotated = session.previousTokenHash === presented && session.rotatedAt
        && now.getTime() - session.rotatedAt.getTime() < ROTATION_GRACE_MS
      // Two tabs refreshing at once: the loser is refused, the session lives on.
      if (justRotated) return 'raced' as const
      // An older token: somebody kept a copy. End the session for everyone holding it.
      await tx.update(sessions).set({ revokedAt: now }).where(eq(sessions.id, sessionId))
      return 'replayed' as const
    }
    const { access, refresh } = await issuePair(ctx, user, sessionId)
    await tx.update(sessions)
      .set({
        refreshTokenHash: tokenHash(refresh.token),
        previousTokenHash: presented,
        rotatedAt: now,
        expiresAt: new Date(refresh.claims.exp * 1000),
        lastUsedAt: now,
      })
      .where(eq(sessions.id, sessionId))
    return { sessionId, access, refresh }
  })
  if (result === 'raced') throw new Unauthorized(TOKEN_MSG.refreshed)
  if (result === 'replayed') {
    // The session's access tokens stop working too: at once here, within the cache TTL elsewhere.
    ctx.actors.invalidate(userId)
    throw new Unauthorized(TOKEN_MSG.revoked)
  }
  return result
}

export async function revokeSession(ctx: Ctx, tx: Executor, sessionId: string): Promise<void> {
  await tx.update(sessions).set({ revokedAt: ctx.clock.now() })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)))
}

/** Revokes every live session of a user, except one (the caller's own, on a password change). */
export async function revokeUserSessions(ctx: Ctx, tx: Executor, userId: number, exceptSessionId?: string): Promise<void> {
  const conditions = [eq(sessions.userId, userId), isNull(sessions.revokedAt)]
  if (exceptSessionId) conditions.push(ne(sessions.id, exceptSessionId))
  await tx.update(sessions).set({ revokedAt: ctx.clock.now() }).where(and(...conditions))
}
