/**
 * Fixed-window counters for rate limiting: in this process (memory://) or in Redis (redis://),
 * where every instance shares them. hit() counts one request and says how many the window holds.
 */
import { RedisClient } from 'bun'
import type { Logger } from './log'

interface WindowCount {
  count: number
  /** ms until the window resets */
  resetInMs: number
}

export interface RateLimitStore {
  hit(key: string, windowMs: number): Promise<WindowCount>
  /**
   * Takes one hit back from the key's current window (an attempt counted up front that turned
   * out not to count, e.g. a login that succeeded); nothing when the window has ended.
   */
  refund(key: string): Promise<void>
  close(): Promise<void>
}

export function createMemoryStore(now: () => number = Date.now): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>()
  let lastSweep = now()
  return {
    async hit(key, windowMs) {
      const t = now()
      if (t - lastSweep > 60_000) {
        // Drop expired windows now and then so idle keys do not accumulate.
        for (const [k, w] of windows) if (w.resetAt <= t) windows.delete(k)
        lastSweep = t
      }
      let window = windows.get(key)
      if (!window || window.resetAt <= t) {
        window = { count: 0, resetAt: t + windowMs }
        windows.set(key, window)
      }
      window.count++
      return { count: window.count, resetInMs: window.resetAt - t }
    },
    async refund(key) {
      const window = windows.get(key)
      if (window && window.resetAt > now() && window.count > 0) window.count--
    },
    async close() {
      windows.clear()
    },
  }
}

// INCR and PEXPIRE in one atomic step: the first hit of a window starts its clock.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`

// DECR keeps the key's expiry; a key that has expired stays gone.
const REFUND_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then redis.call('DECR', KEYS[1]) end
return 0`

const REDIS_TIMEOUT_MS = 500

class StoreUnavailable extends Error {}

export function createRedisStore(url: string, log: Logger): RateLimitStore {
  const client = new RedisClient(url, {
    connectionTimeout: 1000,
    enableOfflineQueue: false,
    autoReconnect: true,
    maxRetries: 3,
  })
  let lastReconnectAttempt = 0
  client.onclose = () => {} // reported through failed hits instead
  const attempt = async <T>(work: () => Promise<T>): Promise<T> => {
    if (!client.connected && Date.now() - lastReconnectAttempt > 2000) {
      lastReconnectAttempt = Date.now()
      await client.connect().catch(() => {})
    }
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      return await Promise.race([
        work(),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new StoreUnavailable('redis did not answer')), REDIS_TIMEOUT_MS) }),
      ])
    } catch (error) {
      throw error instanceof StoreUnavailable ? error : new StoreUnavailable((error as Error).message)
    } finally {
      clearTimeout(timer)
    }
  }
  void log
  return {
    async hit(key, windowMs) {
      const [count, ttl] = await attempt(() => client.send('EVAL', [HIT_SCRIPT, '1', key, String(windowMs)])) as [number, number]
      return { count: Number(count), resetInMs: Number(ttl) }
    },
    async refund(key) {
      await attempt(() => client.send('EVAL', [REFUND_SCRIPT, '1', key]))
    },
    async close() {
      client.close()
    },
  }
}

export function createRateLimitStore(uri: string, log: Logger): RateLimitStore {
  return uri.startsWith('redis') ? createRedisStore(uri, log) : createMemoryStore()
}
