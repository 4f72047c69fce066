/**
 * Serves the app with Bun.serve: refuses request bodies over MAX_BODY_BYTES with 413 {msg},
 * records each request's socket address (for rate limits and logs), bounds every request by
 * TIMEOUT (a 503 for a timeout means nothing of the request was kept), and stops gracefully. The answers it writes itself (413, 503, a last-resort 500)
 * carry the same security headers as the app's (securityHeaderSet).
 */
import type { Server } from 'bun'
import type { App } from './app'
import type { Config } from './config'
import type { Logger } from './lib/log'
import { Work, runWork } from './db/work-scope'
import { recordSocketIp, metaOf } from './plugins/request-context'
import { securityHeaderSet } from './plugins/security-headers'

type ServerConfig = Pick<Config, 'port' | 'host' | 'timeoutS' | 'workers' | 'jwtCookieSecure'>

export interface RunningServer {
  server: Server<undefined>
  url: URL
  /** Stops accepting, lets in-flight requests finish for up to graceMs, then closes what is left. */
  stop(graceMs: number): Promise<void>
}

/** A JSON answer written here, outside the app, with the headers every answer carries. */
function answer(request: Request, status: number, body: Record<string, unknown>, security: Readonly<Record<string, string>>, extra: Record<string, string> = {}): Response {
  const id = metaOf(request).id
  return Response.json({ ...body, request_id: id }, { status, headers: { ...security, 'x-request-id': id, ...extra } })
}

/**
 * The largest request body the API accepts: 1 MiB. Its bodies are a few hundred bytes (the
 * largest, a bulk list of ids, a few KB); anything bigger is refused before it is read or parsed.
 */
export const MAX_BODY_BYTES = 1024 * 1024
/**
 * Bun's own limit, set out of reach: past it Bun itself closes with a bare 413 (no JSON, no
 * security headers). A body that announces more than MAX_BODY_BYTES is refused below without
 * reading a byte of it, and the connection is closed, so Bun's limit adds nothing.
 */
const TRANSPORT_BODY_LIMIT = Number.MAX_SAFE_INTEGER

/**
 * The request if its body is within MAX_BODY_BYTES, else null. A declared Content-Length is
 * checked up front; a streamed (chunked) body is read up to the limit and handed on in memory.
 */
async function withinBodyLimit(request: Request): Promise<Request | null> {
  const declared = request.headers.get('content-length')
  if (declared !== null) return Number(declared) > MAX_BODY_BYTES ? null : request
  if (!request.body) return request
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {})
      return null
    }
    chunks.push(value)
  }
  const headers = new Headers(request.headers)
  headers.delete('transfer-encoding')
  return new Request(request.url, { method: request.method, headers, body: Buffer.concat(chunks) })
}

export function startServer(app: App, config: ServerConfig, log?: Logger): RunningServer {
  const timeoutMs = config.timeoutS * 1000
  const security = securityHeaderSet(config)
  const bodyTooLarge = (request: Request) =>
    answer(request, 413, { msg: `request body too large (limit ${MAX_BODY_BYTES} bytes)` }, security, { connection: 'close' })
  const timedOut = (request: Request) => answer(request, 503, { msg: 'request timed out' }, security)
  const server = Bun.serve({
    port: config.port,
    hostname: config.host,
    // Several worker processes share one port; the kernel spreads connections among them.
    reusePort: config.workers > 1,
    // Bun closes a connection whose response has not started by idleTimeout: keep it past TIMEOUT.
    idleTimeout: Math.min(255, config.timeoutS + 5),
    maxRequestBodySize: TRANSPORT_BODY_LIMIT,
    // Whatever escapes the app (it answers its own errors; e.g. a file that fails while it is
    // streamed) is a JSON 500 here rather than Bun's HTML page.
    error(error) {
      log?.error('unhandled error outside the app', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })
      return Response.json({ msg: 'internal server error' }, { status: 500, headers: { ...security } })
    },
    async fetch(incoming, srv) {
      const request = await withinBodyLimit(incoming)
      if (!request) return bodyTooLarge(incoming)
      recordSocketIp(request, srv.requestIP(incoming)?.address)
      // The request's database work is bound to it (db/work-scope.ts): at the deadline it is
      // abandoned, so its transactions roll back instead of committing after the 503. If a commit
      // is already under way or done, the deadline cannot take it back: the client waits for the
      // real answer instead of being told a saved change failed.
      const work = new Work()
      let timer: ReturnType<typeof setTimeout> | undefined
      const deadline = new Promise<Response>((resolve) => {
        timer = setTimeout(() => {
          if (work.abandon()) resolve(timedOut(request))
          else log?.warn('request past its deadline while committing; answering when it is done', { request_id: metaOf(request).id })
        }, timeoutMs)
      })
      try {
        return await Promise.race([runWork(work, () => app.handle(request)), deadline])
      } finally {
        clearTimeout(timer)
      }
    },
  })
  return {
    server,
    url: server.url,
    async stop(graceMs) {
      const drained = server.stop(false)
      const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref?.())
      if ((await Promise.race([drained, grace])) === 'timeout') await server.stop(true)
      // Elysia runs after-response hooks (the access log) in a setImmediate: let the last
      // requests' run before the caller closes the database and exits (they were lost).
      await new Promise((resolve) => setImmediate(resolve))
    },
  }
}
