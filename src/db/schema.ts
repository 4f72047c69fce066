/**
 * The database schema. Enum and column names follow the original Flask models so the old data
 * and the frontend's field names carry over. Overlap safety for reservations lives in a custom
 * migration (drizzle/0001_*.sql): an exclusion constraint Drizzle cannot express.
 */
import { sql } from 'drizzle-orm'
import {
  bigint, boolean, check, date, index, integer, jsonb, pgEnum, pgSequence, pgTable, primaryKey, serial, text, time, timestamp, uniqueIndex, uuid, varchar,
} from 'drizzle-orm/pg-core'

export const userRole = pgEnum('user_role', ['student', 'teacher', 'admin'])
export const roomType = pgEnum('room_type', ['public', 'admin', 'service'])
/** `released`: needed a check-in, got none in time, and gave its slot back (see the sweeper). */
export const reservationStatus = pgEnum('reservation_status', ['active', 'finished', 'cancelled', 'released'])
/**
 * What a check-in (and a walk-up booking's immediate check-in) must show to prove the person is at
 * the door (decision 013): the rotating code of the door display, the printed poster's static key
 * (or the display's code), or nothing.
 */
export const checkInProof = pgEnum('check_in_proof', ['display', 'poster', 'none'])
/**
 * Where a booking stands with an admin, for rooms whose policy requires approval (issue 16): a
 * pending booking holds its slot but is not shown as the room's current or next booking.
 */
export const bookingApproval = pgEnum('booking_approval', ['pending', 'approved', 'rejected'])
/** Why a room is closed: a public holiday, maintenance, an exam period, anything else. */
export const closureKind = pgEnum('closure_kind', ['holiday', 'maintenance', 'exam', 'other'])

/**
 * Every time the application decides comes from its injected clock (src/lib/clock.ts), never from
 * the database's now(): so these columns have no default, and an insert that forgets one fails.
 */
const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
}

export const users = pgTable('users', {
  id: serial('id').primaryKey(),
  name: varchar('name', { length: 80 }).notNull().unique('users_name_key'),
  /**
   * The name's lookalike key (src/lib/names.ts: case-folded UTS #39 skeleton, invisible characters
   * dropped), unique: two names that look alike cannot both exist, even when signed up at once.
   * Null only on an account older than this column whose key another, older account already
   * holds (see the start-up backfill, docs/decisions/015-booking-limits-and-names.md).
   */
  nameKey: text('name_key'),
  passwordHash: text('password_hash').notNull(),
  role: userRole('role').notNull().default('student'),
  /** When the password was last set (change, reset, set-password); tokens minted before 0006 are checked against it. */
  passwordChangedAt: timestamp('password_changed_at', { withTimezone: true }).notNull(),
  /**
   * The generation of the user's tokens: every password change or reset adds one, and a token
   * (claim `ver`) of another generation is refused. A counter, not a time, so a token issued in
   * the same second as the change cannot slip through (docs/decisions/014-auth-hardening.md).
   */
  tokenVersion: integer('token_version').notNull().default(0),
  /**
   * A teacher who signed up and awaits an admin's approval (SIGNUP_TEACHERS=approve, issue 16):
   * shown as a teacher, with a student's powers until an admin clears it.
   */
  teacherPending: boolean('teacher_pending').notNull().default(false),
  /**
   * No-shows released before this instant no longer count towards a booking suspension: an admin
   * lifting a suspension sets it (issue 16). Null: every no-show counts.
   */
  noShowsClearedAt: timestamp('no_shows_cleared_at', { withTimezone: true }),
  /**
   * Where e-mail notices go (issue 28): set by an admin, or by the user through a verification
   * link (email_verifications). Null: no e-mail. Only a verified address is ever written here.
   */
  email: varchar('email', { length: 254 }),
  /** The language of the user's notices ('ru' | 'en'): the Accept-Language of their latest sign-in, or their choice. */
  lang: varchar('lang', { length: 2 }),
  ...timestamps,
}, (table) => [uniqueIndex('users_name_key_idx').on(table.nameKey)])

