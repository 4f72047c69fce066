/** The notices routes' request and answer schemas. */
import { t } from 'elysia'
import { Timestamp } from '../../core/bookings/model'
import { NOTICE_KINDS } from '../../core/notifications/kinds'
import { Int } from '../../lib/wire-types'

const Kind = t.UnionEnum([...NOTICE_KINDS], { description: 'what the notice is about' })

const Notice = t.Object({
  id: Int(),
  kind: Kind,
  title: t.String({ description: 'one line, in the language of Accept-Language' }),
  body: t.String({ description: 'a few lines; times in the rooms\' time zone' }),
  data: t.Record(t.String(), t.Unknown(), { description: 'the facts the text is made of: reservation_id, room_name, start_time, end_time, by, reason, ...' }),
  created_at: Timestamp,
  read_at: t.Nullable(Timestamp, { description: 'when you read it; null: unread' }),
}, { title: 'Notice' })

export const NoticeList = t.Object({
  notifications: t.Array(Notice),
  unread: Int({ minimum: 0, description: 'how many of your notices are unread' }),
  next_before: t.Nullable(Int(), { description: 'pass as `before` for the next (older) page; null: no more' }),
})

export const NoticeListQuery = t.Object({
  unread: t.Optional(t.BooleanString({ description: 'only unread ones' })),
  before: t.Optional(t.Numeric({ minimum: 1, maximum: 2147483647, description: 'older than this notice id' })),
  limit: t.Optional(t.Numeric({ minimum: 1, maximum: 200, description: 'at most this many (default 50)' })),
})

export const MarkReadBody = t.Object({
  ids: t.Optional(t.Array(t.Integer({ minimum: 1, maximum: 2147483647 }), { maxItems: 500 })),
  all: t.Optional(t.Boolean()),
}, { examples: [{ ids: [12, 13] }, { all: true }] })

export const UnreadReply = t.Object({ unread: Int({ minimum: 0 }) })

// Literals, not t.UnionEnum: inside Optional(Union) Elysia 1.4 fills an absent UnionEnum with its first value.
const Lang = t.Union([t.Literal('ru'), t.Literal('en')])

export const PreferencesReply = t.Object({
  email: t.Union([t.String(), t.Null()], { description: 'your confirmed address; null: none' }),
  lang: t.Union([Lang, t.Null()], { description: 'the language of your e-mail (the Accept-Language of your latest sign-in unless you set it)' }),
  email_available: t.Boolean({ description: 'false: this server sends no e-mail (SMTP_URL unset)' }),
  preferences: t.Array(t.Object({ kind: Kind, in_app: t.Boolean(), email: t.Boolean() })),
}, { title: 'NoticePreferences' })

export const PreferencesBody = t.Object({
  preferences: t.Optional(t.Array(t.Object({
    kind: t.String({ maxLength: 40 }),
    channel: t.String({ maxLength: 10, description: 'in_app or email' }),
    enabled: t.Boolean(),
  }), { maxItems: 100 })),
  lang: t.Optional(t.Union([Lang, t.Null()])),
}, { examples: [{ preferences: [{ kind: 'booking_confirmed', channel: 'email', enabled: true }], lang: 'ru' }] })

export const UnsubscribeQuery = t.Object({
  u: t.String({ maxLength: 12 }), k: t.String({ maxLength: 40 }), t: t.String({ maxLength: 100 }),
})

export const FailedMailList = t.Object({
  deliveries: t.Array(t.Object({
    id: Int(), notification_id: Int(), user_id: Int(), kind: t.UnionEnum([...NOTICE_KINDS, 'email_verification'], { description: "the notice's kind, or email_verification (a confirmation link)" }), to: t.String({ description: 'the e-mail address' }),
    status: t.UnionEnum(['pending', 'sending', 'sent', 'failed']), attempts: Int({ minimum: 0 }), last_error: t.Nullable(t.String()),
    next_attempt_at: Timestamp, created_at: Timestamp,
  })),
  failed: Int({ minimum: 0, description: 'how many gave up' }),
  retrying: Int({ minimum: 0, description: 'how many wait for another attempt after a failure (the server could not be reached, or refused for now)' }),
})
