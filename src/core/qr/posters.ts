/**
 * Printable door posters (admin only): one A4 page per room with its name in large type, the QR
 * code of its signed scan URL (with the poster key; the public qr_code_url has none, decision 013),
 * that URL in short, and how to use it in Russian and English. PDF with pdf-lib (pure JavaScript)
 * and DejaVu Sans embedded, since the standard PDF fonts have no Cyrillic; SVG for a single room.
 */
import type { Color, PDFFont, PDFPage } from 'pdf-lib'
import QRCode from 'qrcode'
import type { Ctx } from '../../context'
import { localhostCodesWarning } from '../../notices'
import { posterScanUrl, roomsToPrint } from './codes'

const FONT_DIR = `${Bun.resolveSync('dejavu-fonts-ttf/package.json', import.meta.dir).replace(/package\.json$/, '')}ttf`
const A4 = { width: 595.28, height: 841.89 }
const QR_SIZE = 340

const INSTRUCTIONS = {
  ru: ['Отсканируйте QR-код телефоном:', 'узнайте, свободна ли аудитория, забронируйте её', 'или отметьтесь о приходе на свою бронь.'],
  en: ['Scan the code with your phone to see if the room', 'is free, book it, or check in to your booking.'],
}

export interface PosterRoom {
  id: number
  name: string
  scanUrl: string
}

/** The rooms to print, in name order; all rooms when ids is empty. Unknown ids are a 404. */
export async function posterRooms(ctx: Ctx, ids: number[]): Promise<PosterRoom[]> {
  const rows = await roomsToPrint(ctx.database.db, ids)
  // Every printed poster would send people to this machine: say so with every print.
  const localhost = localhostCodesWarning(ctx.config)
  if (localhost) ctx.log.warn(localhost, { room_ids: rows.map((r) => r.id) })
  return rows.map((r) => ({ id: r.id, name: r.name, scanUrl: posterScanUrl(ctx.config, r.id, r.qrVersion) }))
}

/** The scan URL without its scheme, as printed under the code. */
function shortUrl(url: string): string {
  return url.replace(/^https?:\/\//, '')
}

/** pdf-lib and its font support, loaded at the first poster: most processes never print one. */
let pdfLib: Promise<[typeof import('pdf-lib'), Parameters<import('pdf-lib').PDFDocument['registerFontkit']>[0]]> | undefined
function loadPdfLib() {
  pdfLib ??= Promise.all([import('pdf-lib'), import('@pdf-lib/fontkit').then((m) => ((m as { default?: unknown }).default ?? m) as never)])
  return pdfLib
}

let fonts: Promise<[Uint8Array, Uint8Array]> | undefined
function fontBytes() {
  fonts ??= Promise.all([
    Bun.file(`${FONT_DIR}/DejaVuSans.ttf`).bytes(),
    Bun.file(`${FONT_DIR}/DejaVuSans-Bold.ttf`).bytes(),
  ])
  return fonts
}

function centered(page: PDFPage, text: string, font: PDFFont, size: number, y: number, color?: Color) {
  const width = font.widthOfTextAtSize(text, size)
  page.drawText(text, { x: (A4.width - width) / 2, y, size, font, color })
}

/** The largest size up to `max` at which the text fits the page width with margins. */
function fitSize(text: string, font: PDFFont, max: number): number {
  const available = A4.width - 80
  return Math.min(max, (max * available) / font.widthOfTextAtSize(text, max))
}

export async function postersPdf(list: PosterRoom[]): Promise<Uint8Array> {
  const [{ PDFDocument, rgb }, fontkit] = await loadPdfLib()
  const pdf = await PDFDocument.create()
  pdf.registerFontkit(fontkit)
  pdf.setTitle(list.length === 1 ? `QRBOOK poster ${list[0]!.name}` : 'QRBOOK room posters')
  pdf.setCreator('QRBOOK')
  const [regularBytes, boldBytes] = await fontBytes()
  const regular = await pdf.embedFont(regularBytes, { subset: true })
  const bold = await pdf.embedFont(boldBytes, { subset: true })

  for (const room of list) {
    const page = pdf.addPage([A4.width, A4.height])
    centered(page, room.name, bold, fitSize(room.name, bold, 96), A4.height - 150)
    const png = await QRCode.toBuffer(room.scanUrl, { errorCorrectionLevel: 'M', margin: 2, width: 800 })
    const image = await pdf.embedPng(png)
    const qrY = A4.height - 170 - QR_SIZE - 30
    page.drawImage(image, { x: (A4.width - QR_SIZE) / 2, y: qrY, width: QR_SIZE, height: QR_SIZE })
    const url = shortUrl(room.scanUrl)
    centered(page, url, regular, fitSize(url, regular, 14), qrY - 28, rgb(0.2, 0.2, 0.2))
    let y = qrY - 80
    for (const line of INSTRUCTIONS.ru) {
      centered(page, line, line === INSTRUCTIONS.ru[0] ? bold : regular, 16, y)
      y -= 22
    }
    y -= 14
    for (const line of INSTRUCTIONS.en) {
      centered(page, line, regular, 14, y, rgb(0.3, 0.3, 0.3))
      y -= 20
    }
  }
  return pdf.save()
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** One room's poster as SVG (A4 proportions, 210 x 297 user units = millimetres). */
export async function posterSvg(room: PosterRoom): Promise<string> {
  const qr = await QRCode.toString(room.scanUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
  const inner = qr.replace(/^[\s\S]*?<svg[^>]*>/, '').replace(/<\/svg>\s*$/, '')
  const viewBox = /viewBox="([^"]+)"/.exec(qr)?.[1] ?? '0 0 33 33'
  const text = (y: number, size: number, content: string, weight = 'normal') =>
    `<text x="105" y="${y}" font-size="${size}" font-weight="${weight}" text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif">${escapeXml(content)}</text>`
  const lines = [
    text(48, 28, room.name, 'bold'),
    `<svg x="35" y="62" width="140" height="140" viewBox="${viewBox}" shape-rendering="crispEdges">${inner}</svg>`,
    text(214, 5, shortUrl(room.scanUrl)),
    ...INSTRUCTIONS.ru.map((line, i) => text(234 + i * 8, 6, line, i === 0 ? 'bold' : 'normal')),
    ...INSTRUCTIONS.en.map((line, i) => text(266 + i * 7, 5, line)),
  ]
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297">
<rect width="210" height="297" fill="#fff"/>
${lines.join('\n')}
</svg>
`
}
