/** GET /display/:id: the door display page (root only, like the scan page) and its script. */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { NotFound } from '../../lib/errors'
import { DISPLAY_SCRIPT, renderDisplay } from './page'

export const display = (ctx: Ctx) =>
  new Elysia()
    .get('/display/assets/display.js', ({ set }) => {
      set.headers['content-type'] = 'text/javascript; charset=utf-8'
      set.headers['cache-control'] = 'public, max-age=300'
      return DISPLAY_SCRIPT
    }, { detail: { hide: true } })
    .get('/display/:id', async ({ params, set }) => {
      const [state] = await ctx.events.snapshot(params.id)
      if (!state) throw new NotFound('room not found')
      set.headers['content-type'] = 'text/html; charset=utf-8'
      set.headers['cache-control'] = 'no-store'
      return renderDisplay({
        state,
        timeZone: ctx.config.appTimezone,
        qrSvgUrl: `/static/qr/${state.room.id}.svg`,
        scanHint: 'Scan to book or check in · Сканируйте, чтобы забронировать или отметиться',
      })
    }, {
      params: t.Object({ id: t.Numeric({ minimum: 1, maximum: 2147483647 }) }),
      detail: { hide: true },
    })
