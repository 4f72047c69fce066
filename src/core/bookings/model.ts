/** Schemas of the room routes (contract section 3), shared with the admin routes. */
import { t } from 'elysia'
import { ROOM_MSG } from './messages'
import { BoolIsh, Id, WholeNumberInput } from '../../lib/input'
import { instantFields } from '../../lib/instant-input'
import { DateTime, Int } from '../../lib/wire-types'
import { HIDDEN_USER_NAME } from './views/public-names'

export const ROOM_TYPES = ['public', 'admin', 'service'] as const
export const ROOM_STATUSES = ['available', 'occupied', 'blocked'] as const

/**
 * The reservation statuses the API reports: the original's three. A no-show released by the
 * sweeper (stored `released`) is reported `cancelled` with `cancel_reason: "no_show"`.
 */
export const RESERVATION_STATUSES = ['active', 'finished', 'cancelled'] as const
export type ReportedStatus = (typeof RESERVATION_STATUSES)[number]
/**
 * Why a `cancelled` reservation is cancelled, when its owner did not cancel it: a no-show released
 * by the sweeper, bumped by a lesson, rejected by an admin, or not approved before its start.
 */
export const CANCEL_REASONS = ['no_show', 'bumped', 'rejected', 'not_approved'] as const
export type CancelReason = (typeof CANCEL_REASONS)[number]
/** Where a booking stands with an admin, for rooms whose policy requires approval (issue 16). */
const APPROVALS = ['pending', 'approved', 'rejected'] as const
/** What check-in requires as proof of presence (decision 013). */
const CHECK_IN_PROOFS = ['display', 'poster', 'none'] as const
export const CLOSURE_KINDS = ['holiday', 'maintenance', 'exam', 'other'] as const

// Examples of the OpenAPI document, from the seeded data. The document shifts their times to
// just after "now" (src/plugins/docs.ts), so that Try it out works as shown.
const ROOM_EXAMPLE = {
  id: 1, name: 'B101', type: 'public', is_blocked: false, qr_code_url: 'https://qrbook.example.com/static/qr/1.png',
  status: 'occupied',
  current_reservation: { id: 1, user_id: 2, user_name: 'teacher', end_time: '2026-11-26T11:30:00Z', check_in_required: true, checked_in_at: '2026-11-26T09:30:00Z' },
  next_reservation: null, booking_window: { start: '08:00', end: '20:00' }, series_require_check_in: false, closure: null,
  requires_check_in: true, check_in_opens_min: 10, auto_release_after_min: 15, check_in_proof: 'poster',
}
const SCHEDULE_ENTRY_EXAMPLE = {
  id: 7, user_id: 3, user_name: 'student', start_time: '2026-11-26T12:00:00Z', end_time: '2026-11-26T13:00:00Z',
  status: 'cancelled', cancel_reason: null, approval: null, check_in_required: true, checked_in_at: null,
}
const RESERVATION_EXAMPLE = {
  id: 8, room_id: 1, room_name: 'B101', start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z',
  status: 'active', cancel_reason: null, approval: null, check_in_required: true, checked_in_at: null,
}

/** An instant in an answer (lib/wire-types.ts): ISO 8601 in UTC, `format: date-time`. */
export const Timestamp = DateTime()
/** `user_name` in the public room views (decision 029). */
const PublicUserName = t.String({
  description: `the name of the booking's owner. With PUBLIC_USER_NAMES=private (default \`full\`: everyone's name) a student's name is replaced by "${HIDDEN_USER_NAME}" (teachers' and admins' names stay; user_id stays, so a client recognises its own bookings)`,
})
const TimeOfDay = t.Nullable(t.String({ description: 'local time of day in APP_TIMEZONE, "HH:MM"', examples: ['08:00'] }))

export const RoomIdParams = t.Object({ id: Id('room id') })

/** `status` and `cancel_reason`, as every reservation JSON carries them. */
export const StatusFields = {
  status: t.UnionEnum(RESERVATION_STATUSES, {
    description: 'active, finished (its end has passed) or cancelled (cancelled, or released as a no-show: see cancel_reason)',
  }),
  cancel_reason: t.Nullable(t.UnionEnum(CANCEL_REASONS, {
    description: 'no_show: released because it was not checked in in time; bumped: a teacher booked a lesson over it; rejected: an admin refused it; not_approved: nobody approved it before its start; null otherwise',
  }), { examples: [null] }),
  approval: t.Nullable(t.UnionEnum(APPROVALS, {
    description: "pending: awaits an admin (holds its slot, not shown as the room's current or next booking); approved; rejected; null: its room needed no approval",
  }), { examples: [null] }),
}

/** The check-in state every reservation JSON carries. */
export const CheckInFields = {
  check_in_required: t.Boolean({ description: 'made while its room required check-in: released if not checked in in time' }),
  checked_in_at: t.Nullable(Timestamp),
}

