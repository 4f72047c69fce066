/**
 * `bun run secrets`: prints a fresh SECRET_KEY and JWT_SECRET_KEY (48 random bytes each from the
 * system's CSPRNG, base64url, 64 characters), ready to paste into Railway's variables or a .env
 * file. The Bun replacement of the old guide's generate_secrets.py.
 */
const BYTES = 48

export function randomSecret(bytes = BYTES): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('base64url')
}

if (import.meta.main) {
  console.log(`SECRET_KEY=${randomSecret()}`)
  console.log(`JWT_SECRET_KEY=${randomSecret()}`)
}
