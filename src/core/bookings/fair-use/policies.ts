/**
 * Booking policies (issue 16): the fair-use rules an admin sets per role, optionally narrowed to a
 * room type or one room. This file owns the rules themselves: reading, writing (audited), which
 * rules match a booking, and the recommended set for a college. The checks a booking must pass
 * live in fair-use.ts.
 */
import { asc, eq } from 'drizzle-orm'
import type { Database, Executor } from '../../../db/client'
import { pgConstraint, pgErrorCode } from '../../../db/client'
import { bookingPolicies, type BookingPolicy, type RoomType, type UserRole } from '../../../db/schema'
import type { Clock } from '../../../lib/clock'
import { BadRequest, NotFound } from '../../../lib/errors'
import { formatUtc } from '../../../lib/time'
import { POLICY_MSG, ROOM_MSG } from '../messages'
import { recordChange, writeTransaction } from '../../changes'

/** The limits of a rule, by their API names; null = no limit. */
export const LIMIT_FIELDS = [
  'max_duration_min', 'min_notice_min', 'max_advance_days', 'max_active', 'max_minutes_per_week', 'slot_granularity_min',
] as const
export type LimitField = (typeof LIMIT_FIELDS)[number]

const COLUMN: Record<LimitField, keyof BookingPolicy> = {
  max_duration_min: 'maxDurationMin',
  min_notice_min: 'minNoticeMin',
  max_advance_days: 'maxAdvanceDays',
  max_active: 'maxActive',
  max_minutes_per_week: 'maxMinutesPerWeek',
  slot_granularity_min: 'slotGranularityMin',
}

export const limitOf = (rule: BookingPolicy, field: LimitField) => rule[COLUMN[field]] as number | null

/** A rule as the API answers it. */
export function policyView(rule: BookingPolicy) {
  return {
    id: rule.id,
    role: rule.role,
    room_type: rule.roomType,
    room_id: rule.roomId,
    max_duration_min: rule.maxDurationMin,
    min_notice_min: rule.minNoticeMin,
    max_advance_days: rule.maxAdvanceDays,
    max_active: rule.maxActive,
    max_minutes_per_week: rule.maxMinutesPerWeek,
    slot_granularity_min: rule.slotGranularityMin,
    requires_approval: rule.requiresApproval,
    note: rule.note,
    created_at: formatUtc(rule.createdAt),
    updated_at: formatUtc(rule.updatedAt),
  }
}
export type PolicyView = ReturnType<typeof policyView>

/** Every rule of a role (all scopes), for GET /policies/me. */
export function policiesOfRole(executor: Executor, role: UserRole): Promise<BookingPolicy[]> {
  return executor.select().from(bookingPolicies).where(eq(bookingPolicies.role, role)).orderBy(asc(bookingPolicies.id))
}

/** A rule without a room type or room applies in every room. */
export const appliesEverywhere = (rule: BookingPolicy) => rule.roomType === null && rule.roomId === null

export interface PolicyInput {
  role?: UserRole
  room_type?: RoomType | null
  room_id?: number | null
  max_duration_min?: number | null
  min_notice_min?: number | null
  max_advance_days?: number | null
  max_active?: number | null
  max_minutes_per_week?: number | null
  slot_granularity_min?: number | null
  requires_approval?: boolean
  note?: string | null
}

interface PolicyDeps {
  database: Pick<Database, 'db'>
  clock: Clock
}

interface Admin {
  id: number
  name: string
}

/** The columns an input sets (only the fields it has). */
function columnsOf(input: PolicyInput): Partial<BookingPolicy> {
  const set: Partial<BookingPolicy> = {}
  if (input.role !== undefined) set.role = input.role
  if (input.room_type !== undefined) set.roomType = input.room_type
  if (input.room_id !== undefined) set.roomId = input.room_id
  for (const field of LIMIT_FIELDS) if (input[field] !== undefined) (set as Record<string, unknown>)[COLUMN[field]] = input[field]
  if (input.requires_approval !== undefined) set.requiresApproval = input.requires_approval
  if (input.note !== undefined) set.note = input.note?.trim() || null
  return set
}

/** A rule must say where (one scope at most) and limit something. */
function checkRule(rule: Pick<BookingPolicy, 'roomType' | 'roomId' | 'requiresApproval' | LimitColumn>): void {
  if (rule.roomType !== null && rule.roomId !== null) throw new BadRequest(POLICY_MSG.noScope)
  if (!rule.requiresApproval && LIMIT_FIELDS.every((f) => rule[COLUMN[f] as LimitColumn] === null)) throw new BadRequest(POLICY_MSG.noLimit)
}
type LimitColumn = 'maxDurationMin' | 'minNoticeMin' | 'maxAdvanceDays' | 'maxActive' | 'maxMinutesPerWeek' | 'slotGranularityMin'

function rethrowPolicyWriteError(error: unknown): never {
  if (pgErrorCode(error) === '23503' && pgConstraint(error) === 'booking_policies_room_id_rooms_id_fk') throw new NotFound(ROOM_MSG.notFound)
  throw error
}