/** The frontend's Room type. */
export const Room = t.Object({
  id: Int(),
  name: t.String(),
  type: t.UnionEnum(ROOM_TYPES),
  is_blocked: t.Boolean(),
  qr_code_url: t.String(),
  status: t.UnionEnum(ROOM_STATUSES),
  current_reservation: t.Nullable(t.Object({
    id: Int(), user_id: Int(), user_name: PublicUserName, end_time: Timestamp, ...CheckInFields,
  })),
  next_reservation: t.Nullable(t.Object({
    id: Int(), start_time: Timestamp, user_name: PublicUserName,
  })),
  booking_window: t.Object({ start: TimeOfDay, end: TimeOfDay }),
  requires_check_in: t.Boolean({ description: 'new bookings must be checked in at the door (QR code) or are released' }),
  check_in_opens_min: Int({ description: 'check-in opens this many minutes before the start' }),
  auto_release_after_min: Int({ description: 'a booking not checked in this many minutes after its start is released' }),
  check_in_proof: t.UnionEnum(CHECK_IN_PROOFS, {
    description: "what check-in (and a walk-up booking's immediate check-in) must show: `display` the door display's rotating code, `poster` the printed poster's key (or the display's code), `none` nothing",
  }),
  series_require_check_in: t.Boolean({ description: 'lessons (series occurrences) need a check-in too where requires_check_in is on' }),
  closure: t.Nullable(t.Object({
    id: Int(),
    kind: t.UnionEnum(CLOSURE_KINDS),
    reason: t.String(),
    start_time: Timestamp,
    end_time: Timestamp,
  }), { description: 'the closure covering the room now (status `blocked`): a holiday, maintenance, an exam; null when none' }),
}, { title: 'Room', examples: [ROOM_EXAMPLE] })

export const RoomReply = t.Object({ room: Room })
export const RoomList = t.Object({ rooms: t.Array(Room) })

/** One reservation in a room's schedule or history. */
export const ScheduleEntry = t.Object({
  id: Int(),
  user_id: Int(),
  user_name: PublicUserName,
  start_time: Timestamp,
  end_time: Timestamp,
  ...StatusFields,
  ...CheckInFields,
}, {
  title: 'ScheduleEntry',
  description: "A reservation in a room's schedule or history. Why a booking ended is its owner's business: a cancelled entry has cancel_reason and approval null (the owner sees them in GET /reservations/mine); an active entry keeps approval (pending holds its slot).",
  examples: [SCHEDULE_ENTRY_EXAMPLE],
})

const FreeSlot = t.Object({ start: Timestamp, end: Timestamp }, { title: 'FreeSlot' })

export const RoomDetail = t.Object({
  room: Room,
  schedule: t.Array(ScheduleEntry),
  free_slots: t.Array(FreeSlot, { description: 'Gaps between active bookings and closures for the next 24 hours, clipped to the booking window, from now rounded up to the whole second.' }),
}, { title: 'RoomDetail' })

/** The check-in policy fields of the room write bodies; checked by the service for clear messages. */
export const CheckInPolicyInput = {
  requires_check_in: t.Optional(BoolIsh('requires_check_in', { description: 'new bookings must be checked in (default: true for public rooms)' })),
  check_in_opens_min: t.Optional(WholeNumberInput({
    minimum: 0, maximum: 1440, example: 10, message: ROOM_MSG.badMinutes('check_in_opens_min', 0),
    description: 'minutes before the start when check-in opens (default 10)',
  })),
  auto_release_after_min: t.Optional(WholeNumberInput({
    minimum: 1, maximum: 1440, example: 15, message: ROOM_MSG.badMinutes('auto_release_after_min', 1),
    description: 'minutes after the start when a booking without check-in is released (default 15)',
  })),
  series_require_check_in: t.Optional(BoolIsh('series_require_check_in', { description: 'lessons (series occurrences) must be checked in too, and are released as no-shows (default false)' })),
  check_in_proof: t.Optional(t.UnionEnum(CHECK_IN_PROOFS, {
    description: 'display, poster (default) or none: the proof of presence check-in requires', examples: ['display'], error: ROOM_MSG.badProof,
    // t.UnionEnum defaults to its first value: a body without the field would set `display`.
    default: undefined,
  })),
}

/**
 * POST /rooms and POST /admin/rooms. Fields are loosely typed so that a wrong value gets the
 * service's clear 400 message. `room_type` is the deployment guide's synonym of `type`.
 */
