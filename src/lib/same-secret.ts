import { timingSafeEqual } from 'node:crypto'

/** True when two secrets (CSRF tokens, nonces) are equal, compared in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
