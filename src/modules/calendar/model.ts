/** Schemas of the calendar routes (issue 28). */
import { t } from 'elysia'
import { Id } from '../../lib/input'

export const FeedUrls = t.Object({
  url: t.String({ description: 'the personal feed: SERVER_EXTERNAL_BASE + api/calendar/<token>.ics; anyone with it can read your bookings', examples: ['https://qrbook.example/api/calendar/3q2-7wEjXb1Yk0fV6n9xH4cP8sLmZaTgRuJdKoNiWe4.ics'] }),
  webcal_url: t.String({ description: 'the same URL as webcal:// (opens a calendar app to subscribe)', examples: ['webcal://qrbook.example/api/calendar/3q2-7wEjXb1Yk0fV6n9xH4cP8sLmZaTgRuJdKoNiWe4.ics'] }),
})

export const Revoked = t.Object({ revoked: t.Boolean({ description: 'whether there was a feed token to revoke' }) })

export const FeedParams = t.Object({ file: t.String({ description: '<token>.ics', examples: ['3q2-7wEjXb1Yk0fV6n9xH4cP8sLmZaTgRuJdKoNiWe4.ics'] }) })
export const RoomParams = t.Object({ id: Id('room id') })
export const ReservationParams = t.Object({ id: Id('reservation id') })

const CALENDAR_EXAMPLE = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//QRBOOK//calendar//EN\r\nMETHOD:PUBLISH\r\n...\r\nEND:VCALENDAR'

/** A text/calendar answer, as the OpenAPI document shows it. */
export const calendarAnswer = (description: string) => ({
  200: { description, content: { 'text/calendar': { schema: { type: 'string' as const, examples: [CALENDAR_EXAMPLE] } } } },
  304: { description: 'Not modified: If-None-Match named the current ETag' },
})
