/**
 * The types of ANSWERS (response schemas), as the values are sent (issue 30). A client generated
 * from /swagger/json (openapi-typescript) must get `number` for an id and a `date-time` string for
 * an instant, so that `rooms[0].id` can be passed back as a path parameter.
 *
 * - Int: TypeBox's plain Type.Integer, never Elysia's t.Integer in an answer. t.Integer is a
 *   decode transform for INPUTS: its schema is `anyOf [numeric string, integer]`, so the document
 *   typed every id `string | number`, and the response check let a numeric string through (a
 *   bigint or count(*) from postgres.js). With Int a string where an integer is documented fails
 *   the response check (500): convert it where it is read, never loosen this.
 * - DateTime: an instant, ISO 8601 in UTC with seconds and a Z (formatUtc, lib/time.ts): `format:
 *   date-time`, which Elysia's registered format checks on every answer.
 * - DateOnly: a calendar day "YYYY-MM-DD" (a term's first and last day): `format: date`.
 * Request schemas keep their own types (lib/input.ts): what a client may send is wider than this.
 */
import { Type, type IntegerOptions } from '@sinclair/typebox'
import { t } from 'elysia'

type StringOptions = Parameters<typeof t.String>[0]

/** A whole number in an answer: `type: integer`, nothing else. */
export const Int = (options?: IntegerOptions) => Type.Integer(options)

/** An instant in an answer: "2026-11-26T10:00:00Z". */
export const DateTime = (options: StringOptions = {}) =>
  t.String({ format: 'date-time', description: 'ISO 8601 in UTC', examples: ['2026-11-26T10:00:00Z'], ...options })

/** A calendar day in an answer: "2026-11-26". */
export const DateOnly = (options: StringOptions = {}) =>
  t.String({ format: 'date', description: 'a day, YYYY-MM-DD', examples: ['2026-09-01'], ...options })
