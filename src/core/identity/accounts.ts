/** Auth use cases: plain functions over the context, no Elysia. Each write is audited in its transaction. */
import { eq, inArray } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { users, type User, type UserRole } from '../../db/schema'
import { BadRequest, Forbidden, NotFound, Unauthorized } from '../../lib/errors'
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from '../../lib/passwords'
import type { Actor } from './actors'
import { revokeSession, rotateSession, startSession, type TokenPair } from './sessions'
import type { TokenClaims } from './tokens'
import { cleanName, insertUser, setPassword } from './users'
import { ACCOUNT_MSG } from './messages'
import { recordChange, writeTransaction } from '../changes'

/** A user as the auth routes answer it; `teacher_pending: true` while a self-signed-up teacher awaits approval. */
export function publicUser(user: Pick<User, 'id' | 'name' | 'role'> & { teacherPending?: boolean }) {
  return { id: user.id, name: user.name, role: user.role, ...(user.teacherPending ? { teacher_pending: true as const } : {}) }
}

/**
 * Checks a name and password. Unknown names cost a real hash too, so timing does not reveal them.
 * The name matches exactly, as in the original (no case folding); names are stored NFC, so the
 * NFC form of the given name matches too (a client may send "é" decomposed), and an older name
 * stored in another form still matches as typed.
 */
async function authenticate(ctx: Ctx, name: string, password: string): Promise<User> {
  const forms = [...new Set([name, name.normalize('NFC')])]
  const found = await ctx.database.db.select().from(users).where(inArray(users.name, forms))
  const user = found.find((u) => u.name === name) ?? found[0]
  const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash(ctx.config.passwordHashCost)))
  if (!user || !ok) throw new Unauthorized(ACCOUNT_MSG.badCredentials)
  if (needsRehash(user.passwordHash)) {
    // A bcrypt hash from the Flask database: upgrade it now that we know the password.
    await ctx.database.db.update(users).set({ passwordHash: await hashPassword(password, ctx.config.passwordHashCost) }).where(eq(users.id, user.id))
  }
  return user
}

function loginName(body: { name?: string; username?: string }): string | undefined {
  const name = (body.name ?? body.username)?.trim()
  return name || undefined
}

/**
 * Logs in from client address `ip`. Besides the per-name limit of the rate-limit plugin, failed
 * logins are capped per address across all names (RATELIMIT_LOGIN_FAILURES, see throttle.ts).
 */
export async function login(ctx: Ctx, body: { name?: string; username?: string; password?: string }, ip: string, lang?: 'ru' | 'en') {
  const name = loginName(body)
  if (!name || !body.password) throw new BadRequest(ACCOUNT_MSG.credentialsRequired)
  const attempt = await ctx.throttle.login(ip)
  let user: User
  try {
    user = await authenticate(ctx, name, body.password)
  } catch (error) {
    if (!(error instanceof Unauthorized)) await attempt.refund() // not a wrong password: e.g. the database failed
    throw error
  }
  await attempt.refund()
  const pair = await writeTransaction(ctx.database, async (tx) => {
    const created = await startSession(ctx, tx, user)
    // The language the user signs in with is the language of their e-mail notices (issue 28).
    if (lang !== undefined && lang !== user.lang) await tx.update(users).set({ lang }).where(eq(users.id, user.id))
    recordChange(tx, { at: ctx.clock.now(), actorId: user.id, users: [user.id], event: 'user.logged_in', description: `${user.name} logged in`, data: { session: created.sessionId } })
    return created
  })
  return { user, pair }
}

export async function signup(ctx: Ctx, body: { name?: string; username?: string; password?: string; role?: string }) {
  const role = (body.role ?? 'student').toLowerCase()
  if (role === 'admin') throw new Forbidden(ACCOUNT_MSG.adminSignup)
  if (role !== 'student' && role !== 'teacher') throw new BadRequest(ACCOUNT_MSG.signupRole)
  // Anyone can sign up: as a teacher only with an admin's approval, unless SIGNUP_TEACHERS says otherwise.
  if (role === 'teacher' && ctx.config.signupTeachers === 'off') throw new Forbidden(ACCOUNT_MSG.teacherSignupOff)
  const teacherPending = role === 'teacher' && ctx.config.signupTeachers === 'approve'
  const name = cleanName(body.name ?? body.username)
  return writeTransaction(ctx.database, async (tx) => {
    const user = await insertUser(tx, { name, password: body.password ?? '', role, teacherPending }, ctx.clock.now(), ctx.config.passwordHashCost)
    const pair = await startSession(ctx, tx, user)
    recordChange(tx, { at: ctx.clock.now(), actorId: user.id, event: 'user.signed_up', description: `${user.name} signed up as ${role}`, data: { user_id: user.id, role, ...(teacherPending ? { teacher_pending: true } : {}) } })
    return { user, pair }
  })
}

