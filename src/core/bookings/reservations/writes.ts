/**
 * Reservations: the booking rules of contract sections 3 and 4, shared by the user routes and
 * the admin routes (reserve on behalf, admin reschedule).
 *
 * Overlaps are decided by the database: the exclusion constraint reservations_no_overlap (active
 * rows only, half-open ranges) raises 23P01, answered with 409 on every path, so concurrent
 * requests can never double-book and a cancelled reservation never blocks a slot.
 */
import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm'
import type { Config } from '../../../config'
import type { Database, Executor } from '../../../db/client'
import { pgConstraint, pgErrorCode } from '../../../db/client'
import { reservations, rooms, users, type Reservation, type Room, type UserRole } from '../../../db/schema'
import type { Clock } from '../../../lib/clock'
import { BadRequest, Conflict, Forbidden, HttpError, NotFound } from '../../../lib/errors'
import { formatUtc, localSecondsOfDay, secondsOfDay, windowIntervals } from '../../../lib/time'
import { releaseDue } from '../checkin/sweeper'
import { checkInFields, effectiveStatus, reservationJson, statusFields, type CancelReason, type ReportedStatus } from '../views/status'
import { BOOKING_MSG, ROOM_MSG } from '../messages'
import { closuresOverlapping } from '../timetable/closures'
import { BOOKING, LESSON, RESCHEDULE, overrideNote, overridesOf, type WritePolicy } from './policies'
import { enforceFairUse, fairUseFacts } from '../fair-use/fair-use'
import type { UserReservation } from '../model'
import { handedOff, recordChange, writeTransaction } from '../../changes'

export { checkInFields, effectiveStatus } from '../views/status'

/** What the reservation functions need; a Ctx satisfies it. */
export interface ReservationDeps {
  config: Pick<Config, 'appTimezone' | 'bookingHorizonDays' | 'studentMaxBookingHours' | 'noShowStrikes' | 'noShowWindowDays' | 'noShowSuspensionDays'>
  database: Pick<Database, 'db'>
  clock: Clock
}

/** Who acts: the logged-in user (an Actor satisfies it). */
export interface ActingUser {
  id: number
  name: string
  role: UserRole
}

const MSG = BOOKING_MSG

function checkTimeRange(start: Date, end: Date): void {
  if (start.getTime() >= end.getTime()) throw new BadRequest(MSG.badRange)
}

/**
 * How far in the past a start may be and still count as "now": a client that books "from now"
 * sends its own clock's time, which reaches us a moment later.
 */
const PAST_GRACE_MS = 60_000

export function checkNotPast(start: Date, now: Date, graceMs = PAST_GRACE_MS): void {
  if (start.getTime() < now.getTime() - graceMs) throw new BadRequest(MSG.past)
}

const DAY_MS = 24 * 3600_000
const HOUR_MS = 3600_000

/**
 * How far ahead and how long a booking may be, by who makes it (the acting user, not the one it
 * is for): admins are exempt, on every path (their own bookings, "reserve on behalf", admin
 * PATCH); teachers may book up to BOOKING_HORIZON_DAYS ahead, for any length (lectures, exam
 * days); students also for at most STUDENT_MAX_BOOKING_HOURS. An unknown role counts as a student.
 * 400 with a message that names the limit. Create, reschedule and book-now all call this.
 */
export function checkBookingLimits(
  limits: Pick<Config, 'bookingHorizonDays' | 'studentMaxBookingHours'>,
  role: UserRole | undefined,
  start: Date,
  end: Date,
  now: Date,
): void {
  if (role === 'admin') return
  if (end.getTime() > now.getTime() + limits.bookingHorizonDays * DAY_MS)
    throw new BadRequest(MSG.tooFarAhead(limits.bookingHorizonDays))
  if (role !== 'teacher' && end.getTime() - start.getTime() > limits.studentMaxBookingHours * HOUR_MS)
    throw new BadRequest(MSG.tooLong(limits.studentMaxBookingHours))
}

/**
 * The room's daily booking window (local time in `timeZone`; null bounds are open, an end at or
 * before the start runs past midnight): the whole reservation must lie inside one window.
 * 400 `Reservation starts before allowed time` / `Reservation ends after allowed time`.
 */
