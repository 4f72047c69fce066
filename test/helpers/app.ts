/**
 * Builds the app exactly as production does (createApp) on a fresh test database, seeded, with a
 * config read from a fixed environment (not the machine's), and drives it in-process.
 */
import { createApp, type App } from '../../src/app'
import { loadConfig, type Config } from '../../src/config'
import { MAX_BODY_BYTES } from '../../src/server'
import type { Ctx } from '../../src/context'
import type { Database, DbOptions } from '../../src/db/client'
import { seed } from '../../src/db/seed'
import { systemClock, type Clock } from '../../src/lib/clock'
import { silentLogger, type Logger } from '../../src/lib/log'
import type { RateLimitStore } from '../../src/lib/rate-limit-store'
import { testDatabase } from './db'

export const TEST_ENV = {
  SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
  JWT_SECRET_KEY: 'test-jwt-secret-key-that-is-long-enough-012345',
  STATIC_QR_PATH: '',
  SERVER_EXTERNAL_BASE: 'http://qrbook.test/',
  FRONTEND_BASE_URL: 'http://frontend.test',
  CORS_ORIGINS: 'http://frontend.test',
  RATELIMIT_STORAGE_URI: 'memory://',
  // Tests log in far more often than 6 times a minute; test/rate-limit.test.ts turns limits on.
  RATELIMIT_ENABLED: 'false',
  // Check-in tests leave one student many no-shows on purpose; test/fair-use.test.ts turns the
  // suspension on (with its defaults).
  NO_SHOW_STRIKES: '0',
  // The least argon2id cost Bun allows (8 KiB, one pass): every seed and login hashes, and at
  // production's cost (test/passwords.test.ts checks it is unchanged) they were a large part of the
  // suite's time. Production refuses these values, so a test app with NODE_ENV=production blanks them.
  PASSWORD_HASH_MEMORY_COST: '8',
  PASSWORD_HASH_TIME_COST: '1',
}

export interface TestApp {
  app: App
  /** the app's services (caches, the live bus) */
  ctx: Ctx
  config: Config
  database: Database
  /** the database's URL on PostgreSQL (another instance may open it); undefined on PGlite */
  databaseUrl?: string
  clock: Clock
  close(): Promise<void>
}

export interface TestAppOptions {
  env?: Record<string, string>
  clock?: Clock
  seed?: boolean
  log?: Logger
  db?: DbOptions
  rateLimitStore?: RateLimitStore
}

export async function testApp(options: TestAppOptions = {}): Promise<TestApp> {
  const clock = options.clock ?? systemClock
  const qrDir = `${import.meta.dir}/../../data/test-qr-${process.pid}-${crypto.randomUUID().slice(0, 8)}`
  const config = loadConfig({ ...TEST_ENV, STATIC_QR_PATH: qrDir, ...options.env })
  const { database, url: databaseUrl, drop } = await testDatabase(options.db)
  if (options.seed !== false) await seed(database.db, clock, 'demo', config.passwordHashCost)
  const qrbook = createApp({ config, database, clock, log: options.log ?? silentLogger, startedAt: Date.now(), rateLimitStore: options.rateLimitStore })
  return {
    app: qrbook.app,
    ctx: qrbook.ctx,
    config,
    database,
    databaseUrl,
    clock,
    async close() {
      // the live feed of the cached room views holds a LISTEN connection of its own
      await qrbook.stop()
      await drop()
      await Bun.$`rm -rf ${qrDir}`.quiet().nothrow()
    },
  }
}

/** Apps with the rate limits on (TEST_ENV turns them off), all closed by `close` (a test file's afterAll). */
export function limitedApps() {
  const opened: TestApp[] = []
  return {
    async open(env: Record<string, string> = {}, extra: Partial<TestAppOptions> = {}): Promise<TestApp> {
      const t = await testApp({ env: { RATELIMIT_ENABLED: 'true', ...env }, ...extra })
      opened.push(t)
      return t
    },
    close: async () => { await Promise.all(opened.map((t) => t.close())) },
  }
}

