/**
 * Every message the booking core answers with. The services throw these, and the routes list the
 * same constants as their documented error answers (src/plugins/route-rules.ts), so the message a
 * client gets and the one the OpenAPI document shows cannot drift apart. A message with a number
 * in it is a function; the document calls it with a placeholder such as '<BOOKING_HORIZON_DAYS>'.
 * A new booking rule adds its message here and to the answers of the writes it applies to
 * (BOOKING_ERRORS, at the end), and its check next to the others in reservations.ts.
 */
import { checkInProof, roomType } from '../../db/schema'
import type { ErrorAnswers } from '../../lib/errors'
import { TIME_MSG } from '../../lib/time'

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
  bumpNotAllowed: 'only teachers and admins can bump bookings',
  tooFarAhead: (days: Count) => `Reservation ends too far ahead: it must end within ${plural(days, 'day', 'days')} from now`,
  tooLong: (hours: Count) => `Reservation is too long: at most ${plural(hours, 'hour', 'hours')}`,
} as const

export const ROOM_MSG = {
  notFound: 'room not found',
  exists: 'room already exists',
  badType: (field: string, given: unknown) => `invalid ${field} ${JSON.stringify(given)}: expected ${roomType.enumValues.join(', ')}`,
  badMinutes: (field: string, min: Count) => `${field} must be a whole number of minutes from ${min} to 1440`,
  badProof: `check_in_proof must be one of ${checkInProof.enumValues.join(', ')}`,
} as const

/** Walk-up booking lengths offered at the door. */
export const BOOK_NOW_MINUTES = [30, 60, 90] as const
/** A walk-up booking shorter than this is not offered. */
export const BOOK_NOW_MIN_MINUTES = 5

/** Check-in, check-out and book now (checkin.ts). */
export const CHECK_IN_MSG = {
  keyMissing: 'k is required: scan the QR code on the room door',
  keyMissingDisplay: 'k is required: scan the code on the door display',
  keyInvalid: 'this QR code is not valid for this room: scan the code on the room door',
  keyInvalidDisplay: 'this code is not valid for this room: scan the code on the door display',
  keyOutdated: 'this QR code has been replaced: scan the current code on the room door',
  keyStale: 'this code from the door display has expired: scan the code on the display again',
  needsDisplay: 'this room checks in with the door display: scan the code on the display, not the printed poster',
  notOwner: 'only the person who booked can check in',
  notOwnerCheckOut: 'only the person who booked can check out',
  cancelled: 'reservation is cancelled',
  released: 'reservation was released: it was not checked in in time',
  ended: 'reservation has already ended',
  tooEarly: (opensMin: number | string, at: string) => `check-in is not open yet: it opens ${opensMin} minutes before the start, at ${at}`,
  tooLate: (at: string) => `check-in has closed at ${at}`,
  notStarted: 'reservation has not started yet: cancel it instead',
  badMinutes: `minutes must be one of ${BOOK_NOW_MINUTES.join(', ')}`,
  occupied: 'room is occupied now',
  outsideHours: 'room cannot be booked at this time of day',
  tooShort: `room is free for less than ${BOOK_NOW_MIN_MINUTES} minutes`,
} as const

/** "4 h", "1 h 30 min", "45 min": a policy's minutes in words. */
function minutesInWords(minutes: number): string {
  const h = Math.floor(minutes / 60)
  const m = Math.round(minutes % 60)
  if (h === 0) return `${m} min`
  return m === 0 ? `${h} h` : `${h} h ${m} min`
}
/** Hours with at most two decimals: 10, 9.5, 1.25. */
export const hoursInWords = (minutes: number) => String(Math.round((minutes / 60) * 100) / 100)

/**
 * Fair use (issue 16, policies.ts, strikes.ts, approvals.ts): every limit names itself and its
 * numbers. Answered 403 {msg, rule} (the rule that refused).
 */
export const POLICY_MSG = {
  tooLong: (minutes: Count, max: number) => `booking too long: ${typeof minutes === 'number' ? minutesInWords(minutes) : minutes}, the limit is ${minutesInWords(max)} per booking`,
  tooSoon: (min: number) => `too short notice: bookings must start at least ${minutesInWords(min)} from now`,
  tooFar: (days: Count) => `too far ahead: bookings may start at most ${plural(days, 'day', 'days')} from now`,
  maxActive: (used: Count, max: Count) => `active booking limit reached: ${used} of ${max} bookings`,
  maxActiveSeries: (used: Count, max: Count, adding: Count) => `active booking limit reached: ${used} of ${max} bookings, this series would add ${adding}`,
  weeklyFull: (used: Count, max: Count) => `weekly limit reached: ${used} of ${max} hours used`,
  weeklyOver: (used: Count, max: Count, adding: Count) => `weekly limit reached: ${used} of ${max} hours used, this booking needs ${adding}`,
  grid: (step: Count) => `bookings start and end on a ${step}-minute grid`,
  suspended: (until: string, strikes: Count, days: Count) => `booking suspended until ${until}: ${strikes} no-shows in ${days} days`,
  walkUpNeedsApproval: "bookings of this room need an admin's approval: book it ahead",
  notFound: 'policy not found',
  noScope: 'room_type and room_id: give at most one of them',
  noLimit: 'a policy needs at least one limit, or requires_approval: true',
} as const

