/**
 * Password hashing with Bun.password (argon2id). Hashes carried over from the Flask database are
 * bcrypt ($2a$/$2b$/$2y$); they still verify, and needsRehash() tells login to upgrade them.
 */
export const MIN_PASSWORD_LENGTH = 8
const ARGON2 = { algorithm: 'argon2id', memoryCost: 19456, timeCost: 2 } as const

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, ARGON2)
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

/** A real argon2id hash of a random password: verifying against it costs what a real login costs. */
let dummyHash: Promise<string> | undefined
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(crypto.randomUUID())
  return dummyHash
}
