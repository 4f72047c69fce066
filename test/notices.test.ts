/**
 * src/notices.ts: the start-up warning about a frontend on another site while the session cookies
 * are SameSite=Lax (or Strict), which browsers would not send with its requests, so its logins
 * silently fail. Sites are registrable domains by the Public Suffix List (tldts), private section
 * included: up.railway.app is a public suffix. The warning printed by a started server:
 * test/system/startup.test.ts; shown to admins in GET /health: test/health.test.ts.
 */
import { describe, expect, test } from 'bun:test'
import { loadConfig } from '../src/config'
import { createLogger } from '../src/lib/log'
import { crossSiteCookiesWarning, siteOf, warnAboutConfig } from '../src/notices'

/** What warnAboutConfig logs at start for this environment (secrets given, so none about them). */
function startWarnings(env: Record<string, string>): string[] {
  const config = loadConfig({ SECRET_KEY: 'a', JWT_SECRET_KEY: 'b', ...env })
  const lines: string[] = []
  warnAboutConfig(config, { config }, createLogger('info', (line) => lines.push(line)))
  return lines.map((line) => JSON.parse(line) as { level: string; msg: string }).filter((l) => l.level === 'warn').map((l) => l.msg)
}

const crossSite = (warnings: string[]) => warnings.filter((w) => w.startsWith('CORS_ORIGINS names another site'))

describe('sites, as browsers decide SameSite', () => {
  test('two *.up.railway.app hosts are two sites; two hosts under one registrable domain are one', () => {
    expect(siteOf('https://qrbook-api.up.railway.app/')).toBe('qrbook-api.up.railway.app')
    expect(siteOf('https://qrbook-front.up.railway.app')).toBe('qrbook-front.up.railway.app')
    expect(siteOf('https://api.college.example.com/')).toBe('example.com')
    expect(siteOf('https://app.example.com')).toBe('example.com')
    expect(siteOf('https://www.college.co.uk')).toBe('college.co.uk')
  })

  test('an IP address or localhost is its own site, whatever the port', () => {
    expect(siteOf('http://localhost:5173')).toBe('localhost')
    expect(siteOf('http://127.0.0.1:8080/')).toBe('127.0.0.1')
    expect(siteOf('http://[::1]:8080/')).toBe('[::1]')
  })
})

describe('the cross-site cookie warning at start', () => {
  const railway = { RAILWAY_PUBLIC_DOMAIN: 'qrbook-api.up.railway.app', CORS_ORIGINS: 'https://qrbook-front.up.railway.app' }

  test('two *.up.railway.app domains with the default SameSite=Lax: one warning naming the origin and the fix', () => {
    const warnings = crossSite(startWarnings(railway))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('https://qrbook-front.up.railway.app')
    expect(warnings[0]).toContain('the backend is https://qrbook-api.up.railway.app/')
    expect(warnings[0]).toContain('SameSite=Lax')
    expect(warnings[0]).toContain('logins from the frontend silently fail')
    expect(warnings[0]).toContain('set JWT_COOKIE_SAMESITE=None with JWT_COOKIE_SECURE=true')
  })

  test('SERVER_EXTERNAL_BASE is the backend\'s site when set; Strict warns like Lax', () => {
    const env = { SERVER_EXTERNAL_BASE: 'https://booking.college.ru/', CORS_ORIGINS: 'https://booking.college.ru, https://frontend.up.railway.app' }
    const lax = crossSite(startWarnings(env))
    expect(lax).toHaveLength(1)
    // only the origin on another site is named
    expect(lax[0]).toStartWith('CORS_ORIGINS names another site than this backend (https://frontend.up.railway.app;')
    expect(crossSite(startWarnings({ ...env, JWT_COOKIE_SAMESITE: 'Strict' }))[0]).toContain('SameSite=Strict')
  })

  test('no warning with SameSite=None (the fix), on one site, without CORS_ORIGINS, or on the localhost fallback', () => {
    expect(crossSite(startWarnings({ ...railway, JWT_COOKIE_SAMESITE: 'None', JWT_COOKIE_SECURE: 'true' }))).toEqual([])
    // same site: another host under the backend's registrable domain, or the backend's own host
    expect(crossSite(startWarnings({ SERVER_EXTERNAL_BASE: 'https://api.college.ru/', CORS_ORIGINS: 'https://rooms.college.ru,https://college.ru' }))).toEqual([])
    expect(crossSite(startWarnings({ RAILWAY_PUBLIC_DOMAIN: 'qrbook-api.up.railway.app', CORS_ORIGINS: 'https://qrbook-api.up.railway.app' }))).toEqual([])
    expect(crossSite(startWarnings({ RAILWAY_PUBLIC_DOMAIN: 'qrbook-api.up.railway.app' }))).toEqual([])
    // development's defaults: a frontend on localhost:5173 and the backend on localhost:8080
    expect(crossSite(startWarnings({ CORS_ORIGINS: 'http://localhost:5173,http://localhost:3000' }))).toEqual([])
    // the public base is unknown (the localhost fallback): which host the browser uses is unknown too
    expect(crossSite(startWarnings({ CORS_ORIGINS: 'http://127.0.0.1:5173' }))).toEqual([])
    expect(crossSiteCookiesWarning(loadConfig({ CORS_ORIGINS: 'https://app.example.com' }))).toBeUndefined()
  })

  test('production on Railway with two domains: the warning is there beside none other about the configuration', () => {
    const warnings = startWarnings({ ...railway, NODE_ENV: 'production', DATABASE_URL: 'memory://', APP_TIMEZONE: 'Europe/Moscow',
      SECRET_KEY: 'x'.repeat(20) + crypto.randomUUID(), JWT_SECRET_KEY: 'y'.repeat(20) + crypto.randomUUID() })
    expect(warnings).toHaveLength(1)
    expect(crossSite(warnings)).toHaveLength(1)
  })
})
