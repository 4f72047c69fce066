/**
 * Configuration: every environment variable the deployment guide names, read once at start,
 * validated, and turned into one typed object. A bad value throws ConfigError with a single line
 * naming the variable and what it expects; src/index.ts prints that line and exits non-zero.
 */
import { DEFAULT_PASSWORD_HASH_COST, type PasswordHashCost } from './lib/passwords'
import { parseRateLimits, type RateLimit } from './lib/rate-limit-spec'
import { isTimeZone } from './lib/time'

export class ConfigError extends Error {
  constructor(variable: string, expected: string, got?: string) {
    super(`${variable}: ${expected}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`)
    this.name = 'ConfigError'
  }
}

export type DatabaseTarget =
  /**
   * directUrl (DATABASE_DIRECT_URL): set when url goes through a transaction pooler (PgBouncer).
   * What needs one session for longer than a transaction (LISTEN, the migrations' advisory lock)
   * goes there; queries and transactions go through url, without named prepared statements.
   */
  | { kind: 'postgres'; url: string; directUrl?: string }
  | { kind: 'pglite'; dir: string }
  | { kind: 'memory' }

type SameSite = 'Lax' | 'Strict' | 'None'
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
type LogFormat = 'json' | 'pretty'
export type SecretName = 'SECRET_KEY' | 'JWT_SECRET_KEY'
/** What the first start puts into an empty database (src/db/seed.ts). */
export type SeedMode = 'demo' | 'accounts' | 'none'
/** Where the public base URL came from: set, Railway's generated domain, or the localhost fallback. */
type PublicBaseSource = 'SERVER_EXTERNAL_BASE' | 'RAILWAY_PUBLIC_DOMAIN' | 'localhost'

export interface Config {
  production: boolean
  secretKey: string
  jwtSecretKey: string
  /**
   * Which of the two secrets were not given (development only) and were generated for this run;
   * src/dev-secrets.ts keeps them on disk on the embedded database.
   */
  generatedSecrets: SecretName[]
  database: DatabaseTarget
  databaseExplicit: boolean
  staticQrPath: string
  jwtCookieSecure: boolean
  jwtCookieSameSite: SameSite
  jwtCsrfCheckForm: boolean
  accessTokenTtlS: number
  refreshTokenTtlS: number
  port: number
  host: string
  qrBaseUrl?: string
  serverExternalBase: string
  /** 'localhost' means nobody said where the server is: QR codes and posters point at this machine. */
  serverExternalBaseSource: PublicBaseSource
  frontendBaseUrl?: string
  corsOrigins: string[]
  workers: number
  timeoutS: number
  rateLimitEnabled: boolean
  rateLimitStorageUri: string
  rateLimitDefaults: RateLimit[]
  /** Failed logins allowed per client IP across all names (password spraying); then 429 until the window ends. */
  loginFailureLimits: RateLimit[]
  trustProxy: number
  appTimezone: string
  /** False when APP_TIMEZONE is unset (UTC by default): production warns, door pages would be off. */
  appTimezoneExplicit: boolean
  logLevel: LogLevel
  /** Human start-up line besides the JSON logs: 'pretty' (or a terminal) prints it. */
  logFormat?: LogFormat
  seed: SeedMode
  /** Self-signup as teacher: approve (default: student powers until an admin approves), open (the original's), off. */
  signupTeachers: 'approve' | 'open' | 'off'
  swaggerEnabled: boolean
  dbConnectTimeoutS: number
  /** postgres.js connections per process; at least 2 (start-up holds one for the advisory lock). */
  dbPoolSize: number
  /** Seconds between two runs of the check-in sweeper (finish ended bookings, release no-shows); 0 = off. */
  sweepIntervalS: number
  /** A booking may end at most this many days after now (admins exempt). */
  bookingHorizonDays: number
  /** A student's booking may last at most this many hours (teachers and admins exempt). */
  studentMaxBookingHours: number
  /**
   * No-shows have consequences (issue 16): after noShowStrikes bookings released as no-shows within
   * noShowWindowDays, the user cannot book for noShowSuspensionDays. 0 strikes = off.
   */
  noShowStrikes: number
  noShowWindowDays: number
  noShowSuspensionDays: number
  /**
   * Seconds each rotating check-in code on a door display stays current (a code is accepted for one
   * more period of grace, so a photo of the display is useless after at most two periods).
   */
  displayCodePeriodS: number
  /**
   * Whose names the public room views of the JSON API show as `user_name` (GET /rooms, /rooms/:id,
   * the room event streams): `full` (the original's: everyone's) or `private` (a student's name is
   * replaced by HIDDEN_USER_NAME; teachers' and admins' names stay). The scan page and the door
   * display never show a student's name, whatever this says (decision 029).
   */
  publicUserNames: 'full' | 'private'
  /**
   * The argon2id cost of new password hashes (PASSWORD_HASH_MEMORY_COST in KiB,
   * PASSWORD_HASH_TIME_COST passes). Production refuses less than the default (19456 KiB, 2
   * passes); the tests use the least Bun allows so that their thousands of logins stay cheap.
   */
  passwordHashCost: PasswordHashCost
  /**
   * Where e-mail notices go out (issue 28): an SMTP URL as nodemailer reads it
   * (`smtp://user:pass@host:587`, `smtps://...:465`); unset: no e-mail is queued or sent, the
   * in-app notices and webhooks work alone.
   */
  smtpUrl: string | undefined
  /** The From of every e-mail (`QRBOOK <rooms@college.example>`); default `QRBOOK <noreply@` + the public host + `>`. */
  mailFrom: string
}

