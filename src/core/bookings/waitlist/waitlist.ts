/**
 * The waitlist (issue 28): a student or teacher who finds a slot taken waits for it; when it
 * frees, the first waiter whose booking passes every rule right then gets it booked, and if it
 * fails their rules, the next one. Entries expire at their start.
 *
 * No rule is written twice. Joining asks the booking path itself whether the wanted booking
 * would be made now (createReservation, BOOKING policy, as that user, in a transaction that is
 * always rolled back): made means the slot is free (409, book it); refused because someone holds
 * the slot (or a closure covers it) means it can be waited for, and every check the booking path
 * makes before the slot (times, horizon, length, room, window, fair use) has passed; any other
 * refusal is answered as the booking would be. Filling books through createReservation too, as the
 * waiter, with the `waitlist_entry_id` in the reservation.created change (the notifier's "waitlist
 * booking made").
 *
 * Concurrency: every attempt is one transaction that takes the room's lock first (as every
 * booking does), then the entry's row lock, and books only an entry still `waiting`; so two
 * fills of a room (two instances) queue on the lock and a waiter is booked at most once. A refused
 * attempt rolls back whole (nothing half-written) and the entry keeps waiting.
 */
import { and, asc, desc, eq, gt, inArray, lte, lt, ne, not, sql } from 'drizzle-orm'
import type { Executor } from '../../../db/client'
import { reservations, rooms, users, waitlistEntries, type UserRole, type WaitlistEntry } from '../../../db/schema'
import { Conflict, Forbidden, HttpError, NotFound } from '../../../lib/errors'
import { formatUtc } from '../../../lib/time'
import { recordChange, recordChanges, writeTransaction } from '../../changes'
import { releasableAt } from '../checkin/sweeper'
import { enforceFairUse } from '../fair-use/fair-use'
import { BOOKING_MSG, ROOM_MSG } from '../messages'
import { BOOKING } from '../reservations/policies'
import { createReservation, lockRoom, type ActingUser, type ReservationDeps } from '../reservations/writes'
import { MAX_WAITS, WAITLIST_MSG } from './messages'

export type WaitlistDeps = ReservationDeps

type WaitlistStatus = WaitlistEntry['status']

/** An entry as the API answers it. */
export interface WaitlistEntryView {
  id: number
  room_id: number
  room_name: string
  start_time: string
  end_time: string
  /** waiting; booked (reservation_id is the booking); expired (its start came first); left */
  status: WaitlistStatus
  reservation_id: number | null
  /** while waiting: 1 for the first in line for an overlapping slot of the room, 2 behind one, ... */
  position: number | null
  created_at: string
}

const MSG = WAITLIST_MSG

/** Thrown inside the probe's transaction to roll it back: the wanted booking would have been made. */
class SlotIsFree extends Error {}

/** Whether a booking refusal means "wait for it": someone holds the slot, or a closure covers it. */
const waitable = (error: unknown): error is HttpError =>
  error instanceof HttpError && error.status === 409 && (error.message === BOOKING_MSG.conflict || 'closure' in error.extra)

/**
 * Would the booking be refused only because the slot is held (or closed)? Runs the booking path as
 * the user in a transaction that is rolled back whatever happens; throws the booking's own refusal
 * for anything else, and 409 slotFree when it would have been made.
 */
async function probe(deps: WaitlistDeps, actor: ActingUser, roomId: number, start: Date, end: Date): Promise<void> {
  try {
    await writeTransaction(deps.database, async (tx) => {
      try {
        await createReservation(deps, tx, { roomId, userId: actor.id, start, end, actor, policy: BOOKING })
      } catch (error) {
        if (!waitable(error) || !('closure' in error.extra)) throw error
        // A closure is checked before fair use in the booking path: ask fair use here, as if open.
        const [room] = await tx.select({ id: rooms.id, type: rooms.type }).from(rooms).where(eq(rooms.id, roomId))
        if (room) await enforceFairUse(deps, tx, { actor, ownerId: actor.id, room, bookings: [{ start, end }], isNew: true })
        throw error
      }
      throw new SlotIsFree()
    })
  } catch (error) {
    if (error instanceof SlotIsFree) throw new Conflict(MSG.slotFree)
    if (waitable(error)) return
    throw error
  }
}

