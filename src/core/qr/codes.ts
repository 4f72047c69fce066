/**
 * QR codes of rooms. Each room has a PNG (and an SVG) at STATIC_QR_PATH/<id>.png|.svg, its public
 * qr_code_url, that encodes the room's scan page WITHOUT a key, SERVER_EXTERNAL_BASE/r/<id>: anyone
 * may see it (the frontend shows it on every room page), so it proves nothing (decision 013). The
 * printed poster (admin only) encodes the signed URL r/<id>?k=<poster key>, and the door display
 * r/<id>?k=<rotating code> (see checkin/keys.ts). The files are a cache keyed by what they encode:
 * written when a room is created or on POST /admin/rooms/:id/generate-qr, and rebuilt on request
 * when missing or not written by this process for the current URL. When STATIC_QR_PATH cannot be
 * written, that is said once and the images are kept in memory.
 */
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { asc, inArray } from 'drizzle-orm'
import QRCode from 'qrcode'
import type { Config } from '../../config'
import type { Executor } from '../../db/client'
import { rooms } from '../../db/schema'
import { NotFound } from '../../lib/errors'
import type { Logger } from '../../lib/log'
import { scanKey } from '../bookings/checkin/keys'

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

function qrFilePath(config: QrConfig, roomId: number, format: QrFormat): string {
  return join(config.staticQrPath, `${roomId}.${format}`)
}

/** Renders the room's public QR code in one format (bytes for PNG, text for SVG). */
async function renderQr(text: string, format: QrFormat): Promise<Buffer> {
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

/** What this process knows of one STATIC_QR_PATH. */
interface QrDirectory {
  /**
   * The text each file was last written with by this process, by path: the cache is keyed by its
   * content, so a file is served only while it encodes what the code must encode now. A file this
   * process has not written (from before a restart, another instance, another SERVER_EXTERNAL_BASE)
   * is rendered again once.
   */
  written: Map<string, string>
  /** Why the directory cannot be written, once found out: the images are then kept in memory. */
  unwritable?: string
  /** Rendered images by format and text, while the directory is unwritable. */
  memory: Map<string, Buffer>
}

const directories = new Map<string, QrDirectory>()
/** Bounds the in-memory images (two per room); a college has far fewer rooms. */
const MEMORY_LIMIT = 4000

function directoryOf(path: string): QrDirectory {
  let directory = directories.get(path)
  if (!directory) directories.set(path, (directory = { written: new Map(), memory: new Map() }))
  return directory
}

const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOTDIR', 'EEXIST'])

function markUnwritable(config: QrConfig, directory: QrDirectory, error: unknown, log?: Logger): void {
  if (directory.unwritable) return
  const code = (error as NodeJS.ErrnoException).code
  directory.unwritable = code ? `${code}: ${(error as Error).message}` : String(error)
  log?.warn(`STATIC_QR_PATH ${config.staticQrPath} is not writable (${directory.unwritable}): QR images are served from memory and rendered again after a restart; make the directory writable by this user to keep them`, { path: config.staticQrPath })
}

/**
 * Checks once, at start, that STATIC_QR_PATH can be written (creating it); when it cannot, says so
 * once, and the images are served from memory from then on instead of failing at every write.
 */
export async function checkQrDirectory(config: QrConfig, log?: Logger): Promise<boolean> {
  const directory = directoryOf(config.staticQrPath)
  const probe = join(config.staticQrPath, `.write-check-${process.pid}`)
  try {
    await mkdir(config.staticQrPath, { recursive: true })
    await Bun.write(probe, '')
    await rm(probe, { force: true })
    return true
  } catch (error) {
    markUnwritable(config, directory, error, log)
    return false
  }
}

async function readFileIfAny(path: string): Promise<Buffer | undefined> {
  try {
    const bytes = Buffer.from(await Bun.file(path).arrayBuffer())
    return bytes.length > 0 ? bytes : undefined
  } catch {
    return undefined
  }
}

/**
 * The room's public QR image in one format: the stored file while it holds the current code,
 * else rendered and stored (or kept in memory when the directory cannot be written).
 * `stored` says whether it was rendered and written now.
 */
export async function qrImage(config: QrConfig, roomId: number, format: QrFormat, log?: Logger): Promise<{ bytes: Buffer; stored: boolean }> {
  const text = publicScanUrl(config, roomId)
  const path = qrFilePath(config, roomId, format)
  const directory = directoryOf(config.staticQrPath)
  if (directory.written.get(path) === text) {
    const bytes = await readFileIfAny(path)
    if (bytes) return { bytes, stored: false }
  }
  if (directory.unwritable) {
    const key = `${format}:${text}`
    let bytes = directory.memory.get(key)
    if (!bytes) {
      bytes = await renderQr(text, format)
      if (directory.memory.size >= MEMORY_LIMIT) directory.memory.delete(directory.memory.keys().next().value!)
      directory.memory.set(key, bytes)
    }
    return { bytes, stored: false }
  }
  const bytes = await renderQr(text, format)
  try {
    await mkdir(config.staticQrPath, { recursive: true })
    await writeAtomic(path, bytes)
    directory.written.set(path, text)
    return { bytes, stored: true }
  } catch (error) {
    if (!NOT_WRITABLE.has((error as NodeJS.ErrnoException).code ?? '')) throw error
    markUnwritable(config, directory, error, log)
    return qrImage(config, roomId, format, log)
  }
}

/**
 * Renders the room's PNG and SVG now (on room creation and POST /admin/rooms/:id/generate-qr) and
 * returns its qr_code_url. The public code has no key (decision 013), so a new qr_version does
 * not change it; only a new SERVER_EXTERNAL_BASE does, and the content key notices that.
 */
export async function generateRoomQr(config: QrConfig, roomId: number, log?: Logger): Promise<string> {
  await Promise.all([qrImage(config, roomId, 'png', log), qrImage(config, roomId, 'svg', log)])
  return qrCodeUrl(config, roomId)
}

/** The rooms whose posters are printed (name order, with the QR version their keys are signed with); all when ids is empty. Unknown ids are a 404. */
export async function roomsToPrint(db: Executor, ids: number[]): Promise<{ id: number; name: string; qrVersion: number }[]> {
  const query = db.select({ id: rooms.id, name: rooms.name, qrVersion: rooms.qrVersion }).from(rooms)
  const rows = await (ids.length ? query.where(inArray(rooms.id, ids)) : query).orderBy(asc(rooms.name))
  const missing = ids.filter((id) => !rows.some((r) => r.id === id))
  if (missing.length) throw new NotFound(`room not found: ${missing.join(', ')}`)
  return rows
}
