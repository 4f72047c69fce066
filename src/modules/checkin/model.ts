/** Schemas of the check-in routes (issue 7): scan view, check-in, check-out, walk-up booking. */
import { t } from 'elysia'
import { CheckInFields, CheckInReservation, Room, Timestamp } from '../../core/bookings/model'
import { Type } from '@sinclair/typebox'
import { BOOK_NOW_MINUTES, CHECK_IN_MSG } from '../../core/bookings/messages'
import { VIEW_REASONS } from '../../core/bookings/checkin/checkin'
import { BadRequest } from '../../lib/errors'
import { Id } from '../../lib/input'
import { DateTime, Int } from '../../lib/wire-types'

export const ScanParams = t.Object({ id: Id('room id') })
export const ReservationParams = t.Object({ id: Id('reservation id') })

const Key = t.Optional(t.String({
  maxLength: 64,
  description: "the `k` of the scanned code: the door display's rotating code or the printed poster's key (the public qr_code_url has none)",
  examples: ['Xy3kP0q9Lm2A'],
}))

export const ScanQuery = t.Object({ k: Key })

export const CheckInBody = t.Object({ k: Key }, { examples: [{ k: 'Xy3kP0q9Lm2A' }] })

export const BookNowBody = t.Object({
  k: Key,
  // Required: without it the answer was always 400 `minutes must be one of 30, 60, 90`, and still is.
  // A string is read as a number by the service (a form's "30"), as it always was.
  minutes: t.Union([...BOOK_NOW_MINUTES.map((m) => Type.Literal(m)), t.String({ description: 'the same as a string of it ("30"), as a form sends it' })], {
    description: '30, 60 or 90: capped at the next booking, the next closure and the daily window',
    examples: [30],
    error: () => new BadRequest(CHECK_IN_MSG.badMinutes),
  }),
}, { examples: [{ k: 'Xy3kP0q9Lm2A', minutes: 30 }] })


export const CheckInReply = t.Object({ reservation: CheckInReservation })

export const ScanReply = t.Object({
  room: Room,
  action: t.UnionEnum(['check_in', 'book_now', 'login', 'view'], { description: 'the one action that fits the viewer' }),
  key_status: t.UnionEnum(['valid', 'stale', 'outdated', 'invalid', 'missing'], {
    description: "k compared with the room's codes: valid (the poster's key, or the display's code of this period or the last), stale (an older display code), outdated (a replaced poster), invalid, missing",
  }),
  key_kind: t.Nullable(t.UnionEnum(['poster', 'display'], { description: 'where a recognised k comes from' })),
  proof_ok: t.Boolean({ description: "k proves presence as the room's check_in_proof requires: check-in is possible and book now is checked in at once" }),
  reason: t.Nullable(t.UnionEnum(VIEW_REASONS, {
    default: undefined, // an answer has no default (UnionEnum's would be key_missing)
    description: 'why a logged-in viewer gets "view" (or, with book_now, why it will not be checked in at once): key_missing, key_invalid, key_outdated, key_stale, key_needs_display, blocked, closed (a closure covers the room now), not_bookable, occupied, outside_hours, too_short, checked_in, check_in_not_open',
  })),
  reservation: t.Nullable(CheckInReservation),
  free_until: t.Nullable(DateTime({ description: 'the room is free until then (next booking, start of a closure, end of the daily window, at most 24 h; ISO 8601 UTC); null when not free now' })),
  book_now: t.Array(t.Object({ minutes: t.UnionEnum(BOOK_NOW_MINUTES, { default: undefined }), end_time: Timestamp }), { description: 'walk-up lengths on offer' }),
  today: t.Array(t.Object({
    id: Int(), user_name: t.String(), start_time: Timestamp, end_time: Timestamp, ...CheckInFields, mine: t.Boolean(),
  }), { description: "today's remaining active bookings (APP_TIMEZONE)" }),
})
