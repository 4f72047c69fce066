/**
 * The benchmark's dataset on its own PostgreSQL database: the app's migrations and first-start
 * seed (the four guide accounts, four rooms, three reservations), then bulk SQL for the rest:
 * 200 rooms in all, 2,000 more users, 100,000 reservations over a term of about four months
 * around now (past, current and future; about 10% cancelled). No two active reservations of a
 * room overlap: the database's exclusion constraint would refuse them.
 */
import postgres from 'postgres'
import { createDb } from '../src/db/client'
import { migrate } from '../src/db/migrate'
import { seed } from '../src/db/seed'
import { systemClock } from '../src/lib/clock'
import { DEFAULT_PASSWORD_HASH_COST, hashPassword } from '../src/lib/passwords'

export const BENCH_USERS = 2000
export const BENCH_ROOMS_TOTAL = 200
export const RESERVATIONS_PER_ROOM = 500
/** Every bench user (user0001 ... user2000) has this password. */
export const BENCH_PASSWORD = 'bench-password-1234'
/** Reservations sit on a grid of 6-hour blocks (1 to 4 hours used), so they never overlap. */
const BLOCK_HOURS = 6
/** The term starts this many days before now (500 blocks of 6 h = 125 days). */
const TERM_DAYS_BEFORE = 62

export interface DatasetInfo {
  users: number
  rooms: number
  reservations: number
  activeReservations: number
  cancelledReservations: number
  seconds: number
}

export async function buildDataset(url: string): Promise<DatasetInfo> {
  const started = performance.now()
  const database = await createDb({ kind: 'postgres', url })
  try {
    await migrate(database)
    await seed(database.db, systemClock)
  } finally {
    await database.close()
  }

  // One real argon2id hash (the app's parameters) shared by every bench user: hashing 2,000
  // passwords one by one would take minutes and measure nothing.
  const hash = await hashPassword(BENCH_PASSWORD, DEFAULT_PASSWORD_HASH_COST)
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await sql.begin(async (tx) => {
      await tx`
        insert into users (name, password_hash, role, password_changed_at, created_at, updated_at)
        select 'user' || lpad(i::text, 4, '0'), ${hash},
               (case when i % 10 = 0 then 'teacher' else 'student' end)::user_role, now(), now(), now()
        from generate_series(1, ${BENCH_USERS}::int) as i`

      const { n: seededRooms } = (await tx`select count(*)::int as n from rooms`)[0]!
      // Mostly public rooms (which require a check-in, as new public rooms do); every 20th
      // admin-only, every 20th service; 4 blocked; a quarter with a daily booking window of
      // 08:00-20:00 (APP_TIMEZONE, UTC by default).
      await tx`
        insert into rooms (name, type, is_blocked, booking_start, booking_end, requires_check_in, created_at, updated_at)
        select 'R' || lpad(i::text, 3, '0'), t.type, i % 50 = 25,
               case when i % 4 = 1 then time '08:00' end,
               case when i % 4 = 1 then time '20:00' end,
               t.type = 'public', now(), now()
        from generate_series(1, ${BENCH_ROOMS_TOTAL - seededRooms}::int) as i
        cross join lateral (select (case when i % 20 = 0 then 'admin' when i % 20 = 10 then 'service' else 'public' end)::room_type as type) as t`

      // 500 reservations per room on a 6-hour grid from ~62 days ago, shifted 0-5 h per room,
      // 1-4 h long; ~10% cancelled, the past ones finished (as the app's sweeper leaves them).
      // They were booked before their rooms required a check-in (check_in_required false), so
      // none is released during the run. ON CONFLICT DO NOTHING skips the few grid cells that
      // would overlap the seed's own reservations (the exclusion constraint decides).
      await tx`
        insert into reservations (room_id, user_id, start_time, end_time, status, created_at, updated_at)
        select r.id,
               u.first + ((r.id * 1009 + k * 7919) % ${BENCH_USERS}::int),
               g.start,
               g.start + make_interval(hours => 1 + (r.id * 7 + k * 13) % 4),
               (case when (r.id * 31 + k * 17) % 10 = 0 then 'cancelled'
                     when g.start + make_interval(hours => 1 + (r.id * 7 + k * 13) % 4) <= now() then 'finished'
                     else 'active' end)::reservation_status,
               g.start - interval '3 days', g.start - interval '3 days'
        from rooms r
        cross join generate_series(0, ${RESERVATIONS_PER_ROOM - 1}::int) as k
        cross join (select min(id) as first from users where name like 'user%') as u
        cross join lateral (
          select date_trunc('hour', now()) - make_interval(days => ${TERM_DAYS_BEFORE}::int)
                 + make_interval(hours => ${BLOCK_HOURS}::int * k + r.id % 6) as start
        ) as g
        on conflict do nothing`
    })
    await sql`vacuum analyze`
    const [counts] = await sql`
      select (select count(*)::int from users) as users,
             (select count(*)::int from rooms) as rooms,
             (select count(*)::int from reservations) as reservations,
             (select count(*)::int from reservations where status in ('active', 'finished')) as active,
             (select count(*)::int from reservations where status = 'cancelled') as cancelled`
    return {
      users: counts!.users,
      rooms: counts!.rooms,
      reservations: counts!.reservations,
      activeReservations: counts!.active,
      cancelledReservations: counts!.cancelled,
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** Rooms a student may book at any hour: public, not blocked, no daily window. */
export async function bookableRoomIds(url: string): Promise<number[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const rows = await sql`
      select id from rooms
      where type = 'public' and not is_blocked and booking_start is null and booking_end is null
      order by id`
    return rows.map((r) => r.id as number)
  } finally {
    await sql.end({ timeout: 5 })
  }
}