/** Approval of bookings (approvals.ts). */
export const APPROVAL_MSG = {
  notPending: 'booking is not awaiting approval',
  started: 'booking has started without approval: it was released',
  awaiting: "booking awaits an admin's approval: check-in opens once it is approved",
} as const

/** Closures and terms (closures.ts, terms.ts). */
export const CLOSURE_MSG = {
  closed: (reason: string) => `room is closed: ${reason}`,
  notFound: 'closure not found',
  roomsRequired: 'give room_ids (a list of room ids) or all_rooms: true, not both',
  roomsNotFound: (ids: string) => `room not found: ${ids}`,
  reasonRequired: 'reason is required, at most 300 characters',
  badCalendar: (detail: string) => `not an iCalendar file: ${detail}`,
  termExists: 'term already exists',
  badDate: (field: string) => `${field} must be a date YYYY-MM-DD`,
  badDateOrder: 'starts_on must not be after ends_on',
} as const

/** The limits of a booking policy, as the document lists them (the numbers are the rule's). */
const POLICY_LIMITS_403 = [
  POLICY_MSG.tooLong('<minutes>', 240), POLICY_MSG.tooSoon(60), POLICY_MSG.tooFar('<max_advance_days>'), POLICY_MSG.maxActive('<n>', '<max_active>'),
  POLICY_MSG.maxActiveSeries('<n>', '<max_active>', '<occurrences>'), POLICY_MSG.weeklyFull(10, 10), POLICY_MSG.weeklyOver(9, 10, 2), POLICY_MSG.grid('<slot_granularity_min>'),
]
/** A new booking may also be refused for the user's no-shows. */
export const POLICY_403 = [...POLICY_LIMITS_403, POLICY_MSG.suspended('<date>', '<NO_SHOW_STRIKES>', '<NO_SHOW_WINDOW_DAYS>')]

const KEY_REFUSED = [CHECK_IN_MSG.keyInvalid, CHECK_IN_MSG.keyInvalidDisplay, CHECK_IN_MSG.keyOutdated, CHECK_IN_MSG.keyStale, CHECK_IN_MSG.needsDisplay]
const NOT_ACTIVE = [CHECK_IN_MSG.cancelled, CHECK_IN_MSG.released, CHECK_IN_MSG.ended]

/**
 * The answers of each booking write beyond the generic ones (validation, auth, rate limit), by
 * status: its routes declare them (`errors:`), so the API document lists exactly these.
 */
export const BOOKING_ERRORS = {
  reserve: {
    400: [
      TIME_MSG.invalid, TIME_MSG.required, BOOKING_MSG.badRange, BOOKING_MSG.past, BOOKING_MSG.tooFarAhead('<BOOKING_HORIZON_DAYS>'),
      BOOKING_MSG.tooLong('<STUDENT_MAX_BOOKING_HOURS>'), BOOKING_MSG.startsEarly, BOOKING_MSG.endsLate,
    ],
    403: [BOOKING_MSG.notBookable, BOOKING_MSG.bumpNotAllowed, ...POLICY_403],
    404: [ROOM_MSG.notFound],
    409: [BOOKING_MSG.conflict, BOOKING_MSG.blocked, CLOSURE_MSG.closed('<reason>')],
  },
  reschedule: {
    400: [BOOKING_MSG.notActive, TIME_MSG.invalid, TIME_MSG.required, BOOKING_MSG.badRange, BOOKING_MSG.past, BOOKING_MSG.tooFarAhead('<BOOKING_HORIZON_DAYS>')],
    403: POLICY_LIMITS_403,
    404: [BOOKING_MSG.notFound],
    409: [BOOKING_MSG.conflict, CLOSURE_MSG.closed('<reason>')],
  },
  cancel: { 403: [`${BOOKING_MSG.notYours} (another student's reservation)`], 404: [BOOKING_MSG.notFound] },
  reserveFor: { 404: [ROOM_MSG.notFound, BOOKING_MSG.userNotFound], 409: [BOOKING_MSG.conflict, `${CLOSURE_MSG.closed('<reason>')} (unless override_closure: true)`] },
  bookNow: {
    400: [CHECK_IN_MSG.badMinutes, CHECK_IN_MSG.outsideHours, BOOKING_MSG.tooLong('<STUDENT_MAX_BOOKING_HOURS>')],
    403: [...KEY_REFUSED, BOOKING_MSG.notBookable, ...POLICY_403, POLICY_MSG.walkUpNeedsApproval],
    404: [ROOM_MSG.notFound],
    409: [CHECK_IN_MSG.occupied, CHECK_IN_MSG.tooShort, BOOKING_MSG.conflict, BOOKING_MSG.blocked, CLOSURE_MSG.closed('<reason>')],
  },
  checkIn: {
    400: [CHECK_IN_MSG.keyMissing, CHECK_IN_MSG.keyMissingDisplay],
    403: [...KEY_REFUSED, CHECK_IN_MSG.notOwner],
    404: [BOOKING_MSG.notFound],
    409: [CHECK_IN_MSG.tooEarly('<check_in_opens_min>', '<time>'), CHECK_IN_MSG.tooLate('<time>'), ...NOT_ACTIVE, APPROVAL_MSG.awaiting],
  },
  checkOut: {
    403: [CHECK_IN_MSG.notOwnerCheckOut],
    404: [BOOKING_MSG.notFound],
    409: [CHECK_IN_MSG.notStarted, ...NOT_ACTIVE],
  },
} as const satisfies Record<string, ErrorAnswers>

