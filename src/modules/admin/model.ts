/** Request and response schemas of the admin routes (contract section 5). */
import { t } from 'elysia'
import { BoolIsh, BoolIshFilter, IdList, Id } from '../../lib/input'
import { InstantFilter, instantFields } from '../../lib/instant-input'
import { Pagination, PaginationQuery } from '../../lib/pagination'
import { manyValues } from '../../lib/query-params'
import { AUDIT_ACTIONS, AUDIT_EVENTS } from '../../core/audit'
import { ROLES, Role } from '../../core/identity/model'
import { CheckInFields, CheckInPolicyInput, Room, StatusFields, TimeRangeBody, Timestamp } from '../../core/bookings/model'
import { ADMIN_RESERVATION_MSG } from '../../core/bookings/reservations/admin'
import { Int } from '../../lib/wire-types'

export { CreateRoomBody, RoomReply, UpdateRoomBody } from '../../core/bookings/model'


export const IdParams = t.Object({ id: Id('id') })

// ---- users ----

const AdminUser = t.Object({
  id: Int(), name: t.String(), role: Role,
  teacher_pending: t.Boolean({ description: "a teacher who signed up, with a student's powers until approved (PATCH teacher_pending: false)" }),
  email: t.Union([t.String(), t.Null()], { description: 'where e-mail notices go (issue 28); null: none' }),
  created_at: Timestamp, updated_at: Timestamp,
}, { title: 'AdminUser' })
export const UserReply = t.Object({ user: AdminUser })
export const UserList = t.Object({ users: t.Array(AdminUser), pagination: Pagination })

export const UserListQuery = t.Object({
  q: t.Optional(t.String({ description: 'part of the name (case-insensitive)' })),
  role: manyValues('student, teacher or admin; repeat the key for several'),
  teacher_pending: t.Optional(BoolIshFilter('teacher_pending', { description: 'true (or 1): the teachers awaiting approval' })),
  ...PaginationQuery,
})

// Role is a plain string so a wrong value gets the same clear message on every route.
export const CreateUserBody = t.Object({
  name: t.String({ maxLength: 200 }),
  password: t.String({ maxLength: 1024 }),
  role: t.Optional(t.String({ maxLength: 20, description: 'student (default), teacher or admin' })),
}, { examples: [{ name: 'ivanov', password: 'a-long-password', role: 'teacher' }] })

export const UpdateUserBody = t.Object({
  name: t.Optional(t.String({ maxLength: 200 })),
  role: t.Optional(t.String({ maxLength: 20, description: 'student, teacher or admin' })),
  teacher_pending: t.Optional(BoolIsh('teacher_pending', { description: 'false approves a teacher who signed up (SIGNUP_TEACHERS=approve)' })),
  email: t.Optional(t.Union([t.String({ maxLength: 320 }), t.Null()], { description: "the user's address for e-mail notices, set without a confirmation link; null or \"\" removes it" })),
}, { examples: [{ teacher_pending: false }, { role: 'teacher' }, { email: 'ivanova@college.example' }] })

export const ResetPasswordBody = t.Object({ password: t.String({ maxLength: 1024 }) })

// ---- audit ----

const AuditLogEntry = t.Object({
  id: Int(),
  actor_id: t.Nullable(Int({ description: 'who made the change; null: the server itself (the sweeper, the waitlist)' })),
  action: t.UnionEnum(AUDIT_ACTIONS, {
    description: "the original's action names: every event is reported under the original's name for its kind (see event)",
  }),
  event: t.UnionEnum(AUDIT_EVENTS, { description: 'the precise kind of event', examples: ['room.qr_regenerated'] }),
  description: t.String(),
  payload: t.Record(t.String(), t.Unknown()),
  created_at: Timestamp,
}, {
  title: 'AuditLogEntry',
  examples: [{
    id: 42, actor_id: 1, action: 'update_room', event: 'room.qr_regenerated',
    description: 'admin issued a new QR code for room B101 (version 2); earlier codes no longer allow check-in',
    payload: { room_id: 1, qr_code_url: 'http://localhost:8080/static/qr/1.png', qr_version: 2 }, created_at: '2026-11-26T10:00:00Z',
  }],
})
export const AuditLogList = t.Object({ logs: t.Array(AuditLogEntry), pagination: t.Optional(Pagination) })
export const AuditLogQuery = t.Object({
  action: manyValues(`${AUDIT_ACTIONS.join(', ')}; each matches every event under it; repeat the key for several`),
  event: manyValues('precise kinds (e.g. room.created, reservation.released); repeat the key for several'),
  ...PaginationQuery,
})

// ---- stats ----

const count = Int({ minimum: 0 })
export const Stats = t.Object({
  stats: t.Object({
    rooms: t.Object({
      total: count, blocked: count, available: count, active_now: count,
      by_type: t.Object({ public: count, admin: count, service: count }),
    }),
    reservations: t.Object({
      total: count, active: count, upcoming: count,
      by_status: t.Object({ active: count, finished: count, cancelled: count }, {
        description: 'as the API reports them: cancelled includes the no-shows released by the sweeper',
      }),
      no_shows: Int({ minimum: 0, description: 'reservations released because they were not checked in in time (counted in by_status.cancelled)' }),
      checked_in: Int({ minimum: 0, description: 'reservations that were checked in (ever)' }),
      awaiting_check_in: Int({ minimum: 0, description: 'active, not ended, need a check-in and have none yet' }),
    }),
    users: t.Object({
      total: count,
      by_role: t.Object({ student: count, teacher: count, admin: count }),
    }),
    updated_at: Timestamp,
  }),
}, { title: 'Stats' })

