/**
 * Importing a file again (issue 26, decision 028): the series an earlier import made for a row
 * (found by the row's slot, series.import_key) is brought to what the file says now, instead of a
 * second series being made beside it. Written with the import's transaction, its rooms and these
 * series locked, in a few statements for every changed series together: the new lessons inserted,
 * the changed ones updated (teacher, title, end), the ones the file no longer has cancelled, the
 * series rows updated; one series.updated change each. A series the file does not change is not
 * touched (no write, no change recorded): importing the same file twice changes nothing.
 */
import { sql } from 'drizzle-orm'
import type { Executor } from '../../../db/client'
import type { Reservation, Room } from '../../../db/schema'
import { rethrowReservationWriteError, type ActingUser, type ReservationDeps } from '../reservations/writes'
import { recordChanges } from '../../changes'
import { insertLessons } from './series'
import { WRITE_CREATE, WRITE_UPDATE, type ExistingSeries, type WritableRow } from './plan'

/** A changed row of the file with its room, its series as read under the lock, and fair use's word on its new lessons. */
export interface SeriesUpdate {
  row: WritableRow & { seriesId: number }
  room: Room
  before: ExistingSeries
  approval: 'pending' | null
}

/** The lessons of a row the writer is to create or update, as dates again. */
export function lessonsTo(row: WritableRow, action: number): { start: Date; end: Date; existingId: number }[] {
  const out: { start: Date; end: Date; existingId: number }[] = []
  for (let i = 0; i < row.actions.length; i++) {
    if (row.actions[i] === action) out.push({ start: new Date(row.lessons[2 * i]!), end: new Date(row.lessons[2 * i + 1]!), existingId: row.existingIds[i]! })
  }
  return out
}

/** Lessons of existing series to another teacher, title or end: one statement. */
async function updateLessons(tx: Executor, updates: SeriesUpdate[], now: Date): Promise<Map<number, number[]>> {
  const changed = updates.flatMap(({ row }) => lessonsTo(row, WRITE_UPDATE).map((l) => ({
    id: l.existingId, series_id: row.seriesId, user_id: row.owner.id, title: row.title, end_time: l.end.toISOString(),
  })))
  if (changed.length === 0) return new Map()
  try {
    await tx.execute(sql`
      update reservations r set user_id = u.user_id, title = u.title, end_time = u.end_time, updated_at = ${now.toISOString()}::timestamptz
      from json_to_recordset(${JSON.stringify(changed)}::json) as u(id int, user_id int, title text, end_time timestamptz)
      where r.id = u.id and r.status = 'active'`)
  } catch (error) {
    rethrowReservationWriteError(error)
  }
  return idsBySeries(changed)
}

/** The ids of lessons, by their series. */
function idsBySeries(rows: { id: number; series_id: number }[]): Map<number, number[]> {
  const map = new Map<number, number[]>()
  for (const r of rows) {
    const ids = map.get(r.series_id) ?? []
    map.set(r.series_id, ids)
    ids.push(r.id)
  }
  return map
}

/** The new lessons of existing series (an until moved later): one statement. */
async function insertNewLessons(tx: Executor, actor: ActingUser, updates: SeriesUpdate[], now: Date): Promise<Map<number, number[]>> {
  const wanted = updates.flatMap(({ row, room, approval }) => lessonsTo(row, WRITE_CREATE).map((l) => ({
    roomId: room.id, userId: row.owner.id, startTime: l.start, endTime: l.end, status: 'active' as const,
    // As writeSeries: lessons are released as no-shows only where the room says so for series.
    checkInRequired: room.requiresCheckIn && room.seriesRequireCheckIn,
    seriesId: row.seriesId, title: row.title, approval, setByOwner: row.owner.id === actor.id, createdAt: now, updatedAt: now,
  })))
  let inserted: Pick<Reservation, 'id' | 'seriesId'>[] = []
  try {
    inserted = await insertLessons(tx, wanted)
  } catch (error) {
    rethrowReservationWriteError(error)
  }
  return idsBySeries(inserted.map((r) => ({ id: r.id, series_id: r.seriesId! })))
}

/** The lessons the file no longer has: cancelled, one statement. */
async function cancelLessons(tx: Executor, updates: SeriesUpdate[], now: Date): Promise<void> {
  const ids = updates.flatMap(({ row }) => row.cancelIds)
  if (ids.length === 0) return
  await tx.execute(sql`
    update reservations set status = 'cancelled', cancelled_at = ${now.toISOString()}::timestamptz, updated_at = ${now.toISOString()}::timestamptz
    where id in (select json_array_elements_text(${JSON.stringify(ids)}::json)::int) and status = 'active'`)
}

/**
 * The series rows as the file has them now: teacher, title, rule (its UNTIL), the length of a lesson
 * (first_end), the start of the last lesson. A row whose lessons are all past keeps its rule and end.
 */
async function updateSeriesRows(tx: Executor, updates: SeriesUpdate[], now: Date): Promise<void> {
  const rows = updates.map(({ row }) => {
    const count = row.lessons.length / 2
    return {
      id: row.seriesId, user_id: row.owner.id, title: row.title, rrule: row.rule,
      length_ms: count ? row.lessons[1]! - row.lessons[0]! : null,
      until: count ? new Date(row.lessons[2 * (count - 1)]!).toISOString() : null,
    }
  })
  await tx.execute(sql`
    update series s set user_id = u.user_id, title = u.title, rrule = coalesce(u.rrule, s.rrule),
      first_end = case when u.length_ms is null then s.first_end else s.first_start + u.length_ms * interval '1 millisecond' end,
      until = coalesce(u.until, s.until), updated_at = ${now.toISOString()}::timestamptz
    from json_to_recordset(${JSON.stringify(rows)}::json) as u(id int, user_id int, title text, rrule text, length_ms float8, until timestamptz)
    where s.id = u.id`)
}

/** Writes the changes of the file's changed rows to the series earlier imports made for them. */
export async function updateImportedSeries(deps: ReservationDeps, tx: Executor, actor: ActingUser, updates: SeriesUpdate[]): Promise<void> {
  if (updates.length === 0) return
  const now = deps.clock.now()
  // Cancelled first: a slot the file gives up is free for a lesson it moves or adds.
  await cancelLessons(tx, updates, now)
  const updated = await updateLessons(tx, updates, now)
  const created = await insertNewLessons(tx, actor, updates, now)
  await updateSeriesRows(tx, updates, now)
  recordChanges(tx, updates.map(({ row, room, before }) => {
    const added = created.get(row.seriesId) ?? []
    const changed = updated.get(row.seriesId) ?? []
    return {
      at: now, actorId: actor.id, event: 'series.updated', rooms: [room.id], users: [...new Set([before.userId, row.owner.id])],
      description: `${actor.name} updated series #${row.seriesId} in ${room.name} from the timetable (line ${row.line}): `
        + `${added.length} bookings added, ${changed.length} changed, ${row.cancelIds.length} cancelled`,
      data: {
        series_id: row.seriesId, room_id: room.id, user_id: row.owner.id, import_key: row.key, title: row.title, rrule: row.rule ?? undefined,
        created: added, updated: changed, cancelled: row.cancelIds,
      },
    }
  }))
}
