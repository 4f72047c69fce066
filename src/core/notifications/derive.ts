/**
 * Which notices a batch of changes makes (issue 28): who is told what, with the facts the text is
 * made of. Pure over the changes and the facts read for them (facts.ts), so the rules read in one
 * place: the person a decision is about is told, never the person who made it.
 */
import type { ChangeRow } from '../../db/schema'
import type { NoticeKind } from './kinds'

export interface Notice {
  userId: number
  kind: NoticeKind
  /** which fact it is about: the same change read twice makes the same key (notifications.key) */
  key: string
  changePosition: number | null
  data: Record<string, unknown>
}

/** A booking as a notice describes it. */
export interface BookingFacts {
  id: number
  room_id: number
  room_name: string
  start_time: string
  end_time: string
  title: string | null
  user_id: number
}

export interface Facts {
  bookings: Map<number, BookingFacts>
  /** display names of actors and users */
  names: Map<number, string>
  admins: number[]
  /** a lesson (title) that took the slot of a bumped booking, by the bumped booking's id */
  lessons: Map<number, string | null>
  /** suspensions that a no-show release brought: user -> until (ISO) */
  suspensions: Map<number, string>
  closureReasons: Map<number, string>
  seriesTitles: Map<number, { title: string | null; room_name: string | null }>
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined)

/** The changes of a booking that tell someone about it (noticesOf): only their bookings are read. */
const BOOKING_NOTICE_EVENTS = new Set([
  'reservation.created', 'reservation.bumped', 'reservation.released', 'reservation.approved', 'reservation.rejected', 'reservation.cancelled',
])

/** The ids the facts must be read for. */
export function factsWanted(batch: ChangeRow[]) {
  const bookings = new Set<number>(), users = new Set<number>(), closures = new Set<number>(), series = new Set<number>()
  const released = new Set<number>()
  for (const change of batch) {
    const d = change.data
    const reservation = num(d.reservation_id)
    if (reservation !== undefined && BOOKING_NOTICE_EVENTS.has(change.event)) bookings.add(reservation)
    if (change.actorId !== null) users.add(change.actorId)
    const closure = num(d.closure_id)
    if (closure !== undefined) closures.add(closure)
    const seriesId = num(d.series_id)
    if (seriesId !== undefined && change.event.startsWith('series.')) series.add(seriesId)
    const user = num(d.user_id)
    if (change.event === 'reservation.released' && user !== undefined) released.add(user)
  }
  return { bookings, users, closures, series, released }
}

function booking(facts: Facts, id: unknown): BookingFacts | undefined {
  return typeof id === 'number' ? facts.bookings.get(id) : undefined
}

const bookingData = (b: BookingFacts) => ({
  reservation_id: b.id, room_id: b.room_id, room_name: b.room_name, start_time: b.start_time, end_time: b.end_time, title: b.title,
})

/** The notices one change makes. */
export function noticesOf(change: ChangeRow, facts: Facts): Notice[] {
  const d = change.data
  const at = change.position
  const by = change.actorId === null ? null : facts.names.get(change.actorId) ?? null
  const notice = (userId: number, kind: NoticeKind, data: Record<string, unknown>, key = `${at}:${kind}:${userId}`): Notice =>
    ({ userId, kind, key, changePosition: at, data })
  const owner = num(d.user_id)
  // Nobody is told about their own decision.
  const toOwner = owner !== undefined && owner !== change.actorId
  const b = booking(facts, d.reservation_id)

  switch (change.event) {
    case 'reservation.created': {
      if (!b || owner === undefined) return []
      const out: Notice[] = []
      if (d.waitlist_entry_id !== undefined) out.push(notice(owner, 'waitlist_booked', bookingData(b)))
      else out.push(notice(owner, 'booking_confirmed', { ...bookingData(b), by: toOwner ? by : null }))
      if (d.approval === 'pending') {
        for (const admin of facts.admins) out.push(notice(admin, 'approval_requested', { ...bookingData(b), booker: facts.names.get(owner) ?? null }))
      }
      return out
    }
    case 'reservation.bumped':
      return b && owner !== undefined ? [notice(owner, 'bumped', { ...bookingData(b), by, lesson: facts.lessons.get(b.id) ?? null })] : []
    case 'reservation.released': {
      if (!b || owner === undefined) return []
      const out = [notice(owner, 'released_no_show', bookingData(b))]
      const until = facts.suspensions.get(owner)
      // Keyed by its end: the release that makes a suspension tells it once, a later one that extends it tells again.
      if (until) out.push(notice(owner, 'suspended', { until }, `suspended:${owner}:${until}`))
      return out
    }
    case 'reservation.approved':
    case 'reservation.rejected':
      return b && owner !== undefined
        ? [notice(owner, 'approval_decided', { ...bookingData(b), decision: change.event === 'reservation.approved' ? 'approve' : 'reject', reason: d.reason ?? null, by })]
        : []
    case 'reservation.cancelled': {
      const closure = num(d.closure_id)
      if (closure === undefined || !b || owner === undefined) return []
      return [notice(owner, 'closure_cancelled', { ...bookingData(b), reason: facts.closureReasons.get(closure) ?? null })]
    }
    case 'series.updated':
    case 'series.cancelled': {
      const seriesId = num(d.series_id)
      const info = seriesId === undefined ? undefined : facts.seriesTitles.get(seriesId)
      // A shortened series records series.cancelled and series.updated in one transaction (one
      // instant): keyed by the instant, that is one notice.
      return change.userIds.filter((u) => u !== change.actorId).map((u) => notice(u, 'series_changed', {
        series_id: seriesId ?? null, title: info?.title ?? null, room_name: info?.room_name ?? null, cancelled: change.event === 'series.cancelled', by,
      }, `series:${seriesId}:${change.at.toISOString()}:${u}`))
    }
    case 'user.suspension_lifted':
      return owner !== undefined && d.suspended_until ? [notice(owner, 'suspension_lifted', { by })] : []
    case 'user.updated': {
      const pending = (d.changes as Record<string, { from: unknown; to: unknown }> | undefined)?.teacherPending
      return owner !== undefined && pending && pending.to === false ? [notice(owner, 'teacher_verified', { by })] : []
    }
    default:
      return []
  }
}
