/**
 * Guessing limits that depend on whether a password was right, so they live here and not in the
 * rate-limit plugin (which counts requests before any handler runs):
 * - failed logins per client IP across all names (password spraying: one password tried against
 *   many names passes under the per-name login limit);
 * - wrong `current_password` attempts per session on change-password (a stolen session must not
 *   become a way to guess the password, which would outlive the session).
 *
 * Each attempt is counted before the password is checked and refunded if it was right. So only
 * failures use up the budget (a class logging in from one address is not throttled by its
 * successes), yet parallel attempts cannot all slip past a count that was read before any of them
 * finished. Once the budget is used up every attempt is refused, right password or not, until the
 * window ends: answering a right guess would still tell the guesser what they want to know.
 * Counters live in the RateLimitStore (memory:// or the shared Redis). RATELIMIT_ENABLED=false
 * turns these off like every other limit; if the store fails, requests are served (and logged).
 */
import type { Config } from '../../config'
import { TooManyRequests } from '../../lib/errors'
import type { Logger } from '../../lib/log'
import type { RateLimitStore } from '../../lib/rate-limit-store'
import type { RateLimit } from '../../lib/rate-limit-spec'

/** Wrong current passwords one session may send to change-password per window. */
const CHANGE_PASSWORD_ATTEMPTS: RateLimit = { limit: 5, windowS: 15 * 60 }

/** An attempt that has been counted: refund it unless the password turned out wrong. */
interface Attempt {
  /** The attempt does not count after all (the password was right, or it was never checked). */
  refund(): Promise<void>
}

export interface AuthThrottle {
  /** Counts a login attempt of this client IP; 429 when its failed logins are used up. */
  login(ip: string): Promise<Attempt>
  /** Counts a current-password check of this session; 429 when its wrong attempts are used up. */
  passwordCheck(session: string): Promise<Attempt>
}

const SETTLED: Attempt = { async refund() {} }
const OFF: AuthThrottle = { login: async () => SETTLED, passwordCheck: async () => SETTLED }

function minutes(ms: number): string {
  const m = Math.max(1, Math.ceil(ms / 60_000))
  return `${m} minute${m === 1 ? '' : 's'}`
}

export function createAuthThrottle(
  config: Pick<Config, 'rateLimitEnabled' | 'loginFailureLimits'>, store: RateLimitStore | undefined, log: Logger,
): AuthThrottle {
  if (!config.rateLimitEnabled || !store) return OFF
  let lastFailureLog = 0
  const unavailable = (error: unknown): Attempt => {
    if (Date.now() - lastFailureLog > 30_000) {
      lastFailureLog = Date.now()
      log.warn('rate-limit store unavailable; serving requests without the failed-login and password-check limits', { error: (error as Error).message })
    }
    return SETTLED
  }

  async function attempt(scope: string, limits: RateLimit[], identity: string, message: (waitMs: number) => string): Promise<Attempt> {
    const keys = limits.map((limit) => `rl:${scope}:${limit.limit}/${limit.windowS}:${identity}`)
    const counted: string[] = []
    try {
      for (const [i, limit] of limits.entries()) {
        const window = await store!.hit(keys[i]!, limit.windowS * 1000)
        counted.push(keys[i]!)
        if (window.count > limit.limit) {
          const waitMs = Math.max(0, window.resetInMs)
          throw new TooManyRequests(message(waitMs), { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) })
        }
      }
    } catch (error) {
      if (error instanceof TooManyRequests) throw error
      return unavailable(error)
    }
    return {
      async refund() {
        await Promise.all(counted.map((key) => store!.refund(key))).catch(unavailable)
      },
    }
  }

  return {
    login: (ip) => attempt('login-failures', config.loginFailureLimits, `ip:${ip}`,
      (wait) => `too many failed logins from this address; try again in ${minutes(wait)}`),
    passwordCheck: (session) => attempt('change-password', [CHANGE_PASSWORD_ATTEMPTS], session,
      (wait) => `too many wrong current passwords; try again in ${minutes(wait)}`),
  }
}
