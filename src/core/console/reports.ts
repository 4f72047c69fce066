/**
 * The console's reports (GET /console/reports and its downloads): room utilisation, no-shows and the
 * busiest hours over a range of whole weeks (Monday 00:00 to Monday 00:00 in the rooms' zone).
 *
 * Definitions (the page repeats them for its reader):
 * - Open hours of a room: its daily booking window on every day of the week (a side left open is
 *   midnight; an end at or before the start runs past midnight); a room without a window is open
 *   08:00-20:00 Monday to Friday (DEFAULT_OPEN). Closures covering the room (all rooms or it) are
 *   taken off its open hours.
 * - Booked hours: the time of active and finished bookings (pending approvals included: they hold
 *   the room; cancelled, rejected and released no-shows are not) that lies within the open hours,
 *   split into lessons (occurrences of a series) and student bookings (the rest). Utilisation is
 *   booked over open hours. Time booked outside the open hours (a room without a window booked at
 *   night, an admin's override) is not in the utilisation, but it is in the heatmap.
 * - No-show rate: released no-shows over the bookings that required a check-in, were not
 *   cancelled and have started, by the week they started in.
 * - Heatmap: booked room-hours (all of them, open or not) by local weekday and hour.
 * - Building: rooms have no building field; a room's building is its name's prefix up to the first
 *   digit or space ("B101" and "B 12" are in "B"); a name that starts with a digit has none ("—").
 * Hours are wall-clock hours in the rooms' zone.
 *
 * Cost: one scan of the range's bookings (at most MAX_REPORT_WEEKS weeks), aggregated in SQL by
 * room and week and by weekday and time of day (GROUPING SETS); the few bookings that cross
 * midnight are cut into days here, and open hours are computed here from the rooms' windows and
 * the range's closures. Hours are wall-clock seconds of the rooms' zone (a DST change day counts
 * its wall-clock hours).
 * Measured on the bench's dataset (200 rooms, 100,000 bookings, ~25,000 in the default five weeks)
 * on a busy two-core machine: about 45 ms of PostgreSQL CPU for the query, 50-65 ms for the whole
 * function; 13 weeks about 80-100 ms, 26 weeks about 100-130 ms: the cost is the per-row work on
 * the range's bookings, not finding them.
 * So the page does not scan every week each time (cachedRoomReport, incrementalRoomReport at the
 * end): each local day's findings are kept in memory, per room; after changes the live feed heard,
 * only the rooms they named are scanned again, and every minute (or when the feed cannot vouch for
 * what it heard) a cheaper fingerprint of every day's bookings (one query over the range: count and
 * xmin per day) shows which days to scan again; the days' figures add up to exactly roomReport's.
 */
import { and, asc, gt, lt, type SQL } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { rowsOf, sql } from '../../db/client'
import { closures, rooms } from '../../db/schema'
import { localParts, secondsOfDay, utcMidnight, zonedToUtc } from '../../lib/time'

export const MAX_REPORT_WEEKS = 26
/** Open hours of a room without a daily window: 08:00-20:00 on weekdays. */
export const DEFAULT_OPEN = { start: 8 * 3600, end: 20 * 3600, weekdays: 5 } as const

const DAY_MS = 86_400_000
const WEEK_MS = 7 * DAY_MS

/** A week of the report: its Monday as "YYYY-MM-DD" (local), and its instants [start, end). */
interface ReportWeek { key: string; start: Date; end: Date; wall: number }
export interface ReportRange { weeks: ReportWeek[]; start: Date; end: Date }

/** Hours: open, and booked within them (lessons, student bookings). */
export interface Usage { open: number; lessons: number; bookings: number }
interface RoomUsage { id: number; name: string; building: string; window: string | null; weeks: Usage[] }
interface BuildingUsage { name: string; rooms: number; weeks: Usage[] }
export interface NoShows { required: number; released: number }
interface RoomNoShows { id: number; name: string; building: string; weeks: NoShows[] }

export interface Report {
  range: ReportRange
  rooms: RoomUsage[]
  buildings: BuildingUsage[]
  /** every room together, per week */
  totals: Usage[]
  /** rooms with at least one booking that required a check-in in the range */
  noShows: RoomNoShows[]
  noShowTotals: NoShows[]
  /** booked room-hours, [ISO weekday - 1][hour] */
  heatmap: number[][]
}