export function checkBookingWindow(
  room: Pick<Room, 'bookingStart' | 'bookingEnd'>,
  start: Date,
  end: Date,
  timeZone: string,
): void {
  if (room.bookingStart === null && room.bookingEnd === null) return
  const window = { start: room.bookingStart, end: room.bookingEnd }
  // Touching daily windows are merged (e.g. 00:00-24:00), so one interval may span days.
  const containing = windowIntervals(window, start, end, timeZone).find((w) => w.start <= start && start < w.end)
  if (!containing) {
    if (room.bookingStart !== null && localSecondsOfDay(start, timeZone) < secondsOfDay(room.bookingStart))
      throw new HttpError(400, MSG.startsEarly, {}, {}, windowParams(room))
    throw new HttpError(400, MSG.endsLate, {}, {}, windowParams(room))
  }
  if (end > containing.end) throw new HttpError(400, MSG.endsLate, {}, {}, windowParams(room))
}

/** The window's hours for a translated refusal ("можно бронировать до 19:00"); the English text stays the original's. */
function windowParams(room: Pick<Room, 'bookingStart' | 'bookingEnd'>): Record<string, string> {
  return {
    ...(room.bookingStart !== null ? { from: room.bookingStart.slice(0, 5) } : {}),
    ...(room.bookingEnd !== null ? { until: room.bookingEnd.slice(0, 5) } : {}),
  }
}

/** Room type and block rules of a user booking: 403 non-public, 409 blocked. */
export function checkRoomAccess(room: Pick<Room, 'type' | 'isBlocked'>): void {
  if (room.type !== 'public') throw new Forbidden(MSG.notBookable)
  if (room.isBlocked) throw new Conflict(MSG.blocked)
}

/** Maps the database's verdicts to the contract's answers; rethrows anything else. */
export function rethrowReservationWriteError(error: unknown): never {
  const code = pgErrorCode(error)
  if (code === '23P01') throw new Conflict(MSG.conflict)
  if (code === '23503') {
    // by the foreign key's name (drizzle/0000): the user or the room vanished meanwhile
    const constraint = pgConstraint(error)
    if (constraint === 'reservations_user_id_users_id_fk') throw new NotFound(MSG.userNotFound)
    if (constraint === 'reservations_room_id_rooms_id_fk') throw new NotFound(ROOM_MSG.notFound)
  }
  if (code === '23514') throw new BadRequest(MSG.badRange)
  throw error
}

export interface CreateReservationInput {
  roomId: number
  /** whose reservation it is (the actor, or another user when an admin books on their behalf) */
  userId: number
  start: Date
  end: Date
  /** who makes the change: for the change record and the booking limits (checkBookingLimits) */
  actor: { id: number; name?: string; role?: UserRole }
  /** the path's rules (policies.ts): BOOKING, LESSON, WALK_UP or an admin's */
  policy: WritePolicy
  /** a walk-up booking made at the door with the room's proof of presence: checked in as it is made */
  checkedIn?: boolean
  /** booked for a waiter (src/core/bookings/waitlist): their entry, named in the change's data (waitlist_entry_id) */
  waitlistEntryId?: number
}

/** A reservation as the reserve routes and GET /reservations/mine answer it: the Reservation schema's type. */
export type CreatedReservation = typeof UserReservation.static

/**
 * Validates and inserts one reservation and records its change with `tx` (call it inside a
 * transaction: a refused insert aborts it). Check order as the contract lists them: time range,
 * past, (horizon and length 400,) room 404, type 403, blocked 409, window 400, overlap 409 (the
 * database).
 */
