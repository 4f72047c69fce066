/**
 * Secrets that travel in a URL or a cookie (refresh tokens, feed links, confirmation links,
 * nonces) and how they are stored: only their SHA-256, so that a copy of the database opens nothing.
 */

/** `bytes` random bytes, URL-safe (base64url). */
export function randomToken(bytes = 32): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64url')
}

/** What is stored of a token: its SHA-256, hex. */
export function tokenHash(token: string): string {
  return new Bun.CryptoHasher('sha256').update(token).digest('hex')
}
