/**
 * The names of the shared schemas in the OpenAPI document, with examples from the seeded data.
 * A schema's `title` is what the document uses to list it once in components.schemas and refer
 * to it by $ref; it changes nothing in validation.
 */
import { LoginBody, LoginReply, PublicUser } from '../modules/auth/model'
import { Pagination } from '../lib/pagination'
import { AdminReservation, AdminUser, AuditLogEntry, Stats } from '../modules/admin/model'
import { FreeSlot, Room, RoomDetail, ScheduleEntry, TimeRangeBody, UserReservation } from '../modules/rooms/model'

const EXAMPLES: Record<string, unknown> = {
  Room: {
    id: 1, name: 'B101', type: 'public', is_blocked: false, qr_code_url: 'https://qrbook.example.com/static/qr/1.png',
    status: 'occupied',
    current_reservation: { id: 1, user_id: 2, user_name: 'teacher', end_time: '2026-11-26T11:30:00Z', check_in_required: true, checked_in_at: '2026-11-26T09:30:00Z' },
    next_reservation: null, booking_window: { start: '08:00', end: '20:00' },
    requires_check_in: true, check_in_opens_min: 10, auto_release_after_min: 15, check_in_proof: 'poster',
  },
  ScheduleEntry: {
    id: 7, user_id: 3, user_name: 'student', start_time: '2026-11-26T12:00:00Z', end_time: '2026-11-26T13:00:00Z',
    status: 'cancelled', cancel_reason: 'no_show', check_in_required: true, checked_in_at: null,
  },
  Reservation: {
    id: 8, room_id: 1, room_name: 'B101', start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z',
    status: 'active', cancel_reason: null, check_in_required: true, checked_in_at: null,
  },
  AdminReservation: {
    id: 7, room: { id: 2, name: 'B102' }, user: { id: 3, name: 'student', role: 'student' },
    start_time: '2026-11-26T12:00:00Z', end_time: '2026-11-26T13:00:00Z', status: 'cancelled', cancel_reason: 'no_show',
    check_in_required: true, checked_in_at: null, created_at: '2026-11-26T09:00:00Z', updated_at: '2026-11-26T12:15:00Z',
  },
  LoginRequest: { username: 'admin', password: 'admin1234' },
  TimeRange: { start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z' },
  User: { id: 3, name: 'student', role: 'student' },
}

let named = false

export function namedSchemas() {
  if (named) return
  named = true
  const entries: [string, object][] = [
    ['Room', Room], ['RoomDetail', RoomDetail], ['ScheduleEntry', ScheduleEntry], ['FreeSlot', FreeSlot],
    ['Reservation', UserReservation], ['TimeRange', TimeRangeBody], ['User', PublicUser], ['LoginRequest', LoginBody],
    ['LoginReply', LoginReply], ['Pagination', Pagination], ['AdminUser', AdminUser], ['AdminReservation', AdminReservation],
    ['AuditLogEntry', AuditLogEntry], ['Stats', Stats],
  ]
  for (const [name, schema] of entries) {
    const target = schema as { title?: string; examples?: unknown[] }
    target.title ??= name
    if (EXAMPLES[name] && !target.examples) target.examples = [EXAMPLES[name]]
  }
}