const two = (n: number) => String(n).padStart(2, '0')
/** "YYYY-MM-DD" of a wall-clock instant (local time written as if it were UTC). */
const wallDate = (wall: number) => {
  const d = new Date(wall)
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`
}

/** The local wall-clock time of an instant, as milliseconds of a UTC clock showing it. */
function wallOf(date: Date, timeZone: string): number {
  const p = localParts(date, timeZone)
  return utcMidnight(p.year, p.month, p.day) + ((p.hour * 60 + p.minute) * 60 + p.second) * 1000 + (date.getTime() % 1000 + 1000) % 1000
}

/** The Monday 00:00 (wall clock) of the local week of a local date. */
function mondayOf(year: number, month: number, day: number): number {
  const midnight = utcMidnight(year, month, day)
  const isoDay = (new Date(midnight).getUTCDay() + 6) % 7
  return midnight - isoDay * DAY_MS
}

/** A building as the report groups rooms: the name up to the first digit or space. */
export function buildingOf(name: string): string {
  const prefix = /^[^\d\s]*/.exec(name.trim())?.[0]?.replace(/[-_.,/]+$/, '') ?? ''
  return prefix || '—'
}

/**
 * The weeks from the one holding `from` to the one holding `to` (local dates "YYYY-MM-DD"), or by
 * default the last four full weeks and the current one. Null when a date is not a date, `to` is
 * before `from` or the range is longer than MAX_REPORT_WEEKS (the caller says so to its reader).
 */
export function reportRange(now: Date, timeZone: string, from?: string, to?: string): ReportRange | null {
  const today = localParts(now, timeZone)
  const current = mondayOf(today.year, today.month, today.day)
  const parse = (value: string | undefined, fallback: number): number | null => {
    if (value === undefined || value.trim() === '') return fallback
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim())
    if (!m) return null
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
    const date = new Date(utcMidnight(y, mo, d))
    if (y < 2000 || y > 2200 || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null
    return mondayOf(y, mo, d)
  }
  const first = parse(from, current - 4 * WEEK_MS)
  const last = parse(to, current)
  if (first === null || last === null || last < first) return null
  const count = Math.round((last - first) / WEEK_MS) + 1
  if (count > MAX_REPORT_WEEKS) return null
  const weeks: ReportWeek[] = []
  const instant = (wall: number) => {
    const d = new Date(wall)
    return zonedToUtc(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, timeZone)
  }
  for (let i = 0; i < count; i++) {
    const wall = first + i * WEEK_MS
    weeks.push({ key: wallDate(wall), wall, start: instant(wall), end: instant(wall + WEEK_MS) })
  }
  return { weeks, start: weeks[0]!.start, end: weeks[weeks.length - 1]!.end }
}

/** A room's open stretches of one local day, in seconds after midnight (its window's bounds in seconds, null: open on that side). */
function openSpans(ws: number | null, we: number | null, isoDay: number): [number, number][] {
  if (ws === null && we === null) return isoDay <= DEFAULT_OPEN.weekdays ? [[DEFAULT_OPEN.start, DEFAULT_OPEN.end]] : []
  const s = ws ?? 0
  const e = we ?? 86400
  if (e > s) return [[s, e]]
  return [[0, e], [s, 86400]].filter(([a, b]) => b! > a!) as [number, number][]
}

/** Open seconds of a window over a week (wall clock), less the closures' stretches (wall clock, merged). */
function openSeconds(window: { start: string | null; end: string | null }, week: number, closed: [number, number][]): number {
  let total = 0
  const ws = window.start === null ? null : secondsOfDay(window.start)
  const we = window.end === null ? null : secondsOfDay(window.end)
  for (let day = 0; day < 7; day++) {
    const midnight = week + day * DAY_MS
    for (const [s, e] of openSpans(ws, we, day + 1)) {
      const a = midnight + s * 1000
      const b = midnight + e * 1000
      let open = b - a
      for (const [cs, ce] of closed) open -= Math.max(0, Math.min(b, ce) - Math.max(a, cs))
      total += open / 1000
    }
  }
  return total
}

function merge(spans: [number, number][]): [number, number][] {
  const sorted = [...spans].sort((x, y) => x[0] - y[0])
  const out: [number, number][] = []
  for (const [s, e] of sorted) {
    const last = out[out.length - 1]
    if (last && s <= last[1]) last[1] = Math.max(last[1], e)
    else out.push([s, e])
  }
  return out
}

const hours = (seconds: number) => Math.round((seconds / 3600) * 100) / 100
const emptyUsage = (): Usage => ({ open: 0, lessons: 0, bookings: 0 })
const addUsage = (to: Usage, u: Usage) => { to.open += u.open; to.lessons += u.lessons; to.bookings += u.bookings }
const roundUsage = (u: Usage): Usage => ({ open: Math.round(u.open * 100) / 100, lessons: Math.round(u.lessons * 100) / 100, bookings: Math.round(u.bookings * 100) / 100 })

/** Utilisation (0..1) of a usage, or null without open hours. */
export function utilisation(u: Usage): number | null {
  return u.open > 0 ? (u.lessons + u.bookings) / u.open : null
}
export function noShowRate(n: NoShows): number | null {
  return n.required > 0 ? n.released / n.required : null
}

/** The zone's offset from UTC (seconds) over the range: each until the next one's start (the last: till the end). */
function zoneOffsets(span: { start: Date; end: Date }, timeZone: string): { offset: number; until?: Date }[] {
  const offsetAt = (ms: number) => Math.round((wallOf(new Date(ms), timeZone) - ms) / 1000)
  const from = span.start.getTime() - DAY_MS
  const to = span.end.getTime() + DAY_MS
  const out: { offset: number; until?: Date }[] = [{ offset: offsetAt(from) }]
  for (let t = from; t < to; t += DAY_MS) {
    const next = Math.min(t + DAY_MS, to)
    if (offsetAt(next) === out[out.length - 1]!.offset) continue
    // the change lies in (t, next]: to the minute
    let lo = t
    let hi = next
    while (hi - lo > 60_000) {
      const mid = lo + Math.max(60_000, Math.floor((hi - lo) / 120_000) * 60_000)
      if (offsetAt(mid) === out[out.length - 1]!.offset) lo = mid
      else hi = mid
    }
    out[out.length - 1]!.until = new Date(hi)
    out.push({ offset: offsetAt(hi) })
  }
  return out
}

/** SQL: the seconds of [ps, pe) (seconds after local midnight, on ISO weekday dow) within a room's open stretches (as openSpans). */
function openSql(ps: SQL, pe: SQL, dow: SQL, ws: SQL, we: SQL): SQL {
  return sql`case
    when ${ws} is null and ${we} is null then
      case when ${dow} <= ${DEFAULT_OPEN.weekdays} then greatest(0, least(${pe}, ${DEFAULT_OPEN.end}) - greatest(${ps}, ${DEFAULT_OPEN.start})) else 0 end
    when coalesce(${we}, 86400) > coalesce(${ws}, 0) then greatest(0, least(${pe}, coalesce(${we}, 86400)) - greatest(${ps}, coalesce(${ws}, 0)))
    else greatest(0, least(${pe}, ${we}) - ${ps}) + greatest(0, ${pe} - greatest(${ps}, ${ws}))
  end`
}

/** The same in JS, for the few bookings that cross midnight. */
function openWithin(ps: number, pe: number, dow: number, ws: number | null, we: number | null): number {
  let total = 0
  for (const [a, b] of openSpans(ws, we, dow)) total += Math.max(0, Math.min(pe, b) - Math.max(ps, a))
  return total
}

/** One row of the report's query: a group of one-day pieces, or a booking that crosses midnight. */
interface ReportRow {
  room_id: number | null; week: number | null; lesson: boolean | null
  dow: number | null; ps: number | null; pe: number | null
  n: number | string | null; open_s: number | string | null; required: number | string | null; released: number | string | null
  s: number | string | null; e: number | string | null; ws: number | null; we: number | null; held: boolean | null; counted: boolean | null; is_released: boolean | null
}

/**
 * What one scan found in one stretch of days (a week of the range, or a local day), before the
 * rooms' names, open hours and rounding: per room, the booked seconds within its open hours
 * (lessons, student bookings), its no-show counts, and its booked seconds by local weekday and
 * hour (the heatmap). All whole seconds and counts, so parts added up in any order give exactly
 * the sums of one scan over them all; and everything is by room, so that a room's figures can be
 * taken out of a part and those of a scan of that room alone put in (rescanRooms).
 */
interface Part {
  booked: Map<number, { lessons: number; bookings: number }>
  noShows: Map<number, NoShows>
  /** per room: seconds by (ISO weekday - 1) * 24 + hour, only the hours it was booked in */
  heat: Map<number, Map<number, number>>
}
const emptyPart = (): Part => ({ booked: new Map(), noShows: new Map(), heat: new Map() })

/** Takes the rooms' figures out of a part. */
function withoutRooms(part: Part, roomIds: ReadonlySet<number>): void {
  for (const id of roomIds) {
    part.booked.delete(id)
    part.noShows.delete(id)
    part.heat.delete(id)
  }
}

/** Adds a part's figures to another's (in place). */
function addPart(to: Part, from: Part): void {
  for (const [id, b] of from.booked) {
    const entry = to.booked.get(id)
    if (entry) { entry.lessons += b.lessons; entry.bookings += b.bookings } else to.booked.set(id, { ...b })
  }
  for (const [id, n] of from.noShows) {
    const entry = to.noShows.get(id)
    if (entry) { entry.required += n.required; entry.released += n.released } else to.noShows.set(id, { ...n })
  }
  for (const [id, hours] of from.heat) {
    let entry = to.heat.get(id)
    if (!entry) to.heat.set(id, (entry = new Map()))
    for (const [slot, seconds] of hours) entry.set(slot, (entry.get(slot) ?? 0) + seconds)
  }
}

/**
 * The report's query over [start, end), its findings by bucket: `unit` local days (7: weeks, 1:
 * days) from the local day `firstDay` (days since the epoch, wall clock) on; a bucket at or past
 * the end holds what lies past it (local days after `end`: only where the zone skips the midnight
 * it ends at; counted in the heatmap). `since`: no booking overlapping [start, end) starts before
 * it (the fingerprint's minimum), which lets PostgreSQL find them by an index on start_time
 * instead of reading the whole table. `roomIds`: only these rooms' bookings (found by the index on
 * room and start).
 */
async function scanSpan(ctx: Ctx, span: { start: Date; end: Date; firstDay: number }, unit: 1 | 7, now: Date, only: { since?: Date; roomIds?: number[] } = {}): Promise<Map<number, Part>> {
  const { since, roomIds } = only
  const db = ctx.database.db
  const timeZone = ctx.config.appTimezone
  const start = sql`${span.start.toISOString()}::timestamptz`
  const end = sql`${span.end.toISOString()}::timestamptz`
  const firstDay = span.firstDay
  // local wall-clock epoch seconds of an instant: its epoch plus the zone's offset, which changes
  // only at the span's DST transitions (found here: cheaper than AT TIME ZONE on every row)
  const offsets = zoneOffsets(span, timeZone)
  const local = (instant: SQL): SQL => {
    const epoch = sql`date_part('epoch', ${instant})::bigint`
    if (offsets.length === 1) return sql`(${epoch} + ${offsets[0]!.offset}::int)`
    const cases = offsets.slice(0, -1).map((o) => sql`when ${instant} < ${o.until!.toISOString()}::timestamptz then ${o.offset}::int`)
    return sql`(${epoch} + case ${sql.join(cases, sql` `)} else ${offsets[offsets.length - 1]!.offset}::int end)`
  }
  // One scan of the span's bookings (not cancelled), each as local wall-clock seconds (epoch of
  // the local time). A booking within one local day (nearly all) is summed here: by room, bucket
  // and lesson-or-not (its time within the room's open hours; its no-show counts), and by room,
  // bucket, weekday and start and end of day (the heatmap, cut into hours by the caller). Those that cross
  // midnight come back as they are, to be cut into days by the caller (a set-returning function
  // per row would cost more than the whole query, and mislead the planner).
  const result = await db.execute(sql`
    with b as (
      select r.room_id, r.series_id is not null as lesson, r.status <> 'released' as held, r.status = 'released' as is_released,
             r.check_in_required and r.start_time >= ${start} and r.start_time < ${now.toISOString()}::timestamptz as counted,
             ${local(sql`greatest(r.start_time, ${start})`)} as s,
             ${local(sql`least(r.end_time, ${end})`)} as e,
             date_part('epoch', m.booking_start)::int as ws, date_part('epoch', m.booking_end)::int as we
      from reservations r join rooms m on m.id = r.room_id
      where r.start_time < ${end} and r.end_time > ${start} and r.status in ('active', 'finished', 'released')
        ${since ? sql`and r.start_time >= ${since.toISOString()}::timestamptz` : sql``}
        ${roomIds ? sql`and r.room_id = any(${`{${roomIds.join(',')}}`}::int[])` : sql``}
    ), p as (
      select room_id, lesson, held, is_released, counted, ws, we,
             ((s / 86400 + 3) % 7 + 1)::int as dow, ((s / 86400 - ${firstDay}) / ${unit === 7 ? sql`7` : sql`1`})::int as week,
             (s % 86400)::int as ps, (e - s / 86400 * 86400)::int as pe
      from b where e <= s / 86400 * 86400 + 86400
    )
    select room_id, week, lesson, dow, ps, pe,
           count(*) filter (where held) as n,
           sum(${openSql(sql`ps`, sql`pe`, sql`dow`, sql`ws`, sql`we`)}) filter (where held) as open_s,
           count(*) filter (where counted) as required, count(*) filter (where counted and is_released) as released,
           null::bigint as s, null::bigint as e, null::int as ws, null::int as we, null::boolean as held, null::boolean as counted, null::boolean as is_released
    from p
    group by grouping sets ((room_id, week, lesson), (room_id, week, dow, ps, pe))
    union all
    select room_id, null, lesson, null, null, null, null, null, null, null, s, e, ws, we, held, counted, is_released
    from b where e > s / 86400 * 86400 + 86400`)

  const parts = new Map<number, Part>()
  const partOf = (bucket: number) => {
    let part = parts.get(bucket)
    if (!part) parts.set(bucket, (part = emptyPart()))
    return part
  }
  /** [ps, pe) of a weekday in a room, n times, cut into its hours */
  const addHeat = (part: Part, roomId: number, dow: number, ps: number, pe: number, n: number) => {
    let hours = part.heat.get(roomId)
    if (!hours) part.heat.set(roomId, (hours = new Map()))
    for (let h = Math.floor(ps / 3600); h * 3600 < pe && h < 24; h++) {
      const slot = (dow - 1) * 24 + h
      hours.set(slot, (hours.get(slot) ?? 0) + n * (Math.min(pe, (h + 1) * 3600) - Math.max(ps, h * 3600)))
    }
  }
  const addNoShows = (part: Part, roomId: number, required: number, released: number) => {
    if (required === 0) return
    const entry = part.noShows.get(roomId)
    if (entry) { entry.required += required; entry.released += released } else part.noShows.set(roomId, { required, released })
  }
  const addBooked = (part: Part, roomId: number, lesson: boolean, seconds: number) => {
    let entry = part.booked.get(roomId)
    if (!entry) part.booked.set(roomId, (entry = { lessons: 0, bookings: 0 }))
    if (lesson) entry.lessons += seconds
    else entry.bookings += seconds
  }
  for (const row of rowsOf<ReportRow>(result)) {
    if (row.s !== null && row.e !== null && row.room_id !== null) {
      // a booking across midnight: each local day apart
      const s = Number(row.s)
      const e = Number(row.e)
      const first = Math.floor(s / 86400)
      if (row.counted) addNoShows(partOf(Math.floor((first - firstDay) / unit)), row.room_id, 1, row.is_released ? 1 : 0)
      if (!row.held) continue
      for (let day = first; day * 86400 < e; day++) {
        const ps = Math.max(s - day * 86400, 0)
        const pe = Math.min(e - day * 86400, 86400)
        const dow = ((day + 3) % 7) + 1
        const part = partOf(Math.floor((day - firstDay) / unit))
        addBooked(part, row.room_id, Boolean(row.lesson), openWithin(ps, pe, dow, row.ws, row.we))
        addHeat(part, row.room_id, dow, ps, pe, 1)
      }
    } else if (row.room_id !== null && row.week !== null && row.dow === null) {
      const part = partOf(row.week)
      addBooked(part, row.room_id, Boolean(row.lesson), Number(row.open_s ?? 0))
      addNoShows(part, row.room_id, Number(row.required ?? 0), Number(row.released ?? 0))
    } else if (row.room_id !== null && row.week !== null && row.dow !== null && row.ps !== null && row.pe !== null && Number(row.n) > 0) {
      addHeat(partOf(row.week), row.room_id, row.dow, row.ps, row.pe, Number(row.n))
    }
  }
  return parts
}

interface RoomRow { id: number; name: string; start: string | null; end: string | null }
interface ClosureRow { allRooms: boolean; roomIds: number[] | null; start: Date; end: Date }

function roomsOf(ctx: Ctx): Promise<RoomRow[]> {
  return ctx.database.db.select({ id: rooms.id, name: rooms.name, start: rooms.bookingStart, end: rooms.bookingEnd }).from(rooms).orderBy(asc(rooms.name))
}
function closuresOf(ctx: Ctx, range: ReportRange): Promise<ClosureRow[]> {
  return ctx.database.db.select({ allRooms: closures.allRooms, roomIds: closures.roomIds, start: closures.startTime, end: closures.endTime })
    .from(closures).where(and(lt(closures.startTime, range.end), gt(closures.endTime, range.start)))
}

/**
 * The report from the scans' parts, each with the week of the range it falls in (one past the
 * range's end, or any other outside it: in the heatmap only, as one scan of the range counts
 * it), the rooms (their names and windows) and the range's closures (open hours).
 */
function assemble(range: ReportRange, timeZone: string, roomList: RoomRow[], closureList: ClosureRow[], parts: [week: number, part: Part][]): Report {
  const closed = closureList.map((c) => ({ allRooms: c.allRooms, roomIds: new Set(c.roomIds ?? []), span: [wallOf(c.start, timeZone), wallOf(c.end, timeZone)] as [number, number] }))
  const openCache = new Map<string, number[]>()
  const roomUsage = new Map<number, RoomUsage>()
  const report: RoomUsage[] = roomList.map((room) => {
    const mine = closed.filter((c) => c.allRooms || c.roomIds.has(room.id))
    const key = `${room.start}|${room.end}|${mine.map((c) => c.span.join('-')).join(',')}`
    let open = openCache.get(key)
    if (!open) {
      const spans = merge(mine.map((c) => [...c.span] as [number, number]))
      openCache.set(key, (open = range.weeks.map((w) => openSeconds({ start: room.start, end: room.end }, w.wall, spans))))
    }
    const usage: RoomUsage = {
      id: room.id, name: room.name, building: buildingOf(room.name),
      window: room.start === null && room.end === null ? null : `${(room.start ?? '00:00').slice(0, 5)}–${(room.end ?? '24:00').slice(0, 5)}`,
      weeks: open.map((o) => ({ open: o, lessons: 0, bookings: 0 })),
    }
    roomUsage.set(room.id, usage)
    return usage
  })
  const heat = Array<number>(7 * 24).fill(0)
  const noShowRooms = new Map<number, RoomNoShows>()
  const noShowTotals = range.weeks.map((): NoShows => ({ required: 0, released: 0 }))
  for (const [week, part] of parts) {
    for (const hours of part.heat.values()) for (const [slot, seconds] of hours) heat[slot]! += seconds
    for (const [roomId, b] of part.booked) {
      const usage = roomUsage.get(roomId)?.weeks[week]
      if (!usage) continue
      usage.lessons += b.lessons
      usage.bookings += b.bookings
    }
    for (const [roomId, n] of part.noShows) {
      const room = roomUsage.get(roomId)
      if (!room || !noShowTotals[week] || n.required === 0) continue
      let entry = noShowRooms.get(roomId)
      if (!entry) noShowRooms.set(roomId, (entry = { id: room.id, name: room.name, building: room.building, weeks: range.weeks.map(() => ({ required: 0, released: 0 })) }))
      entry.weeks[week]!.required += n.required
      entry.weeks[week]!.released += n.released
      noShowTotals[week]!.required += n.required
      noShowTotals[week]!.released += n.released
    }
  }
  const heatmap = Array.from({ length: 7 }, (_, d) => heat.slice(d * 24, d * 24 + 24).map(hours))
  // seconds to hours, rounded only at the end; buildings and totals add up the rooms
  const buildings = new Map<string, BuildingUsage>()
  const totals = range.weeks.map(emptyUsage)
  for (const room of report) {
    let building = buildings.get(room.building)
    if (!building) buildings.set(room.building, (building = { name: room.building, rooms: 0, weeks: range.weeks.map(emptyUsage) }))
    building.rooms++
    room.weeks = room.weeks.map((u, i) => {
      const inHours = { open: u.open / 3600, lessons: u.lessons / 3600, bookings: u.bookings / 3600 }
      addUsage(building.weeks[i]!, inHours)
      addUsage(totals[i]!, inHours)
      return roundUsage(inHours)
    })
  }
  return {
    range,
    rooms: report,
    buildings: [...buildings.values()].sort((a, b) => a.name.localeCompare(b.name)).map((b) => ({ ...b, weeks: b.weeks.map(roundUsage) })),
    totals: totals.map(roundUsage),
    noShows: report.filter((r) => noShowRooms.has(r.id)).map((r) => noShowRooms.get(r.id)!),
    noShowTotals,
    heatmap,
  }
}

/** The report over a range (reportRange): one scan of all its weeks. */
export async function roomReport(ctx: Ctx, range: ReportRange): Promise<Report> {
  const now = ctx.clock.now()
  const span = { start: range.start, end: range.end, firstDay: Math.round(range.weeks[0]!.wall / DAY_MS) }
  const [parts, roomList, closureList] = await Promise.all([scanSpan(ctx, span, 7, now), roomsOf(ctx), closuresOf(ctx, range)])
  return assemble(range, ctx.config.appTimezone, roomList, closureList, [...parts])
}

/**
 * The same report, scanning again only what changed: the local days whose bookings changed, or,
 * after changes the live feed heard, the rooms those changes named.
 *
 * Each local day's findings (as a scan of that day alone finds them: the report cuts bookings at
 * midnights anyway) are kept in memory by (zone, day) with the fingerprint they were found under.
 * Two ways to know what to scan again:
 *
 * - The full check (checkDays), correct on its own: one query (dayPrints) gives the fingerprint of
 *   every day of the range: the bookings the report counts (active, finished, released) that
 *   overlap the day, in four classes (starting in the day or before it, ending in it or after it),
 *   each as its count, the sum of its rows' xmin (the transaction that wrote the row's current
 *   version: any insert, update or delete, by the app or by hand, changes a class's count or
 *   raises its sum, since a new version's xmin is newer than every version already there) and the
 *   number of those requiring a check-in that started before now (the no-show rate's "started": a
 *   day is scanned again once now passes one of its bookings' start); and the rooms' daily windows
 *   (booked time is counted within them). A day whose fingerprint moved is scanned again. It reads
 *   the whole table (a booking overlapping the range may have started any time before it, and no
 *   present index bounds that): about 15-30 ms at 100,000 bookings, most of the page's time.
 * - The rooms the live feed named (rescanRooms), when it heard every change (cachedRoomReport
 *   asks it first) and every day of the range passed the full check less than CHECKED_FOR_MS ago:
 *   every write of the app records its change naming the rooms whose bookings it touched (the
 *   same promise the cached room views rest on, decision 027), so only those rooms' figures can
 *   have moved. They are taken out of every day of the range and those of one scan of the named
 *   rooms alone put in (the index on room and start finds their few hundred bookings: a few ms).
 *   What no change names waits for the next full check, at most CHECKED_FOR_MS: a change made by
 *   hand in the database, and now passing a start (the no-show figures), the same bound as the
 *   whole report kept in memory (cachedRoomReport). A change of every room (a user renamed, the
 *   feed started again), more than MAX_HEARD_ROOMS rooms, a room's daily window changed, or a day
 *   not kept or not checked since the last change of days outside the range: the full check.
 *
 * updated_at is not used: writes take it from the injected clock, which a test may stop, and a
 * hand-made change may leave it. Closures and room names are not in the fingerprint: open hours,
 * names and buildings are computed afresh from the rooms and the closures each time (few rows).
 *
 * Days rather than weeks: a change nearly always touches today (a booking, a check-in, the
 * sweeper finishing or releasing one, now passing a start), and a day is a seventh of a week's
 * scan. Neighbouring days are scanned by one query (not across a DST change near midnight: there
 * a day's own scan cuts at a local time other than midnight, which one scan of both days would
 * not), after the fingerprint was read: a part may be newer than the fingerprint kept with it,
 * never older, so a change made in between shows as a different fingerprint next time. Calls run
 * one at a time (each reads and updates the days kept). The figures equal roomReport's
 * (test/console-reports.test.ts and test/console-reports-heard.test.ts compare them).
 */
const MAX_CACHED_DAYS = 2 * 7 * MAX_REPORT_WEEKS
/** How long a day's full check is trusted for changes the live feed names by room: as long as the whole report is kept. */
const CHECKED_FOR_MS = 60_000
/** Named more rooms than this since the last call (an import): the full check, which costs no more than scanning them. */
const MAX_HEARD_ROOMS = 20

interface DayEntry {
  print: string
  parts: [day: number, part: Part][]
  /** the clock's ms when its fingerprint was last found unchanged (or it was scanned); undefined: to be checked before it is trusted */
  checkedAt: number | undefined
}
interface DayCache {
  days: Map<string, DayEntry>
  /** the rooms' windows the kept days were scanned with, numbered */
  windows: string
  windowsVersion: number
  /** what the live feed named since the last call: rooms, or every room (a change of all of them, the feed (re)started) */
  heard: { rooms: Set<number>; all: boolean }
  /** the call running: calls run one at a time */
  queue: Promise<unknown>
  /**
   * For tests and diagnostics: days scanned and reused since the start; the days ("YYYY-MM-DD")
   * the last call scanned; the rooms it scanned instead of checking every day (null: it checked).
   */
  stats: { scanned: number; reused: number; lastScanned: string[]; lastRooms: number[] | null }
}
const dayCaches = new WeakMap<Ctx, DayCache>()

function dayCacheOf(ctx: Ctx): DayCache {
  let cache = dayCaches.get(ctx)
  if (!cache) {
    const made: DayCache = {
      days: new Map(), windows: '', windowsVersion: 0, heard: { rooms: new Set(), all: true }, queue: Promise.resolve(),
      stats: { scanned: 0, reused: 0, lastScanned: [], lastRooms: null },
    }
    ctx.events.onChange((roomId) => {
      if (roomId === null) made.heard.all = true
      else made.heard.rooms.add(roomId)
    })
    dayCaches.set(ctx, (cache = made))
  }
  return cache
}

/** How many days incrementalRoomReport scanned and reused (since the start); the days ("YYYY-MM-DD") its last call scanned, and the rooms it scanned instead of checking every day (null: it checked them). */
export function reportDayStats(ctx: Ctx): { scanned: number; reused: number; lastScanned: string[]; lastRooms: number[] | null } {
  const { stats } = dayCacheOf(ctx)
  return { ...stats, lastScanned: [...stats.lastScanned], lastRooms: stats.lastRooms && [...stats.lastRooms] }
}

/** A local day of a range: its cache key (zone and date), its date ("YYYY-MM-DD"), its number (days since the epoch, wall clock) and its instants. */
interface Day { key: string; date: string; number: number; start: Date; end: Date }

/** The local days of a range's weeks. */
function daysOf(range: ReportRange, timeZone: string): Day[] {
  const instant = (wall: number) => {
    const d = new Date(wall)
    return zonedToUtc(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, timeZone)
  }
  return range.weeks.flatMap((week) => Array.from({ length: 7 }, (_, i): Day => {
    const wall = week.wall + i * DAY_MS
    const date = wallDate(wall)
    return { key: `${timeZone}|${date}`, date, number: Math.round(wall / DAY_MS), start: i === 0 ? week.start : instant(wall), end: i === 6 ? week.end : instant(wall + DAY_MS) }
  }))
}

interface PrintRow { a: number; b: number; n: number | string; x: number | string | null; c: number | string; since: Date | string }

/** Each day's fingerprint of its bookings (above), and the earliest start of those overlapping it. */
async function dayPrints(ctx: Ctx, range: ReportRange, days: Day[], now: Date): Promise<{ print: string; since: Date }[]> {
  // bucket 0: before the range; i: its day i - 1; days + 1: after it
  const bounds = `{${[...days.map((d) => d.start), range.end].map((d) => d.toISOString()).join(',')}}`
  const result = await ctx.database.db.execute(sql`
    select width_bucket(r.start_time, ${bounds}::timestamptz[]) as a,
           width_bucket(r.end_time - interval '1 microsecond', ${bounds}::timestamptz[]) as b,
           count(*) as n, sum(r.xmin::text::bigint) as x,
           count(*) filter (where r.check_in_required and r.start_time < ${now.toISOString()}::timestamptz) as c,
           min(r.start_time) as since
    from reservations r
    where r.start_time < ${range.end.toISOString()}::timestamptz and r.end_time > ${range.start.toISOString()}::timestamptz
      and r.status in ('active', 'finished', 'released')
    group by 1, 2`)
  const groups = rowsOf<PrintRow>(result).map((g) => ({ a: Number(g.a), b: Number(g.b), n: BigInt(g.n), x: BigInt(g.x ?? 0), c: BigInt(g.c), since: new Date(g.since) }))
  return days.map((day, j) => {
    const bucket = j + 1
    const classes = new Map<string, { n: bigint; x: bigint; c: bigint }>()
    let since = day.start
    for (const g of groups) {
      if (g.a > bucket || g.b < bucket) continue
      const key = `${g.a < bucket ? 'before' : 'in'}-${g.b > bucket ? 'after' : 'in'}`
      const sum = classes.get(key) ?? { n: 0n, x: 0n, c: 0n }
      sum.n += g.n
      sum.x += g.x
      sum.c += g.c
      classes.set(key, sum)
      // a millisecond early: the column keeps microseconds, a Date does not
      const first = new Date(g.since.getTime() - 1)
      if (first < since) since = first
    }
    const print = [...classes].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}:${v.n}:${v.x}:${v.c}`).join(' ')
    return { print, since }
  })
}

