/**
 * Filters of the list endpoints. Query schemas take plain strings (a multi-value filter takes a
 * string or an array, as `?type=a&type=b` arrives) and these helpers turn them into typed values,
 * answering a bad value with 400 and a message naming the parameter and what it accepts.
 * Boolean filters are decoded by their schema instead (BoolIshFilter, src/lib/input.ts).
 */
import { t } from 'elysia'
import { BadRequest } from './errors'
import { positiveInt } from './pagination'

/** A multi-value filter: repeat the key (`?role=student&role=teacher`); commas also separate values. */
export const manyValues = (description: string) =>
  t.Optional(t.Union([t.String(), t.Array(t.String())], { description }))

function valuesOf(raw: string | string[] | undefined): string[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
  return [...new Set(list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))]
}

/** The 400 message of a query value that is not one of `allowed`. */
export const notOneOf = (name: string, value: string, allowed: readonly string[]) => `invalid ${name} '${value}': expected ${allowed.join(', ')}`

/** Every value must be one of `allowed` (case-insensitive); an empty result means "no filter". */
export function enumValues<T extends string>(raw: string | string[] | undefined, allowed: readonly T[], name: string): T[] {
  return valuesOf(raw).map((value) => {
    const match = allowed.find((a) => a === value.toLowerCase())
    if (!match) throw new BadRequest(notOneOf(name, value, allowed))
    return match
  })
}

export function idValue(raw: string | undefined, name: string): number | undefined {
  return positiveInt(raw, name)
}

/** A free-text search term, or undefined when empty. */
export function searchTerm(raw: string | undefined): string | undefined {
  const value = raw?.trim()
  return value ? value : undefined
}

/** `%term%` for ILIKE with the wildcards of the term itself escaped. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}
