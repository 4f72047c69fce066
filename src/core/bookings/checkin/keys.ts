/**
 * The keys a scan can carry as `k` (decision 013), all 12 base64url characters (72 bits of an
 * HMAC-SHA256), compared in constant time:
 * - the printed poster's static key: HMAC(SECRET_KEY, "<room id>:<qr_version>") (unchanged since
 *   decision 007, so posters printed before keep working); bumping qr_version (generate-qr)
 *   retires every printed copy;
 * - the door display's rotating code: HMAC(K_code, "<room id>:<qr_version>:<step>") where
 *   step = floor(time / period) as in TOTP (RFC 6238) and K_code is derived from SECRET_KEY, so
 *   it never equals a poster key. A code is current during its step and accepted during the next
 *   one (grace) and the one before (a few seconds of clock skew between instances);
 * - the display link's token (not a scan key): HMAC(K_link, "<room id>:<qr_version>"), 128 bits,
 *   which lets a door display receive the rotating codes.
 * The public QR image (qr_code_url) carries no key at all.
 */
import { createHmac } from 'node:crypto'
import { sameSecret } from '../../../lib/same-secret'

const SCAN_KEY_LENGTH = 12
const DISPLAY_TOKEN_LENGTH = 22
/** How many earlier versions are recognised as "outdated" (for a clearer message than "invalid"). */
const OLD_VERSIONS_RECOGNISED = 50
/**
 * How old a display code may be and still be recognised as "stale" (expired) rather than "invalid":
 * long enough for a visitor who scanned and then got distracted; short, since each period checked
 * is one HMAC (at most 1 + 3 + 88 + 50 per request, with a 10 s period).
 */
const STALE_RECOGNISED_MS = 15 * 60_000

/**
 * valid: the room's current poster key or a display code of this period (or the one before);
 * stale: a display code of an earlier period; outdated: the poster key of an earlier qr_version.
 */
export type KeyStatus = 'valid' | 'stale' | 'outdated' | 'invalid' | 'missing'
/** Where a recognised key comes from. */
export type KeyKind = 'poster' | 'display'

export interface KeyCheck {
  status: KeyStatus
  kind: KeyKind | null
}

interface KeyRoom {
  id: number
  qrVersion: number
}

function hmac(key: string | Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest()
}

/** Keys derived from SECRET_KEY for one purpose each (cached: the secret does not change in a process). */
const derived = new Map<string, Buffer>()
function subkey(secret: string, purpose: 'display code' | 'display link'): Buffer {
  const id = `${purpose}\0${secret}`
  let key = derived.get(id)
  if (!key) {
    key = hmac(secret, `qrbook ${purpose} v1`)
    derived.set(id, key)
  }
  return key
}

/** The printed poster's static key of a room at a qr_version. */
export function scanKey(secret: string, roomId: number, version: number): string {
  return hmac(secret, `${roomId}:${version}`).subarray(0, 9).toString('base64url')
}

/** The number of the period containing `now` (periods are counted from the Unix epoch, like TOTP). */
export function codeStep(now: Date, periodS: number): number {
  return Math.floor(now.getTime() / (periodS * 1000))
}

/** When a period starts. */
export function stepStart(step: number, periodS: number): Date {
  return new Date(step * periodS * 1000)
}

/** The door display's code for one period. */
export function displayCode(secret: string, roomId: number, version: number, step: number): string {
  return hmac(subkey(secret, 'display code'), `${roomId}:${version}:${step}`).subarray(0, 9).toString('base64url')
}

/** The token of a room's display link (/display/<id>?t=<token>), tied to the room's qr_version. */
function displayToken(secret: string, roomId: number, version: number): string {
  return hmac(subkey(secret, 'display link'), `${roomId}:${version}`).subarray(0, 16).toString('base64url')
}

/** A room's display link below the public base: `display/<id>?t=<token>` (the API's display-link, the console's room page). */
export function displayPath(secret: string, room: { id: number; qrVersion: number }): string {
  return `display/${room.id}?t=${displayToken(secret, room.id, room.qrVersion)}`
}

/**
 * What a key from a request is, for this room at this time: the current poster key or a display
 * code of the period before, this one or the next (valid); an older display code (stale, up to 15
 * minutes back); an earlier poster (outdated); anything else (invalid).
 */
export function checkScanKey(secret: string, room: KeyRoom, key: string | undefined | null, now: Date, periodS: number): KeyCheck {
  const sent = key?.trim()
  if (!sent) return { status: 'missing', kind: null }
  if (sent.length !== SCAN_KEY_LENGTH) return { status: 'invalid', kind: null }
  if (sameSecret(sent, scanKey(secret, room.id, room.qrVersion))) return { status: 'valid', kind: 'poster' }
  const step = codeStep(now, periodS)
  for (let s = step + 1; s >= step - 1; s--)
    if (sameSecret(sent, displayCode(secret, room.id, room.qrVersion, s))) return { status: 'valid', kind: 'display' }
  const oldest = step - Math.ceil(STALE_RECOGNISED_MS / (periodS * 1000))
  for (let s = step - 2; s >= oldest; s--)
    if (sameSecret(sent, displayCode(secret, room.id, room.qrVersion, s))) return { status: 'stale', kind: 'display' }
  for (let v = room.qrVersion - 1; v >= Math.max(1, room.qrVersion - OLD_VERSIONS_RECOGNISED); v--)
    if (sameSecret(sent, scanKey(secret, room.id, v))) return { status: 'outdated', kind: 'poster' }
  return { status: 'invalid', kind: null }
}

/** Compares a display link's token with the room's current one; earlier versions are "outdated". */
export function checkDisplayToken(secret: string, room: KeyRoom, token: string | undefined | null): 'valid' | 'outdated' | 'invalid' | 'missing' {
  const sent = token?.trim()
  if (!sent) return 'missing'
  if (sent.length !== DISPLAY_TOKEN_LENGTH) return 'invalid'
  if (sameSecret(sent, displayToken(secret, room.id, room.qrVersion))) return 'valid'
  for (let v = room.qrVersion - 1; v >= Math.max(1, room.qrVersion - OLD_VERSIONS_RECOGNISED); v--)
    if (sameSecret(sent, displayToken(secret, room.id, v))) return 'outdated'
  return 'invalid'
}
