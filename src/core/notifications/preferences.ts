/**
 * Who wants which notice by which channel (issue 28): a row per (user, kind, channel) a user set;
 * without one, the kind's default (kinds.ts). E-mail also needs an address (users.email, only ever
 * a verified one) and SMTP_URL.
 */
import { eq, inArray, sql } from 'drizzle-orm'
import type { Deps } from '../../deps'
import type { Executor } from '../../db/client'
import { notificationPreferences, users } from '../../db/schema'
import { BadRequest } from '../../lib/errors'
import type { Lang } from '../../lib/i18n'
import { CHANNELS, enabledByDefault, isNoticeKind, NOTICE_KINDS, type Channel, type NoticeKind } from './kinds'

export const PREFERENCE_MSG = {
  kind: 'unknown notice kind',
  channel: 'unknown channel: in_app or email',
  nothing: 'nothing to update: send preferences and/or lang',
} as const

/** Per notice (in order): shown in the app, and the address to e-mail (null: none). */
export async function wantedChannels(tx: Executor, notices: { userId: number; kind: NoticeKind }[], options: { mail: boolean }): Promise<{ inApp: boolean; email: string | null }[]> {
  const userIds = [...new Set(notices.map((n) => n.userId))]
  const [prefs, addresses] = await Promise.all([
    tx.select().from(notificationPreferences).where(inArray(notificationPreferences.userId, userIds)),
    options.mail ? tx.select({ id: users.id, email: users.email }).from(users).where(inArray(users.id, userIds)) : [],
  ])
  const set = new Map(prefs.map((p) => [`${p.userId}:${p.kind}:${p.channel}`, p.enabled]))
  const email = new Map(addresses.map((a) => [a.id, a.email]))
  const wants = (n: { userId: number; kind: NoticeKind }, channel: Channel) => set.get(`${n.userId}:${n.kind}:${channel}`) ?? enabledByDefault(n.kind, channel)
  return notices.map((n) => ({ inApp: wants(n, 'in_app'), email: options.mail && wants(n, 'email') ? email.get(n.userId) ?? null : null }))
}

export interface PreferencesView {
  email: string | null
  lang: Lang | null
  /** false: SMTP_URL is not set, no e-mail goes out whatever is chosen */
  email_available: boolean
  preferences: { kind: NoticeKind; in_app: boolean; email: boolean }[]
}

export async function readPreferences(deps: Pick<Deps, 'database' | 'config'>, userId: number): Promise<PreferencesView> {
  const db = deps.database.db
  const [[user], rows] = await Promise.all([
    db.select({ email: users.email, lang: users.lang }).from(users).where(eq(users.id, userId)),
    db.select().from(notificationPreferences).where(eq(notificationPreferences.userId, userId)),
  ])
  const set = new Map(rows.map((p) => [`${p.kind}:${p.channel}`, p.enabled]))
  const wants = (kind: NoticeKind, channel: Channel) => set.get(`${kind}:${channel}`) ?? enabledByDefault(kind, channel)
  return {
    email: user?.email ?? null,
    lang: (user?.lang as Lang | null) ?? null,
    email_available: deps.config.smtpUrl !== undefined,
    preferences: NOTICE_KINDS.map((kind) => ({ kind, in_app: wants(kind, 'in_app'), email: wants(kind, 'email') })),
  }
}

export interface PreferenceChange { kind: string; channel: string; enabled: boolean }

/** Sets preferences (and the notices' language); the whole list after. */
export async function updatePreferences(
  deps: Pick<Deps, 'database' | 'config' | 'clock'>,
  userId: number,
  body: { preferences?: PreferenceChange[]; lang?: Lang | null },
): Promise<PreferencesView> {
  const changes = body.preferences ?? []
  if (body.preferences === undefined && body.lang === undefined) throw new BadRequest(PREFERENCE_MSG.nothing)
  for (const change of changes) {
    if (!isNoticeKind(change.kind)) throw new BadRequest(PREFERENCE_MSG.kind)
    if (!(CHANNELS as readonly string[]).includes(change.channel)) throw new BadRequest(PREFERENCE_MSG.channel)
  }
  const now = deps.clock.now()
  await deps.database.db.transaction(async (tx) => {
    if (changes.length > 0) {
      await tx.insert(notificationPreferences)
        .values(changes.map((c) => ({ userId, kind: c.kind, channel: c.channel, enabled: c.enabled, updatedAt: now })))
        .onConflictDoUpdate({
          target: [notificationPreferences.userId, notificationPreferences.kind, notificationPreferences.channel],
          set: { enabled: sql`excluded.enabled`, updatedAt: now },
        })
    }
    if (body.lang !== undefined) await tx.update(users).set({ lang: body.lang }).where(eq(users.id, userId))
  })
  return readPreferences(deps, userId)
}

/** Turns one kind's e-mail off (the List-Unsubscribe link). */
export async function unsubscribe(deps: Pick<Deps, 'database' | 'clock'>, userId: number, kind: NoticeKind): Promise<void> {
  const now = deps.clock.now()
  await deps.database.db.insert(notificationPreferences).values({ userId, kind, channel: 'email', enabled: false, updatedAt: now })
    .onConflictDoUpdate({ target: [notificationPreferences.userId, notificationPreferences.kind, notificationPreferences.channel], set: { enabled: false, updatedAt: now } })
}
