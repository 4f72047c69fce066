/**
 * QR codes of rooms. Each room has a PNG (and an SVG) at STATIC_QR_PATH/<id>.png|.svg, its public
 * qr_code_url, that encodes the room's scan page WITHOUT a key, SERVER_EXTERNAL_BASE/r/<id>: anyone
 * may see it (the frontend shows it on every room page), so it proves nothing (decision 013). The
 * printed poster (admin only) encodes the signed URL r/<id>?k=<poster key>, and the door display
 * r/<id>?k=<rotating code> (see checkin/keys.ts). The files are a cache: they are written when a
 * room is created or on POST /admin/rooms/:id/generate-qr, and rebuilt on request when missing or
 * when this process has not yet written or checked them for the room's current version.
 */
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import QRCode from 'qrcode'
import type { Config } from '../../config'
import { scanKey } from '../checkin/keys'

export type QrFormat = 'png' | 'svg'
type QrConfig = Pick<Config, 'staticQrPath' | 'frontendBaseUrl' | 'serverExternalBase' | 'qrBaseUrl' | 'secretKey'>

const RENDER = { errorCorrectionLevel: 'M' as const, margin: 4 }
const PNG_WIDTH = 512

/** What the public image (qr_code_url) encodes: the room's scan page without a key, SERVER_EXTERNAL_BASE + r/<id>. */
export function publicScanUrl(config: Pick<QrConfig, 'serverExternalBase'>, roomId: number): string {
  return `${withSlash(config.serverExternalBase)}r/${roomId}`
}

/** What the printed poster encodes: the scan page with the poster key of this qr_version. */
export function posterScanUrl(config: Pick<QrConfig, 'serverExternalBase' | 'secretKey'>, roomId: number, qrVersion: number): string {
  return scanUrlWithKey(config, roomId, scanKey(config.secretKey, roomId, qrVersion))
}

/** The scan page with a key (a poster key or a display's rotating code). */
export function scanUrlWithKey(config: Pick<QrConfig, 'serverExternalBase'>, roomId: number, key: string): string {
  return `${publicScanUrl(config, roomId)}?k=${encodeURIComponent(key)}`
}

/** The room's page in the existing frontend (FRONTEND_BASE_URL + /rooms/<id>), when one is configured. */
export function frontendRoomUrl(config: Pick<QrConfig, 'frontendBaseUrl'>, roomId: number): string | undefined {
  return config.frontendBaseUrl ? `${config.frontendBaseUrl.replace(/\/+$/, '')}/rooms/${roomId}` : undefined
}

/** The room's qr_code_url: QR_BASE_URL + /<id>.png, else SERVER_EXTERNAL_BASE + static/qr/<id>.png. */
export function qrCodeUrl(config: Pick<QrConfig, 'qrBaseUrl' | 'serverExternalBase'>, roomId: number): string {
  if (config.qrBaseUrl) return `${config.qrBaseUrl.replace(/\/+$/, '')}/${roomId}.png`
  return `${withSlash(config.serverExternalBase)}static/qr/${roomId}.png`
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`
}

export function qrFilePath(config: QrConfig, roomId: number, format: QrFormat): string {
  return join(config.staticQrPath, `${roomId}.${format}`)
}

/**
 * Renders the room's public QR code in one format (bytes for PNG, text for SVG). It no longer
 * depends on qr_version (it has no key); the version still names the cache entry, so files written
 * by an older release (which carried the key) are rendered again once by each process.
 */
export async function renderQr(config: QrConfig, roomId: number, _qrVersion: number, format: QrFormat): Promise<Buffer> {
  const text = publicScanUrl(config, roomId)
  if (format === 'png') return QRCode.toBuffer(text, { ...RENDER, type: 'png', width: PNG_WIDTH })
  return Buffer.from(await QRCode.toString(text, { ...RENDER, type: 'svg' }))
}

/** Writes a file atomically (temp file + rename), so a reader never sees half a file. */
async function writeAtomic(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`
  try {
    await Bun.write(tmp, data)
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {})
    throw error
  }
}

/**
 * The qr_version each file was last written or checked at by this process, by file path. A file on
 * disk with no entry here may be from before a generate-qr made by another instance (or before a
 * restart), so it is rendered again once; this keeps instances with separate disks correct.
 */
const writtenVersions = new Map<string, number>()

/** True when this process knows the file holds the code of this qr_version. */
export function qrFileIsCurrent(config: QrConfig, roomId: number, qrVersion: number, format: QrFormat): boolean {
  return writtenVersions.get(qrFilePath(config, roomId, format)) === qrVersion
}

/** Renders one format into STATIC_QR_PATH and returns the bytes written. */
export async function writeQrFile(config: QrConfig, roomId: number, qrVersion: number, format: QrFormat): Promise<Buffer> {
  const data = await renderQr(config, roomId, qrVersion, format)
  await mkdir(config.staticQrPath, { recursive: true })
  const path = qrFilePath(config, roomId, format)
  await writeAtomic(path, data)
  writtenVersions.set(path, qrVersion)
  return data
}

/**
 * (Re)generates the room's PNG and SVG files for its qr_version and returns its qr_code_url.
 * Used on room creation and by POST /admin/rooms/:id/generate-qr (the caller checks the room exists).
 */
export async function generateRoomQr(config: QrConfig, roomId: number, qrVersion: number): Promise<string> {
  await Promise.all([writeQrFile(config, roomId, qrVersion, 'png'), writeQrFile(config, roomId, qrVersion, 'svg')])
  return qrCodeUrl(config, roomId)
}

/** The bytes of the stored file, or undefined when it is missing (or empty). */
export async function readQrFile(config: QrConfig, roomId: number, format: QrFormat): Promise<Uint8Array | undefined> {
  try {
    const bytes = new Uint8Array(await Bun.file(qrFilePath(config, roomId, format)).arrayBuffer())
    return bytes.length > 0 ? bytes : undefined
  } catch {
    return undefined
  }
}
