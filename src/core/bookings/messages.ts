/**
 * Every message the booking core answers with. The services throw these, and the routes list the
 * same constants as their documented error answers (src/plugins/route-rules.ts), so the message a
 * client gets and the one the OpenAPI document shows cannot drift apart. A message with a number
 * in it is a function; the document calls it with a placeholder such as '<BOOKING_HORIZON_DAYS>'.
 */
import { CHECK_IN_PROOFS, ROOM_TYPES } from './model'

type Count = number | string
const plural = (n: Count, one: string, many: string) => `${n} ${n === 1 ? one : many}`

export const BOOKING_MSG = {
  badRange: 'Invalid time range: start must be before end',
  past: 'Cannot create reservation in the past',
  notBookable: 'room is not available for booking',
  blocked: 'room is temporarily unavailable',
  conflict: 'Reservation conflicts with existing booking',
  startsEarly: 'Reservation starts before allowed time',
  endsLate: 'Reservation ends after allowed time',
  notFound: 'reservation not found',
  notActive: 'Only active reservations can be changed',
  finished: 'Finished reservations cannot be cancelled',
  userNotFound: 'user not found',
  /** cancelling another student's booking */
  notYours: 'insufficient permissions',
  tooFarAhead: (days: Count) => `Reservation ends too far ahead: it must end within ${plural(days, 'day', 'days')} from now`,
  tooLong: (hours: Count) => `Reservation is too long: at most ${plural(hours, 'hour', 'hours')}`,
} as const

export const ROOM_MSG = {
  notFound: 'room not found',
  exists: 'room already exists',
  badType: (field: string, given: unknown) => `invalid ${field} ${JSON.stringify(given)}: expected ${ROOM_TYPES.join(', ')}`,
  badMinutes: (field: string, min: Count) => `${field} must be a whole number of minutes from ${min} to 1440`,
  badProof: `check_in_proof must be one of ${CHECK_IN_PROOFS.join(', ')}`,
} as const
