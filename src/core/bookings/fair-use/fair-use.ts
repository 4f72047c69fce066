/**
 * Fair use at the moment of a write (issue 16): the booking policies (policies.ts) and the no-show
 * suspension (strikes.ts), checked inside the transaction of every booking, reschedule and series.
 *
 * Counting limits (max_active, max_minutes_per_week) read the owner's other bookings, so two
 * requests of one user at once could each see room for one more. Where such a rule applies, the
 * owner's users row is locked (FOR NO KEY UPDATE) before counting: one user's writes queue, other users' do not, and the count
 * each sees includes the rows of the one before. The lock is taken after the room's row lock, as
 * on every booking path, so the two never deadlock each other.
 *
 * Admins are exempt (as actors, and as owners). A teacher awaiting approval counts as a student.
 */
import { and, eq, gt, inArray, lt, ne, or, sql, type SQL } from 'drizzle-orm'
import type { Config } from '../../../config'
import { rowsOf, type Executor } from '../../../db/client'
import { reservations, rooms, users, type BookingPolicy, type Room, type UserRole } from '../../../db/schema'
import type { Clock } from '../../../lib/clock'
import { Forbidden, HttpError, NotFound } from '../../../lib/errors'
import { formatUtc, localParts, localSecondsOfDay, zonedToUtc } from '../../../lib/time'
import { BOOKING_MSG, hoursInWords, POLICY_MSG } from '../messages'
import {
  appliesEverywhere, LIMIT_FIELDS, limitOf, policiesOfRole, policyView, type LimitField, type PolicyView,
} from './policies'
import { noShowDates, noShowRecord, noShowRecordOf, noShowStartsSql, type NoShowRecord } from './strikes'

const MINUTE = 60_000
const DAY = 24 * 3600_000

export interface FairUseDeps {
  config: Pick<Config, 'appTimezone' | 'noShowStrikes' | 'noShowWindowDays' | 'noShowSuspensionDays'>
  clock: Clock
}

interface Interval {
  start: Date
  end: Date
}

export interface FairUseInput {
  actor: { id: number; role?: UserRole }
  /** whose booking(s) they are */
  ownerId: number
  room: Pick<Room, 'id' | 'type'>
  /** the bookings the write makes: one, a reschedule's new times, or a series' occurrences */
  bookings: Interval[]
  /** a reschedule: the booking being moved (it does not count against itself) */
  movingId?: number
  /** a walk-up booking at the door: starts now, so notice and the grid do not apply */
  walkUp?: boolean
  /** a new booking (not a move): refused while the owner is suspended for no-shows */
  isNew: boolean
}

/** The policy refusal: 403 {msg, rule} with the rule and which of its limits refused. */
function refuse(msg: string, rule: BookingPolicy, limit: LimitField | 'requires_approval'): never {
  throw new HttpError(403, msg, {}, { rule: { ...policyView(rule), limit } })
}

const ownerColumns = { id: users.id, role: users.role, teacherPending: users.teacherPending }

/** The owner of a booking as the policies see them (effective role); `lock` before counting their bookings. */
async function readOwner(tx: Executor, ownerId: number, lock: boolean) {
  const query = tx.select(ownerColumns).from(users).where(eq(users.id, ownerId))
  const [row] = lock ? await query.for('no key update') : await query
  if (!row) throw new NotFound(BOOKING_MSG.userNotFound)
  return { ...row, role: effectiveRole(row) }
}

/** A rule as json_agg gives it (snake_case columns, timestamps as text). */
type RuleRow = { [K in keyof BookingPolicy as K extends string ? SnakeCase<K> : never]: BookingPolicy[K] extends Date ? string : BookingPolicy[K] }
type SnakeCase<S extends string> = S extends `${infer H}${infer T}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeCase<T>}` : S

const ruleOf = (r: RuleRow): BookingPolicy => ({
  id: r.id, role: r.role, roomType: r.room_type, roomId: r.room_id, maxDurationMin: r.max_duration_min, minNoticeMin: r.min_notice_min,
  maxAdvanceDays: r.max_advance_days, maxActive: r.max_active, maxMinutesPerWeek: r.max_minutes_per_week,
  slotGranularityMin: r.slot_granularity_min, requiresApproval: r.requires_approval, note: r.note,
  createdAt: new Date(r.created_at), updatedAt: new Date(r.updated_at),
})

/**
 * What the checks need about the owner, in one query (a booking is the hot write; three separate
 * reads cost it a fifth of its throughput, docs/performance.md): their effective role, the rules
 * that bind them in this room, and (for a new booking, when suspensions are on) the starts of
 * their no-shows that may still count.
 */
