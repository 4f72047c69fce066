/**
 * Which changes a webhook carries, and an endpoint's filter. Every kind of the change record
 * (src/core/changes/events.ts) but those that carry a secret or say nothing to an integrator:
 * sign-ins and sign-outs (their session id), password resets and changes, and the webhooks' own
 * configuration (the endpoints' URLs). A filter is a list of kinds, or groups of them
 * (`reservation.*`); empty: every kind a webhook carries.
 */
import { CHANGE_EVENTS, type ChangeEvent } from '../changes/events'
import { BadRequest } from '../../lib/errors'
import { WEBHOOK_MSG } from './messages'

const WITHHELD: ReadonlySet<string> = new Set<ChangeEvent>([
  'user.logged_in', 'user.logged_out', 'user.password_reset', 'user.password_changed',
  'webhook.created', 'webhook.updated', 'webhook.deleted',
])

/** The kinds of change a webhook may carry. */
export const WEBHOOK_EVENTS = CHANGE_EVENTS.filter((event) => !WITHHELD.has(event))
const CARRIED: ReadonlySet<string> = new Set(WEBHOOK_EVENTS)
const GROUPS: ReadonlySet<string> = new Set(WEBHOOK_EVENTS.map((event) => `${event.split('.')[0]}.*`))

/** The event of the test button's delivery: sent whatever the filter says. */
export const TEST_EVENT = 'webhook.test'

/** A filter from a request: each a carried kind or a group of them, without repeats; 400 naming the first unknown one. */
export function cleanEvents(raw: readonly string[]): string[] {
  const events = [...new Set(raw.map((event) => event.trim()))]
  for (const event of events) if (!CARRIED.has(event) && !GROUPS.has(event)) throw new BadRequest(WEBHOOK_MSG.badEvent(event))
  return events
}

/** Whether a change of this kind goes to an endpoint with this filter. */
export function wants(filter: readonly string[], event: string): boolean {
  if (!CARRIED.has(event)) return false
  return filter.length === 0 || filter.includes(event) || filter.includes(`${event.split('.')[0]}.*`)
}

/** Fields of a change's data that a webhook never carries, wherever they appear at the top (defence in depth). */
const SECRET_FIELD = /session|token|secret|password|hash/i

/** The payload of a change: Standard Webhooks' {type, timestamp, data}, the record's facts over its data. */
export function changePayload(change: {
  position: number; event: string; actorId: number | null; roomIds: number[]; allRooms: boolean; userIds: number[]; description: string; data: Record<string, unknown>; at: Date
}): Record<string, unknown> {
  const data = Object.fromEntries(Object.entries(change.data ?? {}).filter(([key]) => !SECRET_FIELD.test(key)))
  return {
    type: change.event,
    timestamp: change.at.toISOString(),
    data: {
      ...data,
      position: change.position, event: change.event, actor_id: change.actorId,
      room_ids: change.roomIds, all_rooms: change.allRooms, user_ids: change.userIds, description: change.description,
    },
  }
}
