/** GET /health against an in-process app, and what a healthy and a down answer look like (test/health.test.ts, test/system/health-outage.test.ts). */
import { expect } from 'bun:test'
import pkg from '../../package.json'
import { createApp, type App } from '../../src/app'
import { loadConfig } from '../../src/config'
import type { Database } from '../../src/db/client'
import { systemClock } from '../../src/lib/clock'
import { silentLogger } from '../../src/lib/log'
import { TEST_ENV } from './app'

/** The app on this database, as if its process had started 5 s ago. */
export function appOn(database: Database): App {
  return createApp({ config: loadConfig(TEST_ENV), database, clock: systemClock, log: silentLogger, startedAt: Date.now() - 5000 }).app
}

/** GET `path` from the app: status, headers, JSON body and how long it took. */
export async function get(app: App, path: string) {
  const started = performance.now()
  const res = await app.handle(new Request(`http://localhost${path}`))
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown>, ms: performance.now() - started }
}

export function expectHealthy(reply: Awaited<ReturnType<typeof get>>) {
  expect(reply.status).toBe(200)
  expect(reply.body).toEqual({ status: 'healthy', database: 'connected', version: pkg.version, uptime_s: expect.any(Number) })
  expect(reply.headers.get('content-type')).toStartWith('application/json')
}

export function expectDown(reply: Awaited<ReturnType<typeof get>>) {
  expect(reply.status).toBe(503)
  expect(reply.body).toEqual({ status: 'unhealthy', database: 'disconnected', error: expect.any(String) })
  expect(String(reply.body.error).length).toBeGreaterThan(0)
  expect(reply.headers.get('cache-control')).toBe('no-store')
  expect(reply.headers.get('content-type')).toStartWith('application/json')
}