type Env = Record<string, string | undefined>

/** Values that appear in .env.example and guides: never acceptable as production secrets. */
const EXAMPLE_SECRETS = new Set([
  'change-me', 'changeme', 'secret', 'your-secret-key', 'your-jwt-secret-key', 'dev', 'development',
  'change-me-to-a-long-random-string-of-at-least-32-chars',
])
const MIN_SECRET_LENGTH = 32
/**
 * Below these a secret was typed, not generated. Random values have far more: `bun run secrets`
 * about 38 distinct characters and 330 bits. The tightest random value people use, 32 hex digits
 * (`openssl rand -hex 16`), fell to 7 distinct characters and 83 bits in 5,000,000 tries, and
 * below 90 bits twelve times: 90 refused one in 400,000 of them (and made a test flake).
 */
const MIN_SECRET_DISTINCT = 6
const MIN_SECRET_BITS = 72

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === '' ? undefined : value
}

function parseBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  const v = raw.toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return true
  if (['0', 'false', 'no', 'off'].includes(v)) return false
  throw new ConfigError(name, 'expected true or false', raw)
}

function parseInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}`, raw)
  return Number(raw)
}

function parseUrl(env: Env, name: string): string | undefined {
  const raw = read(env, name)
  if (raw === undefined) return undefined
  try {
    const url = new URL(raw)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error()
  } catch {
    throw new ConfigError(name, 'expected an http:// or https:// URL', raw)
  }
  return raw
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = read(env, name)
  if (raw === undefined) return fallback
  const match = allowed.find((a) => a.toLowerCase() === raw.toLowerCase())
  if (!match) throw new ConfigError(name, `expected one of ${allowed.join(', ')}`, raw)
  return match
}

export function parseDatabaseUrl(raw: string | undefined): DatabaseTarget {
  if (raw === undefined) return { kind: 'pglite', dir: './data/pglite' }
  if (raw === 'memory://') return { kind: 'memory' }
  if (raw.startsWith('pglite://')) {
    const dir = raw.slice('pglite://'.length)
    if (!dir) throw new ConfigError('DATABASE_URL', 'pglite:// needs a directory, e.g. pglite://./data/pglite', raw)
    return { kind: 'pglite', dir }
  }
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw)
    } catch {
      throw new ConfigError('DATABASE_URL', 'expected a valid postgres:// URL', '<hidden>')
    }
    return { kind: 'postgres', url: raw }
  }
  throw new ConfigError('DATABASE_URL', 'expected postgres://, postgresql://, pglite://<dir> or memory://', raw.replace(/\/\/.*@/, '//***@'))
}

/**
 * DATABASE_DIRECT_URL: PostgreSQL itself when DATABASE_URL is a transaction pooler (PgBouncer).
 * Setting it (to another URL than DATABASE_URL) is what says that DATABASE_URL is pooled: one
 * variable, so the two cannot disagree. Unset or equal: one URL for everything, as before.
 */
function withDirectUrl(database: DatabaseTarget, raw: string | undefined): DatabaseTarget {
  if (raw === undefined) return database
  if (database.kind !== 'postgres')
    throw new ConfigError('DATABASE_DIRECT_URL', 'is only for a postgres:// DATABASE_URL that goes through a pooler (PgBouncer)')
  const expected = 'expected a postgres:// URL of the PostgreSQL server itself (not the pooler)'
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError('DATABASE_DIRECT_URL', expected, raw.replace(/\/\/.*@/, '//***@'))
  if (!URL.canParse(raw)) throw new ConfigError('DATABASE_DIRECT_URL', expected, '<hidden>')
  return raw === database.url ? database : { ...database, directUrl: raw }
}

function parseOrigins(env: Env): string[] {
  const raw = read(env, 'CORS_ORIGINS')
  if (raw === undefined) return []
  const origins = raw.split(',').map((o) => o.trim()).filter(Boolean).map((o) => o.replace(/\/+$/, ''))
  for (const origin of origins) {
    if (origin === '*') throw new ConfigError('CORS_ORIGINS', 'list exact origins; "*" cannot be used with credentials', raw)
    let url: URL
    try {
      url = new URL(origin)
    } catch {
      throw new ConfigError('CORS_ORIGINS', 'expected comma-separated origins like https://app.example.com', origin)
    }
    if (url.origin !== origin) throw new ConfigError('CORS_ORIGINS', 'an origin has no path, e.g. https://app.example.com', origin)
  }
  return origins
}

function parseTimezone(env: Env): string {
  const tz = read(env, 'APP_TIMEZONE') ?? 'UTC'
  if (!isTimeZone(tz)) throw new ConfigError('APP_TIMEZONE', 'expected an IANA time zone such as UTC or Europe/Moscow', tz)
  return tz
}

/**
 * Railway sets RAILWAY_PUBLIC_DOMAIN (a bare host name) once a domain is generated, so QR codes are
 * right before the guide's step that sets SERVER_EXTERNAL_BASE.
 */
function parsePublicBase(env: Env, port: number): { base: string; source: PublicBaseSource } {
  const explicit = parseUrl(env, 'SERVER_EXTERNAL_BASE')
  if (explicit !== undefined) return { base: explicit.replace(/\/*$/, '/'), source: 'SERVER_EXTERNAL_BASE' }
  const domain = read(env, 'RAILWAY_PUBLIC_DOMAIN')
  if (domain !== undefined) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(domain) || domain.length > 253)
      throw new ConfigError('RAILWAY_PUBLIC_DOMAIN', 'expected a host name like app.up.railway.app (no scheme, no path)', domain)
    return { base: `https://${domain.toLowerCase()}/`, source: 'RAILWAY_PUBLIC_DOMAIN' }
  }
  return { base: `http://localhost:${port}/`, source: 'localhost' }
}