/** The chosen days (indexes into `days`) in runs of neighbours, not across a DST change near a midnight. */
function dayRuns(range: ReportRange, days: Day[], timeZone: string, chosen: (j: number) => boolean): number[][] {
  const transitions = zoneOffsets(range, timeZone).flatMap((o) => (o.until ? [o.until.getTime()] : []))
  const irregular = (boundary: Date) => transitions.some((t) => Math.abs(t - boundary.getTime()) < 4 * 3600_000)
  const runs: number[][] = []
  days.forEach((day, j) => {
    if (!chosen(j)) return
    const run = runs[runs.length - 1]
    if (run && run[run.length - 1] === j - 1 && !irregular(day.start)) run.push(j)
    else runs.push([j])
  })
  return runs
}

/** One scan of a run of days: each day's parts (its own, and what lies past the run's last day, with that day). */
async function scanRun(ctx: Ctx, days: Day[], run: number[], now: Date, only: { since?: Date; roomIds?: number[] }): Promise<Map<number, [number, Part][]>> {
  const first = days[run[0]!]!
  const last = days[run[run.length - 1]!]!
  const found = await scanSpan(ctx, { start: first.start, end: last.end, firstDay: first.number }, 1, now, only)
  const byDay = new Map<number, [number, Part][]>(run.map((j) => [j, []]))
  for (const [bucket, part] of found) {
    const number = first.number + bucket
    // past the run's last day (a skipped midnight): its last day's scan found it
    byDay.get(run[Math.min(bucket, run.length - 1)]!)!.push([number, part])
  }
  return byDay
}

