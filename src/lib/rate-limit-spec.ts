/**
 * Parses Flask-Limiter rate-limit strings ("6000 per hour;100000 per day", "6/minute",
 * "10 per second", "5 per 10 minutes") into {limit, windowS} pairs.
 */
export interface RateLimit {
  limit: number
  windowS: number
}

const UNIT_SECONDS: Record<string, number> = {
  second: 1, minute: 60, hour: 3600, day: 86400, month: 30 * 86400, year: 365 * 86400,
}

export function parseRateLimit(text: string): RateLimit {
  const match = /^\s*(\d+)\s*(?:\/|per)\s*(\d+)?\s*(second|minute|hour|day|month|year)s?\s*$/i.exec(text)
  if (!match) throw new Error(`cannot read "${text.trim()}"`)
  const limit = Number(match[1])
  const multiple = match[2] ? Number(match[2]) : 1
  if (limit < 1 || multiple < 1) throw new Error(`"${text.trim()}" needs positive numbers`)
  return { limit, windowS: multiple * UNIT_SECONDS[match[3]!.toLowerCase()]! }
}

/** Several limits separated by ";" or "," (Flask-Limiter accepts both). */
export function parseRateLimits(text: string): RateLimit[] {
  const parts = text.split(/[;,]/).map((p) => p.trim()).filter(Boolean)
  if (parts.length === 0) throw new Error('no limits given')
  return parts.map(parseRateLimit)
}
