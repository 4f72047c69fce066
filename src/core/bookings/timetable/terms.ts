/** Academic terms (issue 15): named date ranges a series may run until (until_term). */
import { asc } from 'drizzle-orm'
import { pgErrorCode } from '../../../db/client'
import { terms, type Term } from '../../../db/schema'
import { BadRequest, Conflict } from '../../../lib/errors'
import { normalizeName } from '../../../lib/names'
import { formatUtc } from '../../../lib/time'
import { CLOSURE_MSG } from '../messages'
import type { ActingUser, ReservationDeps } from '../reservations/writes'
import { recordChange, writeTransaction } from '../../changes'

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** A calendar date "YYYY-MM-DD" that exists, else 400 naming the field. */
export function parseDate(raw: unknown, field: string): string {
  const m = typeof raw === 'string' ? DATE.exec(raw.trim()) : null
  if (!m) throw new BadRequest(CLOSURE_MSG.badDate(field))
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  if (date.getUTCDate() !== Number(m[3]) || date.getUTCMonth() !== Number(m[2]) - 1) throw new BadRequest(CLOSURE_MSG.badDate(field))
  return m[0]
}

function termView(row: Term) {
  return { id: row.id, name: row.name, starts_on: row.startsOn, ends_on: row.endsOn, created_at: formatUtc(row.createdAt) }
}

/** POST /admin/terms */
export async function createTerm(deps: ReservationDeps, actor: ActingUser, input: { name?: unknown; starts_on?: unknown; ends_on?: unknown }) {
  const name = normalizeName(input.name, 100)
  const startsOn = parseDate(input.starts_on, 'starts_on')
  const endsOn = parseDate(input.ends_on, 'ends_on')
  if (startsOn > endsOn) throw new BadRequest(CLOSURE_MSG.badDateOrder)
  const now = deps.clock.now()
  try {
    return await writeTransaction(deps.database, async (tx) => {
      const [row] = await tx.insert(terms).values({ name, startsOn, endsOn, createdAt: now, updatedAt: now }).returning() as [Term]
      recordChange(tx, {
        at: now, actorId: actor.id, event: 'term.created', description: `${actor.name} added the term ${name} (${startsOn} - ${endsOn})`,
        data: { term_id: row.id, name, starts_on: startsOn, ends_on: endsOn },
      })
      return { term: termView(row) }
    })
  } catch (error) {
    if (pgErrorCode(error) === '23505') throw new Conflict(CLOSURE_MSG.termExists)
    throw error
  }
}

/** GET /admin/terms */
export async function listTerms(deps: ReservationDeps) {
  const rows = await deps.database.db.select().from(terms).orderBy(asc(terms.startsOn), asc(terms.id))
  return { terms: rows.map(termView) }
}
