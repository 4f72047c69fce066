/**
 * Check-in, check-out, walk-up booking and the scan view: what one scan of a room's QR code can
 * do. Plain functions over explicit dependencies; the time always comes from deps.clock.
 *
 * Check-in window of a booking: from start - check_in_opens_min (inclusive) until
 * start + auto_release_after_min (exclusive; that is the instant it is released), or until its end
 * if that comes first or if the booking does not need a check-in.
 * Check-in needs the room's proof of presence (decision 013: per room `check_in_proof`, the door
 * display's rotating code, the printed poster's key, or nothing), the booking's owner and the
 * window; each refusal has its own message (CHECK_IN_MSG), saying what to scan.
 */
import { and, asc, eq, gt, lt } from 'drizzle-orm'
import type { Config } from '../../../config'
import type { Database, Executor } from '../../../db/client'
import { reservations, rooms, users, type CheckInProof, type Reservation, type Room } from '../../../db/schema'
import type { Clock } from '../../../lib/clock'
import { BadRequest, Conflict, Forbidden, HttpError, NotFound } from '../../../lib/errors'
import { formatUtc, windowIntervals } from '../../../lib/time'
import {
  checkInFields, createReservation, effectiveStatus, lockReservation, type ActingUser, type CreatedReservation,
} from '../reservations/writes'
import { WALK_UP } from '../reservations/policies'
import type { CheckInReservation } from '../model'
import { getRoomView, type RoomView } from '../views/rooms'
import { ROOM_MSG } from '../messages'
import { checkScanKey, type KeyCheck, type KeyKind, type KeyStatus } from './keys'
import { releaseDue } from './sweeper'
import { holdsRoomAt, remainingToday } from '../views/occupancy'
import { APPROVAL_MSG, BOOK_NOW_MIN_MINUTES, BOOK_NOW_MINUTES, CHECK_IN_MSG } from '../messages'
import { reservationJson } from '../views/status'
import { apiUserName, OWNER_COLUMNS, publicName } from '../views/public-names'
import { closuresOverlapping } from '../timetable/closures'
import { recordChange, writeTransaction } from '../../changes'

export interface CheckInDeps {
  config: Config
  database: Pick<Database, 'db'>
  clock: Clock
}

const MINUTE = 60_000
/** How far ahead free_until looks. */
const FREE_HORIZON_MS = 24 * 3600_000

/**
 * What the `k` of a request proves for a room (decision 013): `ok` when it satisfies the room's
 * check_in_proof (`none`: always; `poster`: the current poster key or a display code; `display`:
 * a display code only), otherwise why not. A poster key, current or not, in a `display` room is
 * `needs_display`.
 */
type ProofStatus = 'ok' | 'missing' | 'invalid' | 'outdated' | 'stale' | 'needs_display'

interface Proof {
  key: KeyCheck
  status: ProofStatus
}

type ProofRoom = Pick<Room, 'id' | 'qrVersion' | 'checkInProof'>

function proofOf(deps: CheckInDeps, room: ProofRoom, key: unknown, now: Date): Proof {
  const check = checkScanKey(deps.config.secretKey, room, typeof key === 'string' ? key : undefined, now, deps.config.displayCodePeriodS)
  if (room.checkInProof === 'none') return { key: check, status: 'ok' }
  if (room.checkInProof === 'display' && check.kind === 'poster') return { key: check, status: 'needs_display' }
  return { key: check, status: check.status === 'valid' ? 'ok' : check.status }
}

/** The refusal of a proof that is not `ok`: 400 when missing, 403 otherwise, saying what to scan. */
function proofError(mode: CheckInProof, status: Exclude<ProofStatus, 'ok'>): HttpError {
  const display = mode === 'display'
  switch (status) {
    case 'missing': return new BadRequest(display ? CHECK_IN_MSG.keyMissingDisplay : CHECK_IN_MSG.keyMissing)
    case 'invalid': return new Forbidden(display ? CHECK_IN_MSG.keyInvalidDisplay : CHECK_IN_MSG.keyInvalid)
    case 'outdated': return new Forbidden(CHECK_IN_MSG.keyOutdated)
    case 'stale': return new Forbidden(CHECK_IN_MSG.keyStale)
    case 'needs_display': return new Forbidden(CHECK_IN_MSG.needsDisplay)
  }
}

