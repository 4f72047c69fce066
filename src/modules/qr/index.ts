/**
 * GET /static/qr/<id>.png and /static/qr/<id>.svg, mounted at the root only (not under /api).
 * Only "<positive integer>.png|svg" names are served, from STATIC_QR_PATH, so no request can
 * reach another file; a missing file of an existing room is rendered again and then served.
 */
import { eq } from 'drizzle-orm'
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { rooms } from '../../db/schema'
import { NotFound } from '../../lib/errors'
import { readQrFile, renderQr, writeQrFile, type QrFormat } from './service'

export { generateRoomQr, qrCodeUrl, qrTarget } from './service'

const FILE_NAME = /^([1-9]\d{0,9})\.(png|svg)$/
const MAX_ID = 2147483647
const CONTENT_TYPES: Record<QrFormat, string> = { png: 'image/png', svg: 'image/svg+xml' }
/** The image of a room never changes for a given URL configuration: cache for a day. */
const CACHE_CONTROL = 'public, max-age=86400'

/** Renders a missing file again and stores it; if the disk refuses, the image is still served. */
async function regenerate(ctx: Ctx, id: number, format: QrFormat): Promise<Uint8Array> {
  try {
    const bytes = await writeQrFile(ctx.config, id, format)
    ctx.log.info('regenerated missing QR code', { room_id: id, format })
    return bytes
  } catch (error) {
    ctx.log.warn('could not store a regenerated QR code', { room_id: id, format, error: (error as Error).message })
    return renderQr(ctx.config, id, format)
  }
}

export const qrStatic = (ctx: Ctx) =>
  new Elysia().get('/static/qr/:file', async ({ params, set }) => {
    const match = FILE_NAME.exec(params.file)
    if (!match || Number(match[1]) > MAX_ID) throw new NotFound('QR code not found')
    const id = Number(match[1])
    const format = match[2] as QrFormat
    let bytes = await readQrFile(ctx.config, id, format)
    if (!bytes) {
      const [room] = await ctx.database.db.select({ id: rooms.id }).from(rooms).where(eq(rooms.id, id))
      if (!room) throw new NotFound('QR code not found')
      bytes = await regenerate(ctx, id, format)
    }
    set.headers['content-type'] = CONTENT_TYPES[format]
    set.headers['cache-control'] = CACHE_CONTROL
    return bytes
  }, {
    params: t.Object({ file: t.String({ description: '<room id>.png or <room id>.svg', examples: ['1.png'] }) }),
    detail: {
      tags: ['QR'],
      summary: 'QR code image of a room (PNG or SVG); a missing file is rendered again',
      responses: {
        200: { description: 'The image', content: { 'image/png': {}, 'image/svg+xml': {} } },
        404: { description: 'No such room or not a QR file name' },
      },
    },
  })