/** A chunked body (no Content-Length) that goes on past twice the server's MAX_BODY_BYTES. */
export function bodyOverTheLimit(): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode('y'.repeat(64 * 1024))
  let sent = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent > MAX_BODY_BYTES * 2) return controller.close()
      sent += chunk.byteLength
      controller.enqueue(chunk)
    },
  })
}

export interface Reply<T = any> {
  status: number
  body: T
  headers: Headers
  text: string
}

/**
 * A browser-like client: keeps cookies between requests and can send the CSRF header the way the
 * React frontend does (read csrf_access_token from the cookies).
 */
export class Client {
  cookies = new Map<string, string>()
  bearer?: string

  constructor(private app: App, readonly origin = 'http://localhost') {}

  async request(method: string, path: string, options: { json?: unknown; body?: RequestInit["body"]; headers?: Record<string, string>; csrf?: boolean | string } = {}): Promise<Reply> {
    const headers = new Headers(options.headers)
    if (options.json !== undefined) headers.set('content-type', 'application/json')
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    if (this.bearer) headers.set('authorization', `Bearer ${this.bearer}`)
    if (options.csrf !== undefined && options.csrf !== false)
      headers.set('x-csrf-token', options.csrf === true ? this.cookies.get('csrf_access_token') ?? '' : options.csrf)
    const response = await this.app.handle(new Request(`${this.origin}${path}`, {
      method,
      headers,
      body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
    }))
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      const value = pair!.slice(eq + 1)
      if (/max-age=0/i.test(cookie) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    const text = await response.text()
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {}
    return { status: response.status, body, headers: response.headers, text }
  }

  get(path: string, options: { headers?: Record<string, string> } = {}) {
    return this.request('GET', path, options)
  }
  /** Writes send the CSRF header by default, as the frontend does. */
  post(path: string, json?: unknown, options: { headers?: Record<string, string>; csrf?: boolean | string } = {}) {
    return this.request('POST', path, { json, csrf: true, ...options })
  }
  patch(path: string, json?: unknown, options: { headers?: Record<string, string>; csrf?: boolean | string } = {}) {
    return this.request('PATCH', path, { json, csrf: true, ...options })
  }
  put(path: string, json?: unknown, options: { headers?: Record<string, string>; csrf?: boolean | string } = {}) {
    return this.request('PUT', path, { json, csrf: true, ...options })
  }
  delete(path: string, options: { headers?: Record<string, string>; csrf?: boolean | string } = {}) {
    return this.request('DELETE', path, { csrf: true, ...options })
  }

  /**
   * A console form post (src/modules/console): url-encoded fields with the session's CSRF value as
   * `csrf_token`, as the console's forms send it (`csrfToken: false` leaves it out, a string replaces it).
   * A File among the fields makes it multipart, as a file upload is.
   */
  form(path: string, fields: Record<string, string | string[] | File>, options: { csrfToken?: string | false; headers?: Record<string, string> } = {}) {
    const token = options.csrfToken === undefined ? this.cookies.get('csrf_access_token') ?? '' : options.csrfToken
    const entries: [string, string | File][] = Object.entries(fields).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string | File]]))
    if (token !== false) entries.unshift(['csrf_token', token])
    if (entries.some(([, v]) => v instanceof File)) {
      const data = new FormData()
      for (const [k, v] of entries) data.append(k, v)
      return this.request('POST', path, { body: data, headers: options.headers })
    }
    const body = new URLSearchParams(entries as [string, string][]).toString()
    return this.request('POST', path, { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers } })
  }

  async login(name: string, password = `${name}1234`): Promise<Reply> {
    const reply = await this.post('/api/auth/login', { name, password }, { csrf: false })
    if (reply.status !== 200) throw new Error(`login as ${name} failed: ${reply.status} ${reply.text}`)
    return reply
  }
}

/** A client already logged in as one of the seeded accounts (admin, teacher, student, guest). */
export async function loggedIn(app: App, name: string, password?: string): Promise<Client> {
  const client = new Client(app)
  await client.login(name, password)
  return client
}
