/**
 * The booking storm (test/helpers/storm.ts: WORKERS=2, 200 clients, 10 rooms, 15 s; 0 overlaps,
 * 0 lost acknowledged bookings, no 5xx) through PgBouncer in transaction mode: DATABASE_URL goes
 * through a pgbouncer this test starts (8 server connections for the workers' 20 client ones),
 * DATABASE_DIRECT_URL to PostgreSQL for the LISTEN connections and the start-up lock. Skipped
 * without PostgreSQL or without pgbouncer (apt-get install -y pgbouncer).
 */
import { setDefaultTimeout } from 'bun:test'
import { postgresServerUrl } from '../helpers/db'
import { stormSuite } from '../helpers/storm'

// test/setup.ts's preloaded timeout reaches only the first file of a run (oven-sh/bun#43787).
setDefaultTimeout(50_000)

stormSuite({ pg: await postgresServerUrl(), pgbouncer: true })