export const CreateRoomBody = t.Object({
  name: t.Optional(t.String({ maxLength: 200, description: 'unique room name', examples: ['B103'] })),
  type: t.Optional(t.String({ maxLength: 20, description: 'public (default), admin or service' })),
  room_type: t.Optional(t.String({ maxLength: 20, description: 'synonym of type' })),
  booking_start: t.Optional(t.Nullable(t.String({ maxLength: 8, description: 'daily window start "HH:MM" (APP_TIMEZONE), or null' }))),
  booking_end: t.Optional(t.Nullable(t.String({ maxLength: 8, description: 'daily window end "HH:MM" (APP_TIMEZONE), or null' }))),
  ...CheckInPolicyInput,
}, { examples: [{ name: 'TestRoom', room_type: 'public' }] })

const reservationTimes = instantFields()

/** Body of a reservation or a reschedule: both instants, decoded to Dates (lib/instant-input.ts). */
export const TimeRangeBody = t.Object({
  start_time: reservationTimes.required('start_time', { description: 'start', examples: ['2026-11-26T10:00:00Z'] }),
  end_time: reservationTimes.required('end_time', { description: 'end', examples: ['2026-11-26T11:00:00Z'] }),
}, { title: 'TimeRange', examples: [{ start_time: '2026-11-26T10:00:00Z', end_time: '2026-11-26T11:00:00Z' }] })

/** A reservation as the reserve route and GET /reservations/mine answer it. */
export const UserReservation = t.Object({
  id: Int(),
  room_id: Int(),
  room_name: t.String(),
  start_time: Timestamp,
  end_time: Timestamp,
  ...StatusFields,
  ...CheckInFields,
}, { title: 'Reservation', examples: [RESERVATION_EXAMPLE] })

export const ReservationCreated = t.Object({ reservation: UserReservation })

/** A reservation (as GET /reservations/mine answers it) with its check-in window. */
export const CheckInReservation = t.Object({
  ...UserReservation.properties,
  check_in_opens_at: DateTime({ description: 'check-in opens (ISO 8601 UTC)' }),
  check_in_closes_at: DateTime({ description: 'check-in closes, exclusive: the booking is released then if it needs a check-in (ISO 8601 UTC)' }),
})

/** A booking that is an occurrence of a series: a reservation with its series, title and whether it was changed on its own. */
export const Occurrence = t.Object({
  ...UserReservation.properties,
  series_id: Int({ description: 'the series it is an occurrence of' }),
  title: t.Nullable(t.String()),
  exception: t.Boolean({ description: 'moved or cancelled on its own: later series edits leave it alone' }),
}, { title: 'Occurrence' })

export const Series = t.Object({
  id: Int(),
  room_id: Int(),
  user_id: Int(),
  title: t.Nullable(t.String()),
  rrule: t.String({ description: 'the RRULE as stored (an end added from until_term)' }),
  time_zone: t.String({ description: 'occurrences keep their wall-clock time in this zone (APP_TIMEZONE)' }),
  start_time: Timestamp,
  end_time: Timestamp,
  until: DateTime({ description: 'the start of the last occurrence (ISO 8601 UTC)' }),
  until_term: t.Nullable(Int({ description: 'the term it runs until (until_term when created); null: none' })),
  created_at: Timestamp,
}, { title: 'Series' })

const ConflictKind = t.UnionEnum(['booking', 'closure'], { default: undefined })
export const SeriesConflict = t.Object({ kind: ConflictKind, id: Int(), msg: t.String() }, { title: 'SeriesConflict' })

export const Closure = t.Object({
  id: Int(),
  all_rooms: t.Boolean(),
  room_ids: t.Nullable(t.Array(Int()), { description: 'the rooms it closes; null when all_rooms' }),
  kind: t.UnionEnum(CLOSURE_KINDS),
  reason: t.String(),
  start_time: Timestamp,
  end_time: Timestamp,
  uid: t.Nullable(t.String({ description: 'the iCalendar UID of an imported closure' })),
}, { title: 'Closure' })

const TimeOfDayInput = (description: string) =>
  t.Optional(t.Nullable(t.String({ maxLength: 8, description: `${description} "HH:MM" (APP_TIMEZONE), or null for none` })))

export const UpdateRoomBody = t.Object({
  name: t.Optional(t.String({ maxLength: 200 })),
  type: t.Optional(t.String({ maxLength: 20, description: 'public, admin or service' })),
  room_type: t.Optional(t.String({ maxLength: 20, description: 'synonym of type' })),
  is_blocked: t.Optional(BoolIsh('is_blocked')),
  booking_start: TimeOfDayInput('daily window start'),
  booking_end: TimeOfDayInput('daily window end'),
  ...CheckInPolicyInput,
}, { examples: [{ is_blocked: true }, { booking_start: '08:00', booking_end: '20:00' }, { requires_check_in: true, check_in_opens_min: 10, auto_release_after_min: 15 }, { check_in_proof: 'display' }] })
