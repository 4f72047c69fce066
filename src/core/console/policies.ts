/**
 * The console's reads for /console/policies and /console/approvals (issue 27).
 *
 * "What would this rule have refused last week": the bookings of the last whole week in the rooms'
 * zone (Monday 00:00 to Monday 00:00, the week the weekly limit counts in) replayed against one rule,
 * each at the moment it was made (its created_at), as enforceFairUse checks a booking
 * (src/core/bookings/fair-use/fair-use.ts): who it binds (the owner's effective role, the rule's
 * room type or room), then per booking its length, how far ahead, the notice and the grid (neither
 * for a walk-up booking, recognised by starting the instant it was made), then the weekly minutes,
 * replayed in the order the bookings were made (a booking the rule refuses does not count against
 * the later ones). The refusal of each is the API's own message (POLICY_MSG).
 *
 * Replayed: max_duration_min, max_advance_days, min_notice_min, slot_granularity_min,
 * max_minutes_per_week, and requires_approval (walk-ups refused, the rest counted as "would have
 * waited"). Not estimated: max_active (bookings not yet over at the moment each was made: that
 * needs the owner's bookings of any week, and their cancels, beyond the one week read here).
 *
 * Only bookings the owner made themselves count (set_by_owner): an admin's booking on someone's
 * behalf and an imported lesson are exempt from fair use. The owner's role is today's.
 *
 * One rule at a time (a replay reads a week of bookings: the list page shows none, each rule's
 * replay is a page of its own, GET /console/policies/:id/replay, and a draft's is its preview).
 * One query, bounded by the week and filtered by the rule's role and scope; the per-booking limits
 * that are plain arithmetic on the row (length, how far ahead, notice) are decided in it. The grid
 * (local time) is fair-use.ts's own onGrid, the weekly minutes need the owner's earlier bookings in
 * order: both in the loop here.
 */
import { asc, eq, inArray, sql, type SQL } from 'drizzle-orm'
import { rowsOf } from '../../db/client'
import type { Ctx } from '../../context'
import { bookingPolicies, reservations, rooms, users, type BookingPolicy, type ReservationStatus, type RoomType, type UserRole } from '../../db/schema'
import { hoursInWords, POLICY_MSG } from '../bookings/messages'
import { listPendingApprovals } from '../bookings/fair-use/approvals'
import { onGrid, weekStart } from '../bookings/fair-use/fair-use'
import type { LimitField } from '../bookings/fair-use/policies'

const MINUTE = 60_000
const DAY = 24 * 3600_000

export type { RoomType }
/** A rule as stored (the console's pages may not import the schema). */
export type StoredPolicy = BookingPolicy

/** A rule as the replay needs it: a stored policy, or a draft from the edit form. */
export type RuleDraft = Pick<BookingPolicy,
  'role' | 'roomType' | 'roomId' | 'maxDurationMin' | 'minNoticeMin' | 'maxAdvanceDays' | 'maxActive' | 'maxMinutesPerWeek' | 'slotGranularityMin' | 'requiresApproval'>

export type ReplayLimit = LimitField | 'requires_approval'

interface RefusedBooking {
  id: number
  userName: string
  roomName: string
  start: Date
  end: Date
  limit: ReplayLimit
  /** the API's refusal (English; the console translates it) */
  message: string
}

export interface Replay {
  week: { start: Date; end: Date }
  /** bookings of the week the rule binds */
  considered: number
  refused: number
  byLimit: Partial<Record<ReplayLimit, number>>
  /** the first few refused, by start */
  examples: RefusedBooking[]
  /** bookings it would have held for an admin's approval (requires_approval), else null */
  wouldWait: number | null
  /** the rule's limits the replay does not estimate */
  notEstimated: LimitField[]
}

/** The last whole week before the one of `now`: [Monday 00:00, Monday 00:00) in the zone (fair-use.ts's weeks). */
export function lastWeek(now: Date, timeZone: string): { start: Date; end: Date } {
  const end = weekStart(now, timeZone)
  return { start: weekStart(new Date(end.getTime() - 3 * DAY), timeZone), end }
}

