/**
 * src/config.ts: defaults, the deployment guide's variables and aliases, one clear error per bad
 * value, and the production checks. Also checks that docs/configuration.md and .env.example document
 * every variable the code reads, so the table cannot silently fall behind (README.md's own checks,
 * among them its table of the deployment guide's variables: test/readme.test.ts).
 */
import { setDefaultTimeout, describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig, parseDatabaseUrl } from '../src/config'
import { ROOT } from './helpers/process'

setDefaultTimeout(30_000) // see test/setup.ts

const STRONG = 'x'.repeat(20) + crypto.randomUUID() // 56 characters, not an example value
const PRODUCTION = { NODE_ENV: 'production', SECRET_KEY: STRONG, JWT_SECRET_KEY: `${STRONG}-jwt`, DATABASE_URL: 'postgres://u:p@db.internal:5432/app' }

/** The ConfigError loadConfig throws for env (fails the test if it does not throw one). */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error(`loadConfig(${JSON.stringify(env)}) did not throw`)
}

describe('defaults (an empty environment is a working development setup)', () => {
  const config = loadConfig({})

  test('embedded PGlite in ./data/pglite, port 8080 on all interfaces, one worker', () => {
    expect(config.production).toBe(false)
    expect(config.database).toEqual({ kind: 'pglite', dir: './data/pglite' })
    expect(config.databaseExplicit).toBe(false)
    expect(config.port).toBe(8080)
    expect(config.host).toBe('0.0.0.0')
    expect(config.workers).toBe(1)
    expect(config.timeoutS).toBe(30)
    expect(config.dbConnectTimeoutS).toBe(30)
    expect(config.dbPoolSize).toBe(10)
  })

  test('cookies, CSRF, tokens, CORS, QR, rate limits, time zone and logging', () => {
    expect(config.jwtCookieSecure).toBe(false)
    expect(config.jwtCookieSameSite).toBe('Lax')
    expect(config.jwtCsrfCheckForm).toBe(false)
    expect(config.accessTokenTtlS).toBe(3600)
    expect(config.refreshTokenTtlS).toBe(7 * 86400)
    expect(config.corsOrigins).toEqual([])
    expect(config.staticQrPath).toBe('./static/qr')
    expect(config.serverExternalBase).toBe('http://localhost:8080/')
    expect(config.qrBaseUrl).toBeUndefined()
    expect(config.frontendBaseUrl).toBeUndefined()
    expect(config.rateLimitStorageUri).toBe('memory://')
    expect(config.rateLimitDefaults).toEqual([{ limit: 6000, windowS: 3600 }, { limit: 100000, windowS: 86400 }])
    expect(config.trustProxy).toBe(0)
    expect(config.appTimezone).toBe('UTC')
    expect(config.logLevel).toBe('info')
    expect(config.swaggerEnabled).toBe(true)
  })

  test('booking limits: end within 180 days, students at most 12 hours', () => {
    expect(config.bookingHorizonDays).toBe(180)
    expect(config.studentMaxBookingHours).toBe(12)
    const set = loadConfig({ BOOKING_HORIZON_DAYS: '30', STUDENT_MAX_BOOKING_HOURS: '4' })
    expect([set.bookingHorizonDays, set.studentMaxBookingHours]).toEqual([30, 4])
  })

  test('without secrets, random ones are made for this run and named as generated', () => {
    expect(config.generatedSecrets).toEqual(['SECRET_KEY', 'JWT_SECRET_KEY'])
    expect(Buffer.from(config.secretKey, 'base64url').length).toBeGreaterThanOrEqual(32)
    expect(config.jwtSecretKey).not.toBe(config.secretKey)
    expect(loadConfig({}).secretKey).not.toBe(config.secretKey)
    const given = loadConfig({ SECRET_KEY: 'a', JWT_SECRET_KEY: 'b' })
    expect([given.secretKey, given.jwtSecretKey, given.generatedSecrets]).toEqual(['a', 'b', []])
    expect(loadConfig({ SECRET_KEY: 'a' }).generatedSecrets).toEqual(['JWT_SECRET_KEY'])
  })
})

