/**
 * Settings an admin changes at run time (issue 26, decision 032): today the rooms' time zone.
 *
 * APP_TIMEZONE is the default; an admin's setting (the `settings` table) replaces it for every
 * instance. The zone lives where every rule reads it, `config.appTimezone`, so booking windows,
 * weeks, series, pages and translated messages follow it without knowing where it came from;
 * this module is the only one that changes it: at start (loadSettings), after this process's own
 * change (updateSettings), and when the change record says another instance changed settings
 * (followSettings, on the live feed's "every room" notices).
 */
import { eq } from 'drizzle-orm'
import type { Config } from '../../config'
import type { Database } from '../../db/client'
import { settings } from '../../db/schema'
import type { Clock } from '../../lib/clock'
import { BadRequest } from '../../lib/errors'
import { isTimeZone } from '../../lib/time'
import { recordChange, writeTransaction } from '../changes'

export const SETTINGS_MSG = {
  badTimezone: 'app_timezone must be an IANA time zone such as Europe/Moscow, or null for APP_TIMEZONE',
} as const

const APP_TIMEZONE = 'app_timezone'

interface SettingsDeps {
  config: Config
  database: Pick<Database, 'db'>
  clock: Clock
}

/** What APP_TIMEZONE said, kept when an admin's zone replaces it in config (by config object). */
const fromEnvironment = new WeakMap<Config, { zone: string; explicit: boolean }>()

function environmentZone(config: Config) {
  let found = fromEnvironment.get(config)
  if (!found) fromEnvironment.set(config, (found = { zone: config.appTimezone, explicit: config.appTimezoneExplicit }))
  return found
}

function apply(config: Config, adminZone: string | null): void {
  const env = environmentZone(config)
  config.appTimezone = adminZone ?? env.zone
  config.appTimezoneExplicit = adminZone !== null || env.explicit
}

async function storedZone(deps: Pick<SettingsDeps, 'database'>): Promise<string | null> {
  const [row] = await deps.database.db.select().from(settings).where(eq(settings.key, APP_TIMEZONE))
  // A zone this runtime does not know (stored by a newer one) is ignored rather than fatal.
  return row && isTimeZone(row.value) ? row.value : null
}

/** Reads the stored settings into config (at start, and whenever another instance may have changed them). */
export async function loadSettings(deps: SettingsDeps): Promise<void> {
  apply(deps.config, await storedZone(deps))
}

export interface SettingsView {
  app_timezone: string
  /** where app_timezone comes from: an admin's setting, APP_TIMEZONE, or the default (UTC) */
  app_timezone_source: 'admin' | 'environment' | 'default'
  /** what APP_TIMEZONE says (null: not set) */
  environment_timezone: string | null
}

/** GET /admin/settings. */
export async function readSettings(deps: SettingsDeps): Promise<SettingsView> {
  const stored = await storedZone(deps)
  apply(deps.config, stored)
  const env = environmentZone(deps.config)
  return {
    app_timezone: deps.config.appTimezone,
    app_timezone_source: stored !== null ? 'admin' : env.explicit ? 'environment' : 'default',
    environment_timezone: env.explicit ? env.zone : null,
  }
}

/**
 * PATCH /admin/settings: `app_timezone` an IANA zone, or null to go back to APP_TIMEZONE. One
 * change record (`settings.updated`, every room: their hours change), which every instance's feed
 * hears and reloads by.
 */
export async function updateSettings(deps: SettingsDeps, actor: { id: number; name: string }, body: { app_timezone: unknown }): Promise<SettingsView> {
  const zone = body.app_timezone
  if (zone !== null && !(isTimeZone(zone) && zone.length <= 60)) throw new BadRequest(SETTINGS_MSG.badTimezone)
  await writeTransaction(deps.database, async (tx) => {
    const [before] = await tx.select().from(settings).where(eq(settings.key, APP_TIMEZONE)).for('update')
    const from = (before?.value as string | undefined) ?? null
    if (from === zone) return
    if (zone === null) await tx.delete(settings).where(eq(settings.key, APP_TIMEZONE))
    else await tx.insert(settings).values({ key: APP_TIMEZONE, value: zone, updatedAt: deps.clock.now() })
      .onConflictDoUpdate({ target: settings.key, set: { value: zone, updatedAt: deps.clock.now() } })
    recordChange(tx, {
      at: deps.clock.now(), actorId: actor.id, event: 'settings.updated', rooms: 'all',
      description: `${actor.name} set the rooms' time zone to ${zone ?? `APP_TIMEZONE (${environmentZone(deps.config).zone})`}`,
      data: { app_timezone: { from, to: zone } },
    })
  })
  return readSettings(deps)
}

/**
 * Follows other instances' changes: reloads the settings on every "every room" notice of the live
 * feed (a settings change is one; so is the feed's own restart, after which anything may have
 * changed). Returns the unsubscribe.
 */
export function followSettings(deps: SettingsDeps & { log: { warn(message: string, fields?: Record<string, unknown>): void } }, onChange: (listener: (roomId: number | null) => void) => () => void): () => void {
  return onChange((roomId) => {
    if (roomId !== null) return
    loadSettings(deps).catch((error: Error) => deps.log.warn('could not reload the settings', { error: error.message }))
  })
}
