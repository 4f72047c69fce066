/**
 * CORS for the browser frontend: only the exact origins of CORS_ORIGINS get
 * Access-Control-Allow-Origin (with credentials); any other origin gets no CORS headers at all,
 * so the browser blocks it. Origins are matched with a Set lookup rather than the plugin's
 * string list, whose `in` check would also match names like "constructor".
 */
import { cors } from '@elysiajs/cors'

const ALLOWED_HEADERS = ['Content-Type', 'Authorization', 'X-CSRF-TOKEN', 'X-CSRFToken', 'X-Request-ID']
const EXPOSED_HEADERS = ['X-Request-ID', 'Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']

export function corsPlugin(origins: string[]) {
  const allowed = new Set(origins)
  return cors({
    origin: (request: Request) => allowed.has(request.headers.get('origin') ?? ''),
    credentials: true,
    allowedHeaders: ALLOWED_HEADERS,
    exposeHeaders: EXPOSED_HEADERS,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    maxAge: 600,
  })
}
