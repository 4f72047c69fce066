/** Schemas of the waitlist routes (issue 28). */
import { t } from 'elysia'
import { Timestamp } from '../../core/bookings/model'
import { Id } from '../../lib/input'
import { Int } from '../../lib/wire-types'

export { RoomIdParams, TimeRangeBody } from '../../core/bookings/model'

export const EntryIdParams = t.Object({ id: Id('waitlist entry id') })

const WaitlistEntry = t.Object({
  id: Int(),
  room_id: Int(),
  room_name: t.String(),
  start_time: Timestamp,
  end_time: Timestamp,
  status: t.UnionEnum(['waiting', 'booked', 'expired', 'left'], {
    description: 'waiting; booked (the slot freed and was booked for you: reservation_id); expired (its start came first); left (you stopped waiting)',
  }),
  reservation_id: t.Nullable(Int({ description: 'the booking made for you, once booked' })),
  position: t.Nullable(Int({ minimum: 1, description: 'while waiting: your place in line for this slot (1: first)' })),
  created_at: Timestamp,
}, {
  title: 'WaitlistEntry',
  examples: [{
    id: 3, room_id: 1, room_name: 'B101', start_time: '2026-11-27T10:00:00Z', end_time: '2026-11-27T11:00:00Z',
    status: 'waiting', reservation_id: null, position: 1, created_at: '2026-11-26T09:12:00Z',
  }],
})

export const EntryReply = t.Object({ entry: WaitlistEntry })
export const EntryList = t.Object({ entries: t.Array(WaitlistEntry) })
