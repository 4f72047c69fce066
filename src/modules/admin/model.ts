/** Request and response schemas of the admin routes (contract section 5). */
import { t } from 'elysia'
import { Pagination, PaginationQuery } from '../../lib/pagination'
import { manyValues } from '../../lib/query-params'
import { ROLES } from '../auth/model'
import { CheckInFields, CheckInPolicyInput, RESERVATION_STATUSES, Room, TimeRangeBody, Timestamp } from '../rooms/model'

export { ROLES }
export { CreateRoomBody, RoomReply, ROOM_STATUSES, ROOM_TYPES, RESERVATION_STATUSES } from '../rooms/model'

const Role = t.UnionEnum(ROLES)
const ReservationStatus = t.UnionEnum(RESERVATION_STATUSES)

export const IdParams = t.Object({ id: t.Numeric({ minimum: 1, maximum: 2147483647, description: 'id' }) })

// ---- users ----

export const AdminUser = t.Object({
  id: t.Integer(), name: t.String(), role: Role, created_at: Timestamp, updated_at: Timestamp,
})
export const UserReply = t.Object({ user: AdminUser })
export const UserList = t.Object({ users: t.Array(AdminUser), pagination: Pagination })

export const UserListQuery = t.Object({
  q: t.Optional(t.String({ description: 'part of the name (case-insensitive)' })),
  role: manyValues('student, teacher or admin; repeat the key for several'),
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
})

export const ResetPasswordBody = t.Object({ password: t.String({ maxLength: 1024 }) })

// ---- audit ----

export const AuditLogEntry = t.Object({
  id: t.Integer(),
  actor_id: t.Nullable(t.Integer()),
  action: t.String(),
  description: t.String(),
  payload: t.Record(t.String(), t.Unknown()),
  created_at: Timestamp,
})
export const AuditLogList = t.Object({ logs: t.Array(AuditLogEntry), pagination: t.Optional(Pagination) })
export const AuditLogQuery = t.Object({ ...PaginationQuery })

// ---- stats ----

const count = t.Integer({ minimum: 0 })
export const Stats = t.Object({
  stats: t.Object({
    rooms: t.Object({
      total: count, blocked: count, available: count, active_now: count,
      by_type: t.Object({ public: count, admin: count, service: count }),
    }),
    reservations: t.Object({
      total: count, active: count, upcoming: count,
      by_status: t.Object({ active: count, finished: count, cancelled: count, released: count }),
      checked_in: t.Integer({ minimum: 0, description: 'reservations that were checked in (ever)' }),
      awaiting_check_in: t.Integer({ minimum: 0, description: 'active, not ended, need a check-in and have none yet' }),
    }),
    users: t.Object({
      total: count,
      by_role: t.Object({ student: count, teacher: count, admin: count }),
    }),
    updated_at: Timestamp,
  }),
})

// ---- reservations ----

export const AdminReservation = t.Object({
  id: t.Integer(),
  room: t.Object({ id: t.Integer(), name: t.String() }),
  user: t.Object({ id: t.Integer(), name: t.String(), role: Role }),
  start_time: Timestamp,
  end_time: Timestamp,
  status: ReservationStatus,
  ...CheckInFields,
  created_at: Timestamp,
  updated_at: Timestamp,
})
export const ReservationReply = t.Object({ reservation: AdminReservation })
export const ReservationList = t.Object({ reservations: t.Array(AdminReservation), pagination: Pagination })

const time = (description: string) => t.Optional(t.String({ description: `${description} (ISO 8601)` }))
export const ReservationListQuery = t.Object({
  q: t.Optional(t.String({ description: 'part of the room or user name (case-insensitive)' })),
  status: manyValues('active, finished, cancelled or released; repeat the key for several'),
  checked_in: t.Optional(t.String({ description: 'true: checked in; false: not checked in' })),
  room_id: t.Optional(t.String({ description: 'room id' })),
  user_id: t.Optional(t.String({ description: 'user id' })),
  start_from: time('start_time at or after'),
  start_to: time('start_time at or before'),
  end_from: time('end_time at or after'),
  end_to: time('end_time at or before'),
  ...PaginationQuery,
})

export const UpdateReservationBody = t.Object({
  ...TimeRangeBody.properties,
  user_id: t.Optional(t.Integer({ minimum: 1, maximum: 2147483647, description: 'give the reservation to this user' })),
  status: t.Optional(t.String({ maxLength: 20, description: 'active, finished or cancelled' })),
}, { examples: [{ start_time: '2026-11-26T10:00:00Z', end_time: '2026-11-26T11:00:00Z' }, { status: 'cancelled' }] })

export const BulkCancelBody = t.Object({
  reservation_ids: t.Array(t.Integer({ minimum: 1, maximum: 2147483647 }), { minItems: 1, maxItems: 1000 }),
})
export const BulkCancelReply = t.Object({ cancelled: t.Integer() })

// ---- rooms ----

export const BulkBlockBody = t.Object({
  room_ids: t.Array(t.Integer({ minimum: 1, maximum: 2147483647 }), { minItems: 1, maxItems: 1000 }),
  is_blocked: t.Boolean(),
})
export const BulkBlockReply = t.Object({ updated: t.Integer() })

export const RoomListQuery = t.Object({
  q: t.Optional(t.String({ description: 'part of the room name (case-insensitive)' })),
  status: manyValues('available, occupied or blocked; repeat the key for several'),
  type: manyValues('public, admin or service; repeat the key for several'),
  is_blocked: t.Optional(t.String({ description: 'true or false' })),
  ...PaginationQuery,
})
export const AdminRoomList = t.Object({ rooms: t.Array(Room), pagination: Pagination })

const TimeOfDayInput = (description: string) =>
  t.Optional(t.Nullable(t.String({ maxLength: 8, description: `${description} "HH:MM" (APP_TIMEZONE), or null for none` })))

export const UpdateRoomBody = t.Object({
  name: t.Optional(t.String({ maxLength: 200 })),
  type: t.Optional(t.String({ maxLength: 20, description: 'public, admin or service' })),
  room_type: t.Optional(t.String({ maxLength: 20, description: 'synonym of type' })),
  is_blocked: t.Optional(t.Boolean()),
  booking_start: TimeOfDayInput('daily window start'),
  booking_end: TimeOfDayInput('daily window end'),
  ...CheckInPolicyInput,
}, { examples: [{ is_blocked: true }, { booking_start: '08:00', booking_end: '20:00' }, { requires_check_in: true, check_in_opens_min: 10, auto_release_after_min: 15 }, { check_in_proof: 'display' }] })

export const QrReply = t.Object({ qr_code_url: t.String() })

export const AdminReserveBody = t.Object({
  user_id: t.Integer({ minimum: 1, maximum: 2147483647, description: 'whose reservation it is' }),
  ...TimeRangeBody.properties,
}, { examples: [{ user_id: 3, start_time: '2026-11-26T10:00:00Z', end_time: '2026-11-26T11:00:00Z' }] })
export const AdminReserveReply = t.Object({ reservation_id: t.Integer() })
