/**
 * A frontend developer's client of the QRBOOK API, typed from the published document alone:
 *   bunx openapi-typescript openapi.json -o schema.d.ts   (or from a server's /swagger/json)
 * with openapi-fetch over the generated `paths`. It calls one route of every tag and books a room.
 * No casts, no `any`, no non-null assertions: test/system/typed-clients.test.ts type-checks it
 * (tsc, strict) against the types generated from a live server's document, runs it against that
 * server and scans it for those escapes. `./schema` is that generated file (not in the repository).
 */
import createClient from 'openapi-fetch'
import type { paths } from './schema'
import { pickHour } from './free-hour'

export async function openapiTour(baseUrl: string, accounts = { student: 'student1234', admin: 'admin1234' }) {
  const statuses: Record<string, number> = {}
  const api = createClient<paths>({ baseUrl })

  // auth
  const login = await api.POST('/api/auth/login', { body: { username: 'student', password: accounts.student } })
  statuses.login = login.response.status
  if (!login.data) throw new Error(`login failed: ${login.response.status} ${login.error?.msg}`)
  const student = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${login.data.access_token}` } })

  // rooms: the list, one room's detail, and an hour booked in one of its free slots
  const rooms = await api.GET('/api/rooms')
  statuses.rooms = rooms.response.status
  // the first room a student may book (admin and service rooms are not theirs)
  const room = rooms.data?.rooms.find((r) => r.type === 'public' && !r.is_blocked)
  if (!room) throw new Error('no public room listed')
  const detail = await api.GET('/api/rooms/{id}', { params: { path: { id: room.id } } })
  statuses.room = detail.response.status
  if (!detail.data) throw new Error(`room ${room.id}: ${detail.error?.msg}`)
  const hour = pickHour(detail.data.free_slots, Date.now())
  if (!hour) throw new Error(`room ${room.name} has no free hour in the next day`)
  const reserved = await student.POST('/api/rooms/{id}/reserve', {
    params: { path: { id: room.id } },
    body: { start_time: hour.start.toISOString(), end_time: hour.end.toISOString() },
  })
  statuses.reserve = reserved.response.status
  if (!reserved.data) throw new Error(`booking failed: ${reserved.error?.msg}`)
  const booking = reserved.data.reservation

  // reservations
  const mine = await student.GET('/api/reservations/mine')
  statuses.mine = mine.response.status
  const listed = mine.data?.reservations.find((r) => r.id === booking.id)

  // series, closures, policies
  const series = await student.GET('/api/series')
  statuses.series = series.response.status
  const closures = await api.GET('/api/closures', { params: { query: { room_id: room.id } } })
  statuses.closures = closures.response.status
  const policies = await student.GET('/api/policies/me')
  statuses.policies = policies.response.status

  // scan: what the room's QR code opens, without a key
  const scan = await api.GET('/api/scan/{id}', { params: { path: { id: room.id } } })
  statuses.scan = scan.response.status

  // admin
  const adminLogin = await api.POST('/api/auth/login', { body: { username: 'admin', password: accounts.admin } })
  if (!adminLogin.data) throw new Error(`admin login failed: ${adminLogin.error?.msg}`)
  const admin = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${adminLogin.data.access_token}` } })
  const stats = await admin.GET('/api/admin/stats')
  statuses.stats = stats.response.status

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
