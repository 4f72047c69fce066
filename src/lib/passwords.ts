/**
 * Password rules and hashing. New passwords (signup, register, admin create and reset,
 * change-password, `bun run set-password`) must pass passwordProblem(); login never checks
 * strength, so existing accounts keep working. Hashing is Bun.password (argon2id). Hashes carried
 * over from the Flask database are bcrypt ($2a$/$2b$/$2y$); they still verify, and needsRehash()
 * tells login to upgrade them. The argon2id cost comes from the configuration
 * (PASSWORD_HASH_MEMORY_COST, PASSWORD_HASH_TIME_COST): every caller passes config.passwordHashCost.
 */
import { readFileSync } from 'node:fs'

export const MIN_PASSWORD_LENGTH = 8
export const PASSWORD_MSG = { tooShort: `password must be at least ${MIN_PASSWORD_LENGTH} characters` } as const
const MAX_PASSWORD_LENGTH = 1024

/**
 * The most common passwords, lower-cased (src/lib/common-passwords.txt, made by
 * scripts/common-passwords.ts from @zxcvbn-ts/language-common): read on first use, ~3,500 lines.
 */
let common: Set<string> | undefined
export function commonPasswords(): Set<string> {
  common ??= new Set(readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
    .split('\n').filter((line) => line && !line.startsWith('#')))
  return common
}

/** Case, compatibility forms (full-width letters) and surrounding spaces do not make a password different. */
const folded = (text: string) => text.normalize('NFKC').trim().toLowerCase()

/**
 * Why a new password is refused, or undefined when it is acceptable: missing, shorter than
 * MIN_PASSWORD_LENGTH (the contract's rule), longer than MAX_PASSWORD_LENGTH, only spaces, the
 * user's own name, or one of the most common passwords. The length counts UTF-16 units, as before.
 */
export function passwordProblem(password: unknown, name?: unknown): string | undefined {
  if (typeof password !== 'string' || password.length === 0) return 'password is required'
  if (password.length < MIN_PASSWORD_LENGTH) return PASSWORD_MSG.tooShort
  if (password.length > MAX_PASSWORD_LENGTH) return `password must be at most ${MAX_PASSWORD_LENGTH} characters`
  if (password.trim() === '') return 'password must not be only spaces'
  if (typeof name === 'string' && name.trim() !== '' && folded(password) === folded(name)) return 'password must not be the same as the name'
  if (commonPasswords().has(password.toLowerCase()) || commonPasswords().has(folded(password)))
    return 'password is one of the most common passwords; choose one that is harder to guess'
  return undefined
}
/** The argon2id cost of new hashes: memory in KiB and passes (parallelism is always 1). */
export interface PasswordHashCost {
  memoryCost: number
  timeCost: number
}

/**
 * Production's cost, and the least production accepts (src/config.ts): OWASP's argon2id minimum,
 * 19 MiB and 2 passes, about 20 ms a hash. Only the tests hash cheaper.
 */
export const DEFAULT_PASSWORD_HASH_COST: PasswordHashCost = { memoryCost: 19456, timeCost: 2 }

export function hashPassword(password: string, cost: PasswordHashCost): Promise<string> {
  return Bun.password.hash(password, { algorithm: 'argon2id', memoryCost: cost.memoryCost, timeCost: cost.timeCost })
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    // Bun's bcrypt verifier reads the $2b$ prefix; $2a$ and $2y$ hashes are the same algorithm.
    const normalized = /^\$2[ay]\$/.test(hash) ? `$2b$${hash.slice(4)}` : hash
    return await Bun.password.verify(password, normalized)
  } catch {
    return false // an unreadable hash never matches
  }
}

export function needsRehash(hash: string): boolean {
  return !hash.startsWith('$argon2id$')
}

/**
 * A real argon2id hash of a random password at the given cost (the one new hashes get): verifying
 * against it costs what a real login costs. Made once per cost.
 */
const dummyHashes = new Map<string, Promise<string>>()
export function dummyPasswordHash(cost: PasswordHashCost): Promise<string> {
  const key = `${cost.memoryCost},${cost.timeCost}`
  let hash = dummyHashes.get(key)
  if (!hash) dummyHashes.set(key, (hash = hashPassword(crypto.randomUUID(), cost)))
  return hash
}
