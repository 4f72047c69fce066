/**
 * Which database errors mean "the database cannot be reached" (as opposed to "the database refused
 * this statement"), and the errors the circuit breaker (circuit-breaker.ts) raises itself. The
 * error handler (src/plugins/errors.ts) answers all of them with 503 `database unavailable`; the
 * breaker opens on the connection-class ones.
 */

/** Error codes of a connection that failed or broke: postgres.js's own and the socket's. */
const CONNECTION_ERRORS = new Set([
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
])
/** SQLSTATEs of a server that is going away or cannot take us (shutdown, recovery, too many connections). */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300'])

/** The SQLSTATE of a database error, also when Drizzle wraps it in a DrizzleQueryError. */
export function pgErrorCode(error: unknown): string | undefined {
  let current: any = error
  for (let depth = 0; current && depth < 4; depth++) {
    if (typeof current.code === 'string' && /^[0-9A-Z]{5}$/.test(current.code)) return current.code
    current = current.cause
  }
  return undefined
}

/** Raised without asking the database: the breaker is open, or a query got no answer in time. */
export class DatabaseUnavailableError extends Error {
  readonly code: 'DATABASE_UNAVAILABLE' | 'QUERY_TIMEOUT'
  constructor(message: string, options: { code?: DatabaseUnavailableError['code']; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.name = 'DatabaseUnavailableError'
    this.code = options.code ?? 'DATABASE_UNAVAILABLE'
  }
}

/** True when the driver says the connection failed or the server cannot take us (not for our own errors). */
export function isConnectionFailure(error: unknown): boolean {
  let current: any = error
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof DatabaseUnavailableError) return false
    const code = current.code
    if (typeof code === 'string' && (CONNECTION_ERRORS.has(code) || UNAVAILABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
      return true
    current = current.cause
  }
  return false
}

/** True when the error (or one it wraps, as Drizzle does) says the database cannot be reached. */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: any = error
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof DatabaseUnavailableError) return true
    if (current.message === 'PGlite is closed') return true
    current = current.cause
  }
  return isConnectionFailure(error)
}

/** Where a postgres:// URL points, for messages: never its password. */
function describeTarget(url: string): { database: string; user: string; where: string } {
  try {
    const parsed = new URL(url)
    return {
      database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username) || 'postgres',
      user: decodeURIComponent(parsed.username) || 'postgres',
      where: `${parsed.hostname}:${parsed.port || 5432}`,
    }
  } catch {
    return { database: '?', user: '?', where: '?' }
  }
}

/**
 * The one line to stop with when retrying cannot help: the server answered, and said no. Class 28
 * (the login was refused: wrong password, unknown role, pg_hba) and 3D000 (no such database) stay
 * the same however long we wait; on Railway, retrying them for DB_CONNECT_TIMEOUT on each of ten
 * restarts only hides the cause. Undefined for everything else (refused, timeouts, DNS, starting up),
 * which may pass.
 */
export function permanentConnectionProblem(error: unknown, url: string): string | undefined {
  const code = pgErrorCode(error)
  if (code === undefined) return undefined
  const target = describeTarget(url)
  const detail = `${code} ${(error as Error).message}`
  if (code === '3D000')
    return `database "${target.database}" does not exist on ${target.where} (${detail}): create it (createdb ${target.database}) or fix DATABASE_URL`
  if (code.startsWith('28'))
    return `PostgreSQL on ${target.where} refused the login of user "${target.user}" (${detail}): check the user name and password in DATABASE_URL`
  return undefined
}