export async function createReservation(
  deps: ReservationDeps,
  tx: Executor,
  input: CreateReservationInput,
): Promise<CreatedReservation> {
  const { start, end, policy } = input
  checkTimeRange(start, end)
  if (policy.refusePast) checkNotPast(start, deps.clock.now())
  checkBookingLimits(deps.config, input.actor.role, start, end, deps.clock.now())
  // The room row lock serializes the writes that the overlap constraint checks, per room (see
  // lockRoom). Every read of the booking follows it in the same flight (issue 29: one wait for the
  // database, not five): the lock is handed to the transaction's connection first (handedOff), so
  // the reads, pipelined behind it, are executed after it is granted and see what the writer before
  // committed. Read there: the closures, the owner's fair-use facts, the room's due no-shows and
  // expired pending bookings (releaseDue: locked FOR UPDATE SKIP LOCKED, reservations after the
  // room, as the lock order says; released only when there are any, which is rare) and who holds
  // the slot. A refusal below rolls all of it back, so checking after reading answers the same.
  const lock = lockRoom(tx, input.roomId)
  // Awaited by the Promise.all below, but not until handedOff's macrotask has run: a connection
  // cut in that gap rejects it with no handler attached yet, and an unhandled rejection ends the
  // process (found by test/system/reliability-faults.test.ts, about 1 run in 8). The rejection
  // still reaches the Promise.all.
  lock.catch(() => {})
  await handedOff()
  const [room, closed, facts, released, heldBefore] = await Promise.all([
    lock,
    closuresOverlapping(tx, input.roomId, start, end),
    fairUseFacts(deps, tx, { actor: input.actor, ownerId: input.userId, roomId: input.roomId, isNew: true }),
    releaseDue(deps, tx, { roomId: input.roomId }),
    slotHolders(tx, input.roomId, start, end),
  ])
  if (!room) throw new NotFound(ROOM_MSG.notFound)
  if (policy.roomAccess) checkRoomAccess(room)
  if (policy.bookingWindow) checkBookingWindow(room, start, end, deps.config.appTimezone)
  const overrides = overridesOf(policy, closed[0])
  // The owner's fair-use rules and no-show record (issue 16), under the room lock and the owner's lock
  // (no statement at all for an owner without rules: the facts were read above).
  const { approval } = await enforceFairUse(deps, tx, {
    actor: input.actor, ownerId: input.userId, room, bookings: [{ start, end }], walkUp: policy.walkUp, isNew: true,
  }, facts)
  // Who holds the slot: asked again only when something was released (it no longer blocks it).
  const holders = released.length || released.expired ? await slotHolders(tx, room.id, start, end) : heldBefore
  // A lesson makes students give way; anyone else holding the slot makes it 409, naming them.
  if (policy.takenSlot === 'bump-students' && input.actor.role !== 'teacher' && input.actor.role !== 'admin') throw new Forbidden(MSG.bumpNotAllowed)
  const bumped = policy.takenSlot === 'bump-students' ? holders.filter((h) => h.role === 'student') : []
  if (holders.length > bumped.length) throw slotTaken(holders)
  for (const holder of bumped) await bumpBooking(deps, tx, holder, input.actor, room)

  let row: Reservation
  try {
    ;[row] = (await tx.insert(reservations)
      .values({
        roomId: room.id, userId: input.userId, startTime: start, endTime: end, status: 'active',
        checkInRequired: room.requiresCheckIn,
        checkedInAt: input.checkedIn ? deps.clock.now() : null,
        approval,
        // Booked for someone else (an admin on their behalf): not a no-show strike of theirs.
        setByOwner: input.userId === input.actor.id,
        createdAt: deps.clock.now(), updatedAt: deps.clock.now(),
      })
      .returning()) as [Reservation]
  } catch (error) {
    rethrowReservationWriteError(error)
  }
  const onBehalf = input.userId !== input.actor.id
  recordChange(tx, {
    at: deps.clock.now(),
    actorId: input.actor.id,
    event: 'reservation.created',
    description: `${input.actor.name ?? `user #${input.actor.id}`} reserved ${room.name} from ${formatUtc(start)} to ${formatUtc(end)}${onBehalf ? ` for user #${input.userId}` : ''}${input.waitlistEntryId !== undefined ? ` from the waitlist (entry #${input.waitlistEntryId})` : ''}${overrideNote(overrides)}`,
    data: {
      reservation_id: row.id, room_id: room.id, room_name: room.name, user_id: input.userId,
      start_time: formatUtc(start), end_time: formatUtc(end), ...(onBehalf ? { on_behalf: true } : {}),
      ...(policy.walkUp ? { walk_up: true, checked_in: Boolean(input.checkedIn) } : {}),
      ...(approval ? { approval } : {}),
      ...(input.waitlistEntryId !== undefined ? { waitlist_entry_id: input.waitlistEntryId } : {}),
      ...overrides,
    },
  })
  return reservationJson(row, room, deps.clock.now())
}

