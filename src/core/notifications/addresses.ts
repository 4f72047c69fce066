/**
 * Users' e-mail addresses (issue 28). An admin sets one directly (identity/admin-users.ts); a user
 * asks for one and it becomes theirs only once they follow the link sent to it, so nobody can have
 * notices sent to an address that is not theirs. The link is a random token; only its hash is kept,
 * and the e-mail that carries it goes through the same outbox as every notice.
 */
import { and, eq, gt } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { emailVerifications, mailDeliveries, notifications, users } from '../../db/schema'
import { BadRequest, Conflict, NotFound } from '../../lib/errors'
import { randomToken, tokenHash } from '../../lib/secret-tokens'
import { recordChange, writeTransaction } from '../changes'

export const EMAIL_MSG = {
  invalid: 'invalid e-mail address',
  unavailable: 'e-mail is not configured on this server: its administrator sets SMTP_URL',
  badLink: 'this confirmation link is invalid or has expired',
} as const

const VERIFY_TTL_MS = 24 * 3600_000

/** The address as stored (the domain lower-cased), or a 400. */
export function parseEmail(raw: unknown): string {
  if (typeof raw !== 'string') throw new BadRequest(EMAIL_MSG.invalid)
  const value = raw.trim()
  const at = value.lastIndexOf('@')
  // What a person types into a form: one @, something on each side, a dot in the domain, no spaces or controls.
  if (value.length > 254 || at < 1 || at === value.length - 1 || !/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(value)) throw new BadRequest(EMAIL_MSG.invalid)
  return `${value.slice(0, at)}@${value.slice(at + 1).toLowerCase()}`
}


/** POST /me/email: sends a confirmation link to the address; the address is set when it is followed. */
export async function requestEmail(deps: Pick<Deps, 'database' | 'clock' | 'config'>, user: { id: number }, raw: unknown): Promise<{ pending: string }> {
  const email = parseEmail(raw)
  if (!deps.config.smtpUrl) throw new Conflict(EMAIL_MSG.unavailable)
  const token = randomToken()
  const hash = tokenHash(token)
  const link = new URL('api/me/email/verify', deps.config.serverExternalBase)
  link.searchParams.set('token', token)
  const now = deps.clock.now()
  await deps.database.db.transaction(async (tx) => {
    await tx.insert(emailVerifications).values({ tokenHash: hash, userId: user.id, email, expiresAt: new Date(now.getTime() + VERIFY_TTL_MS), createdAt: now })
    const [notice] = await tx.insert(notifications).values({
      userId: user.id, kind: 'email_verification', key: `verify:${hash}`, data: { email, link: link.toString() }, inApp: false, createdAt: now,
    }).returning({ id: notifications.id })
    await tx.insert(mailDeliveries).values({ notificationId: notice!.id, to: email, nextAttemptAt: now, createdAt: now })
  })
  return { pending: email }
}

/** GET /me/email/verify?token=: the address becomes the user's. */
export async function verifyEmail(deps: Pick<Deps, 'database' | 'clock'>, token: unknown): Promise<{ user_id: number; email: string }> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 200) throw new NotFound(EMAIL_MSG.badLink)
  return writeTransaction(deps.database, async (tx) => {
    const now = deps.clock.now()
    const [row] = await tx.select().from(emailVerifications)
      .where(and(eq(emailVerifications.tokenHash, tokenHash(token)), gt(emailVerifications.expiresAt, now))).for('update')
    if (!row) throw new NotFound(EMAIL_MSG.badLink)
    await tx.update(users).set({ email: row.email, updatedAt: now }).where(eq(users.id, row.userId))
    await tx.delete(emailVerifications).where(eq(emailVerifications.userId, row.userId))
    recordChange(tx, {
      at: now, actorId: row.userId, event: 'user.updated', rooms: [], users: [row.userId],
      description: `user #${row.userId} confirmed an e-mail address for notices`,
      data: { user_id: row.userId, changes: { email: { from: null, to: 'confirmed' } } },
    })
    return { user_id: row.userId, email: row.email }
  })
}

/** DELETE /me/email: no more e-mail. */
export async function removeEmail(deps: Pick<Deps, 'database' | 'clock'>, user: { id: number }): Promise<void> {
  await writeTransaction(deps.database, async (tx) => {
    const now = deps.clock.now()
    const [before] = await tx.select({ email: users.email }).from(users).where(eq(users.id, user.id)).for('update')
    if (!before?.email) return
    await tx.update(users).set({ email: null, updatedAt: now }).where(eq(users.id, user.id))
    recordChange(tx, {
      at: now, actorId: user.id, event: 'user.updated', rooms: [], users: [user.id],
      description: `user #${user.id} removed their e-mail address`, data: { user_id: user.id, changes: { email: { from: 'set', to: null } } },
    })
  })
}
