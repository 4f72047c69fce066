/**
 * Turns the route-derived OpenAPI document into one a person can use:
 * - named schemas: the shared schemas (Room, Reservation, User, ...) and every request body and
 *   success response become entries of components.schemas, referenced by $ref;
 * - errors: every operation lists the error answers it can give, each with the {"msg"} schema and
 *   the exact messages, from generic rules (validation, auth, ids, rate limits) plus ROUTE_ERRORS;
 * - security: protected operations (the auth macro's x-required-role) name both schemes.
 */
type Json = Record<string, any>

const ERROR_SCHEMA = {
  type: 'object',
  required: ['msg'],
  properties: {
    msg: { type: 'string', description: 'what went wrong, for a person' },
    errors: { type: 'array', description: 'validation details', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
    hint: { type: 'string', description: 'what to send instead' },
    request_id: { type: 'string', description: 'on 500: quote it when reporting the problem' },
  },
  // No example here: each error answer carries its own route's messages (errorResponse).
}

/** The booking limits' messages (MSG.tooFarAhead / tooLong in reservations/service.ts), with their variables. */
const LIMIT_ERRORS = [
  'Reservation ends too far ahead: it must end within <BOOKING_HORIZON_DAYS> days from now',
  'Reservation is too long: at most <STUDENT_MAX_BOOKING_HOURS> hours',
]
const NAME_ERRORS = ['name must not contain control characters']

/** Route-specific errors of the contract, by "METHOD /api/path" (path as in the document). */
const ROUTE_ERRORS: Record<string, Record<number, string[]>> = {
  'POST /api/auth/login': { 400: ['name and password are required'], 401: ['invalid credentials'] },
  'POST /api/auth/logout': { 401: ['Missing CSRF token (cookie session without X-CSRF-TOKEN)'] },
  'POST /api/auth/refresh': {
    401: ['missing authorization', 'token has expired', 'token has been revoked', 'token has already been refreshed', 'Missing CSRF token (send csrf_refresh_token)'],
    422: ['token invalid'],
  },
  'GET /api/auth/me': { 401: ['missing authorization', 'token has expired'], 404: ['user not found'], 422: ['token invalid'] },
  'POST /api/auth/signup': { 400: ['name is required', ...NAME_ERRORS, 'password must be at least 8 characters', 'role must be student or teacher'], 403: ['role not allowed for self-signup'], 409: ['user already exists'] },
  'POST /api/auth/register': { 400: [...NAME_ERRORS, 'password must be at least 8 characters', 'role must be student, teacher or admin'], 409: ['user already exists'] },
  'POST /api/auth/change-password': { 400: ['current password is incorrect', 'password must be at least 8 characters'] },
  'POST /api/rooms': { 400: ['name is required', ...NAME_ERRORS, 'invalid type "<given>": expected public, admin, service'], 409: ['room already exists'] },
  'GET /api/rooms/{id}': { 404: ['room not found'] },
  'POST /api/rooms/{id}/reserve': {
    400: ['Invalid datetime format. Use ISO 8601.', 'datetime value is required', 'Invalid time range: start must be before end',
      'Cannot create reservation in the past', ...LIMIT_ERRORS, 'Reservation starts before allowed time', 'Reservation ends after allowed time'],
    403: ['room is not available for booking'],
    404: ['room not found'],
    409: ['Reservation conflicts with existing booking', 'room is temporarily unavailable'],
  },
  'PATCH /api/reservations/{id}': {
    400: ['Only active reservations can be changed', 'Invalid datetime format. Use ISO 8601.', 'Invalid time range: start must be before end', 'Cannot create reservation in the past', LIMIT_ERRORS[0]!],
    404: ['reservation not found'],
    409: ['Reservation conflicts with existing booking'],
  },
  'DELETE /api/reservations/{id}': { 403: ['insufficient permissions (another student\'s reservation)'], 404: ['reservation not found'] },
  'GET /api/reservations/room/{room_id}/history': { 404: ['room not found'] },
  'POST /api/admin/rooms': { 400: [...NAME_ERRORS, 'check_in_proof must be one of display, poster, none'], 409: ['room already exists'] },
  'GET /api/admin/rooms': { 400: ['is_blocked must be true or false'] },
  'PATCH /api/admin/rooms/{id}': {
    400: [...NAME_ERRORS, 'is_blocked must be true or false', 'requires_check_in must be true or false', 'check_in_proof must be one of display, poster, none'],
    404: ['room not found'], 409: ['room already exists'],
  },
  'POST /api/admin/rooms/bulk/block': { 400: ['room_ids must be a non-empty list of ids (whole numbers), at most 1000', 'is_blocked must be true or false'] },
  'POST /api/admin/rooms/{id}/generate-qr': { 404: ['room not found'] },
  'GET /api/admin/rooms/{id}/display-link': { 404: ['room not found'] },
  'POST /api/admin/rooms/{id}/reserve': { 404: ['room not found', 'user not found'], 409: ['Reservation conflicts with existing booking'] },
  'POST /api/admin/users': { 400: NAME_ERRORS, 409: ['user already exists'] },
  'PATCH /api/admin/users/{id}': { 400: NAME_ERRORS, 404: ['user not found'], 409: ['user already exists', 'cannot change the role of the last admin'] },
  'POST /api/admin/users/{id}/reset-password': { 404: ['user not found'] },
  'GET /api/admin/reservations': { 400: ["invalid status 'x': expected active, finished, cancelled, released", 'checked_in must be true or false'] },
  'PATCH /api/admin/reservations/{id}': {
    400: ['status must be active, finished or cancelled', 'start_time and end_time must be sent together'],
    404: ['reservation not found', 'user not found'],
    409: ['Reservation conflicts with existing booking'],
  },
  'POST /api/admin/reservations/bulk-cancel': { 400: ['reservation_ids must be a non-empty list of ids (whole numbers), at most 1000'] },
  'GET /api/admin/audit/logs': { 400: ["invalid action 'x': expected create_reservation, cancel_reservation, ...", "invalid event 'x': expected ..."] },
  // Check-in (issue 7): messages of src/modules/checkin/service.ts (CHECK_IN_MSG).
  'GET /api/scan/{id}': { 404: ['room not found'] },
  'POST /api/scan/{id}/book': {
    400: ['minutes must be one of 30, 60, 90', 'room cannot be booked at this time of day', LIMIT_ERRORS[1]!],
    403: [
      'this QR code is not valid for this room: scan the code on the room door', 'this code is not valid for this room: scan the code on the door display',
      'this QR code has been replaced: scan the current code on the room door', 'this code from the door display has expired: scan the code on the display again',
      'this room checks in with the door display: scan the code on the display, not the printed poster', 'room is not available for booking',
    ],
    404: ['room not found'],
    409: ['room is occupied now', 'room is free for less than 5 minutes', 'Reservation conflicts with existing booking', 'room is temporarily unavailable'],
  },
  'POST /api/reservations/{id}/check-in': {
    400: ['k is required: scan the QR code on the room door', 'k is required: scan the code on the door display'],
    403: [
      'this QR code is not valid for this room: scan the code on the room door', 'this code is not valid for this room: scan the code on the door display',
      'this QR code has been replaced: scan the current code on the room door', 'this code from the door display has expired: scan the code on the display again',
      'this room checks in with the door display: scan the code on the display, not the printed poster', 'only the person who booked can check in',
    ],
    404: ['reservation not found'],
    409: ['check-in is not open yet: it opens <check_in_opens_min> minutes before the start, at <time>', 'check-in has closed at <time>', 'reservation is cancelled', 'reservation was released: it was not checked in in time', 'reservation has already ended'],
  },
  'POST /api/reservations/{id}/check-out': {
    403: ['only the person who booked can check out'],
    404: ['reservation not found'],
    409: ['reservation has not started yet: cancel it instead', 'reservation is cancelled', 'reservation was released: it was not checked in in time', 'reservation has already ended'],
  },
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad request', 401: 'Not authenticated', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict',
  413: 'Body too large', 422: 'Token invalid', 429: 'Too many requests', 500: 'Unexpected error', 503: 'Unavailable',
}

/**
 * The message as the server sends it: a note in parentheses after it ("Missing CSRF token (send
 * csrf_refresh_token)") is for the reader of the document, not part of the answer.
 */
export function sentMessage(documented: string): string {
  return documented.replace(/ \([^()]*\)$/, '')
}

function errorResponse(status: number, messages: string[]) {
  const list = messages.length ? `: ${messages.map((m) => `"${m}"`).join(', ')}` : ''
  const examples = Object.fromEntries(messages.map((m, i) => [`${status}-${i + 1}`, { summary: m, value: { msg: sentMessage(m) } }]))
  return {
    description: `${STATUS_TITLES[status] ?? 'Error'}${list}`,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' }, ...(messages.length ? { examples } : {}) } },
  }
}

/**
 * t.Numeric (a number, or a string of one, as path and query values are) is documented by Elysia
 * as `anyOf: [numeric string, number]`, which Swagger UI shows as `string | (string|number)`.
 * The values are whole numbers: say so.
 */
function integerFromNumeric(node: any): any {
  if (Array.isArray(node)) return node.map(integerFromNumeric)
  if (!node || typeof node !== 'object') return node
  const copy: Json = {}
  for (const [key, value] of Object.entries(node)) copy[key] = integerFromNumeric(value)
  const variants: Json[] | undefined = Array.isArray(copy.anyOf) ? copy.anyOf : undefined
  if (variants?.length === 2 && variants.some((v) => v.format === 'numeric' && v.type === 'string') && variants.some((v) => v.type === 'number' || v.type === 'integer')) {
    const { anyOf: _, ...rest } = copy
    return { ...rest, type: 'integer' }
  }
  return copy
}

/** The error answers an operation can give: generic ones by its shape, plus the contract's own. */
function errorsFor(key: string, op: Json): Record<number, string[]> {
  const errors: Record<number, string[]> = {}
  const add = (status: number, ...messages: string[]) => {
    errors[status] = [...new Set([...(errors[status] ?? []), ...messages])]
  }
  const params: Json[] = op.parameters ?? []
  if (op.requestBody || params.length) add(400, 'invalid request at <field>: <what is wrong> (details in errors)')
  if (op.requestBody) add(400, 'malformed request body')
  const role = op['x-required-role']
  if (role) {
    add(401, 'missing authorization', 'token has expired', 'token has been revoked')
    if (/^(post|put|patch|delete) /i.test(key)) add(401, 'Missing CSRF token', 'CSRF double submit tokens do not match')
    add(422, 'token invalid')
    if (role !== 'student') add(403, 'insufficient permissions')
  }
  if (params.some((p) => p.in === 'path')) add(404)
  for (const [status, messages] of Object.entries(ROUTE_ERRORS[key] ?? {})) add(Number(status), ...messages)
  if (!key.endsWith('/health')) add(429, 'rate limit exceeded: <limit>')
  add(500, 'internal server error')
  return errors
}

const pascal = (text: string) => text.replace(/(^|[^a-zA-Z0-9]+)([a-zA-Z0-9])/g, (_, __, c: string) => c.toUpperCase())

/** Moves every schema carrying a `title` into components.schemas and refers to it by $ref. */
function hoistTitled(node: any, schemas: Json): any {
  if (Array.isArray(node)) return node.map((n) => hoistTitled(n, schemas))
  if (!node || typeof node !== 'object') return node
  const copy: Json = {}
  for (const [key, value] of Object.entries(node)) copy[key] = hoistTitled(value, schemas)
  if (typeof copy.title === 'string' && (copy.type === 'object' || copy.properties)) {
    const name = copy.title
    schemas[name] ??= copy
    return { $ref: `#/components/schemas/${name}` }
  }
  return copy
}

function nameTopLevel(schema: Json | undefined, name: string, schemas: Json): Json | undefined {
  if (!schema || schema.$ref || (schema.type !== 'object' && !schema.properties)) return schema
  schemas[name] ??= schema
  return { $ref: `#/components/schemas/${name}` }
}

export function enrichDocument(doc: Json): Json {
  const schemas: Json = { ...integerFromNumeric(doc.components?.schemas ?? {}), Error: ERROR_SCHEMA }
  const paths: Json = {}
  for (const [path, ops] of Object.entries<Json>(doc.paths ?? {})) {
    paths[path] = {}
    for (const [method, original] of Object.entries<Json>(ops)) {
      const op = hoistTitled(integerFromNumeric(original), schemas)
      for (const param of op.parameters ?? [])
        if (param.in === 'path' && param.schema?.type === 'integer') param.example ??= 1 // Try it out fills it in
      const key = `${method.toUpperCase()} ${path}`
      const base = pascal(`${method} ${path.replace(/^\/api\//, '/').replace(/[{}]/g, '')}`)

      for (const content of Object.values<Json>(op.requestBody?.content ?? {}))
        content.schema = nameTopLevel(content.schema, `${base}Request`, schemas)
      for (const [status, response] of Object.entries<Json>(op.responses ?? {})) {
        for (const content of Object.values<Json>(response.content ?? {}))
          content.schema = nameTopLevel(content.schema, `${base}${status === '200' || status === '201' ? '' : status}Response`, schemas)
        if (/^Response for status/.test(response.description ?? '')) response.description = Number(status) < 300 ? 'Success' : STATUS_TITLES[Number(status)] ?? 'Error'
      }
      for (const [status, messages] of Object.entries(errorsFor(key, op))) {
        op.responses ??= {}
        op.responses[status] ??= errorResponse(Number(status), messages)
      }
      const role = op['x-required-role']
      op.security = role ? [{ bearer: [] }, { cookie: [], csrf: [] }] : []
      if (role) op.description = [`Requires the **${role}** role or higher.`, op.description].filter(Boolean).join('\n\n')
      paths[path][method] = op
    }
  }
  return { ...doc, paths, components: { ...doc.components, schemas } }
}