interface SlotHolder {
  id: number
  userId: number
  userName: string
  role: UserRole
  startTime: Date
  endTime: Date
  seriesId: number | null
  /** a lesson's title */
  title: string | null
}

/**
 * The active bookings of a room overlapping [start, end), with their owners (read under the room
 * lock). A teacher whose account awaits approval is a student here too (decision 021): a lesson
 * bumps their booking like any student's.
 */
async function slotHolders(tx: Executor, roomId: number, start: Date, end: Date): Promise<SlotHolder[]> {
  return tx.select({
    id: reservations.id, userId: reservations.userId, userName: users.name,
    role: sql<UserRole>`case when ${users.role} = 'teacher' and ${users.teacherPending} then 'student'::user_role else ${users.role} end`,
    startTime: reservations.startTime, endTime: reservations.endTime, seriesId: reservations.seriesId, title: reservations.title,
  }).from(reservations).innerJoin(users, eq(users.id, reservations.userId))
    .where(and(eq(reservations.roomId, roomId), eq(reservations.status, 'active'), lt(reservations.startTime, end), gt(reservations.endTime, start)))
    .orderBy(asc(reservations.startTime))
}

const holderView = (h: SlotHolder) => ({ id: h.id, user_name: h.userName, start_time: formatUtc(h.startTime), end_time: formatUtc(h.endTime) })

/**
 * 409 `Reservation conflicts with existing booking` naming who holds the slot (`held_by`); a
 * translation names the first holder's lesson and its times in the rooms' zone.
 */
function slotTaken(holders: SlotHolder[]): HttpError {
  const first = holders[0]
  const params = first ? { holder: first.userName, from: first.startTime, to: first.endTime, lesson: first.title ?? 'none' } : {}
  return new HttpError(409, MSG.conflict, {}, { held_by: holders.map(holderView) }, params)
}

/**
 * A write that gives a booking a slot without createReservation (the admin PATCH: reactivating
 * or moving it, issue 25) asks who holds the slot as createReservation does, under the room's
 * lock (lockRoom / lockReservationAndRoom, taken by the caller): the room's due no-shows and
 * expired pending bookings are released first (they must not block it), then any other active
 * booking overlapping [start, end) (pending approval included: it holds its slot) is 409
 * `Reservation conflicts with existing booking` with `held_by`. So the overlap constraint stays
 * the last guard and is never the one that answers.
 */
export async function refuseTakenSlot(deps: { clock: Clock }, tx: Executor, roomId: number, start: Date, end: Date, exceptId: number): Promise<void> {
  await releaseDue(deps, tx, { roomId })
  const holders = (await slotHolders(tx, roomId, start, end)).filter((h) => h.id !== exceptId)
  if (holders.length > 0) throw slotTaken(holders)
}

/** Cancels a student's booking for a lesson (cancel_reason bumped), audited with who bumped it. */
async function bumpBooking(deps: ReservationDeps, tx: Executor, holder: SlotHolder, actor: { id: number; name?: string }, room: { id: number; name: string }): Promise<void> {
  const now = deps.clock.now()
  await tx.update(reservations).set({
    status: 'cancelled', cancelReason: 'bumped', cancelledAt: now, updatedAt: now, ...(holder.seriesId !== null ? { seriesException: true } : {}),
  }).where(eq(reservations.id, holder.id))
  recordChange(tx, {
    at: now, actorId: actor.id, event: 'reservation.bumped', rooms: [room.id],
    description: `${actor.name ?? `user #${actor.id}`} bumped ${holder.userName}'s booking #${holder.id} in ${room.name} (${formatUtc(holder.startTime)} - ${formatUtc(holder.endTime)}) for a lesson`,
    data: {
      reservation_id: holder.id, user_id: holder.userId, start_time: formatUtc(holder.startTime), end_time: formatUtc(holder.endTime),
      reason: 'bumped', bumped_by: actor.name ?? actor.id,
    },
  })
}

