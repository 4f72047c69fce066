/** GET/PATCH /admin/settings: what an admin changes at run time (today the rooms' time zone; core/settings). */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'
import { readSettings, SETTINGS_MSG, updateSettings } from '../../core/settings/settings'

const Settings = t.Object({
  app_timezone: t.String({ description: 'the rooms\' time zone (IANA): times in answers and pages, booking windows, weeks, series' }),
  app_timezone_source: t.Union([t.Literal('admin'), t.Literal('environment'), t.Literal('default')], { description: "where app_timezone comes from: an admin's setting, APP_TIMEZONE, or the default UTC" }),
  environment_timezone: t.Union([t.String(), t.Null()], { description: 'what APP_TIMEZONE says (null: not set)' }),
}, { examples: [{ app_timezone: 'Europe/Moscow', app_timezone_source: 'admin', environment_timezone: null }] })

// The one setting there is, so it is required: a body without it (or not an object) is 400, not a silent no-op.
const SettingsBody = t.Object({
  app_timezone: t.Union([t.String({ maxLength: 60 }), t.Null()], {
    description: 'an IANA time zone such as Europe/Moscow; null goes back to APP_TIMEZONE',
    error: SETTINGS_MSG.badTimezone,
  }),
}, { examples: [{ app_timezone: 'Europe/Moscow' }] })

const detail = (summary: string) => ({ tags: ['Admin'], summary })

export const adminSettingsRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/settings', () => readSettings(ctx), {
      auth: 'admin',
      response: { 200: Settings },
      limit: perMinute('admin.settings.read', 60),
      detail: detail("The settings an admin changes at run time: the rooms' time zone"),
    })
    .patch('/settings', ({ body, user }) => updateSettings(ctx, user, body), {
      auth: 'admin',
      body: SettingsBody,
      response: { 200: Settings },
      limit: perMinute('admin.settings.update', 20),
      errors: { 400: [SETTINGS_MSG.badTimezone] },
      detail: detail("Set the rooms' time zone for every instance (null: back to APP_TIMEZONE); recorded as settings.updated"),
    })
