/**
 * The one error path. Every error leaves as JSON `{"msg": ...}` with the right status:
 * domain errors (HttpError) with their own status and message, validation failures as 400 with
 * details, malformed bodies as 400, unknown routes as 404, a database that cannot be reached as
 * 503 `database unavailable` with Retry-After (fast: the circuit breaker in src/db/ refuses
 * queries while PostgreSQL is down, see docs/decisions/011), a value the database refuses as data
 * (SQLSTATE class 22: a NUL character, a date out of range) as 400, a deadlock with a concurrent
 * change as 409 (nothing was written; retry), and anything unexpected as a
 * generic 500 carrying the request id, whose details go to the log and never to the client.
 * Every `msg` is answered in the request's language (Accept-Language: Russian or English; English
 * without the header, exactly as the original), translated here from the English the code throws
 * (lib/i18n.ts, decision 030).
 */
import { Elysia } from 'elysia'
import { pgErrorCode } from '../db/client'
import { isDatabaseUnavailable } from '../db/errors'
import { HttpError } from '../lib/errors'
import type { Clock } from '../lib/clock'
import { addVary } from '../lib/http-cache'
import { requestLanguage, translate } from '../lib/i18n'
import type { Logger } from '../lib/log'
import { metaOf } from './request-context'

export { isDatabaseUnavailable }

/** True for PostgreSQL's "data exception" class: the request carried a value the database cannot take. */
function isDataException(error: unknown): boolean {
  return pgErrorCode(error)?.startsWith('22') ?? false
}

const UNAVAILABLE_LOG_EVERY_MS = 10_000

interface ValidationIssue { path?: string; message?: string; summary?: string }

/**
 * The issues of a validation error, or none when they cannot be had: Elysia's `all` walks the
 * value again (recursively), and a value it cannot walk must still get its 400, not a 500 or a
 * crash of the error path itself. (Bodies nested past MAX_JSON_DEPTH never get this far.)
 */
function validationDetails(error: unknown): { path: string; message: string }[] {
  try {
    const all = (error as { all?: ValidationIssue[] }).all ?? []
    return all.slice(0, 20).map((issue) => ({
      path: typeof issue.path === 'string' && issue.path ? issue.path.slice(0, 200) : '/',
      message: String(issue.summary ?? issue.message ?? 'invalid value').slice(0, 500),
    }))
  } catch {
    return []
  }
}

/** Where translated messages show instants: the rooms' zone, today's date by the injected clock. */
interface Locale { timeZone: string; clock: Clock }

export const errorHandler = (log: Logger, locale: Locale) => {
  // An outage fails every request: log it once per interval with a count, not once per request.
  let unavailableSince = 0
  let unavailableCount = 0
  return new Elysia({ name: 'errors' }).onError({ as: 'global' }, (context) => {
    const answer = answerError(context)
    const lang = requestLanguage(context.request)
    // The same URL answers in two languages: caches must keep them apart.
    context.set.headers.vary = addVary(context.set.headers.vary as string | undefined, 'Accept-Language')
    if (lang === 'en' || typeof answer?.msg !== 'string') return answer
    const params = context.error instanceof HttpError ? context.error.params : {}
    return { ...answer, msg: translate(answer.msg, lang, { timeZone: locale.timeZone, now: locale.clock.now(), params }) }
  })

  function answerError({ code, error, set, request }: { code: unknown; error: unknown; set: { status?: number | string; headers: Record<string, string | number> }; request: Request }): Record<string, unknown> & { msg?: unknown } {
    const meta = metaOf(request)
    set.headers['content-type'] = 'application/json; charset=utf-8'
    if (error instanceof HttpError) {
      set.status = error.status
      Object.assign(set.headers, error.headers)
      return { msg: error.message, ...error.extra }
    }
    if (isDatabaseUnavailable(error)) {
      unavailableCount++
      if (Date.now() - unavailableSince > UNAVAILABLE_LOG_EVERY_MS) {
        log.warn('database unavailable', {
          request_id: meta.id,
          requests_refused: unavailableCount,
          error: error instanceof Error ? error.message : String(error),
        })
        unavailableSince = Date.now()
        unavailableCount = 0
      }
      set.status = 503
      // The breaker probes every 250 ms and lets queries through within a second of the return.
      set.headers['retry-after'] = '1'
      return { msg: 'database unavailable', request_id: meta.id }
    }
    const sqlState = pgErrorCode(error)
    if (sqlState === '40P01' || sqlState === '40001') {
      // A deadlock or serialization failure with a concurrent change (the booking paths lock the
      // room to avoid them): nothing was written; the same request may succeed when retried.
      log.warn('a concurrent change conflicted', { request_id: meta.id, code: sqlState, path: new URL(request.url).pathname })
      set.status = 409
      return { msg: 'the request conflicted with a concurrent change; try again' }
    }
    if (isDataException(error)) {
      log.warn('the database refused a value of the request', {
        request_id: meta.id, path: new URL(request.url).pathname,
        // the driver's message (Drizzle's own repeats the query and its parameters)
        error: String((error as { cause?: { message?: unknown } }).cause?.message ?? (error as Error).message).slice(0, 300),
      })
      set.status = 400
      return { msg: 'invalid value: the request holds a character or date that cannot be stored (e.g. a NUL byte or a year out of range)' }
    }
    switch (code) {
      case 'VALIDATION': {
        const custom = (error as { customError?: unknown }).customError
        // A schema whose `error` option gives a domain error (the request instants, lib/instant-input.ts)
        // answers exactly as a service throwing it would: that status, {"msg"} alone.
        if (custom instanceof HttpError) {
          set.status = custom.status
          return { msg: custom.message, ...custom.extra }
        }
        set.status = 400
        const errors = validationDetails(error)
        // A schema's own message (its `error` option, e.g. BoolIsh's "is_blocked must be true or false") names the field.
        if (typeof custom === 'string' && custom) return { msg: custom, errors }
        const where = errors[0]?.path && errors[0].path !== '/' ? ` at ${errors[0].path}` : ''
        return { msg: `invalid request${where}: ${errors[0]?.message ?? 'validation failed'}`, errors }
      }
      case 'PARSE':
        set.status = 400
        return { msg: 'malformed request body' }
      case 'NOT_FOUND':
        set.status = 404
        return { msg: 'not found' }
      case 'INVALID_COOKIE_SIGNATURE':
        set.status = 400
        return { msg: 'invalid cookie' }
    }
    // Elysia signals a few client errors with a status on the error object (e.g. 413, 415).
    const status = (error as { status?: unknown }).status
    if (typeof status === 'number' && status >= 400 && status < 500) {
      set.status = status
      return { msg: status === 413 ? 'request body too large' : 'bad request' }
    }
    set.status = 500
    log.error('unhandled error', {
      request_id: meta.id,
      method: request.method,
      path: new URL(request.url).pathname,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      // what the driver said (Drizzle's own error only repeats the query)
      cause: (error as { cause?: { message?: unknown } })?.cause?.message,
      code: pgErrorCode(error) ?? (error as { code?: unknown })?.code,
      stack: error instanceof Error ? error.stack : undefined,
    })
    return { msg: 'internal server error', request_id: meta.id }
  }
}
