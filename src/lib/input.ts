/**
 * Input schemas shared by the routes, each decoding to one clean type in the schema layer, so
 * services get a boolean or a list of ids and never re-check the raw value.
 *
 * - BoolIsh: every boolean a client sends, in a body or a query. The React frontend sends
 *   `true`, `"true"`, `1`, `0`, `"false"` (form values and checkboxes), and the original
 *   accepted them: true | false | "true" | "false" | 1 | 0 | "1" | "0" decode to a boolean;
 *   anything else is 400 `<field> must be true or false`.
 * - IdList: a non-empty JSON array of positive integer ids. Its items are TypeBox's plain
 *   Type.Integer on purpose, not Elysia's t.Integer: that one is a union (it also takes numeric
 *   strings), and Elysia's body normaliser (exact-mirror) copies an array whose items are a union
 *   by indexing the value, so a string "12" became ["1", "2"] and then the ids [1, 2]
 *   (`room_ids: "1"` blocked room 1). With plain items a string is what it is: not an array, 400.
 * - WholeNumberInput: a count of minutes and the like, as an integer or a string of digits (forms);
 *   not decoded: the service reads it, as it reads the console's form values.
 * Instants are lib/instant-input.ts's.
 */
import { Type } from '@sinclair/typebox'
import { t } from 'elysia'
import { BadRequest } from './errors'

/** The values BoolIsh accepts, and what they mean. */
const BOOL_VALUES = new Map<unknown, boolean>([
  [true, true], [false, false], ['true', true], ['false', false], [1, true], [0, false], ['1', true], ['0', false],
])

/** The 400 messages of these schemas (routes document them with the same functions). */
export const INPUT_MSG = {
  notBool: (field: string) => `${field} must be true or false`,
  notIdList: (field: string, maxItems: number = 1000) => `${field} must be a non-empty list of ids (whole numbers), at most ${maxItems}`,
} as const
const boolMessage = INPUT_MSG.notBool

/** true | false | "true" | "false" | 1 | 0 | "1" | "0" as a boolean; undefined for anything else. */
function parseBoolIsh(value: unknown): boolean | undefined {
  return BOOL_VALUES.get(value)
}

function boolSchema(field: string, description?: string) {
  return t.Union([t.Boolean(), t.Number(), t.String({ maxLength: 16 })], {
    description: `${description ? `${description}: ` : ''}true or false (also "true"/"false", 1/0, "1"/"0")`,
    examples: [true],
    error: boolMessage(field),
  })
}

function decodeBool(field: string, value: unknown): boolean {
  const parsed = parseBoolIsh(value)
  if (parsed === undefined) throw new BadRequest(boolMessage(field))
  return parsed
}

/** A boolean as clients send it, in a body (see the file comment). `field` names it in the 400 message. */
export function BoolIsh(field: string, options: { description?: string } = {}) {
  return t.Transform(boolSchema(field, options.description))
    .Decode((value): boolean => decodeBool(field, value))
    .Encode((value) => value)
}

/** A boolean query filter: as BoolIsh, and an empty value (`?is_blocked=`) means the filter is not set. */
export function BoolIshFilter(field: string, options: { description?: string } = {}) {
  return t.Transform(boolSchema(field, options.description))
    .Decode((value): boolean | undefined => (value === '' ? undefined : decodeBool(field, value)))
    .Encode((value) => value ?? '')
}

/**
 * A whole number as clients send it in a body: an integer from `minimum` to `maximum`, or a string
 * of digits (a form's value; blanks around it allowed), whose range the service checks when it reads
 * it. Anything else is 400 with `message`, the service's own message for a bad value, alone.
 */
export function WholeNumberInput(options: { minimum: number; maximum: number; description: string; example: number; message: string }) {
  // Type.Integer, not t.Integer (a union that also takes numeric strings): the string is its own branch.
  return t.Union([Type.Integer({ minimum: options.minimum, maximum: options.maximum }), t.String({ pattern: '^\\s*\\d+\\s*$' })], {
    description: `${options.description}: a whole number ${options.minimum}-${options.maximum}, or a string of digits`,
    examples: [options.example],
    error: () => new BadRequest(options.message),
  })
}

/** The largest id a PostgreSQL integer column holds. */
export const MAX_ID = 2147483647

/** A non-empty list of ids (at most `maxItems`); a string, an empty list or a non-integer item is 400. */
export function IdList(field: string, options: { description?: string; maxItems?: number } = {}) {
  const maxItems = options.maxItems ?? 1000
  const error = INPUT_MSG.notIdList(field, maxItems)
  // Type.Integer, not t.Integer: see the file comment.
  return t.Array(Type.Integer({ minimum: 1, maximum: MAX_ID, error }), {
    minItems: 1, maxItems, description: options.description, examples: [[1, 2]], error,
  })
}

/** A path id (`:id`, `:room_id`): a positive 32-bit integer, sent as text in the URL. */
export const Id = (description: string) => t.Numeric({ minimum: 1, maximum: MAX_ID, description })