/** One row per login: the refresh token it currently accepts (hashed), rotated at every refresh. */
export const sessions = pgTable('sessions', {
  id: uuid('id').primaryKey().defaultRandom(),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  refreshTokenHash: text('refresh_token_hash').notNull(),
  /** The token this one replaced, and when: a replay of it within a few seconds is a racing client, not theft. */
  previousTokenHash: text('previous_token_hash'),
  rotatedAt: timestamp('rotated_at', { withTimezone: true }),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }).notNull(),
}, (table) => [
  // A user's live sessions (revoke them all) and recently revoked ones (the actor cache refuses their access tokens).
  index('sessions_user_revoked_idx').on(table.userId, table.revokedAt),
])

export const rooms = pgTable('rooms', {
  id: serial('id').primaryKey(),
  name: varchar('name', { length: 100 }).notNull().unique('rooms_name_key'),
  type: roomType('type').notNull().default('public'),
  isBlocked: boolean('is_blocked').notNull().default(false),
  /** Daily booking window in APP_TIMEZONE local time; null means unbounded on that side. */
  bookingStart: time('booking_start'),
  bookingEnd: time('booking_end'),
  /** Part of the signed key in the room's QR code; generate-qr increments it, retiring old posters. */
  qrVersion: integer('qr_version').notNull().default(1),
  /** Check-in policy. New public rooms get requires_check_in = true (set by createRoom). */
  requiresCheckIn: boolean('requires_check_in').notNull().default(false),
  /** Check-in opens this many minutes before a booking starts. */
  checkInOpensMin: integer('check_in_opens_min').notNull().default(10),
  /** A booking that needs a check-in and has none this many minutes after its start is released. */
  autoReleaseAfterMin: integer('auto_release_after_min').notNull().default(15),
  /** The proof of presence check-in requires; `poster` keeps the behaviour of rooms made before it. */
  checkInProof: checkInProof('check_in_proof').notNull().default('poster'),
  /** Whether lesson occurrences (series) need a check-in too; off by default: a timetable's lessons are not released as no-shows. */
  seriesRequireCheckIn: boolean('series_require_check_in').notNull().default(false),
  ...timestamps,
}, (table) => [
  check('rooms_check_in_opens_range', sql`${table.checkInOpensMin} between 0 and 1440`),
  check('rooms_auto_release_range', sql`${table.autoReleaseAfterMin} between 1 and 1440`),
])

