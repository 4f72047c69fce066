/**
 * Domain errors: services throw these, and the one error handler (src/plugins/errors.ts) turns
 * each into `{"msg": message}` with its status. Anything else is an unexpected 500.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers: Record<string, string> = {},
    /** Extra body fields beside msg, e.g. a hint on what to send. */
    readonly extra: Record<string, unknown> = {},
    /** Values a translation of the message shows beyond its English text (lib/i18n.ts): an hour, a lesson. Not sent. */
    readonly params: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = new.target.name
  }
}

export class BadRequest extends HttpError {
  constructor(message: string) { super(400, message) }
}
export class Unauthorized extends HttpError {
  constructor(message: string, extra: Record<string, unknown> = {}) { super(401, message, {}, extra) }
}
/** A cookie-authenticated write without the right CSRF token: a kind of its own, so callers need not read messages. */
export class CsrfError extends Unauthorized {}
export const CSRF_MSG = { missing: 'Missing CSRF token', mismatch: 'CSRF double submit tokens do not match' } as const
export class Forbidden extends HttpError {
  constructor(message = 'insufficient permissions') { super(403, message) }
}
export class NotFound extends HttpError {
  constructor(message: string) { super(404, message) }
}
export class Conflict extends HttpError {
  constructor(message: string) { super(409, message) }
}
export class Unprocessable extends HttpError {
  constructor(message: string) { super(422, message) }
}
export class TooManyRequests extends HttpError {
  constructor(message: string, headers: Record<string, string>) { super(429, message, headers) }
}

/** The error answers a route gives, by status, as exact messages (a route declares them: src/plugins/route-rules.ts). */
export type ErrorAnswers = Partial<Record<400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503, readonly string[]>>