async function bookingFacts(deps: FairUseDeps, tx: Executor, ownerId: number, roomId: number, now: Date, isNew: boolean) {
  const withNoShows = isNew && deps.config.noShowStrikes > 0
  const [row] = rowsOf<{ role: UserRole; rules: RuleRow[]; no_shows: number[] | null }>(await tx.execute(sql`
    select e.role,
      coalesce((select json_agg(p order by p.id) from booking_policies p
        where p.role = e.role and (p.room_id is null or p.room_id = ${roomId})
          and (p.room_type is null or p.room_type = (select type from rooms where id = ${roomId}))), '[]') as rules,
      case when ${withNoShows} then ${noShowStartsSql(deps.config, sql`u.id`, sql`u.no_shows_cleared_at`, now)} end as no_shows
    from users u cross join lateral (select case when u.role = 'teacher' and u.teacher_pending then 'student'::user_role else u.role end as role) e
    where u.id = ${ownerId}`))
  if (!row) throw new NotFound(BOOKING_MSG.userNotFound)
  return { role: row.role, rules: row.rules.map(ruleOf), noShows: noShowDates(row.no_shows) }
}

/** Rules that count the owner's other bookings: only these need the owner's lock. */
const counts = (rule: BookingPolicy) => rule.maxActive !== null || rule.maxMinutesPerWeek !== null

const effectiveRole = (user: { role: UserRole; teacherPending: boolean }): UserRole =>
  user.role === 'teacher' && user.teacherPending ? 'student' : user.role

/** What the checks need about the owner: read by fairUseFacts, possibly sent beside other reads. */
export type FairUseFacts = Awaited<ReturnType<typeof bookingFacts>> | null

/**
 * Reads what enforceFairUse needs (null for an admin, who is exempt): one query, which a write may
 * send together with its other reads after the room's lock (pipelined: one round trip for all).
 */
export function fairUseFacts(deps: FairUseDeps, tx: Executor, input: Pick<FairUseInput, 'actor' | 'ownerId' | 'isNew'> & { roomId: number }): Promise<FairUseFacts> {
  if (input.actor.role === 'admin') return Promise.resolve(null)
  return bookingFacts(deps, tx, input.ownerId, input.roomId, deps.clock.now(), input.isNew)
}

/**
 * Checks every rule that binds the write and the owner's no-show record; returns whether the
 * bookings must wait for an admin's approval. Call inside the write's transaction, after the room
 * lock, with the facts read after it (fairUseFacts; read here when not given).
 */
export async function enforceFairUse(deps: FairUseDeps, tx: Executor, input: FairUseInput, given?: FairUseFacts): Promise<{ approval: 'pending' | null }> {
  if (input.actor.role === 'admin') return { approval: null }
  const now = deps.clock.now()
  const facts = given !== undefined ? given : await fairUseFacts(deps, tx, { ...input, roomId: input.room.id })
  if (!facts || facts.role === 'admin') return { approval: null }
  const { rules, noShows } = facts
  const record = noShowRecordOf(deps.config, noShows, now)
  if (input.isNew && record.suspendedUntil) throw new Forbidden(POLICY_MSG.suspended(formatUtc(record.suspendedUntil), record.threshold, record.windowDays))
  // Without a counting rule nothing needs the lock: bookings of one user stay as parallel as before.
  if (rules.some(counts)) await readOwner(tx, input.ownerId, true)
  for (const rule of rules) await checkRule(deps, tx, rule, input.ownerId, input, now)
  const requiresApproval = rules.find((r) => r.requiresApproval)
  if (requiresApproval && input.walkUp) refuse(POLICY_MSG.walkUpNeedsApproval, requiresApproval, 'requires_approval')
  return { approval: requiresApproval ? 'pending' : null }
}

