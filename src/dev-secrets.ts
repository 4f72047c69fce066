/**
 * Development secrets that survive restarts. Without SECRET_KEY and JWT_SECRET_KEY a development
 * server used to make random ones per run, so every restart ended the sessions and retired every
 * poster printed for testing (their keys are signed with SECRET_KEY). On the embedded database
 * the generated ones are kept in the data directory (mode 0600, beside the data they protect) and
 * reused. Never in production: there both are required (src/config.ts).
 */
import { chmodSync, mkdirSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs'
import path from 'node:path'
import type { Config, SecretName } from './config'

export const DEV_SECRETS_FILE = 'qrbook-secrets.json'

type StoredSecrets = Partial<Record<SecretName, string>>

function readStored(file: string): StoredSecrets | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const parsed = JSON.parse(text) as unknown
  if (!parsed || typeof parsed !== 'object') throw new Error(`${file} is not a JSON object; delete it to make new development keys`)
  return parsed as StoredSecrets
}

/** Creates the file exclusively; false when another process created it first. */
function writeStored(file: string, secrets: StoredSecrets): boolean {
  let fd: number
  try {
    fd = openSync(file, 'wx', 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  try {
    writeSync(fd, `${JSON.stringify(secrets, null, 2)}\n`)
  } finally {
    closeSync(fd)
  }
  chmodSync(file, 0o600) // openSync's mode is filtered by the umask
  return true
}

export interface DevSecrets {
  config: Config
  /** The file the generated secrets are kept in, and whether this start created it. */
  file?: string
  created?: boolean
}

/**
 * Replaces the generated secrets of a development config on a pglite:// database by the ones kept
 * in its directory (creating them on the first start). Other configs are returned unchanged.
 */
export function keepDevSecrets(config: Config): DevSecrets {
  if (config.production || config.generatedSecrets.length === 0 || config.database.kind !== 'pglite') return { config }
  mkdirSync(config.database.dir, { recursive: true })
  const file = path.join(config.database.dir, DEV_SECRETS_FILE)
  let stored = readStored(file)
  let created = false
  if (!stored || config.generatedSecrets.some((name) => typeof stored![name] !== 'string')) {
    const fresh: StoredSecrets = { SECRET_KEY: config.secretKey, JWT_SECRET_KEY: config.jwtSecretKey }
    if (!stored) created = writeStored(file, fresh)
    stored = created ? fresh : { ...fresh, ...readStored(file) }
  }
  return {
    config: {
      ...config,
      secretKey: config.generatedSecrets.includes('SECRET_KEY') ? stored.SECRET_KEY! : config.secretKey,
      jwtSecretKey: config.generatedSecrets.includes('JWT_SECRET_KEY') ? stored.JWT_SECRET_KEY! : config.jwtSecretKey,
    },
    file,
    created,
  }
}