function parseRateLimitStorage(env: Env): string {
  const raw = read(env, 'RATELIMIT_STORAGE_URI') ?? 'memory://'
  if (raw === 'memory://' || /^rediss?:\/\/[^\s]+$/.test(raw)) return raw
  throw new ConfigError('RATELIMIT_STORAGE_URI', 'expected memory:// or redis://host:port', raw)
}

function isProduction(env: Env): boolean {
  const nodeEnv = read(env, 'NODE_ENV')?.toLowerCase()
  const flaskEnv = read(env, 'FLASK_ENV')?.toLowerCase()
  return nodeEnv === 'production' || (nodeEnv === undefined && flaskEnv === 'production')
}

/**
 * A rough upper bound of the entropy of a value, in bits: its length times the Shannon entropy of
 * its own character frequencies. It cannot tell a random value from a clever pattern, but it does
 * catch what people type by hand: "aaaa...", "abababab...", one word repeated.
 */
function entropyEstimateBits(value: string): number {
  const chars = [...value]
  const counts = new Map<string, number>()
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1)
  let perChar = 0
  for (const n of counts.values()) perChar -= (n / chars.length) * Math.log2(n / chars.length)
  return perChar * chars.length
}

/** True when the value is a shorter part said again and again ("abcabcabc", "passwordpassword"). */
function isRepetition(value: string): boolean {
  for (let period = 1; period <= value.length / 2; period++) {
    let repeats = true
    for (let i = period; i < value.length && repeats; i++) repeats = value[i] === value[i - period]
    if (repeats) return true
  }
  return false
}

function secret(env: Env, name: string, production: boolean): string | undefined {
  const value = read(env, name)
  if (!production) return value
  const remedy = 'generate one with `bun run secrets`'
  if (value === undefined)
    throw new ConfigError(name, `is required in production; ${remedy}`)
  if (value.length < MIN_SECRET_LENGTH || EXAMPLE_SECRETS.has(value.toLowerCase()))
    throw new ConfigError(name, `must be a random value of at least ${MIN_SECRET_LENGTH} characters; ${remedy}`)
  const distinct = new Set(value).size
  const bits = Math.round(entropyEstimateBits(value))
  if (distinct < MIN_SECRET_DISTINCT || bits < MIN_SECRET_BITS || isRepetition(value))
    throw new ConfigError(name, `is too predictable to be a secret (${distinct} distinct characters, about ${bits} bits${isRepetition(value) ? ', a repeated pattern' : ''}; a random value has at least ${MIN_SECRET_DISTINCT} and ${MIN_SECRET_BITS}); ${remedy}`)
  return value
}

