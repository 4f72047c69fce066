/** Schemas of the fair-use routes (issue 16): policies, the caller's limits, approvals. */
import { t } from 'elysia'
import { Role } from '../../core/identity/model'
import { ROOM_TYPES, Timestamp, UserReservation } from '../../core/bookings/model'
import { Int } from '../../lib/wire-types'

const limit = (description: string, minimum: number, maximum: number) =>
  t.Optional(t.Nullable(t.Integer({ minimum, maximum, description: `${description}; null: no limit`, error: `must be a whole number from ${minimum} to ${maximum}, or null` })))

/** The limits of a rule, as written and as answered. */
const LIMITS = {
  max_duration_min: limit('longest booking, in minutes', 1, 366 * 1440),
  min_notice_min: limit('a booking must start at least this many minutes after it is made', 0, 366 * 1440),
  max_advance_days: limit('a booking may start at most this many days ahead', 1, 3660),
  max_active: limit('bookings not yet over (pending included) at once', 0, 10_000),
  max_minutes_per_week: limit('minutes booked per week, Monday to Monday in APP_TIMEZONE', 0, 7 * 1440),
  slot_granularity_min: limit('starts and ends on this grid of local time (30: 10:00, 10:30, ...)', 1, 1440),
}

const Scope = {
  room_type: t.Optional(t.Nullable(t.UnionEnum(ROOM_TYPES, { default: undefined, description: 'only in rooms of this type', error: `room_type must be one of ${ROOM_TYPES.join(', ')}` }))),
  room_id: t.Optional(t.Nullable(t.Integer({ minimum: 1, maximum: 2147483647, description: 'only in this room' }))),
}

const RECOMMENDED_EXAMPLE = { role: 'student', max_duration_min: 240, max_advance_days: 14, max_active: 3, max_minutes_per_week: 600 }

export const CreatePolicyBody = t.Object({
  role: t.UnionEnum(['student', 'teacher'], { default: undefined, description: 'whose bookings it limits (admins are exempt)', error: 'role must be student or teacher' }),
  ...Scope,
  ...LIMITS,
  requires_approval: t.Optional(t.Boolean({ description: "bookings wait for an admin's approval (pending)" })),
  note: t.Optional(t.Nullable(t.String({ maxLength: 200 }))),
}, { examples: [RECOMMENDED_EXAMPLE] })

export const UpdatePolicyBody = t.Object({
  ...Scope,
  ...LIMITS,
  requires_approval: t.Optional(t.Boolean()),
  note: t.Optional(t.Nullable(t.String({ maxLength: 200 }))),
}, { examples: [{ max_minutes_per_week: 480 }] })

const nullableInt = t.Nullable(Int())
const Policy = t.Object({
  id: Int(),
  role: Role,
  room_type: t.Nullable(t.UnionEnum(ROOM_TYPES)),
  room_id: nullableInt,
  max_duration_min: nullableInt,
  min_notice_min: nullableInt,
  max_advance_days: nullableInt,
  max_active: nullableInt,
  max_minutes_per_week: nullableInt,
  slot_granularity_min: nullableInt,
  requires_approval: t.Boolean(),
  note: t.Nullable(t.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { title: 'BookingPolicy', examples: [{ id: 1, ...RECOMMENDED_EXAMPLE, room_type: null, room_id: null, min_notice_min: null, slot_granularity_min: null, requires_approval: false, note: null, created_at: '2026-11-26T10:00:00Z', updated_at: '2026-11-26T10:00:00Z' }] })

export const PolicyReply = t.Object({ policy: Policy })
export const PolicyList = t.Object({ policies: t.Array(Policy) })
export const RecommendedReply = t.Object({ added: t.Array(Int(), { description: 'ids of the rules added now (empty when all were there)' }), policies: t.Array(Policy) })

const Usage = t.Object({ active: Int({ minimum: 0 }), minutes_this_week: Int({ minimum: 0 }) })
export const MyPolicies = t.Object({
  role: Role,
  exempt: t.Boolean({ description: 'admins: no limit applies' }),
  limits: t.Object({
    max_duration_min: nullableInt, min_notice_min: nullableInt, max_advance_days: nullableInt, max_active: nullableInt,
    max_minutes_per_week: nullableInt, slot_granularity_min: nullableInt, requires_approval: t.Boolean(),
  }, { description: 'the strictest of the rules that apply in every room (null: no limit); rules for a room type or a room are in `rules`' }),
  usage: t.Object({ ...Usage.properties, week_start: Timestamp, week_end: Timestamp }, { description: 'your bookings not yet over, and minutes booked this week (Monday 00:00 local)' }),
  rules: t.Array(t.Object({ ...Policy.properties, usage: Usage }), { description: 'every rule of your role, with your usage in its scope' }),
  no_shows: t.Object({
    count: Int({ minimum: 0, description: 'bookings released as no-shows in the last window_days' }),
    threshold: Int({ minimum: 0, description: 'this many within window_days suspend booking (0: never)' }),
    window_days: Int(),
    suspension_days: Int(),
    suspended_until: t.Nullable(Timestamp),
  }),
}, { title: 'MyPolicies' })

export const PendingBooking = t.Object({
  ...UserReservation.properties,
  user_id: Int(),
  user_name: t.String(),
  created_at: Timestamp,
}, { title: 'PendingBooking' })

export const DecisionBody = t.Object({
  decision: t.UnionEnum(['approve', 'reject'], { default: undefined, error: 'decision must be approve or reject' }),
  reason: t.Optional(t.String({ maxLength: 300, description: "shown in the audit log (and to the booking's owner there)" })),
}, { examples: [{ decision: 'approve' }] })

export const DecisionReply = t.Object({ reservation: UserReservation, reason: t.Nullable(t.String()) })