export async function register(ctx: Ctx, actor: Actor, body: { name?: string; password?: string; role?: string }) {
  const role = (body.role ?? 'student').toLowerCase()
  if (!['student', 'teacher', 'admin'].includes(role)) throw new BadRequest(ACCOUNT_MSG.anyRole)
  const name = cleanName(body.name)
  return writeTransaction(ctx.database, async (tx) => {
    const user = await insertUser(tx, { name, password: body.password ?? '', role: role as UserRole }, ctx.clock.now(), ctx.config.passwordHashCost)
    recordChange(tx, { at: ctx.clock.now(), actorId: actor.id, event: 'user.created', description: `${actor.name} created user ${user.name} (${role})`, data: { user_id: user.id, role } })
    return user
  })
}

export function refresh(ctx: Ctx, token: string, claims: TokenClaims): Promise<TokenPair> {
  return rotateSession(ctx, token, claims)
}

/**
 * Revokes the session the given claims belong to (if any) and audits the logout of its user. The
 * session's access tokens stop working at once on this instance (the actor cache entry is
 * dropped after the commit) and within ACTOR_CACHE_TTL_MS on the others.
 */
export async function logout(ctx: Ctx, claims: TokenClaims | undefined) {
  if (!claims) return
  const userId = Number(claims.sub)
  await writeTransaction(ctx.database, async (tx) => {
    if (claims.sid) await revokeSession(ctx, tx, claims.sid)
    const [user] = await tx.select({ id: users.id, name: users.name }).from(users).where(eq(users.id, userId))
    if (user) recordChange(tx, { at: ctx.clock.now(), actorId: user.id, users: [user.id], event: 'user.logged_out', description: `${user.name} logged out`, data: { session: claims.sid ?? null } })
  })
  ctx.actors.invalidate(userId)
}

export async function me(ctx: Ctx, claims: TokenClaims) {
  const [user] = await ctx.database.db.select().from(users).where(eq(users.id, Number(claims.sub)))
  if (!user) throw new NotFound(ACCOUNT_MSG.notFound)
  return publicUser(user)
}

/**
 * Changes the caller's own password. Wrong current passwords are limited per session (5 per
 * 15 minutes, then 429: throttle.ts). The caller's session is replaced by a new one with tokens
 * of the new generation; every other session and every older token stops working.
 */
export async function changePassword(ctx: Ctx, actor: Actor, claims: TokenClaims, body: { current_password: string; new_password: string }) {
  const [user] = await ctx.database.db.select().from(users).where(eq(users.id, actor.id))
  if (!user) throw new NotFound(ACCOUNT_MSG.notFound)
  const attempt = await ctx.throttle.passwordCheck(claims.sid ? `session:${claims.sid}` : `user:${user.id}`)
  if (!(await verifyPassword(body.current_password, user.passwordHash)))
    throw new BadRequest(ACCOUNT_MSG.wrongPassword)
  await attempt.refund()
  const pair = await writeTransaction(ctx.database, async (tx) => {
    const updated = await setPassword(ctx, tx, user, body.new_password, claims.sid)
    if (!updated) throw new NotFound(ACCOUNT_MSG.notFound)
    recordChange(tx, { at: ctx.clock.now(), actorId: user.id, users: [user.id], event: 'user.password_changed', description: `${user.name} changed their password`, data: {} })
    // The caller stays logged in: fresh tokens (of the new generation) for a new session of their own.
    if (claims.sid) await revokeSession(ctx, tx, claims.sid)
    return startSession(ctx, tx, updated)
  })
  ctx.actors.invalidate(user.id)
  return pair
}
