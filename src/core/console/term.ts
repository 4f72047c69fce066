/**
 * The console's reads for /console/term and /console/closures: the terms, the closures a page at a
 * time (upcoming ones by start, past ones newest first, on closures_end_idx) and the rooms to pick
 * from. Every read is bounded; the writes are the booking core's (terms.ts, closure-writes.ts).
 */
import { asc, desc, eq, gt, inArray, lte } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { closures, reservations, rooms, terms, users, type Closure } from '../../db/schema'

/** Terms shown on the page: the latest first, at most this many. */
const TERMS_SHOWN = 40
/** Closures per page of the list. */
const CLOSURES_PER_PAGE = 30
/** The rooms a closure form offers (the bench has 200). */
const ROOMS_SHOWN = 2000

export interface TermRow { id: number; name: string; startsOn: string; endsOn: string }

/** The latest terms (by start, newest first), bounded. */
export async function recentTerms(ctx: Pick<Ctx, 'database'>): Promise<TermRow[]> {
  return ctx.database.db.select({ id: terms.id, name: terms.name, startsOn: terms.startsOn, endsOn: terms.endsOn })
    .from(terms).orderBy(desc(terms.startsOn), desc(terms.id)).limit(TERMS_SHOWN)
}

export interface ClosureRow {
  id: number
  allRooms: boolean
  roomIds: number[]
  kind: Closure['kind']
  reason: string
  start: Date
  end: Date
  imported: boolean
}

function closureRow(row: Closure): ClosureRow {
  return {
    id: row.id, allRooms: row.allRooms, roomIds: row.allRooms ? [] : row.roomIds ?? [], kind: row.kind, reason: row.reason,
    start: row.startTime, end: row.endTime, imported: row.uid !== null,
  }
}

/**
 * One page of closures: `upcoming` (not ended by now: current and future, by start) or `past`
 * (ended, the latest first). `more`: whether another page follows.
 */
export async function closurePage(ctx: Pick<Ctx, 'database' | 'clock'>, which: 'upcoming' | 'past', page: number): Promise<{ rows: ClosureRow[]; more: boolean }> {
  const now = ctx.clock.now()
  const query = ctx.database.db.select().from(closures)
  const found = await (which === 'upcoming'
    ? query.where(gt(closures.endTime, now)).orderBy(asc(closures.startTime), asc(closures.id))
    : query.where(lte(closures.endTime, now)).orderBy(desc(closures.endTime), desc(closures.id)))
    .limit(CLOSURES_PER_PAGE + 1).offset((page - 1) * CLOSURES_PER_PAGE)
  return { rows: found.slice(0, CLOSURES_PER_PAGE).map(closureRow), more: found.length > CLOSURES_PER_PAGE }
}

/** One closure, or undefined. */
export async function closureById(ctx: Pick<Ctx, 'database'>, id: number): Promise<ClosureRow | undefined> {
  const [row] = await ctx.database.db.select().from(closures).where(eq(closures.id, id)).limit(1)
  return row ? closureRow(row) : undefined
}

/** The rooms to choose from, by name. */
export function roomChoices(ctx: Pick<Ctx, 'database'>): Promise<{ id: number; name: string }[]> {
  return ctx.database.db.select({ id: rooms.id, name: rooms.name }).from(rooms).orderBy(asc(rooms.name), asc(rooms.id)).limit(ROOMS_SHOWN)
}

/** The names of these rooms, by id (for a page of closures). */
export async function roomNames(ctx: Pick<Ctx, 'database'>, ids: number[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids)].slice(0, ROOMS_SHOWN)
  if (unique.length === 0) return new Map()
  const rows = await ctx.database.db.select({ id: rooms.id, name: rooms.name }).from(rooms).where(inArray(rooms.id, unique))
  return new Map(rows.map((r) => [r.id, r.name]))
}

/** Who holds the bookings an import's lessons overlap (at most 500 of them): by id, the owner's name, the title, whether it is a lesson. */
export async function bookingHolders(ctx: Pick<Ctx, 'database'>, ids: number[]): Promise<Map<number, { userName: string; title: string | null; lesson: boolean }>> {
  const unique = [...new Set(ids)].slice(0, 500)
  if (unique.length === 0) return new Map()
  const rows = await ctx.database.db.select({ id: reservations.id, userName: users.name, title: reservations.title, seriesId: reservations.seriesId })
    .from(reservations).innerJoin(users, eq(users.id, reservations.userId)).where(inArray(reservations.id, unique))
  return new Map(rows.map(({ id, seriesId, ...rest }) => [id, { ...rest, lesson: seriesId !== null }]))
}
