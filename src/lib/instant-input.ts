/**
 * Instants in REQUESTS (issue 30): documented as `type: string, format: date-time` (a client
 * generated from /swagger/json gets `string`), checked and decoded to a `Date` by the schema, so
 * that services get Dates and never parse. What they accept is what the API always took, read by
 * the one reader of request instants (readIsoInput, lib/time.ts): ISO 8601 with an offset or Z,
 * WITHOUT one (read as UTC: the original Flask backend did, and its contract suite sends naive
 * times), without seconds, a date alone, a space for the T. The answers are the contract's, `{msg}`
 * alone as the services threw them: missing, null or blank is 400 `datetime value is required`,
 * anything else unreadable 400 `Invalid datetime format. Use ISO 8601.`.
 *
 * Why a kind of its own and not `t.String({ format: 'date-time' })`: Elysia registers the format
 * `date-time` for every schema of the process (RFC 3339 date-times, and a few other shapes such as
 * "Sun Jan 01 2030 ..." and "01/02/2030"), and the response check of every answer's instants relies
 * on it (lib/wire-types.ts). Replacing it with this reader would have made every answer's check
 * accept a naive time; a format of another name would show in the document. So the schema carries
 * `type` and `format` for the document, and its TypeBox kind (registered below) is what checks it:
 * TypeBox checks a registered kind with its function alone.
 *
 * Order: a schema's first error is a required property that is missing, then the properties in
 * order. The instants of one request share one error function (instantFields), which names the
 * first of them that is wrong in their order, as the services read them before: `{start_time:
 * "soon"}` is "Invalid datetime format" (the start), not "datetime value is required" (the end).
 * The function gets the whole body or query (Elysia passes it as `found`, also in production).
 */
import { Kind, TypeRegistry, type TString } from '@sinclair/typebox'
import { t } from 'elysia'
import { BadRequest } from './errors'
import { formatUtc, readIsoInput, TIME_MSG } from './time'

const INSTANT_KIND = 'QrbookInstantInput'
const FILTER_KIND = 'QrbookInstantFilter'

/** A blank query value: the filter is not set. */
const isBlank = (value: unknown) => typeof value === 'string' && value.trim() === ''

TypeRegistry.Set(INSTANT_KIND, (_schema, value) => typeof value === 'string' && readIsoInput(value) instanceof Date)
TypeRegistry.Set(FILTER_KIND, (_schema, value) => typeof value === 'string' && (isBlank(value) || readIsoInput(value) instanceof Date))

interface InstantOptions {
  description: string
  examples?: string[]
}

/** What Elysia passes a schema's `error` function: the whole body or query as `found` (and `value`, outside production). */
interface ErrorContext { found?: unknown; value?: unknown }

function fieldOf(context: ErrorContext | undefined, field: string): unknown {
  const whole = context?.found ?? context?.value
  return whole && typeof whole === 'object' ? (whole as Record<string, unknown>)[field] : undefined
}

function instantSchema(kind: string, options: InstantOptions, error: (context: ErrorContext) => BadRequest) {
  return t.Unsafe<string>({
    [Kind]: kind, type: 'string', format: 'date-time',
    description: `${options.description}: ISO 8601, with an offset or Z, or without one (then UTC)`,
    examples: options.examples ?? ['2026-11-26T10:00:00Z'],
    error,
  }) as unknown as TString
}

/**
 * The instants of one request, in the order they are checked. `required`: the field must be sent
 * (the generated client type has it as `string`); `optional`: it may be left out, but null or blank
 * is 400 `datetime value is required` (as the services answered: sent, it must be an instant).
 * `together`: the optional fields come together or not at all; one of them alone is 400 with this
 * message, before what is wrong with its value (the service's rule, which it checked first).
 */
export function instantFields(rules: { together?: string } = {}) {
  const fields: { name: string; required: boolean }[] = []
  const error = (context: ErrorContext): BadRequest => {
    const sent = fields.filter(({ name }) => fieldOf(context, name) !== undefined).length
    if (rules.together && sent > 0 && sent < fields.length) return new BadRequest(rules.together)
    for (const { name, required } of fields) {
      const value = fieldOf(context, name)
      if (value === undefined && !required) continue
      const read = readIsoInput(value)
      if (!(read instanceof Date)) return new BadRequest(read)
    }
    return new BadRequest(TIME_MSG.invalid)
  }
  const field = (name: string, options: InstantOptions, required: boolean) => {
    fields.push({ name, required })
    // Elysia's t.Transform, not TypeBox's Type.Transform: only its type gives the route a Date.
    return t.Transform(instantSchema(INSTANT_KIND, options, error))
      .Decode((value): Date => readIsoInput(value) as Date) // checked: an instant
      .Encode(formatUtc)
  }
  return {
    required: (name: string, options: InstantOptions) => field(name, options, true),
    optional: (name: string, options: InstantOptions) => t.Optional(field(name, options, false)),
  }
}

/**
 * An optional instant bound of a list's query (`start_from`): empty means the filter is not set
 * (undefined); a bad one is 400 naming the parameter, `start_from: Invalid datetime format. Use ISO 8601.`.
 */
export function InstantFilter(field: string, options: InstantOptions) {
  const error = () => new BadRequest(`${field}: ${TIME_MSG.invalid}`)
  return t.Optional(t.Transform(instantSchema(FILTER_KIND, { ...options, description: `${options.description} (empty: no filter)` }, error))
    .Decode((value): Date | undefined => (isBlank(value) ? undefined : readIsoInput(value) as Date))
    .Encode((value) => (value ? formatUtc(value) : '')))
}
