/**
 * Whose names the public room views show (decision 029). Staff (an admin, or a teacher an admin
 * has approved) are named everywhere: a lesson is "Linear algebra · Ivanova", and a teacher's
 * booking says who teaches there. A student's name is private:
 * - the scan page and the door display never show it: a student's booking reads "occupied"
 *   ("занято"), and only its owner, logged in on the scan page, sees it as theirs;
 * - the JSON API's public views (GET /rooms, /rooms/:id, /scan/:id, the room event streams) show
 *   it in `user_name` as the original did (PUBLIC_USER_NAMES=full, the default), or replace it by
 *   HIDDEN_USER_NAME (PUBLIC_USER_NAMES=private). The cached views are the same bytes for everyone
 *   (decision 023), so the setting is applied when a view is built, never per viewer; `user_id`
 *   stays, so a logged-in client still recognises its own bookings.
 */
import type { Config } from '../../../config'
import { users, type UserRole } from '../../../db/schema'

/** `user_name` of a student's booking in the public views under PUBLIC_USER_NAMES=private. */
export const HIDDEN_USER_NAME = 'booked'

/** What a public view reads of a booking's owner: select these columns beside the reservation. */
export const OWNER_COLUMNS = { userName: users.name, userRole: users.role, userTeacherPending: users.teacherPending }

interface Owner {
  userName: string
  userRole: UserRole
  userTeacherPending: boolean
}

/** An admin, or a teacher an admin has approved (a teacher awaiting approval has a student's powers, and a student's privacy). */
function isStaff(owner: Pick<Owner, 'userRole' | 'userTeacherPending'>): boolean {
  return owner.userRole === 'admin' || (owner.userRole === 'teacher' && !owner.userTeacherPending)
}

/** The name the door pages may show for a booking: staff's; null for a student's ("occupied"). */
export function publicName(owner: Owner): string | null {
  return isStaff(owner) ? owner.userName : null
}

/** `user_name` of a public view of the JSON API, as PUBLIC_USER_NAMES says. */
export function apiUserName(config: Pick<Config, 'publicUserNames'>, owner: Owner): string {
  return config.publicUserNames === 'full' || isStaff(owner) ? owner.userName : HIDDEN_USER_NAME
}