/** POST /rooms/:id/waitlist: wait for a taken slot. 201 with the entry. */
export async function joinWaitlist(
  deps: WaitlistDeps,
  actor: ActingUser,
  roomId: number,
  body: { start_time: Date; end_time: Date },
): Promise<WaitlistEntryView> {
  const { start_time: start, end_time: end } = body
  await probe(deps, actor, roomId, start, end)
  const now = deps.clock.now()
  const id = await writeTransaction(deps.database, async (tx) => {
    // The room's lock, then the user's (the one lock order), so one person's joins queue for the cap.
    const room = await lockRoom(tx, roomId)
    if (!room) throw new NotFound(ROOM_MSG.notFound)
    await tx.select({ id: users.id }).from(users).where(eq(users.id, actor.id)).for('no key update')
    const [holding, waiting, count] = await Promise.all([
      tx.select({ id: reservations.id }).from(reservations).where(and(
        eq(reservations.roomId, roomId), eq(reservations.userId, actor.id), eq(reservations.status, 'active'),
        lt(reservations.startTime, end), gt(reservations.endTime, start),
      )).limit(1),
      tx.select({ id: waitlistEntries.id }).from(waitlistEntries).where(and(
        eq(waitlistEntries.roomId, roomId), eq(waitlistEntries.userId, actor.id), eq(waitlistEntries.status, 'waiting'),
        gt(waitlistEntries.startTime, now), lt(waitlistEntries.startTime, end), gt(waitlistEntries.endTime, start),
      )).limit(1),
      tx.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(waitlistEntries).where(and(
        eq(waitlistEntries.userId, actor.id), eq(waitlistEntries.status, 'waiting'), gt(waitlistEntries.startTime, now),
      )),
    ])
    if (holding.length > 0) throw new Conflict(MSG.alreadyHolding)
    if (waiting.length > 0) throw new Conflict(MSG.alreadyWaiting)
    if ((count[0]?.n ?? 0) >= MAX_WAITS) throw new Forbidden(MSG.tooMany(MAX_WAITS))
    const [entry] = await tx.insert(waitlistEntries)
      .values({ roomId, userId: actor.id, startTime: start, endTime: end, status: 'waiting', createdAt: now, updatedAt: now })
      .returning({ id: waitlistEntries.id })
    recordChange(tx, {
      at: now, actorId: actor.id, event: 'waitlist.joined',
      description: `${actor.name} waits for ${room.name} from ${formatUtc(start)} to ${formatUtc(end)} (waitlist entry #${entry!.id})`,
      data: { waitlist_entry_id: entry!.id, room_id: roomId, room_name: room.name, user_id: actor.id, start_time: formatUtc(start), end_time: formatUtc(end) },
    })
    return entry!.id
  })
  const [view] = await entryViews(deps, deps.database.db, { id })
  return view!
}

/** GET /me/waitlist: the caller's entries (every status), latest start first, at most 200. */
export function myWaitlist(deps: WaitlistDeps, userId: number): Promise<WaitlistEntryView[]> {
  return entryViews(deps, deps.database.db, { userId })
}

/**
 * DELETE /me/waitlist/:id: stop waiting. Only one's own entry (another's is 404, as if absent);
 * idempotent: an entry no longer waiting (left, booked, expired) is answered as it is.
 */
export async function leaveWaitlist(deps: WaitlistDeps, actor: ActingUser, id: number): Promise<WaitlistEntryView> {
  const now = deps.clock.now()
  await writeTransaction(deps.database, async (tx) => {
    const [entry] = await tx.select().from(waitlistEntries).where(eq(waitlistEntries.id, id)).for('update')
    if (!entry || entry.userId !== actor.id) throw new NotFound(MSG.notFound)
    if (entry.status !== 'waiting') return
    await tx.update(waitlistEntries).set({ status: 'left', updatedAt: now }).where(eq(waitlistEntries.id, id))
    recordChange(tx, {
      at: now, actorId: actor.id, event: 'waitlist.left',
      description: `${actor.name} stopped waiting (waitlist entry #${id}, ${formatUtc(entry.startTime)} - ${formatUtc(entry.endTime)})`,
      data: { waitlist_entry_id: id, room_id: entry.roomId, user_id: actor.id, start_time: formatUtc(entry.startTime), end_time: formatUtc(entry.endTime) },
    })
  })
  const [view] = await entryViews(deps, deps.database.db, { id })
  return view!
}

