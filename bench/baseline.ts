/**
 * The raw baseline: a minimal Bun.serve handler for GET /api/rooms and GET /api/rooms/:id that
 * sends the app's SQL (the exact text Drizzle generates, checked by the bench before it
 * measures) through the same driver (postgres.js, unprepared, rows as arrays, as Drizzle does)
 * and writes the same JSON bytes by hand. No framework, no ORM, no schema validation: the
 * difference between the app and this is what Elysia, Drizzle and the app's plumbing cost.
 *
 * It reuses the app's pure free-slot function (business logic, not framework overhead). Owners'
 * names are shown as PUBLIC_USER_NAMES=full (the default, the bench's setting) shows them: the
 * owner's role and teacher_pending are read, as the app reads them, but change nothing.
 *
 *   DATABASE_URL=postgres://... PORT=8090 bun bench/baseline.ts
 *
 * Environment: DATABASE_URL (required), PORT, HOST (127.0.0.1), DB_POOL_SIZE (10, as the app),
 * SERVER_EXTERNAL_BASE and QR_BASE_URL (as the app, for qr_code_url), APP_TIMEZONE (UTC).
 */
import postgres from 'postgres'
import { freeSlots } from '../src/core/bookings/views/rooms'

const columns = `"rooms"."id", "rooms"."name", "rooms"."type", "rooms"."is_blocked", "rooms"."booking_start", "rooms"."booking_end", "rooms"."requires_check_in", "rooms"."series_require_check_in", "rooms"."check_in_opens_min", "rooms"."auto_release_after_min", "rooms"."check_in_proof", "current_reservation"."id", "current_reservation"."user_id", "current_reservation"."name", "current_reservation"."role", "current_reservation"."teacher_pending", "current_reservation"."end_time", "current_reservation"."check_in_required", "current_reservation"."checked_in_at", "next_reservation"."id", "next_reservation"."name", "next_reservation"."role", "next_reservation"."teacher_pending", "next_reservation"."start_time", "closure_now"."id", "closure_now"."kind", "closure_now"."reason", "closure_now"."start_time", "closure_now"."end_time", count(*) over ()`
const laterals = `left join lateral (select "reservations"."id", "reservations"."user_id", "users"."name", "users"."role", "users"."teacher_pending", "reservations"."end_time", "reservations"."check_in_required", "reservations"."checked_in_at" from "reservations" inner join "users" on "users"."id" = "reservations"."user_id" where ("reservations"."room_id" = "rooms"."id" and ("reservations"."status" = $1 and tstzrange("reservations"."start_time", "reservations"."end_time", '[)') @> $2::timestamptz) and "reservations"."approval" is distinct from 'pending') limit $3) "current_reservation" on true left join lateral (select "reservations"."id", "users"."name", "users"."role", "users"."teacher_pending", "reservations"."start_time" from "reservations" inner join "users" on "users"."id" = "reservations"."user_id" where ("reservations"."room_id" = "rooms"."id" and "reservations"."status" = $4 and "reservations"."start_time" > $5 and "reservations"."approval" is distinct from 'pending') order by "reservations"."start_time" asc limit $6) "next_reservation" on true left join lateral (select "id", "kind", "reason", "start_time", "end_time" from "closures" where (("closures"."all_rooms" or "rooms"."id" = any("closures"."room_ids")) and tstzrange("closures"."start_time", "closures"."end_time", '[)') @> $7::timestamptz) order by "closures"."end_time" asc limit $8) "closure_now" on true`

/** The SQL the app sends, verbatim (bench/run.ts compares it with what Drizzle sends). */
export const SQL = {
  roomList: `select ${columns} from "rooms" ${laterals} order by "rooms"."name" asc, "rooms"."id" asc`,
  oneRoom: `select ${columns} from "rooms" ${laterals} where "rooms"."id" in ($9) order by "rooms"."name" asc, "rooms"."id" asc`,
  schedule: `select "reservations"."id", "reservations"."user_id", "users"."name", "users"."role", "users"."teacher_pending", "reservations"."start_time", "reservations"."end_time", "reservations"."status", "reservations"."approval", "reservations"."check_in_required", "reservations"."checked_in_at" from "reservations" inner join "users" on "users"."id" = "reservations"."user_id" where "reservations"."room_id" = $1 order by "reservations"."start_time" asc, "reservations"."id" asc`,
  /** the closures of a room in the free-slot window (issue 15) */
  closures: `select "id", "all_rooms", "room_ids", "kind", "reason", "start_time", "end_time", "uid", "created_at", "updated_at" from "closures" where (("closures"."all_rooms" or $1 = any("closures"."room_ids")) and (tstzrange("closures"."start_time", "closures"."end_time", '[)') && tstzrange($2::timestamptz, $3::timestamptz, '[)') and "closures"."start_time" < $4 and "closures"."end_time" > $5)) order by "closures"."start_time" asc`,
}