/** One rule against the write: the per-booking limits, then the counted ones. */
async function checkRule(deps: FairUseDeps, tx: Executor, rule: BookingPolicy, ownerId: number, input: FairUseInput, now: Date): Promise<void> {
  const tz = deps.config.appTimezone
  for (const b of input.bookings) {
    const minutes = (b.end.getTime() - b.start.getTime()) / MINUTE
    if (rule.maxDurationMin !== null && minutes > rule.maxDurationMin) refuse(POLICY_MSG.tooLong(minutes, rule.maxDurationMin), rule, 'max_duration_min')
    if (rule.maxAdvanceDays !== null && b.start.getTime() > now.getTime() + rule.maxAdvanceDays * DAY) refuse(POLICY_MSG.tooFar(rule.maxAdvanceDays), rule, 'max_advance_days')
    if (input.walkUp) continue
    if (rule.minNoticeMin !== null && b.start.getTime() < now.getTime() + rule.minNoticeMin * MINUTE) refuse(POLICY_MSG.tooSoon(rule.minNoticeMin), rule, 'min_notice_min')
    if (rule.slotGranularityMin !== null && !(onGrid(b.start, rule.slotGranularityMin, tz) && onGrid(b.end, rule.slotGranularityMin, tz)))
      refuse(POLICY_MSG.grid(rule.slotGranularityMin), rule, 'slot_granularity_min')
  }
  if (rule.maxActive !== null) {
    const used = await activeCount(tx, ownerId, rule, now, input.movingId)
    // a move replaces a booking that is not over; a past booking moved into the future adds one
    const adding = input.bookings.filter((b) => b.end > now).length
    if (adding > 0 && used + adding > rule.maxActive)
      refuse(adding === 1 ? POLICY_MSG.maxActive(used, rule.maxActive) : POLICY_MSG.maxActiveSeries(used, rule.maxActive, adding), rule, 'max_active')
  }
  if (rule.maxMinutesPerWeek !== null) {
    const adding = minutesByWeek(input.bookings, tz)
    const weeks = [...adding.keys()].map((start) => ({ start: new Date(start), end: nextWeekStart(new Date(start), tz) }))
    const booked = await bookedMinutesByWeek(tx, ownerId, rule, weeks, tz, input.movingId)
    for (const [week, minutes] of adding) {
      const already = booked.get(week) ?? 0
      if (already + minutes <= rule.maxMinutesPerWeek) continue
      const [used, max, needs] = [already, rule.maxMinutesPerWeek, minutes].map(hoursInWords) as [string, string, string]
      refuse(already >= rule.maxMinutesPerWeek ? POLICY_MSG.weeklyFull(used, max) : POLICY_MSG.weeklyOver(used, max, needs), rule, 'max_minutes_per_week')
    }
  }
}

/** On the rule's grid of local time: minutes since local midnight divisible by the step, no seconds (also the console's replay of a rule). */
export function onGrid(at: Date, stepMin: number, timeZone: string): boolean {
  const seconds = localSecondsOfDay(at, timeZone)
  return at.getUTCMilliseconds() === 0 && seconds % (stepMin * 60) === 0
}

// ---- weeks in APP_TIMEZONE ----

/** Monday 00:00 local time of the week of `at` (also the console's "last week"). */
export function weekStart(at: Date, timeZone: string): Date {
  const p = localParts(at, timeZone)
  const day = new Date(Date.UTC(p.year, p.month - 1, p.day))
  const sinceMonday = (day.getUTCDay() + 6) % 7
  const monday = new Date(day.getTime() - sinceMonday * DAY)
  return zonedToUtc(monday.getUTCFullYear(), monday.getUTCMonth() + 1, monday.getUTCDate(), 0, timeZone)
}

/** The Monday 00:00 local after the week starting at `start` (7 local days later, whatever DST does). */
function nextWeekStart(start: Date, timeZone: string): Date {
  return weekStart(new Date(start.getTime() + 8 * DAY), timeZone)
}

/** Minutes of the intervals per local week (keyed by the week's start, ms); an interval across Monday 00:00 counts in both. */
function minutesByWeek(intervals: Interval[], timeZone: string): Map<number, number> {
  const byWeek = new Map<number, number>()
  for (const b of intervals) {
    let from = b.start
    while (from < b.end) {
      const week = weekStart(from, timeZone)
      const weekEnd = nextWeekStart(week, timeZone)
      const to = b.end < weekEnd ? b.end : weekEnd
      byWeek.set(week.getTime(), (byWeek.get(week.getTime()) ?? 0) + (to.getTime() - from.getTime()) / MINUTE)
      from = to
    }
  }
  return byWeek
}

// ---- usage ----

/** The rule's scope over the owner's bookings (joined with rooms). */
function inScope(rule: Pick<BookingPolicy, 'roomType' | 'roomId'>): SQL | undefined {
  if (rule.roomId !== null) return eq(reservations.roomId, rule.roomId)
  if (rule.roomType !== null) return eq(rooms.type, rule.roomType)
  return undefined
}

/** Bookings of the owner not yet over (active, pending included) in the rule's scope. */
async function activeCount(tx: Executor, ownerId: number, rule: Pick<BookingPolicy, 'roomType' | 'roomId'>, now: Date, excludeId?: number): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId))
    .where(and(
      eq(reservations.userId, ownerId), eq(reservations.status, 'active'), gt(reservations.endTime, now), inScope(rule),
      excludeId === undefined ? undefined : ne(reservations.id, excludeId),
    ))
  return row?.n ?? 0
}

