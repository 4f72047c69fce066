/**
 * What the waitlist answers (issue 28), and the answers its routes declare. Joining checks the
 * wanted booking as the booking path does, so those answers are the booking's own (BOOKING_MSG,
 * POLICY_MSG); these are the waitlist's.
 */
import type { ErrorAnswers } from '../../../lib/errors'
import { TIME_MSG } from '../../../lib/time'
import { BOOKING_MSG, POLICY_403, ROOM_MSG } from '../messages'

/** How many slots one person may wait for at a time (entries still waiting, start in the future). */
export const MAX_WAITS = 10

export const WAITLIST_MSG = {
  slotFree: 'the slot is free: book it instead of waiting',
  alreadyWaiting: 'you are already waiting for an overlapping slot in this room',
  alreadyHolding: 'you already have a booking in this room at this time',
  tooMany: (max: number | string) => `waitlist limit reached: at most ${max} slots waited for at a time`,
  notFound: 'waitlist entry not found',
} as const

export const WAITLIST_ERRORS = {
  join: {
    400: [
      TIME_MSG.invalid, TIME_MSG.required, BOOKING_MSG.badRange, BOOKING_MSG.past, BOOKING_MSG.tooFarAhead('<BOOKING_HORIZON_DAYS>'),
      BOOKING_MSG.tooLong('<STUDENT_MAX_BOOKING_HOURS>'), BOOKING_MSG.startsEarly, BOOKING_MSG.endsLate,
    ],
    403: [BOOKING_MSG.notBookable, ...POLICY_403, WAITLIST_MSG.tooMany(MAX_WAITS)],
    404: [ROOM_MSG.notFound],
    409: [WAITLIST_MSG.slotFree, WAITLIST_MSG.alreadyWaiting, WAITLIST_MSG.alreadyHolding, BOOKING_MSG.blocked],
  },
  leave: { 404: [WAITLIST_MSG.notFound] },
} as const satisfies Record<string, ErrorAnswers>