// ---- reservations ----

/** From the seeded data (the document shifts its times to just after "now"). */
const ADMIN_RESERVATION_EXAMPLE = {
  id: 7, room: { id: 2, name: 'B102' }, user: { id: 3, name: 'student', role: 'student' },
  start_time: '2026-11-26T12:00:00Z', end_time: '2026-11-26T13:00:00Z', status: 'cancelled', cancel_reason: 'no_show', approval: null,
  check_in_required: true, checked_in_at: null, created_at: '2026-11-26T09:00:00Z', updated_at: '2026-11-26T12:15:00Z',
}
const AdminReservation = t.Object({
  id: Int(),
  room: t.Object({ id: Int(), name: t.String() }),
  user: t.Object({ id: Int(), name: t.String(), role: Role }),
  start_time: Timestamp,
  end_time: Timestamp,
  ...StatusFields,
  ...CheckInFields,
  created_at: Timestamp,
  updated_at: Timestamp,
}, { title: 'AdminReservation', examples: [ADMIN_RESERVATION_EXAMPLE] })
export const ReservationReply = t.Object({ reservation: AdminReservation })
export const ReservationList = t.Object({ reservations: t.Array(AdminReservation), pagination: Pagination })

export const ReservationListQuery = t.Object({
  q: t.Optional(t.String({ description: 'part of the room or user name (case-insensitive)' })),
  status: manyValues('active, finished or cancelled (cancelled includes released no-shows; `released` alone lists only those); repeat the key for several'),
  checked_in: t.Optional(BoolIshFilter('checked_in', { description: 'true: checked in; false: not checked in' })),
  room_id: t.Optional(t.String({ description: 'room id' })),
  user_id: t.Optional(t.String({ description: 'user id' })),
  start_from: InstantFilter('start_from', { description: 'start_time at or after' }),
  start_to: InstantFilter('start_to', { description: 'start_time at or before' }),
  end_from: InstantFilter('end_from', { description: 'end_time at or after' }),
  end_to: InstantFilter('end_to', { description: 'end_time at or before' }),
  ...PaginationQuery,
})

/** An admin's override of a closure, by name (core/bookings/reservations/policies.ts: adminPolicy). */
const OverrideClosure = (what: string) => t.Optional(t.Boolean({
  description: `${what} (without it: 409 room is closed); recorded in the change (override: 'closure')`,
}))

/** A move's instants: both or neither. */
const moveTimes = instantFields({ together: ADMIN_RESERVATION_MSG.bothTimes })

export const UpdateReservationBody = t.Object({
  start_time: moveTimes.optional('start_time', { description: 'new start (with end_time)', examples: ['2026-11-26T10:00:00Z'] }),
  end_time: moveTimes.optional('end_time', { description: 'new end (with start_time)', examples: ['2026-11-26T11:00:00Z'] }),
  user_id: t.Optional(t.Integer({ minimum: 1, maximum: 2147483647, description: 'give the reservation to this user' })),
  status: t.Optional(t.String({ maxLength: 20, description: 'active, finished or cancelled' })),
  override_closure: OverrideClosure("reactivate or move the reservation into a closure of its room all the same"),
}, { examples: [{ start_time: '2026-11-26T10:00:00Z', end_time: '2026-11-26T11:00:00Z' }, { status: 'cancelled' }, { status: 'active', override_closure: true }] })

export const BulkCancelBody = t.Object({
  reservation_ids: IdList('reservation_ids', { description: 'reservations to cancel; unknown ids are ignored (listed in missing_ids)' }),
}, { examples: [{ reservation_ids: [12, 13] }] })
export const BulkCancelReply = t.Object({
  cancelled: Int({ minimum: 0, description: 'how many were cancelled by this request (those already cancelled are not counted)' }),
  missing_ids: t.Array(Int(), { description: 'ids that name no reservation (ignored)' }),
}, { examples: [{ cancelled: 2, missing_ids: [] }] })

// ---- rooms ----

export const BulkBlockBody = t.Object({
  room_ids: IdList('room_ids', { description: 'rooms to block or unblock; unknown ids are ignored (listed in missing_ids)' }),
  is_blocked: BoolIsh('is_blocked'),
}, { examples: [{ room_ids: [1, 2], is_blocked: true }] })
export const BulkBlockReply = t.Object({
  updated: Int({ minimum: 0, description: 'how many rooms this request changed (rooms already in that state are not counted)' }),
  missing_ids: t.Array(Int(), { description: 'ids that name no room (ignored)' }),
}, { examples: [{ updated: 2, missing_ids: [] }] })

export const RoomListQuery = t.Object({
  q: t.Optional(t.String({ description: 'part of the room name (case-insensitive)' })),
  status: manyValues('available, occupied or blocked; repeat the key for several'),
  type: manyValues('public, admin or service; repeat the key for several'),
  is_blocked: t.Optional(BoolIshFilter('is_blocked', { description: 'blocked rooms only, or unblocked ones only' })),
  ...PaginationQuery,
})
export const AdminRoomList = t.Object({ rooms: t.Array(Room), pagination: Pagination })

export const QrReply = t.Object({ qr_code_url: t.String() })

export const AdminReserveBody = t.Object({
  user_id: t.Integer({ minimum: 1, maximum: 2147483647, description: 'whose reservation it is' }),
  ...TimeRangeBody.properties,
  override_closure: OverrideClosure('book into a closure of the room all the same'),
}, { examples: [{ user_id: 3, start_time: '2026-11-26T10:00:00Z', end_time: '2026-11-26T11:00:00Z' }] })
export const AdminReserveReply = t.Object({ reservation_id: Int() })