/** Refuses a request whose key does not prove presence as the room requires, with a message saying what to scan. */
function requireProof(deps: CheckInDeps, room: ProofRoom, key: unknown, now: Date): Proof {
  const proof = proofOf(deps, room, key, now)
  if (proof.status !== 'ok') throw proofError(room.checkInProof, proof.status)
  return proof
}

type PolicyRoom = Pick<Room, 'requiresCheckIn' | 'checkInOpensMin' | 'autoReleaseAfterMin'>
type WindowReservation = Pick<Reservation, 'startTime' | 'endTime' | 'checkInRequired'>

/** When check-in opens and closes for a booking in a room (closes is exclusive). */
function checkInWindow(room: PolicyRoom, reservation: WindowReservation): { opens: Date; closes: Date } {
  const start = reservation.startTime.getTime()
  const opens = new Date(start - room.checkInOpensMin * MINUTE)
  const releases = reservation.checkInRequired && room.requiresCheckIn
  const deadline = start + room.autoReleaseAfterMin * MINUTE
  const closes = new Date(releases ? Math.min(deadline, reservation.endTime.getTime()) : reservation.endTime.getTime())
  return { opens, closes }
}

/** Refuses a reservation that can no longer be checked in or out: cancelled, released, over. */
function requireActive(row: Reservation, now: Date): void {
  const status = effectiveStatus(row, now)
  if (status === 'cancelled') throw new Conflict(CHECK_IN_MSG.cancelled)
  if (status === 'released') throw new Conflict(CHECK_IN_MSG.released)
  if (status === 'finished') throw new Conflict(CHECK_IN_MSG.ended)
}

/** A reservation with its check-in window: the CheckInReservation schema's type. */
export type ReservationView = typeof CheckInReservation.static

function reservationView(row: Reservation, room: Room, now: Date): ReservationView {
  const window = checkInWindow(room, row)
  return {
    ...reservationJson(row, room, now),
    check_in_opens_at: formatUtc(window.opens),
    check_in_closes_at: formatUtc(window.closes),
  }
}

async function roomOf(tx: Executor, roomId: number): Promise<Room> {
  const [room] = await tx.select().from(rooms).where(eq(rooms.id, roomId))
  if (!room) throw new NotFound(ROOM_MSG.notFound)
  return room
}

/**
 * POST /reservations/:id/check-in {k}: the owner, at the door (the proof the room requires: see
 * proofOf), inside the window. Checking in twice is a no-op. One `check_in` audit row, which
 * records the kind of proof shown.
 */
export async function checkIn(deps: CheckInDeps, actor: ActingUser, id: number, key: unknown): Promise<ReservationView> {
  return writeTransaction(deps.database, async (tx) => {
    const now = deps.clock.now()
    const row = await lockReservation(tx, id)
    const room = await roomOf(tx, row.roomId)
    const proof = requireProof(deps, room, key, now)
    if (row.userId !== actor.id) throw new Forbidden(CHECK_IN_MSG.notOwner)
    requireActive(row, now)
    if (row.approval === 'pending') throw new Conflict(APPROVAL_MSG.awaiting)
    if (row.checkedInAt) return reservationView(row, room, now)
    const window = checkInWindow(room, row)
    if (now < window.opens)
      throw new HttpError(409, CHECK_IN_MSG.tooEarly(room.checkInOpensMin, formatUtc(window.opens)), {}, { check_in_opens_at: formatUtc(window.opens) })
    if (now >= window.closes)
      throw new HttpError(409, CHECK_IN_MSG.tooLate(formatUtc(window.closes)), {}, { check_in_closes_at: formatUtc(window.closes) })
    const [updated] = await tx.update(reservations).set({ checkedInAt: now, updatedAt: now }).where(eq(reservations.id, row.id)).returning()
    recordChange(tx, {
      at: now,
      actorId: actor.id,
      event: 'reservation.checked_in',
      description: `${actor.name} checked in to ${room.name} (reservation #${row.id}, ${formatUtc(row.startTime)} - ${formatUtc(row.endTime)})`,
      data: {
        reservation_id: row.id, room_id: room.id, user_id: row.userId, checked_in_at: formatUtc(now), start_time: formatUtc(row.startTime),
        proof: proof.key.status === 'valid' ? proof.key.kind : 'none',
      },
    })
    return reservationView(updated!, room, now)
  })
}

