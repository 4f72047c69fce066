/**
 * The console's reads of users (GET /console/users and /console/users/:id): a page of users by
 * name, role, teachers awaiting approval or recent no-shows, each with the no-show record the
 * booking path reads (strikes.ts: the same SQL, per user, through reservations_user_start_idx).
 * One page at a time (at most 100 users), so the page stays cheap at any number of reservations.
 * The writes are the API's: identity/admin-users.ts and fair-use/strikes.ts.
 */
import { and, asc, count, eq, gt, ilike, inArray, lte, sql, type SQL } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { Ctx } from '../../context'
import { reservations, users, type UserRole } from '../../db/schema'
import { NotFound } from '../../lib/errors'
import { likePattern } from '../../lib/query-params'
import { noShowDates, noShowRecordOf, noShowStartsSql, type NoShowRecord } from '../bookings/fair-use/strikes'
import { ACCOUNT_MSG } from '../identity/messages'

const DAY = 24 * 3600_000

export interface ConsoleUserFilter {
  q?: string
  role?: UserRole
  teacherPending?: boolean
  /** only users with no-shows that still count (within the window plus a suspension, after any lift) */
  noShows?: boolean
}

export interface ConsoleUser {
  id: number
  name: string
  role: UserRole
  teacherPending: boolean
  createdAt: Date
  updatedAt: Date
  /** null when suspensions are off (NO_SHOW_STRIKES=0) */
  noShows: NoShowRecord | null
}

const COLUMNS = {
  id: users.id, name: users.name, role: users.role, teacherPending: users.teacherPending,
  createdAt: users.createdAt, updatedAt: users.updatedAt,
}

function suspensionsOn(ctx: Ctx): boolean {
  return ctx.config.noShowStrikes > 0
}

function startsColumn(ctx: Ctx, now: Date) {
  return sql<(number | string)[] | string | null>`${noShowStartsSql(ctx.config, sql`${users.id}`, sql`${users.noShowsClearedAt}`, now)}`
}

function withRecord(ctx: Ctx, now: Date, row: Omit<ConsoleUser, 'noShows'> & { starts?: (number | string)[] | string | null }): ConsoleUser {
  const { starts, ...user } = row
  if (!suspensionsOn(ctx)) return { ...user, noShows: null }
  // json_agg arrives parsed from PostgreSQL and as text from some drivers
  const list = typeof starts === 'string' ? (JSON.parse(starts) as (number | string)[]) : (starts ?? null)
  return { ...user, noShows: noShowRecordOf(ctx.config, noShowDates(list), now) }
}

/** A page of users (by id), with the total for the pager. */
export async function consoleUsers(ctx: Ctx, filter: ConsoleUserFilter, page: { limit: number; offset: number }) {
  const now = ctx.clock.now()
  const db = ctx.database.db
  const conditions: SQL[] = []
  if (filter.q) conditions.push(ilike(users.name, likePattern(filter.q)))
  if (filter.role) conditions.push(eq(users.role, filter.role))
  if (filter.teacherPending !== undefined) conditions.push(eq(users.teacherPending, filter.teacherPending))
  if (filter.noShows) {
    // Who has released no-shows of their own that still count: one pass over the no-shows of the
    // window plus a suspension (not a probe per user), after each user's lift; asked once for
    // the page and its count.
    const lookBack = new Date(now.getTime() - (ctx.config.noShowWindowDays + ctx.config.noShowSuspensionDays) * DAY)
    const owner = alias(users, 'owner')
    const found = await db.selectDistinct({ id: reservations.userId }).from(reservations)
      .innerJoin(owner, eq(owner.id, reservations.userId))
      .where(and(
        eq(reservations.status, 'released'), eq(reservations.setByOwner, true), lte(reservations.startTime, now), gt(reservations.startTime, lookBack),
        sql`${reservations.startTime} > coalesce(${owner.noShowsClearedAt}, '-infinity'::timestamptz)`,
      ))
    conditions.push(found.length ? inArray(users.id, found.map((r) => r.id)) : sql`false`)
  }
  const where = conditions.length ? and(...conditions) : undefined
  const [rows, [total]] = await Promise.all([
    db.select(COLUMNS).from(users).where(where).orderBy(asc(users.id)).limit(page.limit).offset(page.offset),
    db.select({ n: count() }).from(users).where(where),
  ])
  // The no-show records of this page's users only (an OFFSET would evaluate them for the skipped rows too).
  const starts = new Map<number, (number | string)[] | string | null>()
  if (suspensionsOn(ctx) && rows.length) {
    const found = await db.select({ id: users.id, starts: startsColumn(ctx, now) }).from(users).where(inArray(users.id, rows.map((r) => r.id)))
    for (const row of found) starts.set(row.id, row.starts)
  }
  return { users: rows.map((row) => withRecord(ctx, now, { ...row, starts: starts.get(row.id) ?? null })), total: Number(total?.n ?? 0) }
}

/** One user with their no-show record; 404 when there is none. */
export async function consoleUser(ctx: Ctx, id: number): Promise<ConsoleUser> {
  const now = ctx.clock.now()
  const db = ctx.database.db
  const select = suspensionsOn(ctx) ? db.select({ ...COLUMNS, starts: startsColumn(ctx, now) }) : db.select(COLUMNS)
  const [row] = await select.from(users).where(eq(users.id, id))
  if (!row) throw new NotFound(ACCOUNT_MSG.notFound)
  return withRecord(ctx, now, row)
}
