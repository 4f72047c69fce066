/**
 * Calendar feeds (issue 28): a person's own feed behind a secret token, and a room's public feed.
 *
 * The window: bookings that overlap the 30 days before the start of the current UTC day up to 181
 * days after it (so 180 days ahead at least); a series is in a feed when any of its occurrences
 * overlaps the window, and is then shown whole (its rule, its exceptions). The window moves once a
 * day, so the feed's bytes (and ETag) stay the same until a booking changes or the day does.
 *
 * - Personal feed: the user's own bookings (every status: cancelled and released ones as
 *   STATUS:CANCELLED) and the series they own (a teacher's lessons) as recurring events.
 * - Room feed: the room's held bookings (active, finished, pending as TENTATIVE) and its series.
 *   Names as the door pages show them (decision 029, public-names.ts): staff (an admin, an approved
 *   teacher) by name with the lesson's title; a student's booking is "Occupied", whatever
 *   PUBLIC_USER_NAMES says (a feed URL is public and ends up in calendars shared further).
 *
 * Tokens: one per user, 32 random bytes (base64url) in the URL; only their SHA-256 is stored
 * (calendar_tokens). Issuing another replaces it (the old URL answers 404), revoking deletes it.
 * Not recorded in the change record: a feed token changes no room or booking, and its rotation is
 * no state a follower (notices, webhooks, the audit log) has anything to tell about.
 */
import { and, asc, eq, getTableColumns, gt, inArray, isNull, lt, lte, gte, notInArray, or, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client'
import { calendarTokens, changes, reservations, rooms, series, users } from '../../db/schema'
import { publicName } from '../bookings/views/public-names'
import { expandRule } from '../bookings/timetable/recurrence'
import { writeTransaction } from '../changes'
import { BOOKING_COLUMNS, OWN_LABELS, buildCalendar, type CalendarDeps, type BookingRow, type CalendarLabels, type SeriesLayout, type SeriesRow } from './ics'
import { randomToken, tokenHash } from '../../lib/secret-tokens'

const DAY_MS = 86_400_000
/** How far back and ahead a feed reaches, in days from the start of the current UTC day. */
const FEED_DAYS_BACK = 30
const FEED_DAYS_AHEAD = 180

/** What a room's feed calls a booking nobody may be named for. */
const OCCUPIED = 'Occupied'

export function feedWindow(now: Date): { from: Date; to: Date } {
  const day = Math.floor(now.getTime() / DAY_MS) * DAY_MS
  return { from: new Date(day - FEED_DAYS_BACK * DAY_MS), to: new Date(day + (FEED_DAYS_AHEAD + 1) * DAY_MS) }
}

const overlaps = (row: BookingRow, from: Date, to: Date) => row.startTime < to && row.endTime > from

/** The series matching `where` with an occurrence in [from, to), with their room's and owner's names. */
async function seriesIn(db: Executor, where: SQL, from: Date, to: Date): Promise<SeriesRow[]> {
  return db.select({ ...getTableColumns(series), roomName: rooms.name, userName: users.name, userRole: users.role, userTeacherPending: users.teacherPending })
    .from(series).innerJoin(rooms, eq(rooms.id, series.roomId)).innerJoin(users, eq(users.id, series.userId))
    .where(and(where, lt(series.firstStart, to), sql`${series.until} + (${series.firstEnd} - ${series.firstStart}) > ${from.toISOString()}::timestamptz`))
    .orderBy(asc(series.id))
}

function bookings(db: Executor) {
  return db.select(BOOKING_COLUMNS).from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId)).innerJoin(users, eq(users.id, reservations.userId))
}

/**
 * Where each moved occurrence was in its series before it moved, from the change record (the
 * first reservation.updated of it that moved it): for the few a layout cannot place by order.
 */
