/**
 * The raw booking baseline (issue 29): `POST /api/rooms/:id/reserve` by hand, with the same
 * guarantees as the app's booking (src/core/bookings/reservations/writes.ts createReservation for a
 * plain student, BOOKING policy) and nothing else: no framework, no ORM, no schema validation.
 *
 * The same guarantees, in the same order and lock order (docs/architecture.md "Locks"):
 * - the access token (cookie) checked with jose as the app does, and the CSRF header against it;
 *   the user is not read (the app's actor cache answers from memory too);
 * - time range, past, horizon and length (the app's pure checkBookingLimits);
 * - in one transaction: the room row locked FOR NO KEY UPDATE, then read behind it: the closures
 *   overlapping the slot, the owner's fair-use facts (the app's own query: effective role, rules of
 *   their role for the room, no-show starts when NO_SHOW_STRIKES > 0), the pending bookings due to
 *   expire and the no-shows due for release (FOR UPDATE SKIP LOCKED), who holds the slot, and the
 *   new booking's id; then room type, block and daily window (the app's pure checks), a closure
 *   409, suspension 403; releases (then the holders are asked again); a holder 409 with held_by;
 * - the insert, then the change record's row under the same transaction-level advisory lock as
 *   src/core/changes/record.ts, then COMMIT.
 * It waits for PostgreSQL twice: BEGIN and the reads go in one flight on a reserved connection,
 * the two inserts and COMMIT in the next (the least a booking whose checks run in the app can do).
 * It is the yardstick for the app: bench/bookings.ts runs both alternately.
 *
 *   DATABASE_URL=postgres://... JWT_SECRET_KEY=... PORT=8091 bun bench/baseline-booking.ts
 *
 * Environment: DATABASE_URL, JWT_SECRET_KEY (required), PORT, HOST, DB_POOL_SIZE (10),
 * BOOKING_HORIZON_DAYS, STUDENT_MAX_BOOKING_HOURS, NO_SHOW_* and APP_TIMEZONE as the app reads them.
 */
import { jwtVerify } from 'jose'
import postgres from 'postgres'
import { loadConfig } from '../src/config'
import { checkBookingLimits, checkBookingWindow, checkNotPast } from '../src/core/bookings/reservations/writes'
import { reservationJson } from '../src/core/bookings/views/status'
import { formatUtc } from '../src/lib/time'
import { HttpError } from '../src/lib/errors'

/** record.ts's CHANGE_LOCK_KEY */
const CHANGE_LOCK_KEY = 0x51524348
const DAY = 24 * 3600_000

