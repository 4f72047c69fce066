/**
 * Test time that can be moved: TEST_CLOCK_YEAR=2020 (or 2035, ...) shifts every instant a test
 * file writes through shifted() into that year, by whole weeks (weekdays and UTC times of day
 * stay as written). CI runs the time-dependent files again with it, to prove that no rule
 * depends on the wall-clock date, only on the injected clock.
 */
const WEEK_MS = 7 * 24 * 3600_000

/** The shift (ms, whole weeks) that moves `anchor` into TEST_CLOCK_YEAR; 0 when it is unset. */
export function clockShiftMs(anchor: string, targetYear = process.env.TEST_CLOCK_YEAR): number {
  if (!targetYear) return 0
  const year = Number(targetYear)
  if (!Number.isInteger(year) || year < 1971 || year > 2200) throw new Error(`TEST_CLOCK_YEAR: not a year: ${targetYear}`)
  const from = new Date(anchor)
  const to = new Date(from)
  to.setUTCFullYear(year)
  return Math.round((to.getTime() - from.getTime()) / WEEK_MS) * WEEK_MS
}

/**
 * shifted(iso) for one test file, anchored at its clock's start: returns the instant moved by
 * the file's shift, formatted as written (with ".000Z" only when the input had milliseconds).
 */
export function timeShifter(anchor: string): (iso: string) => string {
  const shift = clockShiftMs(anchor)
  return (iso: string) => {
    if (shift === 0) return iso
    const moved = new Date(Date.parse(iso) + shift).toISOString()
    return /\.\d{3}Z$/.test(iso) ? moved : moved.replace(/\.\d{3}Z$/, 'Z')
  }
}
