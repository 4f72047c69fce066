/**
 * The e-mail outbox (mail_deliveries, decision 034). A worker claims due rows in one statement
 * (FOR UPDATE SKIP LOCKED: two workers, on one instance or many, never claim the same row) with a
 * lease, sends them, and marks each sent or due again with back-off. A row whose worker died while
 * sending is claimed again once its lease has passed: at least once to the SMTP server, once per
 * notice (the row is unique per notice). Every time is the injected clock's.
 *
 * When a send succeeds after failures (the server is back), everything that failed meanwhile is
 * made due at once instead of waiting out its back-off.
 */
import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { rowsOf } from '../../db/client'
import { mailDeliveries, notifications, users } from '../../db/schema'
import { pickLanguage, type Lang } from '../../lib/i18n'
import { formatUtc } from '../../lib/time'
import { Conflict, NotFound } from '../../lib/errors'
import { buildMessage, type Mailer, type MailKind } from './mail'

/** Longer than the transport's timeouts add up to (mail.ts): a lease never ends while its send may still succeed. */
const LEASE_MS = 5 * 60_000
/**
 * A message the SMTP server refuses for good (a 5xx reply: no such mailbox, policy) is `failed`
 * after this many attempts, shown to admins (console overview, GET /admin/notifications/failed).
 * A server that cannot be reached or answers 4xx is a passing state: retried until it answers,
 * however long, so that everything queued goes out when it returns.
 */
const MAX_REFUSALS = 3

/** 2 s, 4 s, 8 s ... at most a minute: a returning server is used within a minute. */
const backoffMs = (attempts: number): number => Math.min(2000 * 2 ** Math.max(0, attempts - 1), 60_000)

const refusedForGood = (error: unknown): boolean => {
  const code = (error as { responseCode?: unknown }).responseCode
  return typeof code === 'number' && code >= 500
}

export interface OutboxDeps extends Pick<Deps, 'database' | 'clock' | 'config' | 'log'> {
  mailer: Mailer
  /** the booking as iCalendar (src/core/calendar) */
  icsFor(reservationId: number): Promise<string | null>
}

interface Claimed { id: number; notification_id: number; to: string; attempts: number }

/** Claims up to `limit` due deliveries and sends them (`parallel` at a time). How many were claimed. */
export async function deliverDueMail(deps: OutboxDeps, limit = 200, parallel = 8): Promise<number> {
  const now = deps.clock.now()
  const claimed = rowsOf<Claimed>(await deps.database.db.execute(sql`
    update ${mailDeliveries} set status = 'sending', lease_until = ${new Date(now.getTime() + LEASE_MS).toISOString()}::timestamptz, attempts = attempts + 1
    where id in (
      select id from ${mailDeliveries}
      where (status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz)
         or (status = 'sending' and lease_until < ${now.toISOString()}::timestamptz)
      order by id limit ${limit} for update skip locked)
    returning id, notification_id, "to", attempts`))
  if (claimed.length === 0) return 0
  const notices = await deps.database.db.select({
    id: notifications.id, userId: notifications.userId, kind: notifications.kind, data: notifications.data, lang: users.lang,
  }).from(notifications).innerJoin(users, eq(users.id, notifications.userId)).where(inArray(notifications.id, claimed.map((c) => c.notification_id)))
  const byId = new Map(notices.map((n) => [n.id, n]))

  const sent: number[] = []
  const failed: { row: Claimed; error: string; permanent: boolean }[] = []
  // Once the server cannot be reached, the rest of the round is not tried: put back as it was.
  const untried: Claimed[] = []
  let unreachable = false
  let next = 0
  async function lane() {
    while (next < claimed.length) {
      const row = claimed[next++]!
      if (unreachable) { untried.push(row); continue }
      const notice = byId.get(row.notification_id)
      if (!notice) { sent.push(row.id); continue } // the user (and the notice) is gone
      try {
        const reservationId = typeof notice.data.reservation_id === 'number' ? notice.data.reservation_id : null
        const lang: Lang = notice.lang === 'ru' || notice.lang === 'en' ? notice.lang : pickLanguage(null)
        await deps.mailer.send(buildMessage(deps.config, {
          notificationId: notice.id, userId: notice.userId, kind: notice.kind as MailKind, data: notice.data, to: row.to, lang,
          timeZone: deps.config.appTimezone, ics: reservationId === null ? null : await deps.icsFor(reservationId),
        }))
        sent.push(row.id)
      } catch (error) {
        const permanent = refusedForGood(error)
        if (!permanent && (error as { responseCode?: unknown }).responseCode === undefined) unreachable = true
        failed.push({ row, error: (error as Error).message ?? String(error), permanent })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, claimed.length) }, lane))

  const done = deps.clock.now()
  await deps.database.db.transaction(async (tx) => {
    if (sent.length > 0) {
      await tx.update(mailDeliveries).set({ status: 'sent', sentAt: done, leaseUntil: null, lastError: null }).where(inArray(mailDeliveries.id, sent))
      // A verification link is not kept once it has gone out.
      await tx.execute(sql`update ${notifications} set data = data - 'link' where kind = 'email_verification' and id in (select notification_id from ${mailDeliveries} where id in ${sql.raw(`(${sent.join(',')})`)})`)
      // The server answers again: what failed meanwhile goes now.
      await tx.update(mailDeliveries).set({ nextAttemptAt: done }).where(and(eq(mailDeliveries.status, 'pending'), sql`${mailDeliveries.attempts} > 0`, sql`${mailDeliveries.nextAttemptAt} > ${done.toISOString()}::timestamptz`))
    }
    const retryAt = new Date(done.getTime() + backoffMs(Math.max(1, ...failed.map((f) => f.row.attempts))))
    if (untried.length > 0) {
      await tx.update(mailDeliveries).set({ status: 'pending', leaseUntil: null, attempts: sql`${mailDeliveries.attempts} - 1`, nextAttemptAt: retryAt, lastError: `not tried: ${failed[0]?.error ?? 'the SMTP server could not be reached'}`.slice(0, 500) })
        .where(inArray(mailDeliveries.id, untried.map((r) => r.id)))
    }
    for (const { row, error, permanent } of failed) {
      const giveUp = permanent && row.attempts >= MAX_REFUSALS
      await tx.update(mailDeliveries).set({
        status: giveUp ? 'failed' : 'pending', leaseUntil: null, lastError: error.slice(0, 500),
        nextAttemptAt: new Date(done.getTime() + backoffMs(row.attempts)),
      }).where(eq(mailDeliveries.id, row.id))
    }
  })
  if (failed.length > 0) deps.log.warn('e-mail notices not delivered; retrying with back-off', { failed: failed.length, error: failed[0]!.error })
  return claimed.length
}

