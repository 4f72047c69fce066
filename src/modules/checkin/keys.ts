/**
 * The signed key in a room's QR code: HMAC-SHA256 of "<room id>:<qr_version>" under SECRET_KEY,
 * truncated to 9 bytes (72 bits) and base64url-encoded to 12 characters. Knowing a room id is not
 * enough to check in; bumping qr_version (generate-qr) retires every printed copy of the old code.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SCAN_KEY_LENGTH = 12
/** How many earlier versions are recognised as "outdated" (for a clearer message than "invalid"). */
const OLD_VERSIONS_RECOGNISED = 50

export type KeyStatus = 'valid' | 'outdated' | 'invalid' | 'missing'

export function scanKey(secret: string, roomId: number, version: number): string {
  return createHmac('sha256', secret).update(`${roomId}:${version}`).digest().subarray(0, 9).toString('base64url')
}

function sameKey(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/** Compares a key from a request with the room's current one (constant time), and recognises old ones. */
export function checkScanKey(secret: string, room: { id: number; qrVersion: number }, key: string | undefined | null): KeyStatus {
  const sent = key?.trim()
  if (!sent) return 'missing'
  if (sent.length !== SCAN_KEY_LENGTH) return 'invalid'
  if (sameKey(sent, scanKey(secret, room.id, room.qrVersion))) return 'valid'
  for (let v = room.qrVersion - 1; v >= Math.max(1, room.qrVersion - OLD_VERSIONS_RECOGNISED); v--)
    if (sameKey(sent, scanKey(secret, room.id, v))) return 'outdated'
  return 'invalid'
}
