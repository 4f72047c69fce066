/** Schemas of the series routes (issue 15). */
import { t } from 'elysia'
import { Occurrence, Series, SeriesConflict, Timestamp } from '../../core/bookings/model'
import { Id } from '../../lib/input'
import { instantFields } from '../../lib/instant-input'
import { Int } from '../../lib/wire-types'

const firstOccurrence = instantFields()

const SeriesFields = {
  room_id: t.Integer({ minimum: 1, maximum: 2147483647, description: 'the room' }),
  start_time: firstOccurrence.required('start_time', { description: 'start of the first occurrence', examples: ['2026-11-30T09:00:00Z'] }),
  end_time: firstOccurrence.required('end_time', { description: 'end of the first occurrence (every occurrence keeps this length)', examples: ['2026-11-30T10:30:00Z'] }),
  rrule: t.Optional(t.String({ maxLength: 500, description: 'RFC 5545 RRULE: FREQ (DAILY, WEEKLY, MONTHLY, YEARLY), INTERVAL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST, and COUNT or UNTIL (or until_term); at most 200 occurrences', examples: ['FREQ=WEEKLY;BYDAY=MO;COUNT=10'] })),
  until_term: t.Optional(t.Integer({ minimum: 1, maximum: 2147483647, description: 'end with this term (POST /api/admin/terms) instead of COUNT or UNTIL' })),
  user_id: t.Optional(t.Integer({ minimum: 1, maximum: 2147483647, description: "admins only: whose series it is (default: the caller's)" })),
}

export const PrecheckBody = t.Object(SeriesFields, {
  examples: [{ room_id: 1, start_time: '2026-11-30T09:00:00Z', end_time: '2026-11-30T10:30:00Z', rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=10' }],
})

export const CreateSeriesBody = t.Object({
  ...SeriesFields,
  title: t.Optional(t.String({ maxLength: 200, description: 'e.g. the lesson; shown on each occurrence' })),
  skip_conflicts: t.Optional(t.Boolean({ description: 'create the free occurrences and list the others in skipped (default false: any conflict is 409 and nothing is created)' })),
}, {
  examples: [{ room_id: 1, start_time: '2026-11-30T09:00:00Z', end_time: '2026-11-30T10:30:00Z', rrule: 'FREQ=WEEKLY;BYDAY=MO;COUNT=10', title: 'Linear algebra' }],
})

export const PrecheckReply = t.Object({
  occurrences: t.Array(t.Object({ start_time: Timestamp, end_time: Timestamp, conflict: t.Nullable(SeriesConflict) })),
})

export const SeriesCreated = t.Object({
  series: Series,
  created: t.Array(Occurrence),
  skipped: t.Array(t.Object({ start_time: Timestamp, end_time: Timestamp, reason: t.String(), conflict: SeriesConflict })),
})

export const SeriesDetail = t.Object({ series: Series, occurrences: t.Array(Occurrence) })
export const SeriesList = t.Object({ series: t.Array(Series) })
export const SeriesChanged = t.Object({ series: Series, cancelled: t.Array(Int(), { description: 'the occurrences this cancelled' }) })

export const SeriesParams = t.Object({ id: Id('series id') })
export const SeriesListQuery = t.Object({ mine: t.Optional(t.String({ description: '1: only your own series (the default for everyone but admins)', examples: ['1'] })) })
export const CancelSeriesQuery = t.Object({
  from: instantFields().optional('from', { description: 'cancel the occurrences starting at or after this instant (default: now, i.e. all future ones)' }),
})
export const UpdateSeriesBody = t.Object({
  title: t.Optional(t.Nullable(t.String({ maxLength: 200 }))),
  until: instantFields().optional('until', { description: 'an earlier end: the occurrences after it are cancelled', examples: ['2026-12-20T23:59:59Z'] }),
}, { examples: [{ title: 'Linear algebra (room change)' }] })