function keep(cache: DayCache, key: string, entry: DayEntry) {
  cache.days.delete(key) // the most recently used last
  if (cache.days.size >= MAX_CACHED_DAYS) cache.days.delete(cache.days.keys().next().value!)
  cache.days.set(key, entry)
}

/** The full check: every day's fingerprint read, the days whose fingerprint moved scanned again. */
async function checkDays(ctx: Ctx, cache: DayCache, range: ReportRange, days: Day[], now: Date): Promise<DayEntry[]> {
  const prints = await dayPrints(ctx, range, days, now)
  const printOf = (j: number) => `${cache.windowsVersion}|${prints[j]!.print}`
  const kept = days.map((day, j) => {
    const entry = cache.days.get(day.key)
    if (!entry || entry.print !== printOf(j)) return undefined
    entry.checkedAt = now.getTime()
    keep(cache, day.key, entry)
    return entry
  })
  const runs = dayRuns(range, days, ctx.config.appTimezone, (j) => !kept[j])
  await Promise.all(runs.map(async (run) => {
    const since = new Date(Math.min(...run.map((j) => prints[j]!.since.getTime())))
    const byDay = await scanRun(ctx, days, run, now, { since })
    for (const j of run) keep(cache, days[j]!.key, (kept[j] = { print: printOf(j), parts: byDay.get(j)!, checkedAt: now.getTime() }))
  }))
  const scanned = runs.flat()
  cache.stats.scanned += scanned.length
  cache.stats.reused += days.length - scanned.length
  cache.stats.lastScanned = scanned.map((j) => days[j]!.date)
  cache.stats.lastRooms = null
  return kept.map((entry) => entry!)
}

