/**
 * Poster routes (admin): GET /admin/rooms/:id/poster.pdf, /admin/rooms/:id/poster.svg and
 * /admin/rooms/posters.pdf?ids=1,2 (every room when ids is absent).
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { BadRequest } from '../../lib/errors'
import { authGuard } from '../../plugins/auth'
import { posterRooms, postersPdf, posterSvg } from '../../core/qr/posters'
import { Id, MAX_ID } from '../../lib/input'

const RoomId = t.Object({ id: Id('room id') })
const binary = (type: string, description: string) => ({
  200: { description, content: { [type]: { schema: { type: 'string' as const, format: 'binary' } } } },
})

/** ids=1,2,3 or ids=1&ids=2: positive integers, at most 500. */
function parseIds(raw: string | string[] | undefined): number[] {
  if (raw === undefined) return []
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)
  if (parts.length > 500) throw new BadRequest('ids: at most 500 rooms at once')
  return [...new Set(parts.map((part) => {
    if (!/^\d{1,10}$/.test(part) || Number(part) < 1 || Number(part) > MAX_ID) throw new BadRequest(`ids: "${part.slice(0, 20)}" is not a room id`)
    return Number(part)
  }))]
}

function pdfHeaders(set: { headers: Record<string, unknown> }, filename: string) {
  set.headers['content-type'] = 'application/pdf'
  set.headers['content-disposition'] = `inline; filename="${filename}"`
  set.headers['cache-control'] = 'no-store'
}

export const posterRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/admin/rooms', detail: { tags: ['Admin', 'QR'] } })
    .use(authGuard(ctx))
    .get('/posters.pdf', async ({ query, set }) => {
      const list = await posterRooms(ctx, parseIds(query.ids))
      pdfHeaders(set, 'qrbook-posters.pdf')
      return new Response(await postersPdf(list), { headers: set.headers as Record<string, string> })
    }, {
      auth: 'admin',
      query: t.Object({ ids: t.Optional(t.Union([t.String({ maxLength: 10_000 }), t.Array(t.String({ maxLength: 100 }), { maxItems: 500 })], { description: 'room ids, comma-separated or repeated; all rooms when absent' })) }),
      detail: { summary: 'Door posters of several rooms (or all), one A4 page each', responses: binary('application/pdf', 'A4 PDF, one page per room') },
    })
    .get('/:id/poster.pdf', async ({ params, set }) => {
      const list = await posterRooms(ctx, [params.id])
      pdfHeaders(set, `qrbook-poster-${list[0]!.name.replace(/[^\w.-]+/g, '_')}.pdf`)
      return new Response(await postersPdf(list), { headers: set.headers as Record<string, string> })
    }, {
      auth: 'admin',
      params: RoomId,
      detail: { summary: "A room's door poster (A4 PDF): name, QR code of the scan URL, instructions in Russian and English", responses: binary('application/pdf', 'A4 PDF') },
    })
    .get('/:id/poster.svg', async ({ params, set }) => {
      const [room] = await posterRooms(ctx, [params.id])
      set.headers['content-type'] = 'image/svg+xml; charset=utf-8'
      set.headers['cache-control'] = 'no-store'
      return posterSvg(room!)
    }, {
      auth: 'admin',
      params: RoomId,
      detail: { summary: "A room's door poster as SVG", responses: binary('image/svg+xml', 'SVG, A4 proportions') },
    })