/**
 * Minutes the owner has booked in each week, in the rule's scope: active and finished bookings,
 * and of a booking cancelled after it began the time up to its cancel (it held the room until
 * then: cancelling a running booking must not hand back time already used, issue 24). Released
 * no-shows and bookings cancelled before their start count nothing.
 */
async function bookedMinutesByWeek(
  tx: Executor, ownerId: number, rule: Pick<BookingPolicy, 'roomType' | 'roomId'>, weeks: Interval[], timeZone: string, excludeId?: number,
): Promise<Map<number, number>> {
  if (weeks.length === 0) return new Map()
  const from = new Date(Math.min(...weeks.map((w) => w.start.getTime())))
  const to = new Date(Math.max(...weeks.map((w) => w.end.getTime())))
  const usedUntil = sql<Date>`case when ${reservations.status} = 'cancelled' then least(${reservations.endTime}, ${reservations.cancelledAt}) else ${reservations.endTime} end`
  const rows = await tx.select({ start: reservations.startTime, end: usedUntil.mapWith(reservations.endTime) }).from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId))
    .where(and(
      eq(reservations.userId, ownerId),
      or(
        inArray(reservations.status, ['active', 'finished']),
        and(eq(reservations.status, 'cancelled'), gt(reservations.cancelledAt, reservations.startTime)),
      ),
      // (a raw expression has no column to encode a Date with: the instant goes as text)
      lt(reservations.startTime, to), gt(usedUntil, sql`${from.toISOString()}::timestamptz`), inScope(rule),
      excludeId === undefined ? undefined : ne(reservations.id, excludeId),
    ))
  const clipped = rows.map((r) => ({ start: r.start < from ? from : r.start, end: r.end > to ? to : r.end }))
  return minutesByWeek(clipped, timeZone)
}

// ---- GET /policies/me ----

type Limits = Record<LimitField, number | null> & { requires_approval: boolean }

/** The strictest value of each limit among `rules` (smallest maximum, largest minimum notice and grid). */
function strictest(rules: BookingPolicy[]): Limits {
  const limits = { requires_approval: rules.some((r) => r.requiresApproval) } as Limits
  for (const field of LIMIT_FIELDS) {
    const values = rules.map((r) => limitOf(r, field)).filter((v): v is number => v !== null)
    const largestWins = field === 'min_notice_min' || field === 'slot_granularity_min'
    limits[field] = values.length === 0 ? null : largestWins ? Math.max(...values) : Math.min(...values)
  }
  return limits
}

export interface MyPolicies {
  role: UserRole
  exempt: boolean
  limits: Limits
  usage: { active: number; minutes_this_week: number; week_start: string; week_end: string }
  rules: (PolicyView & { usage: { active: number; minutes_this_week: number } })[]
  no_shows: { count: number; threshold: number; window_days: number; suspension_days: number; suspended_until: string | null }
}

/** The caller's effective limits (rules for every room; narrower ones listed in `rules`) and usage. */
export async function myPolicies(deps: FairUseDeps & { database: { db: Executor } }, user: { id: number; role: UserRole }): Promise<MyPolicies> {
  const db = deps.database.db
  const now = deps.clock.now()
  const tz = deps.config.appTimezone
  const owner = await readOwner(db, user.id, false)
  const role = owner.role
  const exempt = role === 'admin'
  const week = { start: weekStart(now, tz), end: nextWeekStart(weekStart(now, tz), tz) }
  const usageIn = async (scope: Pick<BookingPolicy, 'roomType' | 'roomId'>) => ({
    active: await activeCount(db, owner.id, scope, now),
    minutes_this_week: Math.round((await bookedMinutesByWeek(db, owner.id, scope, [week], tz)).get(week.start.getTime()) ?? 0),
  })
  const rules = exempt ? [] : await policiesOfRole(db, role)
  const record: NoShowRecord = await noShowRecord(deps, db, owner.id, now)
  return {
    role,
    exempt,
    limits: strictest(rules.filter(appliesEverywhere)),
    usage: { ...await usageIn({ roomType: null, roomId: null }), week_start: formatUtc(week.start), week_end: formatUtc(week.end) },
    rules: await Promise.all(rules.map(async (rule) => ({ ...policyView(rule), usage: await usageIn(rule) }))),
    no_shows: {
      count: record.count, threshold: record.threshold, window_days: record.windowDays, suspension_days: deps.config.noShowSuspensionDays,
      suspended_until: record.suspendedUntil ? formatUtc(record.suspendedUntil) : null,
    },
  }
}
