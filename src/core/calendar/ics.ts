/**
 * iCalendar (RFC 5545) of bookings and lessons (issue 28), written with ical-generator.
 *
 * - UIDs are stable: `reservation-<id>@<host>` for a booking, `series-<id>@<host>` for a series,
 *   the host being SERVER_EXTERNAL_BASE's.
 * - SEQUENCE is the seconds from 2024-01-01 UTC to the row's updated_at (a series: the newest of its
 *   own and its occurrences'): every write of a booking sets updated_at from the clock, so a later
 *   version has a higher SEQUENCE (two versions written within one second share it).
 * - DTSTAMP and LAST-MODIFIED are that updated_at too, never the time of the request: the same
 *   bookings give the same bytes, which is what the feeds' ETag is made of.
 * - A cancelled or released booking is STATUS:CANCELLED, a booking awaiting approval TENTATIVE.
 * - A series is one VEVENT: DTSTART/DTEND of its first occurrence in its zone (TZID), its stored
 *   RRULE, EXDATE for each occurrence that is not held (cancelled, released, or never made because
 *   it conflicted), and a RECURRENCE-ID override for each occurrence that differs from the rule
 *   (moved, another length, title or room).
 * - A booking's times are written in the rooms' zone (APP_TIMEZONE or the admin's setting, read at
 *   each call), a series' in the zone it was made in (its rule repeats on that wall clock), each with
 *   TZID and a VTIMEZONE for every zone used (vtimezone.ts).
 */
import ical, { ICalCalendarMethod, ICalEventStatus, ICalEventTransparency, type ICalCalendar, type ICalDateTimeValue } from 'ical-generator'
import { eq } from 'drizzle-orm'
import type { Config } from '../../config'
import type { Database } from '../../db/client'
import type { Clock } from '../../lib/clock'
import { reservations, rooms, users, type BookingApproval, type ReservationStatus, type Series, type UserRole } from '../../db/schema'
import { OWNER_COLUMNS } from '../bookings/views/public-names'
import { Forbidden, NotFound } from '../../lib/errors'
import { BOOKING_MSG } from '../bookings/messages'
import { localParts } from '../../lib/time'
import { vtimezone } from './vtimezone'

/** What the calendar reads: the rooms' zone, the public base URL (UIDs, feed URLs), the database, the clock. */
export interface CalendarDeps {
  config: Pick<Config, 'appTimezone' | 'serverExternalBase'>
  database: Pick<Database, 'db'>
  clock: Clock
}

/** A booking as a calendar reads it: the reservation, its room's name and its owner. */
export interface BookingRow {
  id: number
  roomId: number
  roomName: string
  userId: number
  startTime: Date
  endTime: Date
  status: ReservationStatus
  approval: BookingApproval | null
  seriesId: number | null
  title: string | null
  seriesException: boolean
  createdAt: Date
  updatedAt: Date
  userName: string
  userRole: UserRole
  userTeacherPending: boolean
}

/** The columns of a BookingRow: select them from reservations joined with rooms and users. */
export const BOOKING_COLUMNS = {
  id: reservations.id, roomId: reservations.roomId, roomName: rooms.name, userId: reservations.userId,
  startTime: reservations.startTime, endTime: reservations.endTime, status: reservations.status, approval: reservations.approval,
  seriesId: reservations.seriesId, title: reservations.title, seriesException: reservations.seriesException,
  createdAt: reservations.createdAt, updatedAt: reservations.updatedAt, ...OWNER_COLUMNS,
}

/** A series with its room's and owner's names. */
export type SeriesRow = Series & { roomName: string; userName: string; userRole: UserRole; userTeacherPending: boolean }

/** A series laid out against its rule: which occurrence (slot) each of its bookings is. */
export interface SeriesLayout {
  series: SeriesRow
  /** the starts of the rule's occurrences, in order */
  slots: Date[]
  /** the booking at each slot (by index); a slot without one is not held */
  bySlot: Map<number, BookingRow>
}

/** What a calendar shows of a booking or series: its summary. */
export interface CalendarLabels {
  summary(item: { title: string | null; roomName: string; userName: string; userRole: UserRole; userTeacherPending: boolean }): string
}

export interface CalendarContent {
  name: string
  /** bookings shown on their own */
  singles: BookingRow[]
  /** series shown as one recurring event each */
  series: SeriesLayout[]
  labels: CalendarLabels
  /** whether a booking of a laid-out series belongs to this calendar (else its slot is excluded) */
  belongs?(row: BookingRow): boolean
  method?: ICalCalendarMethod
}