/** The rooms' figures in a day's parts, written out (to see whether a scan changed them). */
function figuresOf(parts: [day: number, part: Part][], roomIds: number[]): string {
  return JSON.stringify([...parts].sort(([a], [b]) => a - b).map(([number, part]) => [number, roomIds.map((id) => [
    part.booked.get(id) ?? null, part.noShows.get(id) ?? null, [...(part.heat.get(id) ?? [])].filter(([, seconds]) => seconds !== 0).sort(([a], [b]) => a - b),
  ])]))
}

/**
 * The rooms the live feed named: their figures taken out of every day kept and those of one scan
 * of them alone put in. A day whose figures that changed no longer matches the fingerprint kept
 * with it (which could come back, were the change undone by hand): its fingerprint is dropped, so
 * the next full check scans it again.
 */
async function rescanRooms(ctx: Ctx, cache: DayCache, range: ReportRange, days: Day[], roomIds: number[], now: Date): Promise<DayEntry[]> {
  const entries = days.map((day) => cache.days.get(day.key)!)
  if (roomIds.length > 0) {
    const runs = dayRuns(range, days, ctx.config.appTimezone, () => true)
    const found = await Promise.all(runs.map((run) => scanRun(ctx, days, run, now, { roomIds })))
    // nothing awaited from here on: the days change all together
    const rooms = new Set(roomIds)
    const named = [...rooms].sort((a, b) => a - b)
    for (const byDay of found) {
      for (const [j, parts] of byDay) {
        const entry = entries[j]!
        const before = figuresOf(entry.parts, named)
        for (const [, part] of entry.parts) withoutRooms(part, rooms)
        for (const [number, part] of parts) {
          const same = entry.parts.find(([n]) => n === number)
          if (same) addPart(same[1], part)
          else entry.parts.push([number, part])
        }
        if (figuresOf(entry.parts, named) !== before) entry.print = ''
      }
    }
  }
  days.forEach((day, j) => keep(cache, day.key, entries[j]!))
  cache.stats.reused += days.length
  cache.stats.lastScanned = []
  cache.stats.lastRooms = [...roomIds].sort((a, b) => a - b)
  return entries
}