/**
 * POST /reservations/:id/check-out: the owner ends a booking that is in progress now; the rest of
 * the slot is free at once (end_time = now, status finished). One `check_out` audit row.
 */
export async function checkOut(deps: CheckInDeps, actor: ActingUser, id: number): Promise<ReservationView> {
  return writeTransaction(deps.database, async (tx) => {
    const now = deps.clock.now()
    const row = await lockReservation(tx, id)
    if (row.userId !== actor.id) throw new Forbidden(CHECK_IN_MSG.notOwnerCheckOut)
    requireActive(row, now)
    if (now <= row.startTime) throw new Conflict(CHECK_IN_MSG.notStarted)
    const room = await roomOf(tx, row.roomId)
    const [updated] = await tx.update(reservations)
      .set({ endTime: now, status: 'finished', updatedAt: now })
      .where(eq(reservations.id, row.id))
      .returning()
    recordChange(tx, {
      at: now,
      actorId: actor.id,
      event: 'reservation.checked_out',
      description: `${actor.name} checked out of ${room.name} (reservation #${row.id}): ended at ${formatUtc(now)} instead of ${formatUtc(row.endTime)}`,
      data: {
        reservation_id: row.id, room_id: room.id, user_id: row.userId,
        start_time: formatUtc(row.startTime), end_time: formatUtc(now), booked_end_time: formatUtc(row.endTime),
      },
    })
    return reservationView(updated!, room, now)
  })
}

// ---- the scan view ----

type ScanAction = 'check_in' | 'book_now' | 'login' | 'view'
/** Why a logged-in viewer gets no action (`view`); the scan answer's schema lists the same values. */
export const VIEW_REASONS = [
  'key_missing', 'key_invalid', 'key_outdated', 'key_stale', 'key_needs_display', 'blocked', 'closed', 'not_bookable',
  'occupied', 'outside_hours', 'too_short', 'checked_in', 'check_in_not_open',
] as const
export type ViewReason = (typeof VIEW_REASONS)[number] | null

interface TodayEntry {
  id: number
  /** as PUBLIC_USER_NAMES says (public-names.ts); the viewer's own bookings always with the name */
  user_name: string
  start_time: string
  end_time: string
  check_in_required: boolean
  checked_in_at: string | null
  mine: boolean
}

/** A booking as the scan page shows it (decision 029): a lesson's title, and the name the page may show (staff's; null for a student). */
interface PageTodayEntry extends TodayEntry {
  lesson: boolean
  title: string | null
  public_name: string | null
}

export interface ScanView {
  room: RoomView
  action: ScanAction
  key_status: KeyStatus
  /** where a recognised k comes from */
  key_kind: KeyKind | null
  /** k proves presence as the room's check_in_proof requires: check-in possible, book now checked in at once */
  proof_ok: boolean
  reason: ViewReason
  reservation: ReservationView | null
  free_until: string | null
  book_now: { minutes: BookNowMinutes; end_time: string }[]
  today: TodayEntry[]
}

/** The scan view with what the scan page shows of each booking (its lesson, title and public name). */
export interface ScanPageView extends Omit<ScanView, 'today'> {
  today: PageTodayEntry[]
}

/**
 * When the room stops being free (next booking, start of a closure, end of the daily window, or
 * the horizon); null if it is not free now or cannot be booked now. A closure covering now is not
 * looked at here: the scan view reads it from the room view (reason `closed`), and a walk-up
 * booking is refused by the booking rules, with the closure's own message (refuseClosed).
 */