const SEQUENCE_EPOCH_MS = Date.UTC(2024, 0, 1)

/** SEQUENCE of a version written at `updatedAt`: grows with every later write. */
function sequenceOf(updatedAt: Date): number {
  return Math.max(0, Math.floor((updatedAt.getTime() - SEQUENCE_EPOCH_MS) / 1000))
}

/** The host of the UIDs: SERVER_EXTERNAL_BASE's. */
function uidHost(deps: Pick<CalendarDeps, 'config'>): string {
  try {
    return new URL(deps.config.serverExternalBase).hostname || 'qrbook'
  } catch {
    return 'qrbook'
  }
}

const TemporalApi = (globalThis as unknown as {
  Temporal: { Instant: { fromEpochMilliseconds(ms: number): { toZonedDateTimeISO(timeZone: string): ICalDateTimeValue } } }
}).Temporal

/** An instant as ical-generator writes it with TZID: a Temporal.ZonedDateTime in the zone (not the process's). */
function zoned(date: Date, timeZone: string): ICalDateTimeValue {
  return TemporalApi.Instant.fromEpochMilliseconds(date.getTime()).toZonedDateTimeISO(timeZone)
}

/** `20300311T100000`: the local DATE-TIME of an instant in a zone, as EXDATE;TZID= lists it. */
function localDateTime(date: Date, timeZone: string): string {
  const p = localParts(date, timeZone)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${String(p.year).padStart(4, '0')}${two(p.month)}${two(p.day)}T${two(p.hour)}${two(p.minute)}${two(p.second)}`
}

const isHeld = (row: BookingRow) => row.status === 'active' || row.status === 'finished'

function statusOf(row: BookingRow): ICalEventStatus {
  if (!isHeld(row)) return ICalEventStatus.CANCELLED
  return row.approval === 'pending' ? ICalEventStatus.TENTATIVE : ICalEventStatus.CONFIRMED
}

const newest = (dates: Date[]) => new Date(Math.max(...dates.map((d) => d.getTime())))

/**
 * The rule as written beside a DTSTART with TZID: an UNTIL given as a date becomes the series'
 * last start in UTC (RFC 5545 wants UNTIL of DTSTART's type, a UTC date-time with a TZID).
 */
function ruleText(series: Series): string {
  const stamp = series.until.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')
  return series.rrule.replace(/(^|;)UNTIL=\d{8}(?=;|$)/, `$1UNTIL=${stamp}`)
}

function addBooking(cal: ICalCalendar, content: CalendarContent, row: BookingRow, uid: string, timeZone: string, recurrenceId?: Date) {
  cal.createEvent({
    id: uid,
    sequence: sequenceOf(row.updatedAt),
    stamp: row.updatedAt,
    created: row.createdAt,
    lastModified: row.updatedAt,
    timezone: timeZone,
    start: zoned(row.startTime, timeZone),
    end: zoned(row.endTime, timeZone),
    ...(recurrenceId ? { recurrenceId: zoned(recurrenceId, timeZone) } : {}),
    summary: content.labels.summary(row),
    location: row.roomName,
    status: statusOf(row),
    transparency: isHeld(row) ? ICalEventTransparency.OPAQUE : ICalEventTransparency.TRANSPARENT,
  })
}

function addSeries(cal: ICalCalendar, content: CalendarContent, layout: SeriesLayout, host: string) {
  const { series } = layout
  const zone = series.timeZone
  const length = series.firstEnd.getTime() - series.firstStart.getTime()
  const rows = [...layout.bySlot.values()]
  const updated = newest([series.updatedAt, ...rows.map((r) => r.updatedAt)])
  const uid = `series-${series.id}@${host}`
  const excluded: Date[] = []
  const overrides: { row: BookingRow; slot: Date }[] = []
  layout.slots.forEach((slot, i) => {
    const row = layout.bySlot.get(i)
    if (!row || !isHeld(row) || (content.belongs && !content.belongs(row))) return void excluded.push(slot)
    const asRuled = row.startTime.getTime() === slot.getTime() && row.endTime.getTime() === slot.getTime() + length
      && row.title === series.title && row.roomId === series.roomId && row.userId === series.userId && row.approval !== 'pending'
    if (!asRuled) overrides.push({ row, slot })
  })
  const exdate = excluded.length ? `\nEXDATE;TZID=${zone}:${excluded.map((d) => localDateTime(d, zone)).join(',')}` : ''
  const anyHeld = excluded.length < layout.slots.length
  cal.createEvent({
    id: uid,
    sequence: sequenceOf(updated),
    stamp: updated,
    created: series.createdAt,
    lastModified: updated,
    timezone: zone,
    start: zoned(series.firstStart, zone),
    end: zoned(series.firstEnd, zone),
    repeating: `RRULE:${ruleText(series)}${exdate}`,
    summary: content.labels.summary(series),
    location: series.roomName,
    status: anyHeld ? ICalEventStatus.CONFIRMED : ICalEventStatus.CANCELLED,
    transparency: ICalEventTransparency.OPAQUE,
  })
  for (const { row, slot } of overrides) {
    // In the series' zone like its DTSTART: some readers (ical.js) match RECURRENCE-ID by local time.
    addBooking(cal, content, { ...row, updatedAt: updated }, uid, zone, slot)
  }
}

/** The VCALENDAR of `content`, in the rooms' zone (`ctx.config.appTimezone`), as text. */
export function buildCalendar(deps: Pick<CalendarDeps, 'config'>, content: CalendarContent): string {
  const host = uidHost(deps)
  const roomZone = deps.config.appTimezone
  const instants = [
    ...content.singles.flatMap((r) => [r.startTime, r.endTime]),
    ...content.series.flatMap((l) => [l.series.firstStart, new Date(l.series.until.getTime() + 86_400_000), ...[...l.bySlot.values()].map((r) => r.endTime)]),
  ]
  const years = instants.length ? instants.map((d) => d.getUTCFullYear()) : [new Date(0).getUTCFullYear()]
  const [fromYear, toYear] = [Math.min(...years) - 1, Math.max(...years) + 1]
  const cal = ical({
    name: content.name,
    prodId: { company: 'QRBOOK', product: 'calendar', language: 'EN' },
    method: content.method ?? ICalCalendarMethod.PUBLISH,
    // No calendar-wide zone (it would write DTSTAMP in local time); each event has its TZID, and
    // the generator writes a VTIMEZONE for each zone the events use.
    timezone: { name: null, generator: (zone) => vtimezone(zone, fromYear, toYear) },
    x: [['X-WR-TIMEZONE', roomZone]],
  })
  for (const row of content.singles) addBooking(cal, content, row, `reservation-${row.id}@${host}`, roomZone)
  for (const layout of content.series) addSeries(cal, content, layout, host)
  return cal.toString()
}

/** What a person's own calendar calls a booking: its lesson's title, else its room. */
export const OWN_LABELS: CalendarLabels = { summary: (item) => item.title ?? item.roomName }

async function bookingRow(deps: CalendarDeps, id: number): Promise<BookingRow | undefined> {
  const [row] = await deps.database.db.select(BOOKING_COLUMNS).from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId)).innerJoin(users, eq(users.id, reservations.userId))
    .where(eq(reservations.id, id))
  return row
}

function singleBooking(deps: CalendarDeps, row: BookingRow): string {
  return buildCalendar(deps, { name: OWN_LABELS.summary(row), singles: [row], series: [], labels: OWN_LABELS })
}

/**
 * One booking in its current state as a VCALENDAR with METHOD:PUBLISH (an e-mail attachment: a
 * calendar imports or updates it by UID and SEQUENCE, a cancelled one as STATUS:CANCELLED; no
 * ORGANIZER or ATTENDEE, so no reply is asked for). A lesson is shown on its own
 * (`reservation-<id>`), not as an instance of its series. Null when there is no such booking.
 */
export async function reservationIcs(deps: CalendarDeps, reservationId: number): Promise<string | null> {
  const row = await bookingRow(deps, reservationId)
  return row ? singleBooking(deps, row) : null
}

/** GET /reservations/:id/ics: its owner's or an admin's; 404 when there is none, 403 for anyone else. */
export async function reservationIcsFor(deps: CalendarDeps, actor: { id: number; role: UserRole }, reservationId: number): Promise<string> {
  const row = await bookingRow(deps, reservationId)
  if (!row) throw new NotFound(BOOKING_MSG.notFound)
  if (row.userId !== actor.id && actor.role !== 'admin') throw new Forbidden(BOOKING_MSG.notYours)
  return singleBooking(deps, row)
}