/** Entries as the API answers them: by id, or one user's. */
async function entryViews(deps: WaitlistDeps, db: Executor, where: { id: number } | { userId: number }): Promise<WaitlistEntryView[]> {
  const now = deps.clock.now()
  const w = waitlistEntries
  const ahead = sql<number>`(select count(*) from ${waitlistEntries} o where o.room_id = ${w.roomId} and o.status = 'waiting'
    and o.start_time > ${now.toISOString()}::timestamptz and o.start_time < ${w.endTime} and o.end_time > ${w.startTime} and (o.created_at, o.id) < (${w.createdAt}, ${w.id}))`.mapWith(Number)
  const rows = await db.select({
    id: w.id, roomId: w.roomId, roomName: rooms.name, start: w.startTime, end: w.endTime, status: w.status,
    reservationId: w.reservationId, createdAt: w.createdAt, ahead,
  }).from(w).innerJoin(rooms, eq(rooms.id, w.roomId))
    .where('id' in where ? eq(w.id, where.id) : eq(w.userId, where.userId))
    .orderBy(desc(w.startTime), desc(w.id))
    .limit(200)
  return rows.map((r) => {
    // an entry whose start has come is expired, whether or not a pass has marked it yet
    const status: WaitlistStatus = r.status === 'waiting' && r.start <= now ? 'expired' : r.status
    return {
      id: r.id, room_id: r.roomId, room_name: r.roomName, start_time: formatUtc(r.start), end_time: formatUtc(r.end),
      status, reservation_id: r.reservationId, position: status === 'waiting' ? r.ahead + 1 : null, created_at: formatUtc(r.createdAt),
    }
  })
}

// ---- filling ----

/**
 * Marks the waiting entries whose start has come `expired` (of one room, or all), one
 * waitlist.expired change each. Rows another transaction holds (a fill booking them) are skipped.
 */
export async function expireDue(deps: WaitlistDeps, options: { roomId?: number } = {}): Promise<number> {
  const now = deps.clock.now()
  const due = and(eq(waitlistEntries.status, 'waiting'), lte(waitlistEntries.startTime, now),
    options.roomId === undefined ? undefined : eq(waitlistEntries.roomId, options.roomId))
  const [any] = await deps.database.db.select({ id: waitlistEntries.id }).from(waitlistEntries).where(due).limit(1)
  if (!any) return 0
  return writeTransaction(deps.database, async (tx) => {
    const rows = await tx.select().from(waitlistEntries).where(due).orderBy(asc(waitlistEntries.id)).limit(1000).for('update', { skipLocked: true })
    if (rows.length === 0) return 0
    await tx.update(waitlistEntries).set({ status: 'expired', updatedAt: now }).where(inArray(waitlistEntries.id, rows.map((r) => r.id)))
    recordChanges(tx, rows.map((r) => ({
      at: now, actorId: null, event: 'waitlist.expired' as const,
      description: `waitlist entry #${r.id} (${formatUtc(r.startTime)} - ${formatUtc(r.endTime)}) expired: its start came before the slot freed`,
      data: { waitlist_entry_id: r.id, room_id: r.roomId, user_id: r.userId, start_time: formatUtc(r.startTime), end_time: formatUtc(r.endTime) },
    })))
    return rows.length
  })
}

/** The rooms that have entries waiting (of `among`, when given). */
export async function roomsWithWaiters(deps: WaitlistDeps, among?: number[]): Promise<number[]> {
  if (among && among.length === 0) return []
  const rows = await deps.database.db.selectDistinct({ roomId: waitlistEntries.roomId }).from(waitlistEntries)
    .where(and(eq(waitlistEntries.status, 'waiting'), among ? inArray(waitlistEntries.roomId, among) : undefined))
    .orderBy(asc(waitlistEntries.roomId))
  return rows.map((r) => r.roomId)
}

