/**
 * What the door display reads of a room's state (decision 029): the room's status, closure and
 * the ids and times of its current and next booking, and its remaining bookings today as a door
 * page shows them: a lesson's title and teacher, a staff member's name, otherwise nobody's name
 * ("occupied"). A student's name is not in it, whatever PUBLIC_USER_NAMES says: the display is a
 * public screen, and its page and both of its streams (/display/<id>/events, with or without the
 * display link) carry this, never the API's room state.
 */
import type { RoomState } from '../../core/events/bus'

export interface DisplayBooking {
  id: number
  start_time: string
  end_time: string
  /** an occurrence of a series */
  lesson: boolean
  /** the lesson's title */
  title: string | null
  /** a teacher's or an admin's name; null for a student's booking */
  name: string | null
}

export interface DisplayState {
  room: {
    id: number
    name: string
    status: RoomState['room']['status']
    check_in_proof: RoomState['room']['check_in_proof']
    closure: RoomState['room']['closure']
    current_reservation: { id: number; end_time: string } | null
    next_reservation: { id: number; start_time: string } | null
  }
  upcoming: DisplayBooking[]
}

export function displayState(state: RoomState): DisplayState {
  const { room } = state
  return {
    room: {
      id: room.id,
      name: room.name,
      status: room.status,
      check_in_proof: room.check_in_proof,
      closure: room.closure,
      current_reservation: room.current_reservation && { id: room.current_reservation.id, end_time: room.current_reservation.end_time },
      next_reservation: room.next_reservation && { id: room.next_reservation.id, start_time: room.next_reservation.start_time },
    },
    upcoming: state.upcoming.map((b) => ({
      id: b.id, start_time: b.start_time, end_time: b.end_time, lesson: b.lesson, title: b.title, name: b.public_name,
    })),
  }
}
