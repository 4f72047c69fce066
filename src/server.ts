/**
 * Serves the app with Bun.serve: records each request's socket address (for rate limits and
 * logs), bounds every request by TIMEOUT, and stops gracefully.
 */
import type { Server } from 'bun'
import type { App } from './app'
import type { Config } from './config'
import { recordSocketIp, metaOf } from './plugins/request-context'

export interface RunningServer {
  server: Server<undefined>
  url: URL
  /** Stops accepting, lets in-flight requests finish for up to graceMs, then closes what is left. */
  stop(graceMs: number): Promise<void>
}

function timedOut(request: Request): Response {
  return Response.json(
    { msg: 'request timed out', request_id: metaOf(request).id },
    { status: 503, headers: { 'x-content-type-options': 'nosniff', 'x-request-id': metaOf(request).id } },
  )
}

export function startServer(app: App, config: Pick<Config, 'port' | 'host' | 'timeoutS' | 'workers'>): RunningServer {
  const timeoutMs = config.timeoutS * 1000
  const server = Bun.serve({
    port: config.port,
    hostname: config.host,
    // Several worker processes share one port; the kernel spreads connections among them.
    reusePort: config.workers > 1,
    // Bun closes a connection whose response has not started by idleTimeout: keep it past TIMEOUT.
    idleTimeout: Math.min(255, config.timeoutS + 5),
    async fetch(request, srv) {
      recordSocketIp(request, srv.requestIP(request)?.address)
      let timer: ReturnType<typeof setTimeout> | undefined
      const deadline = new Promise<Response>((resolve) => {
        timer = setTimeout(() => resolve(timedOut(request)), timeoutMs)
      })
      try {
        return await Promise.race([app.handle(request), deadline])
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
    },
  }
}