function parsePasswordHashCost(env: Env, production: boolean): PasswordHashCost {
  const floor = DEFAULT_PASSWORD_HASH_COST
  const cost = {
    memoryCost: parseInteger(env, 'PASSWORD_HASH_MEMORY_COST', floor.memoryCost, 8, 4_194_304),
    timeCost: parseInteger(env, 'PASSWORD_HASH_TIME_COST', floor.timeCost, 1, 100),
  }
  // A cheaper hash is a test setting: in production it would make stolen hashes cheaper to crack.
  if (production && cost.memoryCost < floor.memoryCost)
    throw new ConfigError('PASSWORD_HASH_MEMORY_COST', `must be at least ${floor.memoryCost} (KiB) in production; unset it`, String(cost.memoryCost))
  if (production && cost.timeCost < floor.timeCost)
    throw new ConfigError('PASSWORD_HASH_TIME_COST', `must be at least ${floor.timeCost} in production; unset it`, String(cost.timeCost))
  return cost
}

function randomSecret(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
}

/**
 * options.signing false is for a tool that signs nothing (`bun run set-password` only hashes and
 * stores a password): SECRET_KEY and JWT_SECRET_KEY are then neither required nor checked, even in
 * production, and random keys stand in for missing ones.
 */
export function loadConfig(env: Env = process.env, options: { signing?: boolean } = {}): Config {
  const production = isProduction(env)
  const port = parseInteger(env, 'PORT', 8080, 1, 65535)

  const checkSecrets = production && options.signing !== false
  const givenSecret = secret(env, 'SECRET_KEY', checkSecrets)
  const givenJwtSecret = secret(env, 'JWT_SECRET_KEY', checkSecrets)
  // One key must not unlock both: a leak of either (e.g. a QR key's signing secret) would forge the other.
  if (checkSecrets && givenSecret === givenJwtSecret)
    throw new ConfigError('JWT_SECRET_KEY', 'must differ from SECRET_KEY (one signs the sessions, the other the QR keys); generate two with `bun run secrets`')

  const databaseExplicit = read(env, 'DATABASE_URL') !== undefined
  const database = withDirectUrl(parseDatabaseUrl(read(env, 'DATABASE_URL')), read(env, 'DATABASE_DIRECT_URL'))
  if (production && !databaseExplicit)
    throw new ConfigError('DATABASE_URL', 'is required in production (a postgres:// URL, or pglite://<dir> to use the embedded database on purpose)')

  const workers = parseInteger(env, 'WORKERS', 1, 1, 64)
  if (workers > 1 && database.kind !== 'postgres')
    throw new ConfigError('WORKERS', 'must be 1 on the embedded database (PGlite is single-process); use a postgres:// DATABASE_URL for more', String(workers))

  const sameSite = oneOf(env, 'JWT_COOKIE_SAMESITE', ['Lax', 'Strict', 'None'] as const, 'Lax')
  // Browsers drop SameSite=None cookies that are not Secure, so None forces Secure.
  const cookieSecure = parseBool(env, 'JWT_COOKIE_SECURE', false) || sameSite === 'None'

  const rateLimitRaw = read(env, 'RATELIMIT_DEFAULTS') ?? '6000 per hour;100000 per day'
  let rateLimitDefaults: RateLimit[]
  try {
    rateLimitDefaults = parseRateLimits(rateLimitRaw)
  } catch (error) {
    throw new ConfigError('RATELIMIT_DEFAULTS', `expected Flask-Limiter syntax like "6000 per hour;100000 per day" (${(error as Error).message})`, rateLimitRaw)
  }

  const loginFailuresRaw = read(env, 'RATELIMIT_LOGIN_FAILURES') ?? '30 per 10 minutes'
  let loginFailureLimits: RateLimit[]
  try {
    loginFailureLimits = parseRateLimits(loginFailuresRaw)
  } catch (error) {
    throw new ConfigError('RATELIMIT_LOGIN_FAILURES', `expected Flask-Limiter syntax like "30 per 10 minutes" (${(error as Error).message})`, loginFailuresRaw)
  }

  const debugAlias = read(env, 'FLASK_DEBUG') === '1' && !production
  const logLevel = oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, debugAlias ? 'debug' : 'info')
  const publicBase = parsePublicBase(env, port)

  return {
    production,
    secretKey: givenSecret ?? env.QRBOOK_EPHEMERAL_SECRET_KEY ?? randomSecret(),
    jwtSecretKey: givenJwtSecret ?? env.QRBOOK_EPHEMERAL_JWT_SECRET_KEY ?? randomSecret(),
    generatedSecrets: [
      ...(givenSecret === undefined ? ['SECRET_KEY' as const] : []),
      ...(givenJwtSecret === undefined ? ['JWT_SECRET_KEY' as const] : []),
    ],
    database,
    databaseExplicit,
    staticQrPath: read(env, 'STATIC_QR_PATH') ?? './static/qr',
    jwtCookieSecure: cookieSecure,
    jwtCookieSameSite: sameSite,
    jwtCsrfCheckForm: parseBool(env, 'JWT_CSRF_CHECK_FORM', false),
    accessTokenTtlS: parseInteger(env, 'JWT_ACCESS_TOKEN_EXPIRES', 3600, 10, 86400 * 7),
    refreshTokenTtlS: parseInteger(env, 'JWT_REFRESH_TOKEN_EXPIRES', 7 * 86400, 60, 86400 * 90),
    port,
    host: read(env, 'HOST') ?? '0.0.0.0',
    qrBaseUrl: parseUrl(env, 'QR_BASE_URL')?.replace(/\/+$/, ''),
    serverExternalBase: publicBase.base,
    serverExternalBaseSource: publicBase.source,
    frontendBaseUrl: parseUrl(env, 'FRONTEND_BASE_URL')?.replace(/\/+$/, ''),
    corsOrigins: parseOrigins(env),
    workers,
    timeoutS: parseInteger(env, 'TIMEOUT', 30, 1, 3600),
    rateLimitEnabled: parseBool(env, 'RATELIMIT_ENABLED', true),
    rateLimitStorageUri: parseRateLimitStorage(env),
    rateLimitDefaults,
    loginFailureLimits,
    trustProxy: parseInteger(env, 'TRUST_PROXY', 0, 0, 10),
    appTimezone: parseTimezone(env),
    appTimezoneExplicit: read(env, 'APP_TIMEZONE') !== undefined,
    logLevel,
    logFormat: read(env, 'LOG_FORMAT') === undefined ? undefined : oneOf(env, 'LOG_FORMAT', ['json', 'pretty'] as const, 'json'),
    // Production gets the four accounts the guide tells the operator to change, never fake rooms.
    seed: oneOf(env, 'SEED', ['demo', 'accounts', 'none'] as const, production ? 'accounts' : 'demo'),
    signupTeachers: oneOf(env, 'SIGNUP_TEACHERS', ['approve', 'open', 'off'] as const, 'approve'),
    swaggerEnabled: parseBool(env, 'SWAGGER_ENABLED', true),
    dbConnectTimeoutS: parseInteger(env, 'DB_CONNECT_TIMEOUT', 30, 0, 600),
    dbPoolSize: parseInteger(env, 'DB_POOL_SIZE', 10, 2, 1000),
    sweepIntervalS: parseInteger(env, 'SWEEP_INTERVAL_S', 30, 0, 3600),
    bookingHorizonDays: parseInteger(env, 'BOOKING_HORIZON_DAYS', 180, 1, 3660),
    studentMaxBookingHours: parseInteger(env, 'STUDENT_MAX_BOOKING_HOURS', 12, 1, 24 * 366),
    noShowStrikes: parseInteger(env, 'NO_SHOW_STRIKES', 3, 0, 1000),
    noShowWindowDays: parseInteger(env, 'NO_SHOW_WINDOW_DAYS', 30, 1, 3660),
    noShowSuspensionDays: parseInteger(env, 'NO_SHOW_SUSPENSION_DAYS', 7, 1, 3660),
    displayCodePeriodS: parseInteger(env, 'DISPLAY_CODE_PERIOD_S', 30, 10, 300),
    publicUserNames: oneOf(env, 'PUBLIC_USER_NAMES', ['full', 'private'] as const, 'full'),
    passwordHashCost: parsePasswordHashCost(env, production),
    smtpUrl: parseSmtpUrl(env),
    mailFrom: read(env, 'MAIL_FROM') ?? `QRBOOK <noreply@${new URL(publicBase.base).hostname}>`,
  }
}

function parseSmtpUrl(env: Env): string | undefined {
  const raw = read(env, 'SMTP_URL')
  if (raw === undefined) return undefined
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('SMTP_URL', 'expected smtp://[user:password@]host[:port] or smtps://...', raw.replace(/\/\/[^@/]*@/, '//***@'))
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new ConfigError('SMTP_URL', 'expected smtp://[user:password@]host[:port] or smtps://...', `${url.protocol}//...`)
  return raw
}
