/**
 * Refuses request bodies that nest deeper than MAX_JSON_DEPTH with 400 {msg}, before Elysia
 * parses or validates them. A body of 60,000 nested objects is ~360 KB, well within the body
 * limit, and every recursive walk of it (TypeBox's error iterator, Elysia's ValidationError
 * message, JSON.stringify) overflowed the stack after blocking the event loop for seconds.
 *
 * It runs in onRequest, after the rate limiter's default count (registered before it in
 * src/app.ts), so refused requests spend the sender's budget like any other. It reads a clone of
 * the body, leaving the original to Elysia's own parser: parsing behaves exactly as before for
 * every body it lets through. Which bodies are scanned:
 * - any content type Elysia might read as JSON: application/json, +json types, and, to be safe,
 *   every type not listed below (Elysia's parser picks JSON by the 13th character of the type);
 * - multipart/form-data: each string field, since Elysia's form parser JSON-parses a field that
 *   starts with `{` or `[`;
 * - not: no content type (Elysia does not parse the body), text/* (read as a string),
 *   application/x-www-form-urlencoded (flat strings) and application/octet-stream (bytes).
 */
import { Elysia } from 'elysia'
import { BadRequest } from '../lib/errors'
import { exceedsJsonDepth, MAX_JSON_DEPTH, stringExceedsJsonDepth } from '../lib/json-depth'

const NOT_JSON = /^(text\/|application\/x-www-form-urlencoded|application\/octet-stream)/

/** Whether the request's body nests deeper than `limit` where a parser would read it as JSON. */
async function bodyTooDeep(request: Request, limit: number = MAX_JSON_DEPTH): Promise<boolean> {
  if (!request.body || request.method === 'GET' || request.method === 'HEAD') return false
  const type = (request.headers.get('content-type') ?? '').trim().toLowerCase()
  if (!type || NOT_JSON.test(type)) return false
  if (type.startsWith('multipart/form-data')) {
    let form
    try {
      form = await request.clone().formData()
    } catch {
      return false // Elysia's own parser refuses it as a malformed body
    }
    let deep = false
    form.forEach((value) => {
      if (!deep && typeof value === 'string' && stringExceedsJsonDepth(value, limit)) deep = true
    })
    return deep
  }
  return exceedsJsonDepth(new Uint8Array(await request.clone().arrayBuffer()), limit)
}

export const bodyDepthLimit = (limit: number = MAX_JSON_DEPTH) =>
  new Elysia({ name: 'body-depth', seed: limit }).onRequest(async ({ request }) => {
    if (await bodyTooDeep(request, limit)) throw new BadRequest(`request body nested too deeply (limit ${limit} levels)`)
  })