/** Column positions in a row of the room queries (rows come as arrays, as Drizzle asks for them). */
const R = {
  id: 0, name: 1, type: 2, blocked: 3, windowStart: 4, windowEnd: 5, requiresCheckIn: 6, seriesCheckIn: 7, opensMin: 8, releaseMin: 9, proof: 10,
  curId: 11, curUserId: 12, curUserName: 13, curEnd: 16, curCheckInRequired: 17, curCheckedInAt: 18,
  nextId: 19, nextUserName: 20, nextStart: 23,
  closureId: 24, closureKind: 25, closureReason: 26, closureStart: 27, closureEnd: 28,
}
/** ... of the closures query: start and end. */
const C = { start: 5, end: 6 }
/** ... and of the schedule query. */
const S = { id: 0, userId: 1, userName: 2, start: 5, end: 6, status: 7, approval: 8, checkInRequired: 9, checkedInAt: 10 }

type Row = any[]

/** As the app's formatUtc: milliseconds only when there are some. */
function utc(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z')
}

/** "08:00:00" -> "08:00" (seconds kept when not zero), as the app shows a booking window. */
function timeOfDay(value: string | null): string | null {
  if (!value) return null
  return value.endsWith(':00') && value.length === 8 ? value.slice(0, 5) : value
}