/** POST /rooms/:id/reserve: book for the caller in one transaction (the times come decoded: lib/instant-input.ts). */
export async function reserveRoom(
  deps: ReservationDeps,
  actor: ActingUser,
  roomId: number,
  body: { start_time: Date; end_time: Date; bump?: boolean },
): Promise<CreatedReservation> {
  return writeTransaction(deps.database, (tx) => createReservation(deps, tx, {
    roomId, userId: actor.id, start: body.start_time, end: body.end_time, actor, policy: body.bump === true ? LESSON : BOOKING,
  }))
}

/**
 * Reads a room and locks its row (FOR NO KEY UPDATE) until the transaction ends. Every booking
 * or reschedule takes it before writing, so two writes the overlap constraint must compare never
 * run at once: without it, a booking and a reschedule of overlapping times in one room could each
 * wait for the other's uncommitted row, and PostgreSQL aborted one with a deadlock (40P01, a 500
 * and a one-second stall; found by test/system/reliability-storm.test.ts). The lock does not block reads
 * or the foreign-key checks of other inserts.
 */
export async function lockRoom(tx: Executor, id: number): Promise<Room | undefined> {
  const [room] = await tx.select().from(rooms).where(eq(rooms.id, id)).for('no key update')
  return room
}

/** Reads one reservation with `FOR UPDATE` (inside a transaction), or 404. */
export async function lockReservation(tx: Executor, id: number): Promise<Reservation> {
  const [row] = await tx.select().from(reservations).where(eq(reservations.id, id)).for('update')
  if (!row) throw new NotFound(MSG.notFound)
  return row
}

/**
 * Locks a reservation for a change that also takes its room's lock (a move): the room first, then
 * the reservation, the one lock order of every write (docs/reliability.md: rooms, then
 * reservations, then users). Locking the reservation first, a move and a bump of the same booking
 * (which locks the room, then cancels the booking) waited for each other until one gave up
 * (issue 24). A reservation never changes rooms, so the room read before its lock is its room.
 */
export async function lockReservationAndRoom(tx: Executor, id: number): Promise<{ reservation: Reservation; room: Room }> {
  const [found] = await tx.select({ roomId: reservations.roomId }).from(reservations).where(eq(reservations.id, id))
  if (!found) throw new NotFound(MSG.notFound)
  const room = await lockRoom(tx, found.roomId)
  const reservation = await lockReservation(tx, id)
  if (!room) throw new NotFound(ROOM_MSG.notFound)
  return { reservation, room }
}

export interface RescheduleInput {
  id: number
  start: Date
  end: Date
  /** who makes the change: for the change record and the booking limits (checkBookingLimits) */
  actor: { id: number; name?: string; role?: UserRole }
  /** the path's rules (policies.ts): RESCHEDULE, or an admin's */
  policy: WritePolicy
  /** refuse a reservation that is not active now (default true; an admin reactivating it moves it too) */
  requireActive?: boolean
  /** extra fields to set in the same UPDATE (e.g. an admin's user_id change) */
  extra?: Partial<Pick<Reservation, 'userId' | 'status' | 'checkInRequired' | 'cancelledAt'>>
  /** the users the change record concerns besides the owner (an admin giving the booking away) */
  users?: number[]
}

/**
 * Moves a reservation to new times with `tx`: only an active one (400 otherwise), with the same
 * checks as a new booking; overlaps with other active reservations are 409 (the row itself
 * never conflicts with its old times). Records the reservation.updated change. Returns the row.
 */
