/**
 * Per-request bookkeeping shared by the cross-cutting plugins: a request id (taken from a sane
 * incoming X-Request-ID or generated), the start time for the access log, and the client's
 * socket address, which only the server sees (src/server.ts records it before Elysia runs).
 */
export interface RequestMeta {
  id: string
  startedAt: number
  socketIp?: string
}

const metas = new WeakMap<Request, RequestMeta>()
const SAFE_REQUEST_ID = /^[\w.:-]{1,128}$/

export function metaOf(request: Request): RequestMeta {
  let meta = metas.get(request)
  if (!meta) {
    const incoming = request.headers.get('x-request-id')
    meta = {
      id: incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID(),
      startedAt: performance.now(),
    }
    metas.set(request, meta)
  }
  return meta
}

export function recordSocketIp(request: Request, ip: string | undefined): void {
  metaOf(request).socketIp = ip
}