describe('the deployment guide\'s values are read', () => {
  test('every guide variable', () => {
    const config = loadConfig({
      SECRET_KEY: 'sk', JWT_SECRET_KEY: 'jk', DATABASE_URL: 'postgresql://user:pw@containers.railway.app:6543/railway',
      STATIC_QR_PATH: '/data/qr', JWT_COOKIE_SECURE: 'true', JWT_CSRF_CHECK_FORM: 'True', PORT: '3000',
      QR_BASE_URL: 'https://cdn.example.com/qr/', SERVER_EXTERNAL_BASE: 'https://api.example.com',
      CORS_ORIGINS: 'https://app.example.com/, http://localhost:5173', FRONTEND_BASE_URL: 'https://app.example.com/',
      WORKERS: '4', TIMEOUT: '120', RATELIMIT_STORAGE_URI: 'redis://127.0.0.1:6379/0', RATELIMIT_DEFAULTS: '200 per minute, 5/second',
      APP_TIMEZONE: 'Europe/Moscow', LOG_LEVEL: 'WARN', TRUST_PROXY: '1', HOST: '127.0.0.1',
      JWT_COOKIE_SAMESITE: 'strict', JWT_ACCESS_TOKEN_EXPIRES: '900', JWT_REFRESH_TOKEN_EXPIRES: '86400',
      SWAGGER_ENABLED: 'no', DB_CONNECT_TIMEOUT: '5', DB_POOL_SIZE: '4',
    })
    // Railway's postgresql:// scheme is a PostgreSQL URL like postgres://
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgresql://user:pw@containers.railway.app:6543/railway' })
    expect(config.staticQrPath).toBe('/data/qr')
    expect(config.jwtCookieSecure).toBe(true)
    expect(config.jwtCsrfCheckForm).toBe(true)
    expect(config.port).toBe(3000)
    expect(config.qrBaseUrl).toBe('https://cdn.example.com/qr')
    expect(config.serverExternalBase).toBe('https://api.example.com/')
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173'])
    expect(config.frontendBaseUrl).toBe('https://app.example.com')
    expect(config.workers).toBe(4)
    expect(config.timeoutS).toBe(120)
    expect(config.rateLimitStorageUri).toBe('redis://127.0.0.1:6379/0')
    expect(config.rateLimitDefaults).toEqual([{ limit: 200, windowS: 60 }, { limit: 5, windowS: 1 }])
    expect(config.appTimezone).toBe('Europe/Moscow')
    expect(config.logLevel).toBe('warn')
    expect(config.trustProxy).toBe(1)
    expect(config.host).toBe('127.0.0.1')
    expect(config.jwtCookieSameSite).toBe('Strict')
    expect(config.accessTokenTtlS).toBe(900)
    expect(config.refreshTokenTtlS).toBe(86400)
    expect(config.swaggerEnabled).toBe(false)
    expect(config.dbConnectTimeoutS).toBe(5)
    expect(config.dbPoolSize).toBe(4)
    // SERVER_EXTERNAL_BASE follows PORT when unset
    expect(loadConfig({ PORT: '3000' }).serverExternalBase).toBe('http://localhost:3000/')
  })

  test('DATABASE_URL: pglite://<dir> on disk, memory:// in memory', () => {
    expect(parseDatabaseUrl('pglite:///var/data/db')).toEqual({ kind: 'pglite', dir: '/var/data/db' })
    expect(parseDatabaseUrl('pglite://./data/x')).toEqual({ kind: 'pglite', dir: './data/x' })
    expect(parseDatabaseUrl('memory://')).toEqual({ kind: 'memory' })
    expect(loadConfig({ DATABASE_URL: 'memory://' }).databaseExplicit).toBe(true)
  })

  test('DATABASE_DIRECT_URL: PostgreSQL itself when DATABASE_URL is a pooler (test/system/pgbouncer.test.ts)', () => {
    const pooled = 'postgresql://u:pw@pgbouncer.railway.internal:6432/railway'
    const direct = 'postgresql://u:pw@postgres.railway.internal:5432/railway'
    expect(loadConfig({ DATABASE_URL: pooled, DATABASE_DIRECT_URL: direct }).database).toEqual({ kind: 'postgres', url: pooled, directUrl: direct })
    // the same URL twice is no pooler: nothing changes
    expect(loadConfig({ DATABASE_URL: direct, DATABASE_DIRECT_URL: direct }).database).toEqual({ kind: 'postgres', url: direct })
    expect(() => loadConfig({ DATABASE_URL: 'memory://', DATABASE_DIRECT_URL: direct })).toThrow('DATABASE_DIRECT_URL: is only for a postgres:// DATABASE_URL')
    expect(() => loadConfig({ DATABASE_URL: pooled, DATABASE_DIRECT_URL: 'pglite://./x' })).toThrow('DATABASE_DIRECT_URL: expected a postgres:// URL')
    // a password in a bad URL is never echoed
    expect(() => loadConfig({ DATABASE_URL: pooled, DATABASE_DIRECT_URL: 'postgres://u:secret@[bad' })).toThrow('(got "<hidden>")')
  })

  test('blank values count as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '  ', CORS_ORIGINS: '', JWT_COOKIE_SECURE: '' })
    expect(config.port).toBe(8080)
    expect(config.database.kind).toBe('pglite')
    expect(config.databaseExplicit).toBe(false)
    expect(config.jwtCookieSecure).toBe(false)
  })

  test('SameSite=None forces Secure cookies (browsers drop insecure None cookies)', () => {
    const config = loadConfig({ JWT_COOKIE_SAMESITE: 'None', JWT_COOKIE_SECURE: 'false' })
    expect(config.jwtCookieSameSite).toBe('None')
    expect(config.jwtCookieSecure).toBe(true)
  })

  test('FLASK_DEBUG=1 means debug logging outside production; LOG_LEVEL wins', () => {
    expect(loadConfig({ FLASK_DEBUG: '1' }).logLevel).toBe('debug')
    expect(loadConfig({ FLASK_DEBUG: '1', LOG_LEVEL: 'error' }).logLevel).toBe('error')
    expect(loadConfig({ ...PRODUCTION, FLASK_DEBUG: '1' }).logLevel).toBe('info')
    expect(loadConfig({ FLASK_DEBUG: '0' }).logLevel).toBe('info')
  })
})