export async function rescheduleReservation(
  deps: ReservationDeps,
  tx: Executor,
  input: RescheduleInput,
): Promise<Reservation> {
  const now = deps.clock.now()
  const { reservation: current, room } = await lockReservationAndRoom(tx, input.id)
  if (input.requireActive !== false && effectiveStatus(current, now) !== 'active') throw new BadRequest(MSG.notActive)
  checkTimeRange(input.start, input.end)
  // Extending a reservation that has already begun keeps its start: only a moved start is checked.
  // No one but an admin may move a start into the past at all (a booking moved to have begun
  // before anyone could reach the door was a way to make no-shows, issue 24); admins keep the
  // grace a client's clock needs.
  const { policy } = input
  if (policy.refusePast && input.start.getTime() !== current.startTime.getTime())
    checkNotPast(input.start, now, input.actor.role === 'admin' ? PAST_GRACE_MS : 0)
  checkBookingLimits(deps.config, input.actor.role, input.start, input.end, now)
  if (policy.roomAccess) checkRoomAccess(room)
  if (policy.bookingWindow) checkBookingWindow(room, input.start, input.end, deps.config.appTimezone)
  // Only a booking that holds its slot afterwards meets closures and holders (an admin may move one
  // while cancelling it).
  const holdsSlot = (input.extra?.status ?? current.status) === 'active'
  const overrides = holdsSlot ? overridesOf(policy, (await closuresOverlapping(tx, room.id, input.start, input.end))[0]) : {}
  // Moves count too (issue 16): the owner's rules, the moved booking not counting against itself.
  // In a room that needs approval, a moved booking waits for a new one.
  const { approval } = await enforceFairUse(deps, tx, {
    actor: input.actor, ownerId: input.extra?.userId ?? current.userId, room, bookings: [{ start: input.start, end: input.end }], movingId: current.id, isNew: false,
  })
  // Someone holding the new slot is 409 naming them, as for a new booking (a move bumps no one).
  if (holdsSlot) await refuseTakenSlot(deps, tx, room.id, input.start, input.end, current.id)
  else await releaseDue(deps, tx, { roomId: room.id })

  const ownerId = input.extra?.userId ?? current.userId
  let updated: Reservation
  try {
    ;[updated] = (await tx.update(reservations)
      .set({
        startTime: input.start, endTime: input.end, updatedAt: now, ...(current.seriesId !== null ? { seriesException: true } : {}),
        ...(approval ? { approval } : {}),
        // Its time is now the choice of whoever moved it: a strike only if that is its owner.
        setByOwner: ownerId === input.actor.id,
        ...input.extra,
      })
      .where(eq(reservations.id, current.id))
      .returning()) as [Reservation]
  } catch (error) {
    rethrowReservationWriteError(error)
  }
  recordChange(tx, {
    at: deps.clock.now(),
    actorId: input.actor.id,
    event: 'reservation.updated',
    ...(input.users ? { users: input.users } : {}),
    description: `${input.actor.name ?? `user #${input.actor.id}`} moved reservation #${current.id} in ${room.name} to ${formatUtc(input.start)} - ${formatUtc(input.end)}${overrideNote(overrides)}`,
    data: {
      reservation_id: current.id, room_id: room.id,
      from: { start_time: formatUtc(current.startTime), end_time: formatUtc(current.endTime) },
      to: { start_time: formatUtc(input.start), end_time: formatUtc(input.end) },
      ...(input.extra ?? {}),
      ...overrides,
    },
  })
  return updated
}

/** PATCH /reservations/:id (teacher, admin): reschedule in one transaction. */
export async function updateReservationTimes(
  deps: ReservationDeps,
  actor: ActingUser,
  id: number,
  body: { start_time: Date; end_time: Date },
): Promise<{ id: number; start_time: string; end_time: string } & ReturnType<typeof statusFields> & ReturnType<typeof checkInFields>> {
  const { start_time: start, end_time: end } = body
  const row = await writeTransaction(deps.database, (tx) => rescheduleReservation(deps, tx, { id, start, end, actor, policy: RESCHEDULE }))
  return {
    id: row.id,
    start_time: formatUtc(row.startTime),
    end_time: formatUtc(row.endTime),
    ...statusFields(row, deps.clock.now()),
    ...checkInFields(row),
  }
}

/** Owner, teacher or admin may cancel; another student may not. */
function canCancel(actor: Pick<ActingUser, 'id' | 'role'>, reservation: Pick<Reservation, 'userId'>): boolean {
  return actor.role === 'teacher' || actor.role === 'admin' || reservation.userId === actor.id
}

