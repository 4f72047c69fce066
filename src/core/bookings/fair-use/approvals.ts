/**
 * Approval of bookings (issue 16). In a room whose policy requires approval, a booking is made
 * `approval: pending`: it is stored active, so it holds its slot against other bookings (the
 * overlap constraint), but it is nobody's current or next booking and cannot be checked in. An
 * admin approves it (approval `approved`) or rejects it (cancelled, cancel_reason `rejected`); one
 * not decided before its start is released (cancelled, cancel_reason `not_approved`, approval
 * `rejected`) by the sweeper or by the next booking of its room (expirePending, sweeper.ts).
 * Every decision is audited.
 */
import { and, asc, eq, gt } from 'drizzle-orm'
import type { Database, Executor } from '../../../db/client'
import { reservations, rooms, users } from '../../../db/schema'
import type { Clock } from '../../../lib/clock'
import { HttpError } from '../../../lib/errors'
import { formatUtc } from '../../../lib/time'
import { APPROVAL_MSG } from '../messages'
import { lockReservation } from '../reservations/writes'
import { reservationJson } from '../views/status'
import { recordChange, writeTransaction } from '../../changes'

interface ApprovalDeps {
  database: Pick<Database, 'db'>
  clock: Clock
}

const pendingNow = and(eq(reservations.approval, 'pending'), eq(reservations.status, 'active'))!

/** GET /admin/approvals: the bookings awaiting a decision, soonest first. */
export async function listPendingApprovals(deps: ApprovalDeps) {
  const now = deps.clock.now()
  const rows = await deps.database.db.select({
    reservation: reservations, roomName: rooms.name, userName: users.name,
  }).from(reservations)
    .innerJoin(rooms, eq(rooms.id, reservations.roomId))
    .innerJoin(users, eq(users.id, reservations.userId))
    .where(and(pendingNow, gt(reservations.startTime, now)))
    .orderBy(asc(reservations.startTime), asc(reservations.id))
    .limit(1000)
  return {
    approvals: rows.map((r) => ({
      ...reservationJson(r.reservation, { id: r.reservation.roomId, name: r.roomName }, now),
      user_id: r.reservation.userId, user_name: r.userName, created_at: formatUtc(r.reservation.createdAt),
    })),
  }
}

/** POST /admin/approvals/:id {decision, reason?}: approve or reject a pending booking; 409 if it is not pending (any more). */
export async function decideApproval(
  deps: ApprovalDeps,
  admin: { id: number; name: string },
  id: number,
  input: { decision: 'approve' | 'reject'; reason?: string },
) {
  return writeTransaction(deps.database, async (tx) => {
    const now = deps.clock.now()
    const row = await lockReservation(tx, id)
    if (row.approval !== 'pending' || row.status !== 'active') throw new HttpError(409, APPROVAL_MSG.notPending, {}, { approval: row.approval })
    // Too late: the sweeper (or the room's next booking) releases it.
    if (row.startTime <= now) throw new HttpError(409, APPROVAL_MSG.started)
    const approve = input.decision === 'approve'
    const [updated] = await tx.update(reservations).set(approve
      ? { approval: 'approved', updatedAt: now }
      : { approval: 'rejected', status: 'cancelled', cancelReason: 'rejected', cancelledAt: now, updatedAt: now })
      .where(eq(reservations.id, id)).returning()
    const reason = input.reason?.trim() || null
    const [room] = await tx.select({ id: rooms.id, name: rooms.name }).from(rooms).where(eq(rooms.id, row.roomId))
    recordChange(tx, {
      at: now, actorId: admin.id, event: approve ? 'reservation.approved' : 'reservation.rejected',
      description: `${admin.name} ${approve ? 'approved' : 'rejected'} reservation #${id} in ${room?.name} (${formatUtc(row.startTime)} - ${formatUtc(row.endTime)})${reason ? `: ${reason}` : ''}`,
      data: { reservation_id: id, room_id: row.roomId, user_id: row.userId, decision: input.decision, ...(reason ? { reason } : {}) },
    })
    return { reservation: reservationJson(updated!, room ?? { id: row.roomId, name: '' }, now), reason }
  })
}
