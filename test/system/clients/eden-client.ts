/**
 * The same tour as openapi-client.ts through Eden Treaty, typed from the server's own `App` type
 * (src/app.ts) instead of the document: for a TypeScript frontend that can import the server's types.
 * No casts, no `any`, no non-null assertions; test/system/typed-clients.test.ts type-checks it
 * (tsc, strict), runs it against a live server and scans it for those escapes.
 */
import { treaty } from '@elysiajs/eden'
import type { App } from '../../../src/app'
import { pickHour } from './free-hour'

export async function edenTour(baseUrl: string, accounts = { student: 'student1234', admin: 'admin1234' }) {
  const statuses: Record<string, number> = {}
  // parseDate: false keeps instants as the strings the types say (Eden's default turns every
  // ISO-looking string of an answer into a Date, which its types do not show).
  const api = treaty<App>(baseUrl, { parseDate: false }).api

  // auth
  const login = await api.auth.login.post({ username: 'student', password: accounts.student })
  statuses.login = login.status
  if (!login.data) throw new Error(`login failed: ${login.status}`)
  const student = treaty<App>(baseUrl, { parseDate: false, headers: { authorization: `Bearer ${login.data.access_token}` } }).api

  // rooms: the list, one room's detail, and an hour booked in one of its free slots
  const rooms = await api.rooms.get()
  statuses.rooms = rooms.status
  // the first room a student may book (admin and service rooms are not theirs)
  const room = rooms.data?.rooms.find((r) => r.type === 'public' && !r.is_blocked)
  if (!room) throw new Error('no public room listed')
  const detail = await api.rooms({ id: room.id }).get()
  statuses.room = detail.status
  if (!detail.data) throw new Error(`room ${room.id}: ${detail.status}`)
  const hour = pickHour(detail.data.free_slots, Date.now())
  if (!hour) throw new Error(`room ${room.name} has no free hour in the next day`)
  // The route's body type is what the server decodes (a Date); Eden sends it as JSON: an ISO 8601 string.
  const reserved = await student.rooms({ id: room.id }).reserve.post({ start_time: hour.start, end_time: hour.end })
  statuses.reserve = reserved.status
  if (!reserved.data) throw new Error(`booking failed: ${reserved.status}`)
  const booking = reserved.data.reservation

  // reservations
  const mine = await student.reservations.mine.get()
  statuses.mine = mine.status
  const listed = mine.data?.reservations.find((r) => r.id === booking.id)

  // series, closures, policies
  const series = await student.series.get({ query: {} })
  statuses.series = series.status
  const closures = await api.closures.get({ query: { room_id: room.id } })
  statuses.closures = closures.status
  const policies = await student.policies.me.get()
  statuses.policies = policies.status

  // scan: what the room's QR code opens, without a key
  const scan = await api.scan({ id: room.id }).get({ query: {} })
  statuses.scan = scan.status

  // admin
  const adminLogin = await api.auth.login.post({ username: 'admin', password: accounts.admin })
  if (!adminLogin.data) throw new Error(`admin login failed: ${adminLogin.status}`)
  const admin = treaty<App>(baseUrl, { parseDate: false, headers: { authorization: `Bearer ${adminLogin.data.access_token}` } }).api
  const stats = await admin.admin.stats.get()
  statuses.stats = stats.status

  return {
    statuses,
    role: login.data.user.role,
    room: { id: room.id, name: room.name, window: room.booking_window },
    booking: { id: booking.id, room_id: booking.room_id, start_time: booking.start_time, end_time: booking.end_time, status: booking.status },
    asked: { start_time: hour.start.toISOString(), end_time: hour.end.toISOString() },
    listedInMine: listed ? { id: listed.id, start_time: listed.start_time, end_time: listed.end_time } : null,
    seriesCount: series.data?.series.length ?? -1,
    closuresCount: closures.data?.closures.length ?? -1,
    policiesRole: policies.data?.role ?? null,
    scanAction: scan.data?.action ?? null,
    activeNow: stats.data?.stats.reservations.active ?? -1,
  }
}
