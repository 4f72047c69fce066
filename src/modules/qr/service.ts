/**
 * QR codes of rooms. Each room has a PNG (and an SVG) at STATIC_QR_PATH/<id>.png|.svg that
 * encodes the frontend's room page. The files are a cache: they are written when a room is
 * created or on POST /admin/rooms/:id/generate-qr, and rebuilt on request when missing.
 */
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import QRCode from 'qrcode'
import type { Config } from '../../config'

export type QrFormat = 'png' | 'svg'
type QrConfig = Pick<Config, 'staticQrPath' | 'frontendBaseUrl' | 'serverExternalBase' | 'qrBaseUrl'>

const RENDER = { errorCorrectionLevel: 'M' as const, margin: 4 }
const PNG_WIDTH = 512

/** What the code encodes: FRONTEND_BASE_URL + /rooms/<id>, else SERVER_EXTERNAL_BASE + rooms/<id>. */
export function qrTarget(config: QrConfig, roomId: number): string {
  if (config.frontendBaseUrl) return `${config.frontendBaseUrl.replace(/\/+$/, '')}/rooms/${roomId}`
  return `${withSlash(config.serverExternalBase)}rooms/${roomId}`
}

/** The room's qr_code_url: QR_BASE_URL + /<id>.png, else SERVER_EXTERNAL_BASE + static/qr/<id>.png. */
export function qrCodeUrl(config: QrConfig, roomId: number): string {
  if (config.qrBaseUrl) return `${config.qrBaseUrl.replace(/\/+$/, '')}/${roomId}.png`
  return `${withSlash(config.serverExternalBase)}static/qr/${roomId}.png`
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`
}

export function qrFilePath(config: QrConfig, roomId: number, format: QrFormat): string {
  return join(config.staticQrPath, `${roomId}.${format}`)
}

/** Renders the room's QR code in one format (bytes for PNG, text for SVG). */
export async function renderQr(config: QrConfig, roomId: number, format: QrFormat): Promise<Buffer> {
  const text = qrTarget(config, roomId)
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

/** Renders one format into STATIC_QR_PATH and returns the bytes written. */
export async function writeQrFile(config: QrConfig, roomId: number, format: QrFormat): Promise<Buffer> {
  const data = await renderQr(config, roomId, format)
  await mkdir(config.staticQrPath, { recursive: true })
  await writeAtomic(qrFilePath(config, roomId, format), data)
  return data
}

/**
 * (Re)generates the room's PNG and SVG files and returns its qr_code_url.
 * Used on room creation and by POST /admin/rooms/:id/generate-qr (the caller checks the room exists).
 */
export async function generateRoomQr(config: QrConfig, roomId: number): Promise<string> {
  await Promise.all([writeQrFile(config, roomId, 'png'), writeQrFile(config, roomId, 'svg')])
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
