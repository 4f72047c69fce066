/**
 * Turns the route-derived OpenAPI document into one a person can use:
 * - named schemas: the shared schemas (Room, Reservation, User, ...) and every request body and
 *   success response become entries of components.schemas, referenced by $ref;
 * - errors: every operation lists the error answers it can give, each with the {"msg"} schema and
 *   the exact messages, from generic rules (validation, auth, ids, rate limits) plus the ones the
 *   route declares itself (`errors:` in its options, src/plugins/route-rules.ts: `x-errors`);
 * - security: protected operations (the auth macro's x-required-role) name both schemes.
 */
import { TOKEN_MSG } from '../core/identity/messages'
import { CSRF_MSG } from '../lib/errors'

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
    add(401, TOKEN_MSG.missing, TOKEN_MSG.expired, TOKEN_MSG.revoked)
    if (/^(post|put|patch|delete) /i.test(key)) add(401, CSRF_MSG.missing, CSRF_MSG.mismatch)
    add(422, TOKEN_MSG.invalid)
    if (role !== 'student') add(403, TOKEN_MSG.forbidden)
  }
  if (params.some((p) => p.in === 'path')) add(404)
  for (const [status, messages] of Object.entries<string[]>(op['x-errors'] ?? {})) add(Number(status), ...messages)
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
      // A text route (CSV, iCalendar) documents its real content type and an example itself.
      if (op['x-request-body']) {
        op.requestBody = op['x-request-body']
        delete op['x-request-body']
      }
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
      delete op['x-errors'] // now in the responses
      const role = op['x-required-role']
      op.security = role ? [{ bearer: [] }, { cookie: [], csrf: [] }] : []
      if (role) op.description = [`Requires the **${role}** role or higher.`, op.description].filter(Boolean).join('\n\n')
      paths[path][method] = op
    }
  }
  return { ...doc, paths, components: { ...doc.components, schemas } }
}