export const reservations = pgTable('reservations', {
  id: serial('id').primaryKey(),
  roomId: integer('room_id').notNull().references(() => rooms.id, { onDelete: 'cascade' }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  startTime: timestamp('start_time', { withTimezone: true }).notNull(),
  endTime: timestamp('end_time', { withTimezone: true }).notNull(),
  status: reservationStatus('status').notNull().default('active'),
  /**
   * Whether this booking must be checked in (its room's policy when it was made): a booking made
   * before its room required check-in is never released.
   */
  checkInRequired: boolean('check_in_required').notNull().default(false),
  checkedInAt: timestamp('checked_in_at', { withTimezone: true }),
  /** The series this booking is an occurrence of (issue 15); null for a single booking. */
  seriesId: integer('series_id').references(() => series.id, { onDelete: 'set null' }),
  /** A lesson's title (from its series); an additional field of the API. */
  title: varchar('title', { length: 200 }),
  /** An occurrence moved or cancelled on its own: later edits of its series leave it alone. */
  seriesException: boolean('series_exception').notNull().default(false),
  /** Why a cancelled booking was cancelled when nobody chose to: `bumped` by a lesson (issue 16). A released no-show is status `released`. */
  cancelReason: varchar('cancel_reason', { length: 40 }),
  /** Null unless its room's policy required an admin's approval when it was made (issue 16). */
  approval: bookingApproval('approval'),
  /**
   * When it was cancelled (any cancel: the owner, a teacher's bump, a closure, an admin); null for
   * every other status. A booking cancelled after its start used its room until then: fair use
   * counts that time (issue 24).
   */
  cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
  /**
   * Whether its owner chose its time: booked it or last moved it themselves. A booking someone
   * else made or moved for them (an admin on their behalf, a teacher's move, an imported lesson)
   * never counts as a no-show strike against them (issue 24). Existing rows count as the owner's.
   */
  setByOwner: boolean('set_by_owner').notNull().default(true),
  ...timestamps,
}, (table) => [
  index('reservations_series_idx').on(table.seriesId, table.startTime),
  check('reservations_time_order', sql`${table.startTime} < ${table.endTime}`),
  index('reservations_room_start_idx').on(table.roomId, table.startTime),
  index('reservations_user_start_idx').on(table.userId, table.startTime),
  // The sweeper's two questions: which active bookings have ended, which still await a check-in.
  index('reservations_active_end_idx').on(table.endTime).where(sql`${table.status} = 'active'`),
  // Bookings awaiting an admin (the approvals list; released unapproved at their start).
  index('reservations_pending_idx').on(table.startTime).where(sql`${table.approval} = 'pending' and ${table.status} = 'active'`),
  index('reservations_awaiting_check_in_idx').on(table.startTime)
    .where(sql`${table.status} = 'active' and ${table.checkInRequired} and ${table.checkedInAt} is null`),
])

/** An academic term: a series may run until its end (until_term). Dates are local days in APP_TIMEZONE. */
export const terms = pgTable('terms', {
  id: serial('id').primaryKey(),
  name: varchar('name', { length: 100 }).notNull().unique('terms_name_key'),
  startsOn: date('starts_on', { mode: 'string' }).notNull(),
  endsOn: date('ends_on', { mode: 'string' }).notNull(),
  ...timestamps,
}, (table) => [check('terms_date_order', sql`${table.startsOn} <= ${table.endsOn}`)])

/**
 * A recurring booking (issue 15): an RFC 5545 RRULE expanded in time_zone from its first
 * occurrence. Its occurrences are ordinary reservations (reservations.series_id), so the overlap
 * constraint, check-in, release, events and audit treat each like any booking.
 */
export const series = pgTable('series', {
  id: serial('id').primaryKey(),
  roomId: integer('room_id').notNull().references(() => rooms.id, { onDelete: 'cascade' }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  title: varchar('title', { length: 200 }),
  /** The RRULE as sent (without DTSTART), e.g. FREQ=WEEKLY;BYDAY=MO;UNTIL=20261220T230000Z */
  rrule: text('rrule').notNull(),
  /** The zone its wall-clock times are kept in (APP_TIMEZONE when it was made) */
  timeZone: text('time_zone').notNull(),
  firstStart: timestamp('first_start', { withTimezone: true }).notNull(),
  firstEnd: timestamp('first_end', { withTimezone: true }).notNull(),
  /** The last instant an occurrence may start (UNTIL, the term's end, or the last of COUNT) */
  until: timestamp('until', { withTimezone: true }).notNull(),
  untilTermId: integer('until_term_id').references(() => terms.id, { onDelete: 'set null' }),
  /**
   * A series made by a timetable import: the row's slot, "<room id>/<BYDAY>/<HH:MM>/<from>"
   * (timetable/plan.ts importKey). Importing the file again finds the series by it and updates it
   * instead of making another (decision 028). Null for a series made with POST /series.
   */
  importKey: varchar('import_key', { length: 100 }),
  ...timestamps,
}, (table) => [
  check('series_time_order', sql`${table.firstStart} < ${table.firstEnd}`),
  index('series_user_idx').on(table.userId),
  uniqueIndex('series_import_key_idx').on(table.importKey),
])

/**
 * A closure (issue 15): rooms cannot be booked between start and end. all_rooms or a list of
 * rooms; uid is the iCalendar UID of an imported one (imports are idempotent by it).
 */
export const closures = pgTable('closures', {
  id: serial('id').primaryKey(),
  allRooms: boolean('all_rooms').notNull().default(false),
  roomIds: integer('room_ids').array(),
  kind: closureKind('kind').notNull(),
  reason: varchar('reason', { length: 300 }).notNull(),
  startTime: timestamp('start_time', { withTimezone: true }).notNull(),
  endTime: timestamp('end_time', { withTimezone: true }).notNull(),
  uid: varchar('uid', { length: 300 }).unique('closures_uid_key'),
  ...timestamps,
}, (table) => [
  check('closures_time_order', sql`${table.startTime} < ${table.endTime}`),
  check('closures_rooms', sql`${table.allRooms} or ${table.roomIds} is not null`),
  index('closures_end_idx').on(table.endTime),
])

/**
 * A fair-use rule (issue 16): limits for the bookings of one role, optionally only in rooms of one
 * type or in one room. Every rule that matches a booking must hold (so the strictest wins for each
 * limit); a null limit does not limit. Admins are exempt. A fresh installation has none.
 */
export const bookingPolicies = pgTable('booking_policies', {
  id: serial('id').primaryKey(),
  role: userRole('role').notNull(),
  roomType: roomType('room_type'),
  roomId: integer('room_id').references(() => rooms.id, { onDelete: 'cascade' }),
  maxDurationMin: integer('max_duration_min'),
  minNoticeMin: integer('min_notice_min'),
  maxAdvanceDays: integer('max_advance_days'),
  /** bookings not yet over (active, pending included) at once */
  maxActive: integer('max_active'),
  /** minutes booked per week (Monday 00:00 to Monday 00:00 in APP_TIMEZONE) */
  maxMinutesPerWeek: integer('max_minutes_per_week'),
  /** starts and ends on this grid of local time (e.g. 30: 10:00, 10:30, ...) */
  slotGranularityMin: integer('slot_granularity_min'),
  requiresApproval: boolean('requires_approval').notNull().default(false),
  note: varchar('note', { length: 200 }),
  ...timestamps,
}, (table) => [
  check('booking_policies_limits', sql`${table.maxDurationMin} > 0 and ${table.minNoticeMin} >= 0 and ${table.maxAdvanceDays} > 0
    and ${table.maxActive} >= 0 and ${table.maxMinutesPerWeek} >= 0 and ${table.slotGranularityMin} between 1 and 1440`),
])

/**
 * The change record (docs/decisions/027-one-record-of-every-change.md): one row per state change,
 * written in the change's own transaction by src/core/changes. `position` is taken from
 * changes_position_seq under a transaction-level advisory lock held until COMMIT, so positions
 * are in commit order: a follower that has read up to N has seen every change committed before N.
 * Inserting a row NOTIFYs `position:room ids` (or `position:*`), the live feed of every instance.
 */
export const changePosition = pgSequence('changes_position_seq')
export const changes = pgTable('changes', {
  position: bigint('position', { mode: 'number' }).primaryKey(),
  /** what happened, e.g. reservation.created (src/core/changes/events.ts) */
  event: text('event').notNull(),
  actorId: integer('actor_id').references(() => users.id, { onDelete: 'set null' }),
  /** the rooms whose views it changes */
  roomIds: integer('room_ids').array().notNull().default(sql`'{}'`),
  /** it may change every room's view (a closure of every room, a user renamed) */
  allRooms: boolean('all_rooms').notNull().default(false),
  /** the users it concerns (the booker, the bumped student, the user changed) */
  userIds: integer('user_ids').array().notNull().default(sql`'{}'`),
  description: text('description').notNull(),
  /** the facts that matter: ids, before and after */
  data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  /** the instant, from the application's clock */
  at: timestamp('at', { withTimezone: true }).notNull(),
}, (table) => [index('changes_at_idx').on(table.at, table.position)])

export type User = typeof users.$inferSelect
export type Room = typeof rooms.$inferSelect
export type Reservation = typeof reservations.$inferSelect
export type ChangeRow = typeof changes.$inferSelect
export type Session = typeof sessions.$inferSelect
export type UserRole = (typeof userRole.enumValues)[number]
export type RoomType = (typeof roomType.enumValues)[number]
export type ReservationStatus = (typeof reservationStatus.enumValues)[number]
export type CheckInProof = (typeof checkInProof.enumValues)[number]
export type ClosureKind = (typeof closureKind.enumValues)[number]
export type Series = typeof series.$inferSelect
export type Closure = typeof closures.$inferSelect
export type Term = typeof terms.$inferSelect
export type BookingPolicy = typeof bookingPolicies.$inferSelect
export type BookingApproval = (typeof bookingApproval.enumValues)[number]

/**
 * Settings an admin changes at run time (issue 26): one row per key, its value as JSON. Today
 * `app_timezone`, the rooms' time zone (APP_TIMEZONE is the default until an admin sets one).
 * Every instance follows a change through the change record (core/settings).
 */
export const settings = pgTable('settings', {
  key: varchar('key', { length: 60 }).primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
})


// ---- Notifications, calendar feeds and the waitlist (issue 28, decision 034) ----

/**
 * How far a follower of the change record has read (decision 034): one row per follower
 * (`notifier`, `webhooks`). A follower locks its row while it works, so one instance at a time
 * turns changes into notices and webhook deliveries; their unique keys make a repeat harmless.
 */
export const followerCursors = pgTable('follower_cursors', {
  name: varchar('name', { length: 40 }).primaryKey(),
  position: bigint('position', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
})

/**
 * One notice to one person (issue 28): what happened to them, with the facts its text is made of.
 * `key` says which fact it is about (`<change position>:<kind>:<user>`, `reminder:<reservation>`), so
 * a notice is made once however many times a follower reads the change.
 */
export const notifications = pgTable('notifications', {
  id: serial('id').primaryKey(),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  kind: varchar('kind', { length: 40 }).notNull(),
  key: text('key').notNull().unique('notifications_key_key'),
  /** the change it was made from (null: a reminder, a verification link) */
  changePosition: bigint('change_position', { mode: 'number' }),
  data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  /** shown in the app (the user's preference for its kind when it was made); false: e-mail only */
  inApp: boolean('in_app').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  readAt: timestamp('read_at', { withTimezone: true }),
}, (table) => [index('notifications_user_idx').on(table.userId, table.id)])

/** Where a delivery stands: waiting (maybe after a failure, until next_attempt_at), being sent (leased), sent, or given up. */
export const deliveryStatus = pgEnum('delivery_status', ['pending', 'sending', 'sent', 'failed'])

/**
 * The outbox of e-mail notices (issue 28): one row per notice and channel (unique), claimed by one
 * worker at a time with a lease (FOR UPDATE SKIP LOCKED), retried with back-off. A send whose
 * worker died before it was marked is sent again after the lease: at least once to the transport,
 * once per notice.
 */
export const mailDeliveries = pgTable('mail_deliveries', {
  id: serial('id').primaryKey(),
  notificationId: integer('notification_id').notNull().references(() => notifications.id, { onDelete: 'cascade' }).unique('mail_deliveries_notification_key'),
  /** the address when it was queued */
  to: varchar('to', { length: 254 }).notNull(),
  status: deliveryStatus('status').notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
  leaseUntil: timestamp('lease_until', { withTimezone: true }),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  sentAt: timestamp('sent_at', { withTimezone: true }),
}, (table) => [index('mail_deliveries_due_idx').on(table.nextAttemptAt).where(sql`${table.status} in ('pending', 'sending')`)])

/** Whether a user wants a kind of notice by a channel (issue 28); no row: the kind's default. */
export const notificationPreferences = pgTable('notification_preferences', {
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  kind: varchar('kind', { length: 40 }).notNull(),
  channel: varchar('channel', { length: 10 }).notNull(),
  enabled: boolean('enabled').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
}, (table) => [primaryKey({ columns: [table.userId, table.kind, table.channel] })])

/** An address a user asked to receive notices at, until they follow the link sent to it (hashed token). */
export const emailVerifications = pgTable('email_verifications', {
  tokenHash: text('token_hash').primaryKey(),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  email: varchar('email', { length: 254 }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
}, (table) => [index('email_verifications_user_idx').on(table.userId)])

/** An integrator's endpoint (issue 28): Standard Webhooks signed with its secret, for the events it asks for (empty: all). */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: serial('id').primaryKey(),
  url: text('url').notNull(),
  /** `whsec_...` (Standard Webhooks); shown to the admin who creates it */
  secret: text('secret').notNull(),
  events: text('events').array().notNull().default(sql`'{}'`),
  enabled: boolean('enabled').notNull().default(true),
  description: varchar('description', { length: 200 }),
  ...timestamps,
})

/**
 * A webhook's outbox and delivery log: one row per change (or test) and endpoint (unique), leased
 * and retried like mail_deliveries; the receiver's last status code is kept for the admin.
 */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: serial('id').primaryKey(),
  endpointId: integer('endpoint_id').notNull().references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
  /** the change it carries (null: a test) */
  changePosition: bigint('change_position', { mode: 'number' }),
  /** the webhook-id header: stable across retries, so the receiver can drop a repeat */
  messageId: varchar('message_id', { length: 60 }).notNull(),
  event: varchar('event', { length: 60 }).notNull(),
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
  status: deliveryStatus('status').notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
  leaseUntil: timestamp('lease_until', { withTimezone: true }),
  lastError: text('last_error'),
  responseStatus: integer('response_status'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  sentAt: timestamp('sent_at', { withTimezone: true }),
}, (table) => [
  uniqueIndex('webhook_deliveries_change_idx').on(table.endpointId, table.changePosition),
  index('webhook_deliveries_due_idx').on(table.nextAttemptAt).where(sql`${table.status} in ('pending', 'sending')`),
  index('webhook_deliveries_endpoint_idx').on(table.endpointId, table.id),
])

/** A user's personal calendar feed (issue 28): the hash of the secret in its URL; rotating replaces it, revoking deletes it. */
export const calendarTokens = pgTable('calendar_tokens', {
  userId: integer('user_id').primaryKey().references(() => users.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull().unique('calendar_tokens_hash_key'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
})

/** Where a wait stands: waiting; booked (reservation_id); expired at its start; left by its owner. */
export const waitlistStatus = pgEnum('waitlist_status', ['waiting', 'booked', 'expired', 'left'])

/**
 * Someone waiting for a taken slot (issue 28): when it frees, the first waiter whose booking
 * passes every rule then gets it booked (core/bookings/waitlist).
 */
export const waitlistEntries = pgTable('waitlist_entries', {
  id: serial('id').primaryKey(),
  roomId: integer('room_id').notNull().references(() => rooms.id, { onDelete: 'cascade' }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  startTime: timestamp('start_time', { withTimezone: true }).notNull(),
  endTime: timestamp('end_time', { withTimezone: true }).notNull(),
  status: waitlistStatus('status').notNull().default('waiting'),
  reservationId: integer('reservation_id').references(() => reservations.id, { onDelete: 'set null' }),
  ...timestamps,
}, (table) => [
  check('waitlist_time_order', sql`${table.startTime} < ${table.endTime}`),
  index('waitlist_room_waiting_idx').on(table.roomId, table.startTime).where(sql`${table.status} = 'waiting'`),
  index('waitlist_user_idx').on(table.userId, table.startTime),
])

export type Notification = typeof notifications.$inferSelect
export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect
export type WaitlistEntry = typeof waitlistEntries.$inferSelect