const EMPTY_RULE = {
  roomType: null, roomId: null, maxDurationMin: null, minNoticeMin: null, maxAdvanceDays: null, maxActive: null,
  maxMinutesPerWeek: null, slotGranularityMin: null, requiresApproval: false, note: null,
} as const

async function insertPolicy(deps: PolicyDeps, tx: Executor, admin: Admin, input: PolicyInput & { role: UserRole }): Promise<BookingPolicy> {
  const now = deps.clock.now()
  const values = { ...EMPTY_RULE, ...columnsOf(input), role: input.role, createdAt: now, updatedAt: now }
  checkRule(values)
  let row: BookingPolicy
  try {
    ;[row] = await tx.insert(bookingPolicies).values(values).returning() as [BookingPolicy]
  } catch (error) {
    rethrowPolicyWriteError(error)
  }
  recordChange(tx, {
    at: now, actorId: admin.id, event: 'policy.created',
    description: `${admin.name} added booking policy #${row.id} for ${describeScope(row)}`,
    data: { policy: policyView(row) },
  })
  return row
}

const describeScope = (rule: BookingPolicy) =>
  `${rule.role}s${rule.roomId !== null ? ` in room #${rule.roomId}` : rule.roomType !== null ? ` in ${rule.roomType} rooms` : ''}`

/** GET /admin/policies */
export async function listPolicies(deps: PolicyDeps) {
  const rows = await deps.database.db.select().from(bookingPolicies).orderBy(asc(bookingPolicies.role), asc(bookingPolicies.id))
  return { policies: rows.map(policyView) }
}

/** POST /admin/policies */
export async function createPolicy(deps: PolicyDeps, admin: Admin, input: PolicyInput & { role: UserRole }) {
  const row = await writeTransaction(deps.database, (tx) => insertPolicy(deps, tx, admin, input))
  return { policy: policyView(row) }
}

/** PATCH /admin/policies/:id: changes the fields given (null removes a limit). */
export async function updatePolicy(deps: PolicyDeps, admin: Admin, id: number, input: PolicyInput) {
  return writeTransaction(deps.database, async (tx) => {
    const [current] = await tx.select().from(bookingPolicies).where(eq(bookingPolicies.id, id)).for('update')
    if (!current) throw new NotFound(POLICY_MSG.notFound)
    const now = deps.clock.now()
    const changes = columnsOf(input)
    checkRule({ ...current, ...changes })
    let row: BookingPolicy
    try {
      ;[row] = await tx.update(bookingPolicies).set({ ...changes, updatedAt: now }).where(eq(bookingPolicies.id, id)).returning() as [BookingPolicy]
    } catch (error) {
      rethrowPolicyWriteError(error)
    }
    recordChange(tx, {
      at: now, actorId: admin.id, event: 'policy.updated',
      description: `${admin.name} changed booking policy #${id} for ${describeScope(row)}`,
      data: { policy_id: id, before: policyView(current), after: policyView(row) },
    })
    return { policy: policyView(row) }
  })
}

/** DELETE /admin/policies/:id */
export async function deletePolicy(deps: PolicyDeps, admin: Admin, id: number) {
  return writeTransaction(deps.database, async (tx) => {
    const [row] = await tx.delete(bookingPolicies).where(eq(bookingPolicies.id, id)).returning()
    if (!row) throw new NotFound(POLICY_MSG.notFound)
    recordChange(tx, {
      at: deps.clock.now(), actorId: admin.id, event: 'policy.deleted',
      description: `${admin.name} removed booking policy #${id} for ${describeScope(row)}`,
      data: { policy: policyView(row) },
    })
    return { status: 'deleted' as const }
  })
}

/**
 * The recommended set for a college (docs/api.md, "Fair use"): students 4 h per booking, 14 days ahead,
 * 3 active bookings, 10 h a week; teachers 8 h per booking, 180 days ahead.
 */
const RECOMMENDED_POLICIES: (PolicyInput & { role: UserRole })[] = [
  { role: 'student', max_duration_min: 240, max_advance_days: 14, max_active: 3, max_minutes_per_week: 600, note: 'recommended: students' },
  { role: 'teacher', max_duration_min: 480, max_advance_days: 180, note: 'recommended: teachers' },
]

const sameRule = (row: BookingPolicy, input: PolicyInput & { role: UserRole }) => {
  const wanted = { ...EMPTY_RULE, ...columnsOf(input), role: input.role }
  return (Object.keys(wanted) as (keyof typeof wanted)[]).filter((k) => k !== 'note').every((k) => row[k] === wanted[k])
}

/**
 * POST /admin/policies/recommended: adds the recommended rules that are not there yet (calling it
 * twice changes nothing). Other rules are kept.
 */
export async function applyRecommendedPolicies(deps: PolicyDeps, admin: Admin) {
  return writeTransaction(deps.database, async (tx) => {
    const existing = await tx.select().from(bookingPolicies)
    const added: BookingPolicy[] = []
    for (const rule of RECOMMENDED_POLICIES)
      if (!existing.some((row) => sameRule(row, rule))) added.push(await insertPolicy(deps, tx, admin, rule))
    const all = await tx.select().from(bookingPolicies).orderBy(asc(bookingPolicies.role), asc(bookingPolicies.id))
    return { added: added.map((r) => r.id), policies: all.map(policyView) }
  })
}
