/**
 * GET /static/qr/<id>.png and /static/qr/<id>.svg, mounted at the root only (not under /api).
 * Only "<positive integer>.png|svg" names are served, from STATIC_QR_PATH, so no request can
 * reach another file. The room's existence is read on every request (one primary-key read); a file
 * that is missing, or that this process has not written for the current URL, is rendered again
 * (src/core/qr/codes.ts).
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { NotFound } from '../../lib/errors'
import { localhostCodesWarning } from '../../notices'
import { qrImage, type QrFormat } from '../../core/qr/codes'
import { MAX_ID } from '../../lib/input'
import { roomKey } from '../../core/bookings/rooms/writes'

const FILE_NAME = /^([1-9]\d{0,9})\.(png|svg)$/
const CONTENT_TYPES: Record<QrFormat, string> = { png: 'image/png', svg: 'image/svg+xml' }
/**
 * The image can change under the same URL (it did when decision 013 took the key out of it, and
 * does when SERVER_EXTERNAL_BASE changes): caches may keep it but must revalidate (cheap: the ETag
 * answers 304 while the image is unchanged).
 */
const CACHE_CONTROL = 'public, max-age=0, must-revalidate'

export const qrRoutes = (ctx: Ctx) =>
  new Elysia().get('/static/qr/:file', async ({ params, set, request }) => {
    const match = FILE_NAME.exec(params.file)
    if (!match || Number(match[1]) > MAX_ID) throw new NotFound('QR code not found')
    const id = Number(match[1])
    const format = match[2] as QrFormat
    const room = await roomKey(ctx.database.db, id)
    if (!room) throw new NotFound('QR code not found')
    const localhost = localhostCodesWarning(ctx.config)
    if (localhost) ctx.log.warn(localhost, { room_id: id })
    const { bytes, stored } = await qrImage(ctx.config, id, format, ctx.log)
    if (stored) ctx.log.info('rendered QR code file', { room_id: id, format })
    const etag = `"${Bun.hash(bytes).toString(36)}"`
    set.headers['cache-control'] = CACHE_CONTROL
    set.headers.etag = etag
    if (request.headers.get('if-none-match')?.split(/\s*,\s*/).includes(etag)) {
      set.status = 304
      return ''
    }
    set.headers['content-type'] = CONTENT_TYPES[format]
    return bytes
  }, {
    params: t.Object({ file: t.String({ description: '<room id>.png or <room id>.svg', examples: ['1.png'] }) }),
    detail: {
      tags: ['QR'],
      summary: "Public QR code image of a room (PNG or SVG): the room's scan page without a key; a missing file is rendered again",
      responses: {
        200: { description: 'The image', content: { 'image/png': {}, 'image/svg+xml': {} } },
        404: { description: 'No such room or not a QR file name' },
      },
    },
  })
