/**
 * openapi.json, the published API document (issue 30), is the one the server serves: built by
 * `bun run openapi` (scripts/openapi.ts) on the clock at which the examples are as written, and
 * compared here with /swagger/json of a test app on the same clock.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { fixedClock } from '../src/lib/clock'
import { EXAMPLES_AS_WRITTEN_AT } from '../src/plugins/docs'
import { PUBLISHED_PATH } from '../scripts/openapi'
import { testApp, type TestApp } from './helpers/app'

setDefaultTimeout(30_000) // see test/setup.ts

let t: TestApp
beforeAll(async () => {
  t = await testApp({ clock: fixedClock(EXAMPLES_AS_WRITTEN_AT), seed: false })
})
afterAll(() => t.close())

/** JSON pointers where a and b differ (the first `limit`). */
function differences(a: unknown, b: unknown, at = '', found: string[] = [], limit = 10): string[] {
  if (found.length >= limit || Bun.deepEquals(a, b)) return found
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    for (const key of keys) differences((a as any)[key], (b as any)[key], `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, found, limit)
  } else found.push(at || '/')
  return found
}

describe('openapi.json', () => {
  test('is the document the server serves', async () => {
    const res = await t.app.handle(new Request('http://localhost/swagger/json'))
    expect(res.status).toBe(200)
    const served = await res.json()
    let published: unknown
    try {
      published = await Bun.file(PUBLISHED_PATH).json()
    } catch {
      published = undefined
    }
    const differ = differences(published, served)
    expect(differ, 'openapi.json is not the document the server serves: run `bun run openapi` and commit openapi.json. Where they differ').toEqual([])
  })

  test('is the same whether or not routes have answered before it is built', async () => {
    // Elysia writes into the shared schema objects when a route's validator is compiled (its first
    // request); a server whose load balancer probed /health first once served another document.
    const other = await testApp({ clock: fixedClock(EXAMPLES_AS_WRITTEN_AT), seed: false })
    try {
      for (const path of ['/api/health', '/api/rooms', '/health'])
        await other.app.handle(new Request(`http://localhost${path}`))
      await other.app.handle(new Request('http://localhost/api/auth/login', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nobody', password: 'x' }),
      }))
      const res = await other.app.handle(new Request('http://localhost/swagger/json'))
      const published = await Bun.file(PUBLISHED_PATH).json()
      expect(differences(published, await res.json())).toEqual([])
    } finally {
      await other.close()
    }
  })
})
