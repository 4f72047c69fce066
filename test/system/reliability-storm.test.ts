/**
 * Booking storm: two app processes (WORKERS=2) on one PostgreSQL database, 200 concurrent
 * clients, 10 rooms, 15 s of random overlapping bookings, reschedules (teachers) and
 * cancellations. Afterwards, in SQL: no two active reservations of a room overlap, every 201 has
 * its row and its audit row, every refused request left nothing behind, and nothing answered 5xx.
 *
 * Runs whenever a PostgreSQL server answers (TEST_DATABASE_URL, else the local one), in its own
 * database, so it runs in both passes of .ci/run. Rate limits are off (RATELIMIT_ENABLED=false):
 * this is a load test, and 200 clients from one IP would spend the global per-IP budget.
 */
import { setDefaultTimeout } from 'bun:test'
import { postgresServerUrl } from '../helpers/db'
import { stormSuite } from '../helpers/storm'

// test/setup.ts's preloaded timeout reaches only the first file of a run (oven-sh/bun#43787).
setDefaultTimeout(50_000)

// The suite (shared with pgbouncer-storm.test.ts, the same storm through PgBouncer): test/helpers/storm.ts.
stormSuite({ pg: await postgresServerUrl() })
