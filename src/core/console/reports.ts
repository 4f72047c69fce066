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
 * the range's bookings, not finding them (an index would not help; a daily roll-up would).
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
function zoneOffsets(range: ReportRange, timeZone: string): { offset: number; until?: Date }[] {
  const offsetAt = (ms: number) => Math.round((wallOf(new Date(ms), timeZone) - ms) / 1000)
  const from = range.start.getTime() - DAY_MS
  const to = range.end.getTime() + DAY_MS
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

/** The report over a range (reportRange). */
export async function roomReport(ctx: Ctx, range: ReportRange): Promise<Report> {
  const db = ctx.database.db
  const timeZone = ctx.config.appTimezone
  const now = ctx.clock.now()
  const start = sql`${range.start.toISOString()}::timestamptz`
  const end = sql`${range.end.toISOString()}::timestamptz`
  const firstDay = Math.round(range.weeks[0]!.wall / DAY_MS)
  // local wall-clock epoch seconds of an instant: its epoch plus the zone's offset, which changes
  // only at the range's DST transitions (found here: cheaper than AT TIME ZONE on every row)
  const offsets = zoneOffsets(range, timeZone)
  const local = (instant: SQL): SQL => {
    const epoch = sql`date_part('epoch', ${instant})::bigint`
    if (offsets.length === 1) return sql`(${epoch} + ${offsets[0]!.offset}::int)`
    const cases = offsets.slice(0, -1).map((o) => sql`when ${instant} < ${o.until!.toISOString()}::timestamptz then ${o.offset}::int`)
    return sql`(${epoch} + case ${sql.join(cases, sql` `)} else ${offsets[offsets.length - 1]!.offset}::int end)`
  }
  // One scan of the range's bookings (not cancelled), each as local wall-clock seconds (epoch of
  // the local time). A booking within one local day (nearly all) is summed here: by room, week and
  // lesson-or-not (its time within the room's open hours; its no-show counts), and by weekday and
  // start and end of day (the heatmap, cut into hours by the caller). Those that cross midnight
  // come back as they are, to be cut into days by the caller (a set-returning function per row
  // would cost more than the whole query, and mislead the planner).
  const query = db.execute(sql`
    with b as (
      select r.room_id, r.series_id is not null as lesson, r.status <> 'released' as held, r.status = 'released' as is_released,
             r.check_in_required and r.start_time >= ${start} and r.start_time < ${now.toISOString()}::timestamptz as counted,
             ${local(sql`greatest(r.start_time, ${start})`)} as s,
             ${local(sql`least(r.end_time, ${end})`)} as e,
             date_part('epoch', m.booking_start)::int as ws, date_part('epoch', m.booking_end)::int as we
      from reservations r join rooms m on m.id = r.room_id
      where r.start_time < ${end} and r.end_time > ${start} and r.status in ('active', 'finished', 'released')
    ), p as (
      select room_id, lesson, held, is_released, counted, ws, we,
             ((s / 86400 + 3) % 7 + 1)::int as dow, ((s / 86400 - ${firstDay}) / 7)::int as week,
             (s % 86400)::int as ps, (e - s / 86400 * 86400)::int as pe
      from b where e <= s / 86400 * 86400 + 86400
    )
    select room_id, week, lesson, dow, ps, pe,
           count(*) filter (where held) as n,
           sum(${openSql(sql`ps`, sql`pe`, sql`dow`, sql`ws`, sql`we`)}) filter (where held) as open_s,
           count(*) filter (where counted) as required, count(*) filter (where counted and is_released) as released,
           null::bigint as s, null::bigint as e, null::int as ws, null::int as we, null::boolean as held, null::boolean as counted, null::boolean as is_released
    from p
    group by grouping sets ((room_id, week, lesson), (dow, ps, pe))
    union all
    select room_id, null, lesson, null, null, null, null, null, null, null, s, e, ws, we, held, counted, is_released
    from b where e > s / 86400 * 86400 + 86400`)
  const roomRows = db.select({ id: rooms.id, name: rooms.name, start: rooms.bookingStart, end: rooms.bookingEnd }).from(rooms).orderBy(asc(rooms.name))
  const closureRows = db.select({ allRooms: closures.allRooms, roomIds: closures.roomIds, start: closures.startTime, end: closures.endTime })
    .from(closures).where(and(lt(closures.startTime, range.end), gt(closures.endTime, range.start)))
  const [result, roomList, closureList] = await Promise.all([query, roomRows, closureRows])

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
  const heat = Array.from({ length: 7 }, () => Array<number>(24).fill(0))
  /** [ps, pe) of a weekday, n times, cut into its hours */
  const addHeat = (dow: number, ps: number, pe: number, n: number) => {
    for (let h = Math.floor(ps / 3600); h * 3600 < pe && h < 24; h++) heat[dow - 1]![h]! += n * (Math.min(pe, (h + 1) * 3600) - Math.max(ps, h * 3600))
  }
  const noShowRooms = new Map<number, RoomNoShows>()
  const noShowTotals = range.weeks.map((): NoShows => ({ required: 0, released: 0 }))
  const addNoShows = (roomId: number, week: number, required: number, released: number) => {
    const room = roomUsage.get(roomId)
    if (!room || !noShowTotals[week] || required === 0) return
    let entry = noShowRooms.get(roomId)
    if (!entry) noShowRooms.set(roomId, (entry = { id: room.id, name: room.name, building: room.building, weeks: range.weeks.map(() => ({ required: 0, released: 0 })) }))
    entry.weeks[week]!.required += required
    entry.weeks[week]!.released += released
    noShowTotals[week]!.required += required
    noShowTotals[week]!.released += released
  }
  const addBooked = (roomId: number, week: number, lesson: boolean, seconds: number) => {
    const usage = roomUsage.get(roomId)?.weeks[week]
    if (!usage) return
    if (lesson) usage.lessons += seconds
    else usage.bookings += seconds
  }
  for (const row of rowsOf<ReportRow>(result)) {
    if (row.s !== null && row.e !== null && row.room_id !== null) {
      // a booking across midnight: each local day apart
      const s = Number(row.s)
      const e = Number(row.e)
      const first = Math.floor(s / 86400)
      if (row.counted) addNoShows(row.room_id, Math.floor((first - firstDay) / 7), 1, row.is_released ? 1 : 0)
      if (!row.held) continue
      for (let day = first; day * 86400 < e; day++) {
        const ps = Math.max(s - day * 86400, 0)
        const pe = Math.min(e - day * 86400, 86400)
        const dow = ((day + 3) % 7) + 1
        addBooked(row.room_id, Math.floor((day - firstDay) / 7), Boolean(row.lesson), openWithin(ps, pe, dow, row.ws, row.we))
        addHeat(dow, ps, pe, 1)
      }
    } else if (row.room_id !== null && row.week !== null) {
      addBooked(row.room_id, row.week, Boolean(row.lesson), Number(row.open_s ?? 0))
      addNoShows(row.room_id, row.week, Number(row.required ?? 0), Number(row.released ?? 0))
    } else if (row.dow !== null && row.ps !== null && row.pe !== null && Number(row.n) > 0) {
      addHeat(row.dow, row.ps, row.pe, Number(row.n))
    }
  }
  const heatmap = heat.map((row) => row.map(hours))
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

/**
 * A report is read again and again while an admin looks at it (the page, then its CSV and XLSX),
 * and its query is the console's heaviest (about 50-80 ms for five weeks at 100,000 reservations).
 * The same range is answered from memory while nothing has changed: every change the live feed
 * hears (any instance's, decision 027) drops them all, and an entry lives at most a minute, since
 * "now" moves the current week's figures. Without the live feed (not started, or down) nothing is
 * kept. A handful of ranges at most, each a few kilobytes of figures.
 */
const REPORT_TTL_MS = 60_000
const MAX_CACHED_REPORTS = 16
interface ReportCache { generation: number; entries: Map<string, { generation: number; at: number; report: Promise<Report> }> }
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

/** roomReport, kept while nothing changes (above). */
export async function cachedRoomReport(ctx: Ctx, range: ReportRange): Promise<Report> {
  const cache = reportCacheOf(ctx)
  if (!ctx.events.live() || !(await ctx.events.readBarrier())) return roomReport(ctx, range)
  const key = `${ctx.config.appTimezone}|${range.start.toISOString()}|${range.end.toISOString()}`
  const now = ctx.clock.now().getTime()
  const kept = cache.entries.get(key)
  if (kept && kept.generation === cache.generation && now - kept.at >= 0 && now - kept.at < REPORT_TTL_MS) return kept.report
  const entry = { generation: cache.generation, at: now, report: roomReport(ctx, range) }
  cache.entries.delete(key)
  if (cache.entries.size >= MAX_CACHED_REPORTS) cache.entries.delete(cache.entries.keys().next().value!)
  cache.entries.set(key, entry)
  entry.report.catch(() => { if (cache.entries.get(key) === entry) cache.entries.delete(key) })
  return entry.report
}