describe('a bad value names the variable and what it expects, in one line', () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ PORT: 'abc' }, 'PORT', /^PORT: expected a whole number from 1 to 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, 'PORT', /whole number/],
    [{ PORT: '-1' }, 'PORT', /whole number/],
    [{ WORKERS: '0' }, 'WORKERS', /whole number from 1/],
    [{ TIMEOUT: '1.5' }, 'TIMEOUT', /whole number/],
    [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY', /whole number/],
    [{ JWT_ACCESS_TOKEN_EXPIRES: '1h' }, 'JWT_ACCESS_TOKEN_EXPIRES', /whole number/],
    [{ JWT_REFRESH_TOKEN_EXPIRES: '0' }, 'JWT_REFRESH_TOKEN_EXPIRES', /whole number/],
    [{ DB_CONNECT_TIMEOUT: 'soon' }, 'DB_CONNECT_TIMEOUT', /whole number/],
    [{ DB_POOL_SIZE: 'ten' }, 'DB_POOL_SIZE', /whole number from 2/],
    [{ DB_POOL_SIZE: '1' }, 'DB_POOL_SIZE', /whole number from 2/], // start-up holds one connection for the lock
    [{ BOOKING_HORIZON_DAYS: '0' }, 'BOOKING_HORIZON_DAYS', /^BOOKING_HORIZON_DAYS: expected a whole number from 1 to 3660 \(got "0"\)$/],
    [{ BOOKING_HORIZON_DAYS: '6 months' }, 'BOOKING_HORIZON_DAYS', /whole number/],
    [{ STUDENT_MAX_BOOKING_HOURS: '0' }, 'STUDENT_MAX_BOOKING_HOURS', /whole number from 1/],
    [{ STUDENT_MAX_BOOKING_HOURS: '1.5' }, 'STUDENT_MAX_BOOKING_HOURS', /whole number/],
    [{ JWT_COOKIE_SECURE: 'maybe' }, 'JWT_COOKIE_SECURE', /^JWT_COOKIE_SECURE: expected true or false \(got "maybe"\)$/],
    [{ JWT_CSRF_CHECK_FORM: '2' }, 'JWT_CSRF_CHECK_FORM', /true or false/],
    [{ SWAGGER_ENABLED: 'sure' }, 'SWAGGER_ENABLED', /true or false/],
    [{ JWT_COOKIE_SAMESITE: 'lenient' }, 'JWT_COOKIE_SAMESITE', /one of Lax, Strict, None/],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /one of debug, info, warn, error/],
    [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL', /postgres:\/\/, postgresql:\/\/, pglite:\/\/<dir> or memory:\/\//],
    [{ DATABASE_URL: 'pglite://' }, 'DATABASE_URL', /needs a directory/],
    [{ DATABASE_URL: 'postgres://user:pw@[bad' }, 'DATABASE_URL', /valid postgres:\/\/ URL/],
    [{ QR_BASE_URL: 'cdn.example.com/qr' }, 'QR_BASE_URL', /http:\/\/ or https:\/\/ URL/],
    [{ SERVER_EXTERNAL_BASE: 'ftp://example.com' }, 'SERVER_EXTERNAL_BASE', /http:\/\/ or https:\/\/ URL/],
    [{ FRONTEND_BASE_URL: 'localhost:3000' }, 'FRONTEND_BASE_URL', /http:\/\/ or https:\/\/ URL/],
    [{ CORS_ORIGINS: '*' }, 'CORS_ORIGINS', /exact origins/],
    [{ CORS_ORIGINS: 'https://ok.example.com,not a url' }, 'CORS_ORIGINS', /comma-separated origins/],
    [{ CORS_ORIGINS: 'https://app.example.com/path' }, 'CORS_ORIGINS', /no path/],
    [{ RATELIMIT_STORAGE_URI: 'memcached://localhost' }, 'RATELIMIT_STORAGE_URI', /memory:\/\/ or redis:\/\//],
    [{ RATELIMIT_DEFAULTS: 'lots per hour' }, 'RATELIMIT_DEFAULTS', /Flask-Limiter syntax/],
    [{ RATELIMIT_DEFAULTS: '0 per hour' }, 'RATELIMIT_DEFAULTS', /positive numbers/],
    [{ APP_TIMEZONE: 'Mars/Olympus' }, 'APP_TIMEZONE', /IANA time zone/],
    [{ WORKERS: '2' }, 'WORKERS', /must be 1 on the embedded database/],
    [{ WORKERS: '2', DATABASE_URL: 'memory://' }, 'WORKERS', /must be 1 on the embedded database/],
  ]
  for (const [env, variable, expected] of cases) {
    test(`${JSON.stringify(env)} -> ${variable}`, () => {
      const error = configError(env)
      expect(error.message.startsWith(`${variable}: `)).toBe(true)
      expect(error.message).toMatch(expected)
      expect(error.message).not.toContain('\n')
    })
  }

  test('a DATABASE_URL error never prints the password', () => {
    const error = configError({ DATABASE_URL: 'mysql://admin:hunter2@db.example.com/app' })
    expect(error.message).not.toContain('hunter2')
    expect(configError({ DATABASE_URL: 'postgres://admin:hunter2@[bad' }).message).not.toContain('hunter2')
  })

  test('WORKERS > 1 is accepted on PostgreSQL', () => {
    expect(loadConfig({ WORKERS: '2', DATABASE_URL: 'postgres://127.0.0.1/db' }).workers).toBe(2)
  })
})