/** Deliveries that gave up, for admins. */
export async function failedMailCount(deps: Pick<Deps, 'database'>): Promise<number> {
  const [row] = await deps.database.db.select({ n: sql<number>`count(*)::int` }).from(mailDeliveries).where(eq(mailDeliveries.status, 'failed'))
  return row?.n ?? 0
}

/** The deliveries that gave up or wait to be tried again after a failure, newest first (admins). */
export async function listFailedMail(deps: Pick<Deps, 'database'>, query: { limit?: number }) {
  const db = deps.database.db
  const troubled = sql`(${mailDeliveries.status} = 'failed' or (${mailDeliveries.status} = 'pending' and ${mailDeliveries.lastError} is not null))`
  const [rows, [counts]] = await Promise.all([
    db.select({
      id: mailDeliveries.id, notification_id: mailDeliveries.notificationId, user_id: notifications.userId, kind: notifications.kind, to: mailDeliveries.to,
      status: mailDeliveries.status, attempts: mailDeliveries.attempts, last_error: mailDeliveries.lastError, next: mailDeliveries.nextAttemptAt, created: mailDeliveries.createdAt,
    }).from(mailDeliveries).innerJoin(notifications, eq(notifications.id, mailDeliveries.notificationId))
      .where(troubled).orderBy(desc(mailDeliveries.id)).limit(query.limit ?? 100),
    db.select({
      failed: sql<number>`count(*) filter (where ${mailDeliveries.status} = 'failed')::int`,
      retrying: sql<number>`count(*) filter (where ${mailDeliveries.status} = 'pending')::int`,
    }).from(mailDeliveries).where(troubled),
  ])
  return {
    // kind: the notice's (NoticeKind) or a confirmation link's: every kind a mail_deliveries row is queued for
    deliveries: rows.map(({ next, created, kind, ...r }) => ({ ...r, kind: kind as MailKind, next_attempt_at: formatUtc(next), created_at: formatUtc(created) })),
    failed: counts?.failed ?? 0,
    retrying: counts?.retrying ?? 0,
  }
}

export const OUTBOX_MSG = { notFailed: 'only a failed e-mail notice can be sent again' } as const

/** A failed delivery made due now (its attempts start again); 404 for none, 409 for one that has not failed. */
export async function retryMail(deps: Pick<Deps, 'database' | 'clock'>, id: number): Promise<true> {
  const changed = await deps.database.db.update(mailDeliveries).set({ status: 'pending', attempts: 0, nextAttemptAt: deps.clock.now() })
    .where(and(eq(mailDeliveries.id, id), eq(mailDeliveries.status, 'failed'))).returning({ id: mailDeliveries.id })
  if (changed.length > 0) return true
  const [exists] = await deps.database.db.select({ id: mailDeliveries.id }).from(mailDeliveries).where(eq(mailDeliveries.id, id))
  throw exists ? new Conflict(OUTBOX_MSG.notFailed) : new NotFound('not found')
}