/** A booking of the week as the replay reads it: instants as epoch milliseconds (no Date per row). */
interface WeekRow {
  id: number
  userId: number
  start: number
  end: number
  createdAt: number
  status: ReservationStatus
  /** epoch ms, or null */
  cancelledAt: number | null
  /** made by its owner, starting in the week: a booking the rule checks */
  candidate: boolean
  /** the first per-booking limit (length, how far ahead, notice) it breaks, decided in SQL; null for none (or not a candidate) */
  refusedBy: 'max_duration_min' | 'max_advance_days' | 'min_notice_min' | null
}

const epochMs = (column: SQL) => sql`(extract(epoch from ${column}) * 1000)::float8`
const seconds = (from: SQL, to: SQL) => sql`extract(epoch from (${to} - ${from}))`

/**
 * The week's bookings (overlapping it) in the rule's scope whose owner's effective role is the
 * rule's, in the order they were made; without a weekly limit only the ones the rule checks (made
 * by the owner, starting in the week). The lower bound on the start keeps the scan to nine days of
 * bookings (an index with start_time serves it): a booking begun over two days before the week and
 * running into it is left out. The per-booking limits are decided here, in enforceFairUse's order.
 */
async function weekRows(ctx: Ctx, rule: RuleDraft, week: { start: Date; end: Date }): Promise<WeekRow[]> {
  const r = reservations
  // the effective role (a teacher awaiting approval counts as a student), spelled out so that the
  // planner estimates it (a CASE it cannot: it then probes the index once per user)
  const role = rule.role === 'student'
    ? sql`(${users.role} = 'student' or (${users.role} = 'teacher' and ${users.teacherPending}))`
    : sql`(${users.role} = ${rule.role}::user_role and not ${users.teacherPending})`
  const weekStartAt = sql`${week.start.toISOString()}::timestamptz`
  const candidate = sql`(${r.setByOwner} and ${r.startTime} >= ${weekStartAt})`
  const walkUp = sql`(${r.startTime} = ${r.createdAt})`
  const ahead = seconds(sql`${r.createdAt}`, sql`${r.startTime}`)
  const checks: SQL[] = []
  if (rule.maxDurationMin !== null) checks.push(sql`when ${seconds(sql`${r.startTime}`, sql`${r.endTime}`)} > ${rule.maxDurationMin * 60} then 'max_duration_min'`)
  if (rule.maxAdvanceDays !== null) checks.push(sql`when ${ahead} > ${rule.maxAdvanceDays * 86400} then 'max_advance_days'`)
  if (rule.minNoticeMin !== null) checks.push(sql`when not ${walkUp} and ${ahead} < ${rule.minNoticeMin * 60} then 'min_notice_min'`)
  const refusedBy = checks.length ? sql`case when not ${candidate} then null ${sql.join(checks, sql` `)} end` : sql`null`
  const scope = rule.roomId !== null ? sql`and ${r.roomId} = ${rule.roomId}` : rule.roomType !== null ? sql`and ${rooms.type} = ${rule.roomType}::room_type` : sql``
  const joinRooms = rule.roomType !== null && rule.roomId === null ? sql`join ${rooms} on ${rooms.id} = ${r.roomId}` : sql``
  const weekly = rule.maxMinutesPerWeek !== null
  const rows = rowsOf<{ id: number; user_id: number; start: number; end: number; created: number; status: ReservationStatus; cancelled: number | null; candidate: boolean; refused_by: WeekRow['refusedBy'] }>(
    await ctx.database.db.execute(sql`
      select ${r.id} as id, ${r.userId} as user_id,
        ${epochMs(sql`${r.startTime}`)} as start, ${epochMs(sql`${r.endTime}`)} as "end", ${epochMs(sql`${r.createdAt}`)} as created,
        ${r.status} as status, ${epochMs(sql`${r.cancelledAt}`)} as cancelled, ${candidate} as candidate, ${refusedBy} as refused_by
      from ${r}
        join ${users} on ${users.id} = ${r.userId}
        ${joinRooms}
      where ${r.startTime} >= ${new Date(week.start.getTime() - 2 * DAY).toISOString()}::timestamptz
        and ${r.startTime} < ${week.end.toISOString()}::timestamptz
        and ${r.endTime} > ${weekStartAt}
        and ${role} ${scope}
        ${weekly ? sql`` : sql`and ${candidate}`}
      order by ${r.createdAt}, ${r.id}`))
  return rows.map((x) => ({
    id: x.id, userId: x.user_id, start: Number(x.start), end: Number(x.end), createdAt: Number(x.created), status: x.status,
    cancelledAt: x.cancelled === null ? null : Number(x.cancelled), candidate: x.candidate, refusedBy: x.refused_by,
  }))
}