describe('production', () => {
  test('NODE_ENV=production and the guide\'s FLASK_ENV=production both turn it on', () => {
    expect(loadConfig(PRODUCTION).production).toBe(true)
    const { NODE_ENV: _, ...rest } = PRODUCTION
    expect(loadConfig({ ...rest, FLASK_ENV: 'production' }).production).toBe(true)
    expect(loadConfig({ ...rest, FLASK_ENV: 'production', NODE_ENV: 'development' }).production).toBe(false)
    expect(loadConfig({ ...rest, FLASK_ENV: 'development' }).production).toBe(false)
  })

  test('refuses a missing secret', () => {
    const { SECRET_KEY: _, ...noSecret } = PRODUCTION
    expect(configError(noSecret).message).toMatch(/^SECRET_KEY: is required in production; generate one with `bun run secrets`$/)
    const { JWT_SECRET_KEY: __, ...noJwt } = PRODUCTION
    expect(configError({ ...noJwt, JWT_SECRET_KEY: '   ' }).message).toMatch(/^JWT_SECRET_KEY: is required/)
  })

  test('a tool that signs nothing (bun run set-password) needs no secrets, and checks none', () => {
    const { SECRET_KEY: _, JWT_SECRET_KEY: __, ...noSecrets } = PRODUCTION
    const config = loadConfig(noSecrets, { signing: false })
    expect(config.production).toBe(true)
    expect(config.database).toEqual({ kind: 'postgres', url: PRODUCTION.DATABASE_URL })
    expect(config.secretKey).not.toBe(config.jwtSecretKey)
    expect(loadConfig({ ...noSecrets, SECRET_KEY: 'change-me', JWT_SECRET_KEY: 'change-me' }, { signing: false }).production).toBe(true)
    // everything else is checked as for the server
    expect(() => loadConfig({ NODE_ENV: 'production' }, { signing: false })).toThrow(/^DATABASE_URL: is required in production/)
    expect(() => loadConfig({ ...noSecrets, PASSWORD_HASH_TIME_COST: '1' }, { signing: false })).toThrow(/^PASSWORD_HASH_TIME_COST: /)
    expect(() => loadConfig(noSecrets)).toThrow(/^SECRET_KEY: is required in production/)
  })

  test('refuses a short secret (< 32 characters)', () => {
    expect(configError({ ...PRODUCTION, SECRET_KEY: 'a'.repeat(31) }).message).toMatch(/^SECRET_KEY: must be a random value of at least 32 characters/)
    const random32 = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
    expect(loadConfig({ ...PRODUCTION, SECRET_KEY: random32 }).secretKey).toBe(random32)
    expect(configError({ ...PRODUCTION, JWT_SECRET_KEY: 'short' }).message).toMatch(/^JWT_SECRET_KEY: /)
  })

  test('refuses the example secret of .env.example even though it is long', async () => {
    const example = 'change-me-to-a-long-random-string-of-at-least-32-chars'
    expect(example.length).toBeGreaterThanOrEqual(32)
    expect(configError({ ...PRODUCTION, SECRET_KEY: example }).message).toMatch(/^SECRET_KEY: /)
    expect(configError({ ...PRODUCTION, JWT_SECRET_KEY: example.toUpperCase() }).message).toMatch(/^JWT_SECRET_KEY: /)
  })

  test('refuses SECRET_KEY equal to JWT_SECRET_KEY, in one line naming the variable', () => {
    const error = configError({ ...PRODUCTION, JWT_SECRET_KEY: PRODUCTION.SECRET_KEY })
    expect(error.message).toBe('JWT_SECRET_KEY: must differ from SECRET_KEY (one signs the sessions, the other the QR keys); generate two with `bun run secrets`')
    expect(error.message).not.toContain(PRODUCTION.SECRET_KEY) // a secret is never echoed
    // Development may share one (nothing is at stake, and tests do).
    expect(loadConfig({ SECRET_KEY: 'same', JWT_SECRET_KEY: 'same' }).jwtSecretKey).toBe('same')
  })

  test('refuses predictable secrets: few distinct characters, little entropy, a repeated pattern', () => {
    for (const [variable, value] of [
      ['SECRET_KEY', 'a'.repeat(32)], ['JWT_SECRET_KEY', 'a'.repeat(64)], ['SECRET_KEY', 'ab'.repeat(16)],
      ['SECRET_KEY', 'password'.repeat(4)], ['JWT_SECRET_KEY', 'Secret-Key-2026!'.repeat(3)], ['SECRET_KEY', '0123456789'.repeat(4)],
      ['SECRET_KEY', `${'a'.repeat(31)}b`], ['JWT_SECRET_KEY', `${'a'.repeat(20)}${'b'.repeat(12)}`],
    ]) {
      const message = configError({ ...PRODUCTION, [variable!]: value! }).message
      expect(message).toMatch(new RegExp(`^${variable}: is too predictable to be a secret \\(\\d+ distinct characters, about \\d+ bits`))
      expect(message).toContain('bun run secrets')
      expect(message).not.toContain(value!)
      expect(message.split('\n')).toHaveLength(1)
    }
  })

  test('accepts what `bun run secrets` prints, and random hex or UUIDs', async () => {
    const printed = Bun.spawnSync(['bun', 'scripts/secrets.ts'], { cwd: ROOT }).stdout.toString()
    const env = Object.fromEntries(printed.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]))
    expect(Object.keys(env)).toEqual(['SECRET_KEY', 'JWT_SECRET_KEY'])
    const config = loadConfig({ ...PRODUCTION, ...env })
    expect([config.secretKey, config.jwtSecretKey]).toEqual([env.SECRET_KEY!, env.JWT_SECRET_KEY!])
    const { randomSecret } = await import('../scripts/secrets')
    const hex = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
    for (let i = 0; i < 2000; i++) {
      expect(() => loadConfig({ ...PRODUCTION, SECRET_KEY: randomSecret(), JWT_SECRET_KEY: randomSecret() })).not.toThrow()
      expect(() => loadConfig({ ...PRODUCTION, SECRET_KEY: hex(), JWT_SECRET_KEY: crypto.randomUUID() })).not.toThrow()
    }
  })

  test('RATELIMIT_LOGIN_FAILURES: 30 per 10 minutes by default, Flask-Limiter syntax', () => {
    expect(loadConfig({}).loginFailureLimits).toEqual([{ limit: 30, windowS: 600 }])
    expect(loadConfig({ RATELIMIT_LOGIN_FAILURES: '100 per hour' }).loginFailureLimits).toEqual([{ limit: 100, windowS: 3600 }])
    expect(configError({ RATELIMIT_LOGIN_FAILURES: 'lots' }).message).toMatch(/^RATELIMIT_LOGIN_FAILURES: expected Flask-Limiter syntax/)
  })

  test('refuses the implicit embedded database; accepts it when DATABASE_URL asks for it', () => {
    const { DATABASE_URL: _, ...noDb } = PRODUCTION
    expect(configError(noDb).message).toMatch(/^DATABASE_URL: is required in production/)
    expect(loadConfig({ ...noDb, DATABASE_URL: 'pglite:///data/pglite' }).database).toEqual({ kind: 'pglite', dir: '/data/pglite' })
  })

  test('never uses the ephemeral-secret variables a primary hands its workers when real secrets are set', () => {
    const config = loadConfig({ ...PRODUCTION, QRBOOK_EPHEMERAL_SECRET_KEY: 'other', QRBOOK_EPHEMERAL_JWT_SECRET_KEY: 'other' })
    expect(config.secretKey).toBe(PRODUCTION.SECRET_KEY)
    expect(config.jwtSecretKey).toBe(PRODUCTION.JWT_SECRET_KEY)
    expect(config.generatedSecrets).toEqual([])
  })

  test('password hashing: 19456 KiB and 2 passes by default; cheaper (a test setting) is refused, dearer accepted', () => {
    expect(loadConfig({}).passwordHashCost).toEqual({ memoryCost: 19456, timeCost: 2 })
    expect(loadConfig(PRODUCTION).passwordHashCost).toEqual({ memoryCost: 19456, timeCost: 2 })
    expect(loadConfig({ PASSWORD_HASH_MEMORY_COST: '8', PASSWORD_HASH_TIME_COST: '1' }).passwordHashCost).toEqual({ memoryCost: 8, timeCost: 1 })
    expect(configError({ ...PRODUCTION, PASSWORD_HASH_MEMORY_COST: '19455' }).message).toMatch(/^PASSWORD_HASH_MEMORY_COST: must be at least 19456 \(KiB\) in production/)
    expect(configError({ ...PRODUCTION, PASSWORD_HASH_TIME_COST: '1' }).message).toMatch(/^PASSWORD_HASH_TIME_COST: must be at least 2 in production/)
    expect(loadConfig({ ...PRODUCTION, PASSWORD_HASH_MEMORY_COST: '65536', PASSWORD_HASH_TIME_COST: '3' }).passwordHashCost).toEqual({ memoryCost: 65536, timeCost: 3 })
    expect(configError({ PASSWORD_HASH_MEMORY_COST: '7' }).message).toMatch(/^PASSWORD_HASH_MEMORY_COST: expected a whole number from 8 to/)
    expect(configError({ PASSWORD_HASH_TIME_COST: '0' }).message).toMatch(/^PASSWORD_HASH_TIME_COST: expected a whole number from 1 to/)
  })
})