/** roomReport from the days kept (above), and the clock's ms of the oldest full check its figures rest on. */
async function reportFromDays(ctx: Ctx, cache: DayCache, range: ReportRange, heardAll: boolean): Promise<{ report: Report; checkedAt: number }> {
  const timeZone = ctx.config.appTimezone
  const now = ctx.clock.now()
  const days = daysOf(range, timeZone)
  // what the feed named since the last call, taken now: what it hears from here on is the next call's
  const named = cache.heard
  cache.heard = { rooms: new Set(), all: false }
  try {
    if (named.all || named.rooms.size > 0) {
      // the days kept outside the range are not updated by this call: checked before they are trusted again
      const inRange = new Set(days.map((d) => d.key))
      for (const [key, entry] of cache.days) if (!inRange.has(key)) entry.checkedAt = undefined
    }
    const [roomList, closureList] = await Promise.all([roomsOf(ctx), closuresOf(ctx, range)])
    const windows = roomList.map((r) => `${r.id}:${r.start}-${r.end}`).sort().join(',')
    const trusted = heardAll && !named.all && named.rooms.size <= MAX_HEARD_ROOMS && windows === cache.windows && days.every((day) => {
      const checkedAt = cache.days.get(day.key)?.checkedAt
      return checkedAt !== undefined && now.getTime() - checkedAt >= 0 && now.getTime() - checkedAt < CHECKED_FOR_MS
    })
    if (windows !== cache.windows) {
      cache.windows = windows
      cache.windowsVersion++
    }
    const entries = trusted ? await rescanRooms(ctx, cache, range, days, [...named.rooms], now) : await checkDays(ctx, cache, range, days, now)
    const firstDay = days[0]!.number
    const parts = entries.flatMap((entry) => entry.parts.map(([number, part]): [number, Part] => [Math.floor((number - firstDay) / 7), part]))
    return { report: assemble(range, timeZone, roomList, closureList, parts), checkedAt: Math.min(...entries.map((e) => e.checkedAt!)) }
  } catch (error) {
    // what was named may not have been applied: every day is checked next time
    cache.heard.all = true
    throw error
  }
}

