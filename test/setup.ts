/**
 * Preloaded once before the test files (bunfig.toml). It checks the variables that change what the
 * tests do, so a typo fails at once instead of silently testing something else:
 * - TEST_CLOCK_YEAR moves the fixed clocks of the time-dependent files (test/helpers/clock.ts);
 * - TEST_DATABASE_URL runs every file on that PostgreSQL server instead of PGlite.
 * Timeouts are not set here: `setDefaultTimeout` in a preload reaches only the first file run
 * (checked on Bun 1.4.5), so the slow files call `setDefaultTimeout(30_000)` themselves.
 */
import { clockShiftMs } from './helpers/clock'

clockShiftMs('2030-01-01T00:00:00Z') // throws on a TEST_CLOCK_YEAR that is not a year
const url = process.env.TEST_DATABASE_URL
if (url && !/^postgres(ql)?:\/\//.test(url)) throw new Error(`TEST_DATABASE_URL must be a postgres:// URL (got ${url})`)