async function originalStarts(db: Executor, rows: BookingRow[]): Promise<Map<number, Date>> {
  const found = new Map<number, Date>()
  if (rows.length === 0) return found
  const earliest = new Date(Math.min(...rows.map((r) => r.createdAt.getTime())))
  const latest = new Date(Math.max(...rows.map((r) => r.updatedAt.getTime())))
  const moves = await db.select({ data: changes.data }).from(changes).where(and(
    eq(changes.event, 'reservation.updated'), gte(changes.at, earliest), lte(changes.at, latest),
    inArray(sql<number>`(${changes.data}->>'reservation_id')::int`, rows.map((r) => r.id)),
    sql`${changes.data}->'from'->>'start_time' is not null`,
  )).orderBy(asc(changes.position))
  for (const { data } of moves) {
    const id = Number(data.reservation_id)
    const from = (data.from as { start_time?: string } | undefined)?.start_time
    if (!found.has(id) && from) found.set(id, new Date(from))
  }
  return found
}

/**
 * Lays each series out against its rule: the booking at each occurrence. A booking whose start is
 * an occurrence's is that occurrence. A moved one (an exception at another time) is placed by the
 * order of the ids (a series' bookings are inserted in the order of its occurrences): when the
 * occurrences left free between its placed neighbours are exactly as many as the moved ones there,
 * they are theirs in order; otherwise the change record says where it was. A booking that still
 * has no place, and every booking of a series whose rule no longer expands, is `loose`: shown on
 * its own.
 */
async function layOut(db: Executor, found: SeriesRow[]): Promise<{ layouts: SeriesLayout[]; loose: BookingRow[] }> {
  if (found.length === 0) return { layouts: [], loose: [] }
  const rows = await bookings(db).where(inArray(reservations.seriesId, found.map((s) => s.id))).orderBy(asc(reservations.id))
  const bySeries = Map.groupBy(rows, (r) => r.seriesId!)
  const loose: BookingRow[] = []
  const pending: { layout: SeriesLayout; slotOf: Map<number, number>; rows: BookingRow[] }[] = []
  const layouts: SeriesLayout[] = []
  for (const s of found) {
    const own = bySeries.get(s.id) ?? []
    let slots: Date[]
    try {
      slots = expandRule(s.rrule, { start: s.firstStart, end: s.firstEnd }, s.timeZone).map((o) => o.start)
    } catch {
      loose.push(...own)
      continue
    }
    const slotOf = new Map(slots.map((d, i) => [d.getTime(), i]))
    const layout: SeriesLayout = { series: s, slots, bySlot: new Map() }
    const placed = new Map<number, number>()
    for (const row of own) {
      const i = slotOf.get(row.startTime.getTime())
      if (i !== undefined && !layout.bySlot.has(i)) {
        layout.bySlot.set(i, row)
        placed.set(row.id, i)
      }
    }
    // Runs of unplaced bookings (by id) between placed neighbours.
    const unresolved: BookingRow[] = []
    for (let k = 0; k < own.length;) {
      if (placed.has(own[k]!.id)) { k++; continue }
      let end = k
      while (end < own.length && !placed.has(own[end]!.id)) end++
      const low = k > 0 ? placed.get(own[k - 1]!.id)! : -1
      const high = end < own.length ? placed.get(own[end]!.id)! : slots.length
      const free = slots.map((_, i) => i).filter((i) => i > low && i < high && !layout.bySlot.has(i))
      const run = own.slice(k, end)
      if (free.length === run.length) run.forEach((row, j) => layout.bySlot.set(free[j]!, row))
      else unresolved.push(...run)
      k = end
    }
    layouts.push(layout)
    if (unresolved.length) pending.push({ layout, slotOf, rows: unresolved })
  }
  const starts = await originalStarts(db, pending.flatMap((p) => p.rows))
  for (const { layout, slotOf, rows: unresolved } of pending) {
    for (const row of unresolved) {
      const was = starts.get(row.id)
      const i = was ? slotOf.get(was.getTime()) : undefined
      if (i !== undefined && !layout.bySlot.has(i)) layout.bySlot.set(i, row)
      else loose.push(row)
    }
  }
  return { layouts, loose }
}