interface Refusal { row: WeekRow; limit: ReplayLimit; message: string }

/** The rule against the week's rows (see the top of the file). */
function replayRows(rule: RuleDraft, rows: WeekRow[], week: { start: number; end: number }, timeZone: string): Omit<Replay, 'examples'> & { examples: Refusal[] } {
  const refused = new Map<number, Refusal>()
  const inWeek = (start: number, end: number) => Math.max(0, (Math.min(end, week.end) - Math.max(start, week.start)) / MINUTE)
  /** the minutes `o` counted in the week at `at`, as bookedMinutesByWeek counts them then */
  const countedAt = (o: WeekRow, at: number): number => {
    if (refused.has(o.id)) return 0
    if (o.status === 'released' && o.start <= at) return 0
    if (o.status === 'cancelled' && o.cancelledAt !== null && o.cancelledAt <= at) return o.cancelledAt > o.start ? inWeek(o.start, Math.min(o.end, o.cancelledAt)) : 0
    return inWeek(o.start, o.end)
  }
  const weekly = rule.maxMinutesPerWeek
  const step = rule.slotGranularityMin
  // fair-use.ts's own check, once per instant (an Intl lookup each; bookings share their starts and ends)
  const onGridAt = new Map<number, boolean>()
  const grid = (at: number): boolean => {
    let on = onGridAt.get(at)
    if (on === undefined) onGridAt.set(at, (on = onGrid(new Date(at), step!, timeZone)))
    return on
  }
  const byOwner = new Map<number, WeekRow[]>()
  let considered = 0
  let wouldWait = 0
  const refuse = (row: WeekRow, limit: ReplayLimit, message: string) => { refused.set(row.id, { row, limit, message }) }
  // rows come in the order they were made: each sees the owner's earlier ones
  for (const r of rows) {
    let earlier: WeekRow[] | undefined
    if (weekly !== null) {
      earlier = byOwner.get(r.userId)
      if (!earlier) byOwner.set(r.userId, (earlier = []))
    }
    if (r.candidate) {
      considered++
      check(r, earlier)
    }
    earlier?.push(r)
  }
  function check(r: WeekRow, earlier: WeekRow[] | undefined): void {
    const made = r.createdAt
    const walkUp = r.start === made
    if (r.refusedBy === 'max_duration_min') return refuse(r, r.refusedBy, POLICY_MSG.tooLong((r.end - r.start) / MINUTE, rule.maxDurationMin!))
    if (r.refusedBy === 'max_advance_days') return refuse(r, r.refusedBy, POLICY_MSG.tooFar(rule.maxAdvanceDays!))
    if (r.refusedBy === 'min_notice_min') return refuse(r, r.refusedBy, POLICY_MSG.tooSoon(rule.minNoticeMin!))
    if (!walkUp && step !== null && !(grid(r.start) && grid(r.end))) return refuse(r, 'slot_granularity_min', POLICY_MSG.grid(step))
    if (weekly !== null && earlier) {
      const adding = inWeek(r.start, r.end)
      let already = 0
      for (const o of earlier) already += countedAt(o, made)
      if (adding > 0 && already + adding > weekly) {
        const [used, max, needs] = [already, weekly, adding].map(hoursInWords) as [string, string, string]
        return refuse(r, 'max_minutes_per_week', already >= weekly ? POLICY_MSG.weeklyFull(used, max) : POLICY_MSG.weeklyOver(used, max, needs))
      }
    }
    if (rule.requiresApproval) {
      if (walkUp) return refuse(r, 'requires_approval', POLICY_MSG.walkUpNeedsApproval)
      wouldWait++
    }
  }
  const all = [...refused.values()]
  const byLimit: Partial<Record<ReplayLimit, number>> = {}
  for (const r of all) byLimit[r.limit] = (byLimit[r.limit] ?? 0) + 1
  return {
    week: { start: new Date(week.start), end: new Date(week.end) },
    considered,
    refused: all.length,
    byLimit,
    examples: all.sort((a, b) => a.row.start - b.row.start || a.row.id - b.row.id).slice(0, EXAMPLES),
    wouldWait: rule.requiresApproval ? wouldWait : null,
    notEstimated: rule.maxActive !== null ? ['max_active'] : [],
  }
}

