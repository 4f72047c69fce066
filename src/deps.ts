/** What every module needs, passed in explicitly so tests can build the app with their own parts. */
import type { Config } from './config'
import type { Database } from './db/client'
import type { Clock } from './lib/clock'
import type { Logger } from './lib/log'
import type { RateLimitStore } from './lib/rate-limit-store'

export interface Deps {
  config: Config
  database: Database
  clock: Clock
  log: Logger
  /** process start, for /health's uptime */
  startedAt: number
  /** Rate-limit counters; built from RATELIMIT_STORAGE_URI when not given. */
  rateLimitStore?: RateLimitStore
}
