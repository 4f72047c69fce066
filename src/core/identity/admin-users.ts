/** Admin user management: list, create, rename / change role, reset password. Each write is audited. */
import { and, asc, count, eq, ilike, inArray, type SQL } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { pgErrorCode, type Executor } from '../../db/client'
import { users, type User, type UserRole } from '../../db/schema'
import { BadRequest, Conflict, NotFound } from '../../lib/errors'
import { paginationOf, parsePagination } from '../../lib/pagination'
import { enumValues, likePattern, searchTerm } from '../../lib/query-params'
import { formatUtc } from '../../lib/time'
import type { Actor } from './actors'
import { insertUser, setPassword, userNameColumns } from './users'
import { ROLES } from './model'
import { ACCOUNT_MSG } from './messages'
import { parseEmail } from '../notifications/addresses'
import { recordChange, writeTransaction } from '../changes'

function adminUser(user: User) {
  return { id: user.id, name: user.name, role: user.role, teacher_pending: user.teacherPending, email: user.email, created_at: formatUtc(user.createdAt), updated_at: formatUtc(user.updatedAt) }
}

function roleOf(raw: string | undefined, fallback?: UserRole): UserRole | undefined {
  if (raw === undefined) return fallback
  const role = ROLES.find((r) => r === raw.trim().toLowerCase())
  if (!role) throw new BadRequest(ACCOUNT_MSG.anyRole)
  return role
}

export async function listUsers(ctx: Ctx, query: { q?: string; role?: string | string[]; teacher_pending?: boolean; page?: string; per_page?: string }) {
  const page = parsePagination(query)
  const roles = enumValues(query.role, ROLES, 'role')
  const q = searchTerm(query.q)
  const conditions: SQL[] = []
  if (q) conditions.push(ilike(users.name, likePattern(q)))
  if (roles.length) conditions.push(inArray(users.role, roles))
  if (query.teacher_pending !== undefined) conditions.push(eq(users.teacherPending, query.teacher_pending))
  const where = conditions.length ? and(...conditions) : undefined
  const db = ctx.database.db
  const [rows, [totals]] = await Promise.all([
    db.select().from(users).where(where).orderBy(asc(users.id)).limit(page.limit).offset(page.offset),
    db.select({ total: count() }).from(users).where(where),
  ])
  return { users: rows.map(adminUser), pagination: paginationOf(page, Number(totals?.total ?? 0)) }
}

export async function createUser(ctx: Ctx, actor: Actor, body: { name: string; password: string; role?: string }) {
  const role = roleOf(body.role, 'student')!
  return writeTransaction(ctx.database, async (tx) => {
    const user = await insertUser(tx, { name: body.name, password: body.password, role }, ctx.clock.now(), ctx.config.passwordHashCost)
    recordChange(tx, {
      at: ctx.clock.now(),
      actorId: actor.id, event: 'user.created',
      description: `${actor.name} created user ${user.name} (${role})`,
      data: { user_id: user.id, name: user.name, role },
    })
    return adminUser(user)
  })
}

async function lockedUser(tx: Executor, id: number): Promise<User> {
  const [user] = await tx.select().from(users).where(eq(users.id, id)).for('update')
  if (!user) throw new NotFound(ACCOUNT_MSG.notFound)
  return user
}

export async function updateUser(ctx: Ctx, actor: Actor, id: number, body: { name?: string; role?: string; teacher_pending?: boolean; email?: string | null }) {
  if (body.name === undefined && body.role === undefined && body.teacher_pending === undefined && body.email === undefined) throw new BadRequest('nothing to update: send name, role, teacher_pending and/or email')
  // An admin's word is enough: the address is set without a confirmation link (issue 28).
  const email = body.email === undefined ? undefined : body.email === null || body.email === '' ? null : parseEmail(body.email)
  const named = body.name === undefined ? undefined : userNameColumns(body.name)
  const name = named?.name
  const role = roleOf(body.role)
  const updated = await writeTransaction(ctx.database, async (tx) => {
    const before = await lockedUser(tx, id)
    const changes: Partial<Pick<User, 'name' | 'role' | 'teacherPending' | 'email'>> = {}
    if (name !== undefined && name !== before.name) changes.name = name
    if (role !== undefined && role !== before.role) changes.role = role
    // teacher_pending: false approves a teacher who signed up; true takes the powers back until approved again.
    if (body.teacher_pending !== undefined && body.teacher_pending !== before.teacherPending) changes.teacherPending = body.teacher_pending
    if (email !== undefined && email !== before.email) changes.email = email
    if (!changes.name && !changes.role && changes.teacherPending === undefined && changes.email === undefined) return before
    if (before.role === 'admin' && changes.role) {
      // Never leave the system without an administrator (the lock serialises concurrent demotions).
      const admins = await tx.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).for('update')
      if (admins.length <= 1) throw new Conflict(ACCOUNT_MSG.lastAdmin)
    }
    let after: User | undefined
    try {
      ;[after] = await tx.update(users)
        .set({ ...changes, ...(changes.name ? { nameKey: named!.nameKey } : {}), updatedAt: ctx.clock.now() })
        .where(eq(users.id, id)).returning()
    } catch (error) {
      if (pgErrorCode(error) === '23505') throw new Conflict(ACCOUNT_MSG.exists)
      throw error
    }
    const what = [
      changes.name ? `renamed ${before.name} to ${changes.name}` : undefined,
      changes.role ? `changed the role of ${changes.name ?? before.name} from ${before.role} to ${changes.role}` : undefined,
      changes.teacherPending === false ? `approved ${changes.name ?? before.name} as a teacher` : changes.teacherPending ? `set ${changes.name ?? before.name} to await approval as a teacher` : undefined,
      changes.email !== undefined ? `${changes.email ? 'set' : 'removed'} the e-mail address of ${changes.name ?? before.name}` : undefined,
    ].filter(Boolean).join(' and ')
    recordChange(tx, {
      at: ctx.clock.now(),
      actorId: actor.id, event: 'user.updated', description: `${actor.name} ${what}`,
      // A new name shows in every room view that names this user's bookings; a new role (or a
      // teacher approved) decides whether their name is shown at all (PUBLIC_USER_NAMES, decision 029).
      rooms: changes.name || changes.role || changes.teacherPending !== undefined ? 'all' : [],
      data: {
        user_id: id,
        changes: Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, { from: before[k as keyof typeof changes], to: v }])),
      },
    })
    return after!
  })
  // The new role (or name) applies to the user's existing tokens at once on this instance.
  ctx.actors.invalidate(id)
  return adminUser(updated)
}

export async function resetPassword(ctx: Ctx, actor: Actor, id: number, password: string) {
  const reply = await writeTransaction(ctx.database, async (tx) => {
    const user = await lockedUser(tx, id)
    const updated = await setPassword(ctx, tx, user, password)
    recordChange(tx, {
      at: ctx.clock.now(),
      actorId: actor.id, event: 'user.password_reset',
      description: `${actor.name} reset the password of ${user.name}`,
      data: { user_id: user.id },
    })
    return adminUser(updated ?? user)
  })
  // Every token of the user stops working: at once on this instance, within the cache TTL elsewhere.
  ctx.actors.invalidate(id)
  return reply
}