/**
 * Cancels one reservation with `tx` and writes the cancel_reservation audit row. Idempotent: an
 * already cancelled one is left as it is (no audit row), and `changed` says whether it changed;
 * so is a released one (it is reported cancelled already and no longer holds its slot).
 * A reservation that is over (finished) cannot be cancelled (400), except by an admin
 * (`allowFinished`: the admin PATCH and bulk cancel, as in the original). Permission checks are
 * the caller's (see canCancel).
 */
export async function cancelReservationTx(
  deps: ReservationDeps,
  tx: Executor,
  reservation: Reservation,
  actor: { id: number; name?: string },
  options: { allowFinished?: boolean; reason?: string; /** a closure that cancels it: its notice says so (issue 28) */ closureId?: number } = {},
): Promise<{ changed: boolean }> {
  const now = deps.clock.now()
  const status = effectiveStatus(reservation, now)
  if (status === 'cancelled' || status === 'released') return { changed: false }
  if (status === 'finished' && !options.allowFinished) throw new BadRequest(MSG.finished)
  // A lesson cancelled on its own is an exception of its series: later series edits leave it alone.
  await tx.update(reservations).set({ status: 'cancelled', cancelledAt: now, updatedAt: now, ...(reservation.seriesId !== null ? { seriesException: true } : {}) })
    .where(eq(reservations.id, reservation.id))
  recordChange(tx, {
    at: deps.clock.now(),
    actorId: actor.id,
    event: 'reservation.cancelled',
    description: `${actor.name ?? `user #${actor.id}`} cancelled reservation #${reservation.id} (${formatUtc(reservation.startTime)} - ${formatUtc(reservation.endTime)})${options.reason ? `: ${options.reason}` : ''}`,
    data: {
      reservation_id: reservation.id, room_id: reservation.roomId, user_id: reservation.userId,
      start_time: formatUtc(reservation.startTime), end_time: formatUtc(reservation.endTime),
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.closureId !== undefined ? { closure_id: options.closureId } : {}),
    },
  })
  return { changed: true }
}

/** DELETE /reservations/:id: 404, 403 for another student, idempotent cancel. */
export async function cancelReservation(deps: ReservationDeps, actor: ActingUser, id: number): Promise<{ status: 'cancelled' }> {
  await writeTransaction(deps.database, async (tx) => {
    const row = await lockReservation(tx, id)
    if (!canCancel(actor, row)) throw new Forbidden(MSG.notYours)
    await cancelReservationTx(deps, tx, row, actor)
  })
  return { status: 'cancelled' }
}

/**
 * GET /reservations/mine's query, prepared once per database (a hot read: every page load of the
 * frontend asks it): on PostgreSQL a named prepared statement per connection, parsed and planned
 * once instead of on every request.
 */
const mineQueries = new WeakMap<object, ReturnType<typeof prepareMine>>()
function prepareMine(db: Database['db']) {
  return db
    .select({
      id: reservations.id,
      roomId: reservations.roomId,
      roomName: rooms.name,
      startTime: reservations.startTime,
      endTime: reservations.endTime,
      status: reservations.status,
      cancelReason: reservations.cancelReason,
      approval: reservations.approval,
      checkInRequired: reservations.checkInRequired,
      checkedInAt: reservations.checkedInAt,
    })
    .from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId))
    .where(eq(reservations.userId, sql.placeholder('userId')))
    .orderBy(desc(reservations.startTime), desc(reservations.id))
    .prepare('reservations_mine')
}

/** GET /reservations/mine: the caller's reservations, newest start first. */
export async function myReservations(deps: ReservationDeps, userId: number) {
  const now = deps.clock.now()
  const db = deps.database.db
  let query = mineQueries.get(db)
  if (!query) mineQueries.set(db, (query = prepareMine(db)))
  const rows = await query.execute({ userId })
  return rows.map((row) => reservationJson(row, { id: row.roomId, name: row.roomName }, now))
}

/** Ensures a user exists (for admin bookings on behalf), or 404 `user not found`. */
export async function requireUser(executor: Executor, id: number): Promise<{ id: number; name: string; role: UserRole }> {
  const [row] = await executor.select({ id: users.id, name: users.name, role: users.role }).from(users).where(eq(users.id, id))
  if (!row) throw new NotFound(MSG.userNotFound)
  return row
}
