/**
 * The timetable import benchmark (issue 15): a realistic term, 40 rooms x 30 lessons a week x
 * 17 weeks (about 20,000 occurrences), generated as CSV and imported through the real route of a
 * started app on PostgreSQL: first as a dry run, then for real. Both must report the same counts;
 * the target is under 20 s for the import.
 */
import postgres from 'postgres'
import { fmt } from './lib'

export const TIMETABLE_TARGET = { importSeconds: 20 }
const ROOMS = 40
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri']
/** Six 90-minute lessons a day with 10-minute breaks: 30 a week per room. */
const SLOTS = ['08:00-09:30', '09:40-11:10', '11:20-12:50', '13:30-15:00', '15:10-16:40', '16:50-18:20']
const WEEKS = 17

export interface TimetableResult {
  rows: number
  occurrences: number
  dryRunSeconds: number
  importSeconds: number
  sameCounts: boolean
  met: boolean
  markdown: string
}

interface Totals { rows: number; series: number; occurrences: number; created: number; conflicts: number; errors: number }

/** A dry run's totals say would_create where the import's say created (issue 26): compared under the import's names. */
const IMPORT_WORDS: Record<string, string> = { would_create: 'created', would_update: 'updated', would_cancel: 'cancelled' }
const inImportWords = (totals: Totals): Totals =>
  Object.fromEntries(Object.entries(totals).map(([name, n]) => [IMPORT_WORDS[name] ?? name, n])) as unknown as Totals

const day = (date: Date) => date.toISOString().slice(0, 10)

/** Rooms TT01..TT40 and teachers tt_teacher01..40 (the admin's password hash: nobody logs in as them). */
async function prepare(databaseUrl: string): Promise<void> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  try {
    const [{ hash }] = await sql`select password_hash as hash from users where name = 'admin'` as [{ hash: string }]
    const now = new Date()
    for (let i = 1; i <= ROOMS; i++) {
      const n = String(i).padStart(2, '0')
      await sql`insert into rooms (name, type, requires_check_in, created_at, updated_at) values (${`TT${n}`}, 'public', false, ${now}, ${now}) on conflict do nothing`
      await sql`insert into users (name, name_key, password_hash, role, password_changed_at, created_at, updated_at)
        values (${`tt_teacher${n}`}, ${`tt_teacher${n}`}, ${hash}, 'teacher', ${now}, ${now}, ${now}) on conflict do nothing`
    }
  } finally {
    await sql.end()
  }
}

/** The CSV: every room, every weekday, every slot, for 17 weeks from the Monday after next. */
function termCsv(): { csv: string; rows: number } {
  const today = new Date()
  const monday = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 7 + ((8 - today.getUTCDay()) % 7)))
  const until = new Date(monday.getTime() + (WEEKS * 7 - 1) * 24 * 3600_000)
  const lines = ['room,teacher,weekday,start,end,from,until,title']
  for (let r = 1; r <= ROOMS; r++) {
    const n = String(r).padStart(2, '0')
    for (const weekday of WEEKDAYS) for (const [s, slot] of SLOTS.entries()) {
      const [start, end] = slot.split('-')
      lines.push(`TT${n},tt_teacher${n},${weekday},${start},${end},${day(monday)},${day(until)},Course ${n}-${weekday}-${s + 1}`)
    }
  }
  return { csv: lines.join('\n'), rows: lines.length - 1 }
}

async function importOnce(base: string, token: string, csv: string, dryRun: boolean) {
  const started = performance.now()
  const response = await fetch(`${base}/api/admin/timetable/import${dryRun ? '?dry_run=1' : ''}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' }, body: csv,
  })
  const seconds = (performance.now() - started) / 1000
  const body = await response.json() as { totals?: Totals; msg?: string }
  if (response.status !== (dryRun ? 200 : 201)) throw new Error(`timetable import${dryRun ? ' (dry run)' : ''}: ${response.status} ${body.msg ?? ''}`)
  return { seconds, totals: inImportWords(body.totals!) }
}

/** Runs the section against a started app (`base`) on `databaseUrl`, logged in as admin with `token`. */
export async function runTimetableImport(databaseUrl: string, base: string, token: string): Promise<TimetableResult> {
  await prepare(databaseUrl)
  const { csv, rows } = termCsv()
  const dry = await importOnce(base, token, csv, true)
  const real = await importOnce(base, token, csv, false)
  const sameCounts = JSON.stringify(dry.totals) === JSON.stringify(real.totals)
  const met = sameCounts && real.seconds < TIMETABLE_TARGET.importSeconds && real.totals.errors === 0 && real.totals.conflicts === 0
  const markdown = `Timetable import (\`POST /api/admin/timetable/import\`, PostgreSQL): ${ROOMS} rooms x ${WEEKDAYS.length * SLOTS.length} lessons a week x ${WEEKS} weeks = `
    + `${fmt(rows)} CSV rows, ${fmt(real.totals.occurrences)} occurrences: dry run ${dry.seconds.toFixed(1)} s, import ${real.seconds.toFixed(1)} s `
    + `(target < ${TIMETABLE_TARGET.importSeconds} s ${met ? 'met' : 'MISSED'}); dry run and import report ${sameCounts ? 'the same counts' : 'DIFFERENT counts'} `
    + `(${fmt(real.totals.series)} series, ${fmt(real.totals.created)} bookings created).`
  return { rows, occurrences: real.totals.occurrences, dryRunSeconds: dry.seconds, importSeconds: real.seconds, sameCounts, met, markdown }
}
