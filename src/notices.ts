/**
 * What the process tells a person at start, besides the JSON log: the configuration mistakes that
 * would otherwise go unnoticed until a printed poster or a door page is wrong, and on a terminal
 * (or LOG_FORMAT=pretty) one human line saying where the server is and how to sign in.
 */
import { getDomain } from 'tldts'
import type { Config } from './config'
import type { DevSecrets } from './dev-secrets'
import type { Logger } from './lib/log'

/** Logged at start and with every QR image or poster while it is true. */
export function localhostCodesWarning(config: Config): string | undefined {
  if (!config.production || config.serverExternalBaseSource !== 'localhost') return undefined
  return `QR codes and posters point at ${config.serverExternalBase}, this machine, not the public server: set SERVER_EXTERNAL_BASE=https://<your-backend-domain>/ (on Railway, generate a domain: RAILWAY_PUBLIC_DOMAIN is then used)`
}

/**
 * The site of a URL as a browser decides SameSite: its registrable domain by the Public Suffix
 * List, private section included (up.railway.app is a public suffix, so two *.up.railway.app hosts
 * are two sites), or the host itself for an IP address, localhost or a name with no known suffix.
 */
export function siteOf(url: string): string {
  const host = new URL(url).hostname.toLowerCase()
  return getDomain(host, { allowPrivateDomains: true }) ?? host
}

/**
 * Logged at start (and shown to admins in GET /health) while CORS_ORIGINS names another site than
 * this backend and the cookies are SameSite=Lax or Strict: the browser then neither sends the
 * session cookies with the frontend's requests nor keeps those a login sets, so logins from the
 * frontend silently fail. Not said while the public base is the localhost fallback: which host the
 * browser uses is unknown then (in production localhostCodesWarning asks for the base first).
 */
export function crossSiteCookiesWarning(config: Config): string | undefined {
  if (config.jwtCookieSameSite === 'None' || config.serverExternalBaseSource === 'localhost') return undefined
  const backend = siteOf(config.serverExternalBase)
  const others = config.corsOrigins.filter((origin) => siteOf(origin) !== backend)
  if (others.length === 0) return undefined
  return `CORS_ORIGINS names another site than this backend (${others.join(', ')}; the backend is ${config.serverExternalBase}) while the session cookies are SameSite=${config.jwtCookieSameSite}: browsers do not send them with that site's requests, so logins from the frontend silently fail; set JWT_COOKIE_SAMESITE=None with JWT_COOKIE_SECURE=true (HTTPS), or serve the frontend and the backend from one site`
}

/** The configuration warnings that do not depend on the data directory: at start, and in GET /health for admins. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = []
  const codes = localhostCodesWarning(config)
  if (codes) warnings.push(codes)
  if (config.production && !config.appTimezoneExplicit)
    warnings.push('APP_TIMEZONE is not set: the scan pages and door displays show times in UTC and the rooms\' daily booking windows are UTC; set it to the college\'s zone, e.g. APP_TIMEZONE=Europe/Moscow')
  const cookies = crossSiteCookiesWarning(config)
  if (cookies) warnings.push(cookies)
  return warnings
}

/** Configuration warnings, once at start (before the database is opened). */
export function warnAboutConfig(config: Config, secrets: DevSecrets, log: Logger): void {
  if (config.generatedSecrets.length > 0) {
    const names = config.generatedSecrets.join(' and ')
    if (secrets.file)
      log.warn(`${names} not set: using development keys ${secrets.created ? 'created now in' : 'kept in'} ${secrets.file}, so sessions and printed QR codes survive restarts; set both in production (\`bun run secrets\`)`, { file: secrets.file })
    else
      log.warn(`${names} not set: using random keys for this run (sessions and printed QR codes end at restart); run \`bun run secrets\``)
  }
  for (const warning of configWarnings(config)) log.warn(warning)
}

/** Whether to print the human start-up line: LOG_FORMAT decides, else whether stdout is a terminal. */
export function wantsHumanLine(config: Config, stdoutIsTty = Boolean(process.stdout.isTTY)): boolean {
  return config.logFormat === undefined ? stdoutIsTty : config.logFormat === 'pretty'
}

/** The URL a person can open: a wildcard listening address becomes localhost. */
export function localUrl(listening: URL): string {
  const url = new URL(listening.href)
  if (['0.0.0.0', '[::]', '::'].includes(url.hostname)) url.hostname = 'localhost'
  return url.href.replace(/\/$/, '')
}

export function humanStartLine(config: Config, url: string, defaultAccounts: { name: string; password: string }[]): string {
  const parts = [`QRBOOK is running at ${url}`]
  if (config.swaggerEnabled) parts.push(`API docs: ${url}/swagger`)
  if (defaultAccounts.length > 0)
    parts.push(`sign in as ${defaultAccounts.map((a) => `${a.name} / ${a.password}`).join(', ')} (default passwords: change them)`)
  return parts.join(' | ')
}