async function freeUntil(deps: CheckInDeps, executor: Executor, room: Room, now: Date): Promise<{ until: Date | null; reason: ViewReason }> {
  const horizon = new Date(now.getTime() + FREE_HORIZON_MS)
  const [busy] = await executor.select({ id: reservations.id }).from(reservations)
    .where(and(eq(reservations.roomId, room.id), holdsRoomAt(now)))
    .limit(1)
  if (busy) return { until: null, reason: 'occupied' }
  const window = windowIntervals({ start: room.bookingStart, end: room.bookingEnd }, now, horizon, deps.config.appTimezone)
    .find((w) => w.start <= now && now < w.end)
  if (!window) return { until: null, reason: 'outside_hours' }
  const [next] = await executor.select({ start: reservations.startTime }).from(reservations)
    .where(and(eq(reservations.roomId, room.id), eq(reservations.status, 'active'), gt(reservations.startTime, now)))
    .orderBy(asc(reservations.startTime))
    .limit(1)
  let until = window.end < horizon ? window.end : horizon
  if (next && next.start < until) until = next.start
  // Those overlapping [now, until) come earliest first: the first one still to come ends the free time.
  const closureAhead = (await closuresOverlapping(executor, room.id, now, until)).find((c) => c.startTime > now)
  if (closureAhead) until = closureAhead.startTime
  return { until, reason: null }
}

/** The walk-up lengths on offer: 30/60/90 minutes capped at `until`, without duplicates or slivers. */
type BookNowMinutes = (typeof BOOK_NOW_MINUTES)[number]
function bookNowOptions(now: Date, until: Date | null): { minutes: BookNowMinutes; end: Date }[] {
  if (!until) return []
  const options: { minutes: BookNowMinutes; end: Date }[] = []
  for (const minutes of BOOK_NOW_MINUTES) {
    const end = new Date(Math.min(now.getTime() + minutes * MINUTE, until.getTime()))
    if (end.getTime() - now.getTime() < BOOK_NOW_MIN_MINUTES * MINUTE) continue
    if (options.some((o) => o.end.getTime() === end.getTime())) continue
    options.push({ minutes, end })
  }
  return options
}

/** The next local midnight after `now` in the app's time zone. */

/** Releases the room's due no-shows (so the view and a walk-up booking see the slot free at once). */
async function releaseRoom(deps: CheckInDeps, roomId: number): Promise<void> {
  await writeTransaction(deps.database, (tx) => releaseDue(deps, tx, { roomId }))
}

/**
 * GET /scan/:id?k=: the room now, today's remaining bookings and the one action that fits the
 * viewer (undefined = not logged in).
 */
export async function scanView(deps: CheckInDeps, viewer: ActingUser | undefined, roomId: number, key: unknown): Promise<ScanView> {
  const view = await scanPageView(deps, viewer, roomId, key)
  return { ...view, today: view.today.map(({ lesson: _lesson, title: _title, public_name: _name, ...entry }) => entry) }
}