/** Series (recurring bookings, series.ts and recurrence.ts). */
export const SERIES_MSG = {
  notFound: 'series not found',
  rruleRequired: 'rrule is required, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10',
  rruleUnknownPart: (part: string) => `rrule: unknown part ${part}: allowed are FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST`,
  rruleFreq: 'rrule: FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY',
  rruleNoEnd: 'rrule: it never ends: give COUNT, UNTIL or until_term',
  rruleBothEnds: 'rrule: give COUNT or UNTIL, not both, and neither with until_term',
  rruleInvalid: (detail: string) => `rrule: ${detail}`,
  rruleCharacter: (character: string) => `rrule: ${character} cannot appear in a rule: it is one line of NAME=VALUE parts separated by semicolons`,
  rrulePartForm: (part: string) => `rrule: ${part} is not a part NAME=VALUE`,
  rruleRepeated: (part: string) => `rrule: part ${part} appears twice`,
  rruleValue: (part: string, expected: string) => `rrule: ${part} must be ${expected}`,
  rruleNotWith: (part: string, other: string) => `rrule: ${part} cannot be used with ${other}`,
  rruleSetPosAlone: 'rrule: BYSETPOS needs BYDAY, BYMONTHDAY or BYMONTH to pick from',
  tooMany: (max: Count) => `rrule: more than ${max} occurrences: a series holds at most ${max}`,
  none: 'rrule: no occurrence: the rule ends before its first one',
  conflicts: 'the series conflicts with existing bookings or closures: nothing was created; send skip_conflicts: true to create the rest',
  notYours: 'only the owner of the series or an admin can change it',
  onlyEarlier: 'until can only move earlier: create a new series for more occurrences',
  termNotFound: 'term not found',
  forSomeoneElse: 'only admins create series for someone else: leave out user_id',
} as const


/** Importing a term's timetable (timetable-import.ts). */
export const IMPORT_MSG = {
  badCsv: (detail: string) => `not a readable CSV file: ${detail}`,
  tooManyRows: (max: Count) => `at most ${max} rows per import`,
  unknownRoom: (name: string) => `room not found: ${name}`,
  unknownTeacher: (name: string) => `user not found: ${name}`,
  notTeacher: (name: string) => `${name} is not a teacher`,
  pendingTeacher: (name: string) => `${name} is not a teacher yet: their teacher account awaits an admin's approval`,
  titleTooLong: (max: Count) => `title longer than ${max} characters`,
  earlierRow: (line: Count) => `overlaps the lesson of line ${line} of this file`,
  badWeekday: (value: string) => `weekday ${JSON.stringify(value)}: use 1-7, mon..sun or пн..вс`,
  badTime: (field: string) => `${field} must be a time of day HH:MM`,
  noLesson: 'no lesson between from and until',
  failed: 'nothing was imported: see the rows with errors or conflicts; send skip_conflicts=1 to leave the conflicting lessons out',
  /** The header in English or in Russian, as a Russian college's own file heads it (issue 26). */
  headerNames: 'the header must name the columns room,teacher,weekday,start,end,from,until (title optional) or аудитория,преподаватель,день,начало,конец,с,по (название optional), separated by semicolons, commas or tabs',
  badDate: (field: string) => `${field} must be a date YYYY-MM-DD or DD.MM.YYYY`,
} as const
