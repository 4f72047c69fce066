/**
 * The last step of the API document: its schemas as the JSON Schema (2020-12) that OpenAPI 3.1
 * speaks, for the tools that read it (Swagger UI, openapi-typescript, linters), issue 30:
 * - `nullable: true` is OpenAPI 3.0's word, which 3.1 dropped: Elysia's t.Nullable adds it beside
 *   the `anyOf [..., null]` (or `type: [..., "null"]`) that already says it. Removed.
 * - `error` is the message Elysia's validator answers with (a TypeBox option), not a schema
 *   keyword: the document lists those answers under 400. Removed.
 * - A nullable enum (t.Nullable(t.UnionEnum(...))) is merged by the document's builder into
 *   `type: [T, "null"]` with the enum of T alone, which then forbids null: null joins the enum.
 * - A boolean `additionalProperties` is Elysia's, written into the shared schema objects when it
 *   compiles a route's validator (on the route's first request): left in, the document depended on
 *   which routes had been called before it was built. Removed; no schema of ours sets one (a
 *   record's schema-valued `additionalProperties` stays). Unknown body fields are dropped, not refused.
 * Only schemas are walked, keyword by keyword, so a property or an example named `error` stays.
 */
type Json = Record<string, any>

const SCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'dependentSchemas']
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems']
const SCHEMA_ONE = ['items', 'not', 'additionalProperties', 'unevaluatedProperties', 'unevaluatedItems', 'contains', 'propertyNames', 'if', 'then', 'else']

function schema31(node: unknown): unknown {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return node
  const { nullable: _nullable, error: _error, ...copy } = node as Json
  if (typeof copy.additionalProperties === 'boolean') delete copy.additionalProperties
  for (const key of SCHEMA_MAPS)
    if (copy[key] && typeof copy[key] === 'object')
      copy[key] = Object.fromEntries(Object.entries<unknown>(copy[key]).map(([name, value]) => [name, schema31(value)]))
  for (const key of SCHEMA_LISTS) if (Array.isArray(copy[key])) copy[key] = copy[key].map(schema31)
  for (const key of SCHEMA_ONE) if (key in copy) copy[key] = Array.isArray(copy[key]) ? copy[key].map(schema31) : schema31(copy[key])
  if (Array.isArray(copy.type) && copy.type.includes('null') && Array.isArray(copy.enum) && !copy.enum.includes(null))
    copy.enum = [...copy.enum, null]
  return copy
}

/** Every `schema` of a parameter, a header or a content (with the content's own examples left alone). */
function withSchemas(node: Json, keys: string[]): Json {
  const copy = { ...node }
  for (const key of keys) if (key in copy) copy[key] = schema31(copy[key])
  return copy
}

const contentMap = (content: Json | undefined) =>
  content && Object.fromEntries(Object.entries<Json>(content).map(([type, media]) => [type, withSchemas(media, ['schema'])]))

function operation31(op: Json): Json {
  const copy = { ...op }
  if (Array.isArray(copy.parameters)) copy.parameters = copy.parameters.map((p: Json) => withSchemas(p, ['schema']))
  if (copy.requestBody?.content) copy.requestBody = { ...copy.requestBody, content: contentMap(copy.requestBody.content) }
  if (copy.responses)
    copy.responses = Object.fromEntries(Object.entries<Json>(copy.responses).map(([status, response]) => [status, {
      ...response,
      ...(response.content ? { content: contentMap(response.content) } : {}),
      ...(response.headers ? { headers: Object.fromEntries(Object.entries<Json>(response.headers).map(([name, h]) => [name, withSchemas(h, ['schema'])])) } : {}),
    }]))
  return copy
}

export function openApi31Schemas<T extends Json>(doc: T): T {
  const paths = Object.fromEntries(Object.entries<Json>(doc.paths ?? {}).map(([path, ops]) => [path,
    Object.fromEntries(Object.entries<Json>(ops).map(([method, op]) => [method, op && typeof op === 'object' && !Array.isArray(op) ? operation31(op) : op]))]))
  const schemas = Object.fromEntries(Object.entries<unknown>(doc.components?.schemas ?? {}).map(([name, schema]) => [name, schema31(schema)]))
  return { ...doc, paths, components: { ...doc.components, schemas } }
}
