/**
 * Pagination of the admin lists, as the contract names it: `page` (default 1) and `per_page`
 * (default 20, at most 100; a larger value is clamped, as the original did). A page past the end
 * is an empty list, not an error. Values that are not positive integers are a 400.
 */
import { t } from 'elysia'
import { BadRequest } from './errors'
import { Int } from './wire-types'

const DEFAULT_PER_PAGE = 20
const MAX_PER_PAGE = 100

/** Query fields; strings so that a bad value gets a clear message from parsePagination. */
export const PaginationQuery = {
  page: t.Optional(t.String({ description: 'page number, from 1 (default 1)', examples: ['1'] })),
  per_page: t.Optional(t.String({ description: `items per page (default ${DEFAULT_PER_PAGE}, at most ${MAX_PER_PAGE})`, examples: ['20'] })),
}

export const Pagination = t.Object({
  page: Int({ minimum: 1 }),
  per_page: Int({ minimum: 1 }),
  total: Int({ minimum: 0 }),
  pages: Int({ minimum: 0 }),
}, { title: 'Pagination' })

export interface PageRequest {
  page: number
  perPage: number
  limit: number
  offset: number
}

export interface PaginationInfo {
  page: number
  per_page: number
  total: number
  pages: number
}

/** A positive whole number from a query value, or 400 naming the parameter. */
export function positiveInt(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  const value = raw.trim()
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new BadRequest(`${name} must be a positive integer`)
  return Number(value)
}

export function parsePagination(
  query: { page?: string; per_page?: string },
  options: { defaultPerPage?: number; maxPerPage?: number } = {},
): PageRequest {
  const max = options.maxPerPage ?? MAX_PER_PAGE
  const page = positiveInt(query.page, 'page') ?? 1
  const perPage = Math.min(positiveInt(query.per_page, 'per_page') ?? options.defaultPerPage ?? DEFAULT_PER_PAGE, max)
  return { page, perPage, limit: perPage, offset: (page - 1) * perPage }
}

export function paginationOf(request: PageRequest, total: number): PaginationInfo {
  return { page: request.page, per_page: request.perPage, total, pages: Math.ceil(total / request.perPage) }
}