describe('documentation of the variables', () => {
  /** Every environment variable name src/config.ts reads (read/parse helpers and isProduction). */
  async function variablesReadByConfig(): Promise<string[]> {
    const source = await Bun.file(`${ROOT}/src/config.ts`).text()
    const names = new Set<string>()
    for (const match of source.matchAll(/\(env, '([A-Z][A-Z0-9_]+)'/g)) names.add(match[1]!)
    for (const match of source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)) names.add(match[1]!)
    if (/read\(env, 'DATABASE_URL'\)/.test(source)) names.add('DATABASE_URL')
    return [...names].filter((n) => !n.startsWith('QRBOOK_')) // internal: primary -> worker hand-over
  }

  test('docs/configuration.md has a table row for every variable src/config.ts reads', async () => {
    const names = await variablesReadByConfig()
    expect(names.length).toBeGreaterThanOrEqual(25)
    const reference = await Bun.file(`${ROOT}/docs/configuration.md`).text()
    const missing = names.filter((name) => !new RegExp(`^\\|\\s*\`${name}\``, 'm').test(reference))
    expect(missing).toEqual([])
  })

  test('.env.example mentions every variable and its placeholders load in development', async () => {
    const names = await variablesReadByConfig()
    const text = await Bun.file(`${ROOT}/.env.example`).text()
    const missing = names.filter((name) => !new RegExp(`^#?\\s*${name}=`, 'm').test(text))
    expect(missing).toEqual([])

    const active: Record<string, string> = {}
    for (const line of text.split('\n')) {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim())
      if (match) active[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1')
    }
    expect(Object.keys(active).length).toBeGreaterThanOrEqual(5) // SECRET_KEY, JWT_SECRET_KEY, DATABASE_URL, PORT, JWT_COOKIE_SECURE
    expect(() => loadConfig(active)).not.toThrow()
    // the public base is not pinned: it follows PORT (and RAILWAY_PUBLIC_DOMAIN on Railway)
    expect(active.SERVER_EXTERNAL_BASE).toBeUndefined()
    expect(loadConfig({ ...active, PORT: '3000' }).serverExternalBase).toBe('http://localhost:3000/')
    expect(loadConfig({ ...active, RAILWAY_PUBLIC_DOMAIN: 'qrbook.up.railway.app' }).serverExternalBase).toBe('https://qrbook.up.railway.app/')
    // and its secret placeholders are not real secrets: production refuses them
    expect(() => loadConfig({ ...active, NODE_ENV: 'production', DATABASE_URL: PRODUCTION.DATABASE_URL })).toThrow(/SECRET_KEY/)
  })
})