/** The scan page's view: scanView with each booking's lesson, title and the name the page may show. */
export async function scanPageView(deps: CheckInDeps, viewer: ActingUser | undefined, roomId: number, key: unknown): Promise<ScanPageView> {
  const room = await roomOf(deps.database.db, roomId)
  await releaseRoom(deps, roomId)
  const now = deps.clock.now()
  const db = deps.database.db
  const proof = proofOf(deps, room, key, now)

  const [view, todayRows, freeIfOpen, mine] = await Promise.all([
    getRoomView(deps, roomId),
    db.select({
      id: reservations.id, userId: reservations.userId, ...OWNER_COLUMNS, startTime: reservations.startTime,
      endTime: reservations.endTime, checkInRequired: reservations.checkInRequired, checkedInAt: reservations.checkedInAt,
      seriesId: reservations.seriesId, title: reservations.title,
    }).from(reservations).innerJoin(users, eq(users.id, reservations.userId))
      .where(and(eq(reservations.roomId, roomId), remainingToday(now, deps.config.appTimezone)))
      .orderBy(asc(reservations.startTime)),
    room.type === 'public' && !room.isBlocked ? freeUntil(deps, db, room, now) : Promise.resolve({ until: null, reason: null as ViewReason }),
    viewer
      ? db.select().from(reservations)
        .where(and(eq(reservations.roomId, roomId), eq(reservations.userId, viewer.id), eq(reservations.status, 'active'),
          gt(reservations.endTime, now), lt(reservations.startTime, new Date(now.getTime() + room.checkInOpensMin * MINUTE + 1))))
        .orderBy(asc(reservations.startTime))
        .limit(1)
      : Promise.resolve([] as Reservation[]),
  ])

  // A closure covering now (the room view's, which the page's status line shows) leaves nothing to
  // book, whatever freeUntil found around it.
  const free = view.closure ? { until: null, reason: 'closed' as ViewReason } : freeIfOpen
  const own = mine[0]
  const options = bookNowOptions(now, free.until)
  let action: ScanAction = 'view'
  let reason: ViewReason = null
  const proofReason: ViewReason = proof.status === 'ok' ? null : `key_${proof.status}`
  if (!viewer) action = 'login'
  else if (own) {
    const window = checkInWindow(room, own)
    if (own.checkedInAt) reason = 'checked_in'
    else if (now < window.opens || now >= window.closes) reason = 'check_in_not_open'
    else if (proofReason) reason = proofReason
    else action = 'check_in'
  } else if (room.isBlocked) reason = 'blocked'
  else if (room.type !== 'public') reason = 'not_bookable'
  else if (!free.until) reason = free.reason
  else if (options.length === 0) reason = 'too_short'
  // Without a key (the public code) book now is an ordinary booking, not checked in; with a key
  // that proves nothing (stale, replaced, wrong kind) it is refused, so the viewer scans again.
  else if (proofReason && proof.status !== 'missing') reason = proofReason
  else {
    action = 'book_now'
    reason = proofReason
  }

  return {
    room: view,
    action,
    key_status: proof.key.status,
    key_kind: proof.key.kind,
    proof_ok: proof.status === 'ok',
    reason,
    reservation: own ? reservationView(own, room, now) : null,
    free_until: free.until ? formatUtc(free.until) : null,
    book_now: options.map((o) => ({ minutes: o.minutes, end_time: formatUtc(o.end) })),
    today: todayRows.map((r) => {
      const mine = viewer !== undefined && r.userId === viewer.id
      return {
        id: r.id,
        user_name: mine ? r.userName : apiUserName(deps.config, r),
        start_time: formatUtc(r.startTime),
        end_time: formatUtc(r.endTime),
        ...checkInFields(r),
        mine,
        lesson: r.seriesId !== null,
        title: r.title,
        public_name: publicName(r),
      }
    }),
  }
}

/**
 * Walk-up booking at the door: from now for 30, 60 or 90 minutes, capped at the next booking, the
 * next closure and the room's daily window. With the proof of presence the room requires it is booked already
 * checked in (the booker is at the door); without a key (the public qr_code_url) it is an ordinary
 * booking from now, which still needs a check-in if the room requires one; a key that proves
 * nothing (stale, replaced, invalid, a poster in a `display` room) is refused, saying what to
 * scan. The usual booking rules apply (public, not blocked, window, overlap 409).
 */
export async function bookNow(deps: CheckInDeps, actor: ActingUser, roomId: number, key: unknown, minutes: unknown): Promise<CreatedReservation> {
  const length = Number(minutes)
  if (!BOOK_NOW_MINUTES.includes(length as (typeof BOOK_NOW_MINUTES)[number])) throw new BadRequest(CHECK_IN_MSG.badMinutes)
  const room = await roomOf(deps.database.db, roomId)
  const proof = proofOf(deps, room, key, deps.clock.now())
  if (proof.status !== 'ok' && proof.status !== 'missing') throw proofError(room.checkInProof, proof.status)
  const checkedIn = proof.status === 'ok'
  await releaseRoom(deps, roomId)
  return writeTransaction(deps.database, async (tx) => {
    const now = deps.clock.now()
    if (room.type === 'public' && !room.isBlocked) {
      const free = await freeUntil(deps, tx, room, now)
      if (free.reason === 'occupied') throw new Conflict(CHECK_IN_MSG.occupied)
      if (free.reason === 'outside_hours') throw new BadRequest(CHECK_IN_MSG.outsideHours)
      const option = bookNowOptions(now, free.until).find((o) => o.minutes === length)
        ?? bookNowOptions(now, free.until).at(-1)
      if (!option) throw new Conflict(CHECK_IN_MSG.tooShort)
      return createReservation(deps, tx, {
        roomId, userId: actor.id, start: now, end: option.end, actor, policy: WALK_UP, checkedIn,
      })
    }
    // Not bookable: let the booking rules give their usual answer (403 / 409).
    return createReservation(deps, tx, {
      roomId, userId: actor.id, start: now, end: new Date(now.getTime() + length * MINUTE), actor, policy: WALK_UP, checkedIn,
    })
  })
}
