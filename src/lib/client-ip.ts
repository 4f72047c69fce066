/**
 * The client's address: the socket peer, unless TRUST_PROXY says how many proxies in front of us
 * append to X-Forwarded-For (Railway: 1). Only that many right-most entries are trusted; anything
 * further left was written by the client and could be forged.
 */
export function clientIp(request: Request, socketIp: string | undefined, trustProxy: number): string {
  const fallback = socketIp ?? 'unknown'
  if (trustProxy <= 0) return fallback
  const forwarded = request.headers.get('x-forwarded-for')
  if (!forwarded) return fallback
  const hops = forwarded.split(',').map((h) => h.trim()).filter(Boolean)
  return hops[Math.max(0, hops.length - trustProxy)] ?? fallback
}
