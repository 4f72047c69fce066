/**
 * The door display's rotating check-in code (decision 013): a new key every DISPLAY_CODE_PERIOD_S
 * seconds, derived from SECRET_KEY, the room id, its qr_version and the period number (see
 * checkin/keys.ts), shown as a QR code of the scan URL r/<id>?k=<code>. Only a display that holds
 * the room's display link (/display/<id>?t=<token>, from the admin route) receives it.
 */
import QRCode from 'qrcode'
import type { Config } from '../../config'
import { formatUtc } from '../../lib/time'
import { codeStep, displayCode, displayPath, stepStart } from '../../core/bookings/checkin/keys'
import { scanUrlWithKey } from '../../core/qr/codes'

type CodeConfig = Pick<Config, 'secretKey' | 'serverExternalBase' | 'displayCodePeriodS'>

export interface DisplayCode {
  /** the scan URL the QR code encodes */
  url: string
  /** the QR code as an SVG data: URL, ready for an <img src> */
  image: string
  period_s: number
  step: number
  /** when the display shows the next code */
  next_at: string
  /** when this code stops being accepted (the end of the period of grace) */
  valid_until: string
  /** milliseconds from now until valid_until: a display hides the code then if no new one came */
  expires_in_ms: number
}

/** The link that pairs a door display with its room: SERVER_EXTERNAL_BASE + display/<id>?t=<token>. */
export function displayLink(config: Pick<Config, 'secretKey' | 'serverExternalBase'>, room: { id: number; qrVersion: number }): string {
  const base = config.serverExternalBase.endsWith('/') ? config.serverExternalBase : `${config.serverExternalBase}/`
  return `${base}${displayPath(config.secretKey, room)}`
}

/** Rendered images by URL: every display of a room (and every stream) shows the same one per period. */
const images = new Map<string, Promise<string>>()
const IMAGES_KEPT = 256

function imageOf(url: string): Promise<string> {
  let image = images.get(url)
  if (!image) {
    image = QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
      .then((svg) => `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`)
    images.set(url, image)
    image.catch(() => images.delete(url))
    if (images.size > IMAGES_KEPT) images.delete(images.keys().next().value!)
  }
  return image
}

/** The code a room's display shows at `now`. */
export async function currentCode(config: CodeConfig, room: { id: number; qrVersion: number }, now: Date): Promise<DisplayCode> {
  const period = config.displayCodePeriodS
  const step = codeStep(now, period)
  const url = scanUrlWithKey(config, room.id, displayCode(config.secretKey, room.id, room.qrVersion, step))
  const validUntil = stepStart(step + 2, period)
  return {
    url,
    image: await imageOf(url),
    period_s: period,
    step,
    next_at: formatUtc(stepStart(step + 1, period)),
    valid_until: formatUtc(validUntil),
    expires_in_ms: validUntil.getTime() - now.getTime(),
  }
}
