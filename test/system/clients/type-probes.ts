/**
 * What the types generated from the document must refuse, checked by the same tsc run as
 * openapi-client.ts (test/system/typed-clients.test.ts): each `@ts-expect-error` fails the check
 * when the line it marks compiles, that is when the document lets the wrong value through.
 */
import type { components, paths } from './schema'

type ReserveBody = paths['/api/rooms/{id}/reserve']['post']['requestBody']['content']['application/json']
type Room = components['schemas']['Room']

// @ts-expect-error an instant is an ISO 8601 string: a number is not one
export const numberTimes: ReserveBody = { start_time: 0, end_time: 0 }
// @ts-expect-error both instants are required
export const noTimes: ReserveBody = {}
// @ts-expect-error a room's id is a number, never a string
export const stringId: Room['id'] = '1'