/** Calls one at a time. */
function queued<T>(cache: DayCache, work: () => Promise<T>): Promise<T> {
  const result = cache.queue.then(work, work)
  cache.queue = result.catch(() => {})
  return result
}

/**
 * roomReport from the days kept, by the full check (above): what a caller uses when it cannot
 * vouch that the live feed heard every change (cachedRoomReport without the feed, tests).
 */
export async function incrementalRoomReport(ctx: Ctx, range: ReportRange): Promise<Report> {
  const cache = dayCacheOf(ctx)
  return (await queued(cache, () => reportFromDays(ctx, cache, range, false))).report
}

/**
 * A report is read again and again while an admin looks at it (the page, then its CSV and XLSX).
 * Two layers: the whole report is answered from memory while nothing has changed (every change
 * the live feed hears, any instance's, decision 027, drops them all; an entry lives at most a
 * minute after the full check its figures rest on, since "now" moves the current week's no-show
 * figures and a change made by hand is heard by nobody): a few ms. Past a change, incrementalRoomReport
 * answers from the days kept, scanning again the rooms the change named; without the live feed (not
 * started, or down: then nothing whole is kept, since a change would go unheard), from the full
 * check of every day. A handful of ranges and a few hundred days at most, each a few kilobytes of
 * figures.
 */
