/**
 * A user's in-app notices (GET /api/me/notifications): newest first, with their text in the
 * reader's language and the rooms' zone, the unread count, and marking read.
 */
import { and, count, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm'
import type { Deps } from '../../deps'
import { notifications } from '../../db/schema'
import { BadRequest } from '../../lib/errors'
import type { Lang } from '../../lib/i18n'
import { formatUtc } from '../../lib/time'
import { isNoticeKind, type NoticeKind } from './kinds'
import { noticeText } from './text'

interface NoticeView {
  id: number
  kind: NoticeKind
  title: string
  body: string
  data: Record<string, unknown>
  created_at: string
  read_at: string | null
}

const PAGE = 50

export const INBOX_MSG = { nothingToMark: 'send ids (the notices to mark read) or all: true' } as const

export async function listNotices(deps: Pick<Deps, 'database' | 'config'>, userId: number, lang: Lang, query: { unread?: boolean; before?: number; limit?: number }) {
  const db = deps.database.db
  const mine = and(eq(notifications.userId, userId), eq(notifications.inApp, true))
  const limit = Math.min(Math.max(query.limit ?? PAGE, 1), 200)
  const [rows, [unread]] = await Promise.all([
    db.select().from(notifications)
      .where(and(mine, query.unread ? isNull(notifications.readAt) : undefined, query.before ? lt(notifications.id, query.before) : undefined))
      .orderBy(desc(notifications.id)).limit(limit),
    db.select({ n: count() }).from(notifications).where(and(mine, isNull(notifications.readAt))),
  ])
  const notices: NoticeView[] = rows.filter((r) => isNoticeKind(r.kind)).map((r) => {
    const text = noticeText(r.kind as NoticeKind, r.data, lang, deps.config.appTimezone)
    return {
      id: r.id, kind: r.kind as NoticeKind, title: text.title, body: text.lines.join('\n'), data: r.data,
      created_at: formatUtc(r.createdAt), read_at: r.readAt ? formatUtc(r.readAt) : null,
    }
  })
  return { notifications: notices, unread: unread?.n ?? 0, next_before: rows.length === limit ? rows[rows.length - 1]!.id : null }
}

/** Marks the given notices (or all) read; the unread count after. */
export async function markRead(deps: Pick<Deps, 'database' | 'clock'>, userId: number, body: { ids?: number[]; all?: boolean }): Promise<{ unread: number }> {
  if (body.all !== true && !(body.ids && body.ids.length > 0)) throw new BadRequest(INBOX_MSG.nothingToMark)
  const db = deps.database.db
  const which = body.all ? undefined : inArray(notifications.id, body.ids ?? [])
  if (body.all || (body.ids?.length ?? 0) > 0) {
    await db.update(notifications).set({ readAt: deps.clock.now() })
      .where(and(eq(notifications.userId, userId), isNull(notifications.readAt), which))
  }
  return { unread: await unreadCount(deps, userId) }
}

/** How many of the user's in-app notices are unread. */
export async function unreadCount(deps: Pick<Deps, 'database'>, userId: number): Promise<number> {
  const [row] = await deps.database.db.select({ n: sql<number>`count(*)::int` }).from(notifications)
    .where(and(eq(notifications.userId, userId), eq(notifications.inApp, true), isNull(notifications.readAt)))
  return row?.n ?? 0
}
