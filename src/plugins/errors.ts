/**
 * The one error path. Every error leaves as JSON `{"msg": ...}` with the right status:
 * domain errors (HttpError) with their own status and message, validation failures as 400 with
 * details, malformed bodies as 400, unknown routes as 404, and anything unexpected as a generic
 * 500 carrying the request id, whose details go to the log and never to the client.
 */
import { Elysia } from 'elysia'
import { HttpError } from '../lib/errors'
import type { Logger } from '../lib/log'
import { metaOf } from './request-context'

interface ValidationIssue { path?: string; message?: string; summary?: string }

function validationDetails(error: unknown): { path: string; message: string }[] {
  const all = (error as { all?: ValidationIssue[] }).all ?? []
  return all.slice(0, 20).map((issue) => ({
    path: issue.path || '/',
    message: issue.summary ?? issue.message ?? 'invalid value',
  }))
}

export const errorHandler = (log: Logger) =>
  new Elysia({ name: 'errors' }).onError({ as: 'global' }, ({ code, error, set, request }) => {
    const meta = metaOf(request)
    set.headers['content-type'] = 'application/json; charset=utf-8'
    if (error instanceof HttpError) {
      set.status = error.status
      Object.assign(set.headers, error.headers)
      return { msg: error.message, ...error.extra }
    }
    switch (code) {
      case 'VALIDATION': {
        set.status = 400
        const errors = validationDetails(error)
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
      stack: error instanceof Error ? error.stack : undefined,
    })
    return { msg: 'internal server error', request_id: meta.id }
  })