export function startBookingBaseline(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(env as Record<string, string>)
  const url = env.DATABASE_URL!
  const sql = postgres(url, { max: Number(env.DB_POOL_SIZE ?? 10), connect_timeout: 5, idle_timeout: 60, onnotice: () => {} })
  const key = new TextEncoder().encode(config.jwtSecretKey)
  const json = (body: unknown, status: number) => Response.json(body, { status })
  const fail = (status: number, msg: string, extra: Record<string, unknown> = {}) => json({ msg, ...extra }, status)

  async function reserve(request: Request, roomId: number): Promise<Response> {
    const token = /(?:^|;\s*)access_token_cookie=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1]
    if (!token) return fail(401, 'Missing access token')
    let claims: { sub?: string; csrf?: unknown; type?: unknown }
    try {
      ;({ payload: claims } = await jwtVerify(token, key, { algorithms: ['HS256'] }))
    } catch {
      return fail(401, 'Token is invalid')
    }
    if (claims.type !== 'access' || request.headers.get('x-csrf-token') !== claims.csrf) return fail(401, 'CSRF token missing or incorrect')
    const userId = Number(claims.sub)
    const body = (await request.json().catch(() => null)) as { start_time?: string; end_time?: string } | null
    const start = new Date(body?.start_time ?? '')
    const end = new Date(body?.end_time ?? '')
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return fail(400, 'Invalid date format')
    if (start >= end) return fail(400, 'End time must be after start time')
    const now = new Date()
    try {
      checkNotPast(start, now)
      checkBookingLimits(config, 'student', start, end, now)
    } catch (error) {
      return fail((error as HttpError).status, (error as Error).message)
    }
    const startIso = start.toISOString()
    const endIso = end.toISOString()
    const nowIso = now.toISOString()
    const withNoShows = config.noShowStrikes > 0
    const lookBack = new Date(now.getTime() - (config.noShowWindowDays + config.noShowSuspensionDays) * DAY).toISOString()

    const conn = await sql.reserve()
    const q = (text: string, params: unknown[] = []) => conn.unsafe(text, params as never[], { prepare: false })
    try {
      // Flight 1: BEGIN and every read, behind the room's lock (executed in order on the connection).
      const reads = [
        q('begin'),
        q('select id, name, type, is_blocked, booking_start, booking_end, requires_check_in from rooms where id = $1 for no key update', [roomId]),
        q(`select id from closures where (all_rooms or $1 = any(room_ids)) and start_time < $2 and end_time > $3 order by start_time limit 1`, [roomId, endIso, startIso]),
        q(`select e.role, coalesce((select json_agg(p order by p.id) from booking_policies p where p.role = e.role and (p.room_id is null or p.room_id = $1)
              and (p.room_type is null or p.room_type = (select type from rooms where id = $1))), '[]') as rules,
            case when $2 then (select json_agg(extract(epoch from r.start_time) * 1000 order by r.start_time) from reservations r
              where r.user_id = u.id and r.status = 'released' and r.set_by_owner and r.start_time <= $3::timestamptz
                and r.start_time > greatest($4::timestamptz, coalesce(u.no_shows_cleared_at, '-infinity'))) end as no_shows
          from users u cross join lateral (select case when u.role = 'teacher' and u.teacher_pending then 'student'::user_role else u.role end as role) e
          where u.id = $5`, [roomId, withNoShows, nowIso, lookBack, userId]),
        q(`select id from reservations where approval = 'pending' and status = 'active' and start_time <= $1 and room_id = $2 order by id for update skip locked`, [nowIso, roomId]),
        q(`select r.id from reservations r join rooms m on m.id = r.room_id where r.status = 'active' and r.check_in_required and r.checked_in_at is null
            and m.requires_check_in and r.room_id = $1 and r.start_time <= $2
            and (r.start_time + m.auto_release_after_min * interval '1 minute' <= $2::timestamptz or r.end_time <= $2) order by r.id for update of r skip locked`, [roomId, nowIso]),
        q(holdersSql, [roomId, endIso, startIso]),
        q(`select nextval(pg_get_serial_sequence('reservations', 'id')) as id`),
      ]
      for (const r of reads) r.catch(() => {})
      const [, rooms, closures, facts, expiring, due, heldBefore, ids] = (await Promise.all(reads)) as postgres.Row[][] as [postgres.Row[], postgres.Row[], postgres.Row[], postgres.Row[], postgres.Row[], postgres.Row[], postgres.Row[], postgres.Row[]]
      const room = rooms[0]
      if (!room) return await rollback(fail(404, 'Room not found'))
      if (room.type !== 'public') return await rollback(fail(403, 'Room is not available for booking'))
      if (room.is_blocked) return await rollback(fail(409, 'Room is blocked'))
      try {
        checkBookingWindow({ bookingStart: room.booking_start, bookingEnd: room.booking_end }, start, end, config.appTimezone)
      } catch (error) {
        return await rollback(fail(400, (error as Error).message))
      }
      if (closures.length) return await rollback(fail(409, 'room is closed'))
      if (facts[0]?.rules?.length) throw new Error('the baseline books for a student without booking policies only')
      if (withNoShows && (facts[0]?.no_shows?.length ?? 0) >= config.noShowStrikes) throw new Error('the baseline books for a student without no-shows only')
      let holders = heldBefore
      if (expiring.length || due.length) {
        // Rare (a due no-show or an expired pending booking in this room): give them back, ask again.
        if (expiring.length) await q(`update reservations set status = 'cancelled', approval = 'rejected', cancel_reason = 'not_approved', cancelled_at = $1, updated_at = $1 where id = any($2::int[])`, [nowIso, `{${expiring.map((r) => r.id).join(',')}}`])
        if (due.length) await q(`update reservations set status = 'released', updated_at = $1 where id = any($2::int[]) and status = 'active' and checked_in_at is null`, [nowIso, `{${due.map((r) => r.id).join(',')}}`])
        holders = await q(holdersSql, [roomId, endIso, startIso])
      }
      if (holders.length) {
        return await rollback(fail(409, 'Reservation conflicts with existing booking', {
          held_by: holders.map((h) => ({ id: h.id, user_name: h.name, start_time: formatUtc(h.start_time), end_time: formatUtc(h.end_time) })),
        }))
      }
      // Flight 2: the booking, its change record (under the change lock), COMMIT.
      const id = Number(ids[0]!.id)
      const change = [{
        event: 'reservation.created', actor_id: userId, room_ids: [roomId], all_rooms: false, user_ids: [userId],
        description: `user reserved ${room.name} from ${formatUtc(start)} to ${formatUtc(end)}`,
        data: { reservation_id: id, room_id: roomId, room_name: room.name, user_id: userId, start_time: formatUtc(start), end_time: formatUtc(end) },
        at: nowIso,
      }]
      const writes = [
        q(`insert into reservations (id, room_id, user_id, start_time, end_time, status, check_in_required, checked_in_at, approval, set_by_owner, created_at, updated_at)
            values ($1, $2, $3, $4, $5, 'active', $6, null, null, true, $7, $7) returning id, start_time, end_time, status, check_in_required, checked_in_at`,
          [id, roomId, userId, startIso, endIso, room.requires_check_in, nowIso]),
        q(`with change_lock as (select pg_advisory_xact_lock($1))
            insert into changes (position, event, actor_id, room_ids, all_rooms, user_ids, description, data, at)
            select nextval('changes_position_seq'), c.event, c.actor_id, c.room_ids, c.all_rooms, c.user_ids, c.description, c.data, c.at
            from change_lock, json_to_recordset($2::text::json)
              as c(event text, actor_id integer, room_ids integer[], all_rooms boolean, user_ids integer[], description text, data jsonb, at timestamptz)
            returning position`, [CHANGE_LOCK_KEY, JSON.stringify(change)]),
        q('commit'),
      ]
      for (const w of writes) w.catch(() => {})
      const settled = await Promise.allSettled(writes)
      const failed = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined
      if (failed) {
        // the server answered COMMIT of a failed transaction with ROLLBACK: nothing was kept
        if ((failed.reason as { code?: string }).code === '23P01') return fail(409, 'Reservation conflicts with existing booking')
        throw failed.reason
      }
      const row = (settled[0] as PromiseFulfilledResult<postgres.Row[]>).value[0]!
      return json({
        reservation: reservationJson({
          id, startTime: row.start_time, endTime: row.end_time, status: row.status, checkInRequired: row.check_in_required, checkedInAt: row.checked_in_at, approval: null,
        }, { id: roomId, name: room.name }, now),
      }, 201)
    } catch (error) {
      await q('rollback').catch(() => {})
      throw error
    } finally {
      conn.release()
    }

    async function rollback(response: Response): Promise<Response> {
      await q('rollback')
      return response
    }
  }

  const holdersSql = `select r.id, u.name, r.start_time, r.end_time from reservations r join users u on u.id = r.user_id
    where r.room_id = $1 and r.status = 'active' and r.start_time < $2 and r.end_time > $3 order by r.start_time`

  const server = Bun.serve({
    port: Number(env.PORT ?? 8091),
    hostname: env.HOST ?? '127.0.0.1',
    async fetch(request) {
      const path = new URL(request.url).pathname
      if (path === '/health') return json({ status: 'healthy' }, 200)
      const match = /^\/api\/rooms\/(\d{1,9})\/reserve$/.exec(path)
      if (match && request.method === 'POST') return reserve(request, Number(match[1]))
      return fail(404, 'not found')
    },
    error(error) {
      console.error(error)
      return fail(500, 'internal server error')
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
  const running = startBookingBaseline()
  console.log(JSON.stringify({ msg: 'listening', url: running.server.url.href, pid: process.pid }))
  const stop = () => void running.stop().then(() => process.exit(0))
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}