export function startBaseline(env: Record<string, string | undefined> = process.env) {
  const url = env.DATABASE_URL
  if (!url?.startsWith('postgres')) throw new Error('DATABASE_URL must be a postgres:// URL')
  const sql = postgres(url, {
    max: Number(env.DB_POOL_SIZE ?? 10),
    connect_timeout: 5,
    idle_timeout: 60,
    onnotice: () => {},
  })
  const port = Number(env.PORT ?? 8090)
  const qrBase = env.QR_BASE_URL?.replace(/\/+$/, '')
  const externalBase = (env.SERVER_EXTERNAL_BASE ?? `http://localhost:${port}`).replace(/\/*$/, '/')
  const timeZone = env.APP_TIMEZONE ?? 'UTC'
  const qrUrl = (id: number) => (qrBase ? `${qrBase}/${id}.png` : `${externalBase}static/qr/${id}.png`)

  function roomParams(now: Date): unknown[] {
    const iso = now.toISOString()
    return ['active', iso, 1, 'active', iso, 1, iso, 1]
  }

  function roomJson(r: Row): string {
    const blocked = r[R.blocked] as boolean
    const current = r[R.curId] === null ? 'null'
      : `{"id":${r[R.curId]},"user_id":${r[R.curUserId]},"user_name":${JSON.stringify(r[R.curUserName])},"end_time":"${utc(r[R.curEnd])}",`
        + `"check_in_required":${r[R.curCheckInRequired]},"checked_in_at":${r[R.curCheckedInAt] === null ? 'null' : `"${utc(r[R.curCheckedInAt])}"`}}`
    const next = r[R.nextId] === null ? 'null'
      : `{"id":${r[R.nextId]},"start_time":"${utc(r[R.nextStart])}","user_name":${JSON.stringify(r[R.nextUserName])}}`
    const closure = r[R.closureId] === null ? 'null'
      : `{"id":${r[R.closureId]},"kind":"${r[R.closureKind]}","reason":${JSON.stringify(r[R.closureReason])},"start_time":"${utc(r[R.closureStart])}","end_time":"${utc(r[R.closureEnd])}"}`
    const status = blocked || r[R.closureId] !== null ? 'blocked' : r[R.curId] !== null ? 'occupied' : 'available'
    const start = timeOfDay(r[R.windowStart])
    const end = timeOfDay(r[R.windowEnd])
    return `{"id":${r[R.id]},"name":${JSON.stringify(r[R.name])},"type":"${r[R.type]}","is_blocked":${blocked},`
      + `"qr_code_url":${JSON.stringify(qrUrl(r[R.id]))},"status":"${status}","current_reservation":${current},`
      + `"next_reservation":${next},"booking_window":{"start":${start === null ? 'null' : `"${start}"`},"end":${end === null ? 'null' : `"${end}"`}},`
      + `"requires_check_in":${r[R.requiresCheckIn]},"check_in_opens_min":${r[R.opensMin]},"auto_release_after_min":${r[R.releaseMin]},`
      + `"check_in_proof":"${r[R.proof]}","series_require_check_in":${r[R.seriesCheckIn]},"closure":${closure}}`
  }

  const json = (body: string, status = 200) =>
    new Response(body, { status, headers: { 'content-type': 'application/json' } })

  async function listRooms(): Promise<Response> {
    const rows = await sql.unsafe(SQL.roomList, roomParams(new Date()) as any[], { prepare: false }).values()
    return json(`{"rooms":[${rows.map(roomJson).join(',')}]}`)
  }

  async function roomDetail(id: number): Promise<Response> {
    const now = new Date()
    const horizon = new Date(now.getTime() + 24 * 3600_000).toISOString()
    const [rooms, schedule, closed] = await Promise.all([
      sql.unsafe(SQL.oneRoom, [...roomParams(now), id] as any[], { prepare: false }).values(),
      sql.unsafe(SQL.schedule, [id], { prepare: false }).values(),
      sql.unsafe(SQL.closures, [id, now.toISOString(), horizon, horizon, now.toISOString()], { prepare: false }).values(),
    ])
    const room = rooms[0]
    if (!room) return json('{"msg":"room not found"}', 404)
    const nowMs = now.getTime()
    const busy: { start: Date; end: Date }[] = []
    const entries = schedule.map((s: Row) => {
      const stored = s[S.status] === 'active' && (s[S.end] as Date).getTime() <= nowMs ? 'finished' : s[S.status]
      if (stored === 'active') busy.push({ start: s[S.start], end: s[S.end] })
      // as the app reports it to others: a released no-show is cancelled, and why a booking ended is not said
      const status = stored === 'released' ? 'cancelled' : stored
      const approval = status === 'cancelled' ? null : s[S.approval]
      return `{"id":${s[S.id]},"user_id":${s[S.userId]},"user_name":${JSON.stringify(s[S.userName])},"start_time":"${utc(s[S.start])}",`
        + `"end_time":"${utc(s[S.end])}","status":"${status}","cancel_reason":null,`
        + `"approval":${approval === null ? 'null' : `"${approval}"`},"check_in_required":${s[S.checkInRequired]},`
        + `"checked_in_at":${s[S.checkedInAt] === null ? 'null' : `"${utc(s[S.checkedInAt])}"`}}`
    })
    for (const c of closed) busy.push({ start: c[C.start], end: c[C.end] })
    const slots = freeSlots(busy, { start: timeOfDay(room[R.windowStart]), end: timeOfDay(room[R.windowEnd]) }, now, timeZone)
    return json(`{"room":${roomJson(room)},"schedule":[${entries.join(',')}],"free_slots":${JSON.stringify(slots)}}`)
  }

  const server = Bun.serve({
    port,
    hostname: env.HOST ?? '127.0.0.1',
    async fetch(request) {
      const path = new URL(request.url).pathname
      if (request.method !== 'GET') return json('{"msg":"not found"}', 404)
      if (path === '/api/rooms') return listRooms()
      const match = /^\/api\/rooms\/(\d{1,9})$/.exec(path)
      if (match) return roomDetail(Number(match[1]))
      if (path === '/health') return json('{"status":"healthy"}')
      return json('{"msg":"not found"}', 404)
    },
    error(error) {
      console.error(error)
      return json('{"msg":"internal server error"}', 500)
    },
  })
  return {
    server,
    async stop() {
      await server.stop(true)
      await sql.end({ timeout: 5 })
    },
  }
}

if (import.meta.main) {
  const running = startBaseline()
  console.log(JSON.stringify({ msg: 'listening', url: running.server.url.href, pid: process.pid }))
  const stop = () => void running.stop().then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}