const EXAMPLES = 5

/** What one rule (stored, or a draft) would have refused last week: one read of the week, one for the examples' names. */
export async function replayLastWeek(ctx: Ctx, rule: RuleDraft): Promise<Replay> {
  const tz = ctx.config.appTimezone
  const week = lastWeek(ctx.clock.now(), tz)
  // administrators are exempt: nothing to read
  const rows = rule.role === 'admin' ? [] : await weekRows(ctx, rule, week)
  const replay = replayRows(rule, rows, { start: week.start.getTime(), end: week.end.getTime() }, tz)
  const ids = replay.examples.map((e) => e.row.id)
  const names = ids.length === 0 ? [] : await ctx.database.db.select({ id: reservations.id, userName: users.name, roomName: rooms.name }).from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId)).innerJoin(users, eq(users.id, reservations.userId))
    .where(inArray(reservations.id, ids))
  const nameOf = new Map(names.map((n) => [n.id, n]))
  return {
    ...replay,
    examples: replay.examples.map(({ row, limit, message }) => ({
      id: row.id, userName: nameOf.get(row.id)?.userName ?? '', roomName: nameOf.get(row.id)?.roomName ?? '',
      start: new Date(row.start), end: new Date(row.end), limit, message,
    })),
  }
}

/** One stored rule, or undefined. */
export async function storedPolicy(ctx: Ctx, id: number): Promise<BookingPolicy | undefined> {
  const [row] = await ctx.database.db.select().from(bookingPolicies).where(eq(bookingPolicies.id, id))
  return row
}

/** The booking policies as stored (the table is small: rules per role and scope), by role. */
export function storedPolicies(ctx: Ctx): Promise<BookingPolicy[]> {
  return ctx.database.db.select().from(bookingPolicies).orderBy(asc(bookingPolicies.role), asc(bookingPolicies.id)).limit(500)
}

/** Rooms to choose a rule's room from (ids and names, by name). */
export function roomChoices(ctx: Ctx): Promise<{ id: number; name: string; type: RoomType }[]> {
  return ctx.database.db.select({ id: rooms.id, name: rooms.name, type: rooms.type }).from(rooms).orderBy(asc(rooms.name)).limit(1000)
}

export interface PendingRow {
  id: number
  roomId: number
  roomName: string
  userId: number
  userName: string
  start: Date
  end: Date
  createdAt: Date
  /** the rules that made it wait (requires_approval binding its owner in its room), when still there */
  rules: BookingPolicy[]
}

/**
 * The bookings awaiting a decision (listPendingApprovals, the API's list: soonest first, at most
 * 1000) with the rules that require the approval, read in one more query.
 */
export async function pendingWithReasons(ctx: Ctx): Promise<PendingRow[]> {
  const { approvals } = await listPendingApprovals(ctx)
  if (approvals.length === 0) return []
  const role = sql<UserRole>`(case when ${users.role} = 'teacher' and ${users.teacherPending} then 'student'::user_role else ${users.role} end)`
  const [facts, rules] = await Promise.all([
    ctx.database.db.select({ id: reservations.id, role, roomType: rooms.type }).from(reservations)
      .innerJoin(rooms, eq(rooms.id, reservations.roomId)).innerJoin(users, eq(users.id, reservations.userId))
      .where(inArray(reservations.id, approvals.map((a) => a.id))),
    ctx.database.db.select().from(bookingPolicies).where(eq(bookingPolicies.requiresApproval, true)).orderBy(asc(bookingPolicies.id)).limit(500),
  ])
  const factOf = new Map(facts.map((f) => [f.id, f]))
  return approvals.map((a) => {
    const fact = factOf.get(a.id)
    return {
      id: a.id, roomId: a.room_id, roomName: a.room_name, userId: a.user_id, userName: a.user_name,
      start: new Date(a.start_time), end: new Date(a.end_time), createdAt: new Date(a.created_at),
      rules: fact ? rules.filter((r) => r.role === fact.role && (r.roomId === null || r.roomId === a.room_id) && (r.roomType === null || r.roomType === fact.roomType)) : [],
    }
  })
}
