/**
 * The kinds of notice QRBOOK sends (issue 28, decision 034), the channels a user chooses per kind,
 * and what each kind does by default. A kind names a decision about a person, not a change event:
 * one change can tell several people different things (a bump: the student is bumped; a booking that
 * waits for approval: the admins have a request).
 */
export const NOTICE_KINDS = [
  'booking_confirmed', 'checkin_reminder', 'released_no_show', 'bumped',
  'approval_requested', 'approval_decided', 'closure_cancelled', 'series_changed',
  'suspended', 'suspension_lifted', 'teacher_verified', 'waitlist_booked',
] as const
export type NoticeKind = (typeof NOTICE_KINDS)[number]

export const CHANNELS = ['in_app', 'email'] as const
export type Channel = (typeof CHANNELS)[number]

/** On unless the user turns it off; a confirmation of one's own booking is news to nobody, so off. */
export function enabledByDefault(kind: NoticeKind, _channel: Channel): boolean {
  return kind !== 'booking_confirmed'
}

export const isNoticeKind = (value: string): value is NoticeKind => (NOTICE_KINDS as readonly string[]).includes(value)
