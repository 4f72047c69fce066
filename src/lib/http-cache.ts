/**
 * Conditional and compressed answers for bodies kept as bytes (issue 17): a strong ETag per body,
 * 304 Not Modified for a matching If-None-Match, gzip when the client accepts it and the body is
 * worth it, and `Cache-Control: no-cache` so clients keep the body but revalidate every time.
 */

/** A response body as bytes, with its strong ETag and (made once, on demand) its gzip. */
export interface CachedBody {
  bytes: Uint8Array<ArrayBuffer>
  etag: string
  gzip(): Uint8Array<ArrayBuffer>
}

/** Smaller bodies are sent as they are: gzip would save less than its own cost. */
const GZIP_MIN_BYTES = 1024

export function cachedBody(bytes: Uint8Array<ArrayBuffer>): CachedBody {
  const etag = `"${Bun.hash(bytes).toString(36)}-${bytes.length.toString(36)}"`
  let gzipped: Uint8Array<ArrayBuffer> | undefined
  return { bytes, etag, gzip: () => (gzipped ??= Bun.gzipSync(bytes)) }
}

/** Whether If-None-Match names this ETag (a list, weak forms and `*` included: RFC 9110 13.1.2, weak comparison). */
function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false
  const opaque = etag.replace(/^W\//, '')
  return ifNoneMatch.split(',').some((candidate) => {
    const tag = candidate.trim()
    return tag === '*' || tag.replace(/^W\//, '') === opaque
  })
}

/** Whether Accept-Encoding allows gzip (present, and not with q=0). */
function acceptsGzip(acceptEncoding: string | null): boolean {
  if (!acceptEncoding) return false
  return acceptEncoding.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';')
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') return false
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    return q === undefined || Number(q.slice(2)) > 0
  })
}

/** `Vary` with `value` added to what the other plugins set (CORS varies on Origin), once. */
export function addVary(existing: string | undefined, value: string): string {
  if (!existing) return value
  return existing.toLowerCase().split(',').some((v) => v.trim() === value.toLowerCase()) ? existing : `${existing}, ${value}`
}

/**
 * The JSON answer for a cached body: 304 when the client has it, gzip when it accepts it, with the
 * headers the app's plugins set for this request (CORS, security headers) kept.
 */
export function cachedJsonResponse(request: Request, headers: Record<string, string>, body: CachedBody): Response {
  const common: Record<string, string> = {
    ...headers,
    etag: body.etag,
    'cache-control': 'no-cache',
    vary: addVary(headers.vary ?? headers.Vary, 'Accept-Encoding'),
  }
  delete common.Vary
  if (etagMatches(request.headers.get('if-none-match'), body.etag)) return new Response(null, { status: 304, headers: common })
  const json = { ...common, 'content-type': 'application/json' }
  if (body.bytes.length > GZIP_MIN_BYTES && acceptsGzip(request.headers.get('accept-encoding')))
    return new Response(body.gzip(), { headers: { ...json, 'content-encoding': 'gzip' } })
  return new Response(body.bytes, { headers: json })
}