/** The personal feed of the token's user; null when no user has this token (revoked, rotated, never issued). */
export async function personalFeed(deps: CalendarDeps, token: string): Promise<string | null> {
  const db = deps.database.db
  const [owner] = await db.select({ id: users.id, name: users.name }).from(calendarTokens)
    .innerJoin(users, eq(users.id, calendarTokens.userId)).where(eq(calendarTokens.tokenHash, tokenHash(token)))
  if (!owner) return null
  const { from, to } = feedWindow(deps.clock.now())
  const own = await seriesIn(db, eq(series.userId, owner.id), from, to)
  const { layouts, loose } = await layOut(db, own)
  const ids = own.map((s) => s.id)
  const singles = await bookings(db).where(and(
    eq(reservations.userId, owner.id), lt(reservations.startTime, to), gt(reservations.endTime, from),
    ids.length ? or(isNull(reservations.seriesId), notInArray(reservations.seriesId, ids)) : undefined,
  )).orderBy(asc(reservations.startTime), asc(reservations.id))
  return buildCalendar(deps, {
    name: `QRBOOK: ${owner.name}`,
    singles: [...singles, ...loose.filter((r) => overlaps(r, from, to))],
    series: layouts,
    labels: OWN_LABELS,
  })
}

/** A room's feed: staff by name, a student as "Occupied" (decision 029). */
const ROOM_LABELS: CalendarLabels = {
  summary(item) {
    const name = publicName(item)
    if (name === null) return OCCUPIED
    return item.title ? `${item.title} · ${name}` : name
  },
}

const held = (row: BookingRow) => row.status === 'active' || row.status === 'finished'

/** The public feed of a room; null when there is no such room. */
export async function roomFeed(deps: CalendarDeps, roomId: number): Promise<string | null> {
  const db = deps.database.db
  const [room] = await db.select({ id: rooms.id, name: rooms.name }).from(rooms).where(eq(rooms.id, roomId))
  if (!room) return null
  const { from, to } = feedWindow(deps.clock.now())
  const found = await seriesIn(db, eq(series.roomId, room.id), from, to)
  const { layouts, loose } = await layOut(db, found)
  const ids = found.map((s) => s.id)
  const singles = await bookings(db).where(and(
    eq(reservations.roomId, room.id), inArray(reservations.status, ['active', 'finished']),
    lt(reservations.startTime, to), gt(reservations.endTime, from),
    ids.length ? or(isNull(reservations.seriesId), notInArray(reservations.seriesId, ids)) : undefined,
  )).orderBy(asc(reservations.startTime), asc(reservations.id))
  return buildCalendar(deps, {
    name: `QRBOOK: ${room.name}`,
    singles: [...singles, ...loose.filter((r) => r.roomId === room.id && held(r) && overlaps(r, from, to))],
    series: layouts,
    labels: ROOM_LABELS,
    belongs: (row) => row.roomId === room.id,
  })
}

// ---- tokens ----

/** The feed's URL (SERVER_EXTERNAL_BASE + api/calendar/<token>.ics) and the same as webcal://. */
function feedUrls(deps: Pick<CalendarDeps, 'config'>, token: string): { url: string; webcal_url: string } {
  const base = deps.config.serverExternalBase.endsWith('/') ? deps.config.serverExternalBase : `${deps.config.serverExternalBase}/`
  const url = `${base}api/calendar/${token}.ics`
  return { url, webcal_url: url.replace(/^https?:\/\//i, 'webcal://') }
}

/** A new feed token for the user, replacing any earlier one (whose URL then answers 404). */
export async function issueCalendarToken(deps: CalendarDeps, userId: number): Promise<{ url: string; webcal_url: string }> {
  const token = randomToken()
  const hash = tokenHash(token)
  const now = deps.clock.now()
  await writeTransaction(deps.database, (tx) => tx.insert(calendarTokens).values({ userId, tokenHash: hash, createdAt: now })
    .onConflictDoUpdate({ target: calendarTokens.userId, set: { tokenHash: hash, createdAt: now } }))
  return feedUrls(deps, token)
}

/** Deletes the user's feed token: its URL answers 404. Whether there was one. */
export async function revokeCalendarToken(deps: CalendarDeps, userId: number): Promise<{ revoked: boolean }> {
  const deleted = await writeTransaction(deps.database, (tx) => tx.delete(calendarTokens).where(eq(calendarTokens.userId, userId)).returning({ userId: calendarTokens.userId }))
  return { revoked: deleted.length > 0 }
}
