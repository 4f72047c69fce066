/** Schemas of the room routes of their own (the shared ones are the core's: src/core/bookings/model.ts). */
import { t } from 'elysia'
import { TimeRangeBody } from '../../core/bookings/model'

/** POST /rooms/:id/reserve: a time range, and for teachers and admins `bump` (issue 16). */
export const ReserveBody = t.Object({
  ...TimeRangeBody.properties,
  bump: t.Optional(t.Boolean({ description: "teachers and admins: cancel the students' bookings that overlap (cancel_reason bumped, audited) and book the lesson; without it a taken slot is 409 naming who holds it" })),
}, { title: 'ReserveRequest', examples: [{ start_time: '2026-11-26T10:00:00Z', end_time: '2026-11-26T11:00:00Z' }] })
