/** Schemas of the reservation routes (contract section 4). */
import { t } from 'elysia'
import { CheckInFields, ScheduleEntry, StatusFields, Timestamp, UserReservation } from '../../core/bookings/model'
import { Id } from '../../lib/input'
import { Int } from '../../lib/wire-types'

export { TimeRangeBody } from '../../core/bookings/model'

export const ReservationIdParams = t.Object({ id: Id('reservation id') })
export const RoomIdParams = t.Object({ room_id: Id('room id') })

export const MyReservations = t.Object({ reservations: t.Array(UserReservation) })
export const RoomHistory = t.Object({ reservations: t.Array(ScheduleEntry) })

export const RescheduledReply = t.Object({
  reservation: t.Object({
    id: Int(),
    start_time: Timestamp,
    end_time: Timestamp,
    ...StatusFields,
    ...CheckInFields,
  }),
})

export const CancelledReply = t.Object({ status: t.Literal('cancelled') })
