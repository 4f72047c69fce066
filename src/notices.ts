/**
 * What the process tells a person at start, besides the JSON log: the configuration mistakes that
 * would otherwise go unnoticed until a printed poster or a door page is wrong, and on a terminal
 * (or LOG_FORMAT=pretty) one human line saying where the server is and how to sign in.
 */
import type { Config } from './config'
import type { DevSecrets } from './dev-secrets'
import type { Logger } from './lib/log'

/** Logged at start and with every QR image or poster while it is true. */
export function localhostCodesWarning(config: Config): string | undefined {
  if (!config.production || config.serverExternalBaseSource !== 'localhost') return undefined
  return `QR codes and posters point at ${config.serverExternalBase}, this machine, not the public server: set SERVER_EXTERNAL_BASE=https://<your-backend-domain>/ (on Railway, generate a domain: RAILWAY_PUBLIC_DOMAIN is then used)`
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
  const codes = localhostCodesWarning(config)
  if (codes) log.warn(codes)
  if (config.production && !config.appTimezoneExplicit)
    log.warn('APP_TIMEZONE is not set: the scan pages and door displays show times in UTC and the rooms\' daily booking windows are UTC; set it to the college\'s zone, e.g. APP_TIMEZONE=Europe/Moscow')
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
