/**
 * The console's audit log (GET /console/audit): the change record (decision 027) in the audit
 * log's vocabulary (src/core/audit/vocabulary.ts, as GET /admin/audit/logs reports it), filtered by
 * who did it, a room it concerns, its event and a time range, newest first, a page at a time.
 *
 * Pages are keyset pages on the record's index (changes_at_idx: at, position): "older" continues
 * below the last row shown, "newer" above the first, so a page costs the same at any depth and
 * no count of the whole record is made.
 */
import { and, asc, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { changes, rooms, users } from '../../db/schema'
import { nameKey } from '../../lib/names'
import type { ChangeEvent } from '../changes/events'
import { auditFilter, reportedAudit } from '../audit/vocabulary'

const AUDIT_PAGE_SIZE = 50

export interface AuditQuery {
  /** the actor's name (matched as names are: case and lookalikes aside) */
  actor?: string
  roomId?: number
  event?: ChangeEvent
  /** [from, to) */
  from?: Date
  to?: Date
  /** a page older than the change at this position, or newer than it */
  before?: number
  after?: number
  limit?: number
}

interface AuditEntry {
  position: number
  at: Date
  event: ChangeEvent
  action: string
  actorId: number | null
  actorName: string | null
  rooms: { id: number; name: string }[]
  allRooms: boolean
  description: string
  data: Record<string, unknown>
}

export interface AuditPage {
  entries: AuditEntry[]
  /** a newer / an older page exists */
  newer: boolean
  older: boolean
  /** the actor named was not found (no rows then) */
  unknownActor: boolean
}

/** One page of the audit log, newest first. */
export async function auditLog(ctx: Ctx, query: AuditQuery): Promise<AuditPage> {
  const db = ctx.database.db
  const limit = Math.min(Math.max(query.limit ?? AUDIT_PAGE_SIZE, 1), 200)
  const where: (SQL | undefined)[] = [auditFilter([], query.event ? [query.event] : [])]
  if (query.actor !== undefined) {
    const [actor] = await db.select({ id: users.id }).from(users).where(eq(users.nameKey, nameKey(query.actor))).limit(1)
    if (!actor) return { entries: [], newer: false, older: false, unknownActor: true }
    where.push(eq(changes.actorId, actor.id))
  }
  if (query.roomId !== undefined) where.push(sql`${query.roomId}::int = any(${changes.roomIds})`)
  if (query.from) where.push(gte(changes.at, query.from))
  if (query.to) where.push(lt(changes.at, query.to))
  const cursor = query.before ?? query.after
  const forward = query.after !== undefined && query.before === undefined
  if (cursor !== undefined) {
    const at = sql`(select c.at, c.position from ${changes} c where c.position = ${cursor})`
    where.push(forward ? sql`(${changes.at}, ${changes.position}) > ${at}` : sql`(${changes.at}, ${changes.position}) < ${at}`)
  }
  const order = forward ? [asc(changes.at), asc(changes.position)] : [desc(changes.at), desc(changes.position)]
  const rows = await db.select({ change: changes, actorName: users.name }).from(changes)
    .leftJoin(users, eq(users.id, changes.actorId))
    .where(and(...where)).orderBy(...order).limit(limit + 1)
  const more = rows.length > limit
  const shown = rows.slice(0, limit)
  if (forward) shown.reverse()
  const roomIds = [...new Set(shown.flatMap((r) => r.change.roomIds))]
  const names = roomIds.length ? await db.select({ id: rooms.id, name: rooms.name }).from(rooms).where(inArray(rooms.id, roomIds)) : []
  const nameOf = new Map(names.map((r) => [r.id, r.name]))
  return {
    entries: shown.map(({ change, actorName }) => ({
      position: change.position,
      at: change.at,
      ...reportedAudit(change.event),
      actorId: change.actorId,
      actorName,
      // a room deleted since is shown by its id
      rooms: change.roomIds.map((id) => ({ id, name: nameOf.get(id) ?? `#${id}` })),
      allRooms: change.allRooms,
      description: change.description,
      data: change.data,
    })),
    newer: forward ? more : cursor !== undefined,
    older: forward ? true : more,
    unknownActor: false,
  }
}

/** Every room by name, for the room filter (a college has hundreds, not thousands). */
export function roomChoices(ctx: Ctx) {
  return ctx.database.db.select({ id: rooms.id, name: rooms.name }).from(rooms).orderBy(asc(rooms.name)).limit(2000)
}