const REPORT_TTL_MS = CHECKED_FOR_MS
const MAX_CACHED_REPORTS = 16
interface ReportCache { generation: number; entries: Map<string, { generation: number; at: Promise<number>; report: Promise<Report> }> }
const reportCaches = new WeakMap<Ctx, ReportCache>()

function reportCacheOf(ctx: Ctx): ReportCache {
  let cache = reportCaches.get(ctx)
  if (!cache) {
    const made: ReportCache = { generation: 0, entries: new Map() }
    ctx.events.onChange(() => {
      made.generation++
      made.entries.clear()
    })
    reportCaches.set(ctx, (cache = made))
  }
  return cache
}

/** roomReport, kept while nothing changes, else built from the days kept (above). */
export async function cachedRoomReport(ctx: Ctx, range: ReportRange): Promise<Report> {
  const cache = reportCacheOf(ctx)
  const dayCache = dayCacheOf(ctx)
  if (!ctx.events.live() || !(await ctx.events.readBarrier())) return incrementalRoomReport(ctx, range)
  const key = `${ctx.config.appTimezone}|${range.start.toISOString()}|${range.end.toISOString()}`
  const kept = cache.entries.get(key)
  if (kept && kept.generation === cache.generation) {
    // (one being built: it is waited for, not built twice)
    const age = ctx.clock.now().getTime() - (await kept.at.catch(() => Number.NaN))
    if (age >= 0 && age < REPORT_TTL_MS) return kept.report
  }
  const built = queued(dayCache, () => reportFromDays(ctx, dayCache, range, true))
  const entry = { generation: cache.generation, at: built.then((b) => b.checkedAt), report: built.then((b) => b.report) }
  if (cache.entries.get(key) === kept) {
    cache.entries.delete(key)
    if (cache.entries.size >= MAX_CACHED_REPORTS) cache.entries.delete(cache.entries.keys().next().value!)
    cache.entries.set(key, entry)
  }
  entry.report.catch(() => { if (cache.entries.get(key) === entry) cache.entries.delete(key) })
  return entry.report
}