export interface FillResult {
  /** the entries booked, with their reservations */
  booked: { entryId: number; reservationId: number }[]
  expired: number
}

const overlaps = (a: { start: Date; end: Date }, b: { start: Date; end: Date }) => a.start < b.end && b.start < a.end

/**
 * Gives a room's freed slots to its waiters: expires the entries whose start has come, then, in
 * order of joining, tries each waiting entry whose slot looks free (a booking that the next
 * release gives back does not count as holding it) in a transaction of its own. An entry whose
 * booking a rule refuses keeps waiting (it may pass later), and the next waiter is tried.
 */
export async function fill(deps: WaitlistDeps, roomId: number): Promise<FillResult> {
  const expired = await expireDue(deps, { roomId })
  const now = deps.clock.now()
  const db = deps.database.db
  const waiting = await db.select({ id: waitlistEntries.id, start: waitlistEntries.startTime, end: waitlistEntries.endTime })
    .from(waitlistEntries)
    .where(and(eq(waitlistEntries.roomId, roomId), eq(waitlistEntries.status, 'waiting'), gt(waitlistEntries.startTime, now)))
    .orderBy(asc(waitlistEntries.createdAt), asc(waitlistEntries.id))
  const booked: FillResult['booked'] = []
  if (waiting.length === 0) return { booked, expired }
  const from = new Date(Math.min(...waiting.map((e) => e.start.getTime())))
  const to = new Date(Math.max(...waiting.map((e) => e.end.getTime())))
  const taken: { start: Date; end: Date }[] = await db.select({ start: reservations.startTime, end: reservations.endTime })
    .from(reservations).innerJoin(rooms, eq(rooms.id, reservations.roomId))
    .where(and(eq(reservations.roomId, roomId), eq(reservations.status, 'active'), lt(reservations.startTime, to), gt(reservations.endTime, from), not(releasableAt(now))))
  for (const entry of waiting) {
    if (taken.some((t) => overlaps(t, entry))) continue
    const reservationId = await attempt(deps, roomId, entry.id)
    if (reservationId === undefined) continue
    booked.push({ entryId: entry.id, reservationId })
    taken.push(entry)
  }
  return { booked, expired }
}

/**
 * One waiter's booking, in one transaction: the room's lock, the entry's (still waiting, start
 * still ahead), then the booking path as the waiter. The reservation's id, or undefined when a rule
 * refused it (the transaction is rolled back: the entry keeps waiting).
 */
async function attempt(deps: WaitlistDeps, roomId: number, entryId: number): Promise<number | undefined> {
  const now = deps.clock.now()
  try {
    return await writeTransaction(deps.database, async (tx) => {
      await lockRoom(tx, roomId)
      const [entry] = await tx.select().from(waitlistEntries).where(and(eq(waitlistEntries.id, entryId), eq(waitlistEntries.roomId, roomId))).for('update')
      if (!entry || entry.status !== 'waiting' || entry.startTime <= now) return undefined
      const [user] = await tx.select({ id: users.id, name: users.name, role: users.role, teacherPending: users.teacherPending }).from(users).where(eq(users.id, entry.userId))
      if (!user) return undefined
      // A teacher awaiting approval books with a student's powers, as the actor cache gives them.
      const role: UserRole = user.role === 'teacher' && user.teacherPending ? 'student' : user.role
      const reservation = await createReservation(deps, tx, {
        roomId, userId: user.id, start: entry.startTime, end: entry.endTime, actor: { id: user.id, name: user.name, role }, policy: BOOKING, waitlistEntryId: entry.id,
      })
      await tx.update(waitlistEntries).set({ status: 'booked', reservationId: reservation.id, updatedAt: now })
        .where(and(eq(waitlistEntries.id, entry.id), ne(waitlistEntries.status, 'booked')))
      return reservation.id
    })
  } catch (error) {
    // a rule refused it now (taken meanwhile, over a limit, closed, suspended...): it keeps waiting
    if (error instanceof HttpError) return undefined
    throw error
  }
}
