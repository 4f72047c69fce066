/**
 * The admin side of fair use (issue 16): booking policies (and the recommended set), approvals of
 * pending bookings, and lifting a no-show suspension. Thin handlers over the booking core
 * (policies.ts, approvals.ts, strikes.ts); every write is audited there.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { decideApproval, listPendingApprovals } from '../../core/bookings/fair-use/approvals'
import { APPROVAL_MSG, BOOKING_MSG, POLICY_MSG, ROOM_MSG } from '../../core/bookings/messages'
import { applyRecommendedPolicies, createPolicy, deletePolicy, listPolicies, updatePolicy } from '../../core/bookings/fair-use/policies'
import { liftSuspension } from '../../core/bookings/fair-use/strikes'
import { Id } from '../../lib/input'
import { DateTime, Int } from '../../lib/wire-types'
import { authGuard } from '../../plugins/auth'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'
import {
  CreatePolicyBody, DecisionBody, DecisionReply, PendingBooking, PolicyList, PolicyReply, RecommendedReply, UpdatePolicyBody,
} from './model'

const tags = ['Policies']
const PolicyParams = t.Object({ id: Id('policy id') })
const ReservationParams = t.Object({ id: Id('reservation id') })
const UserParams = t.Object({ id: Id('user id') })

export const adminFairUseRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/admin' })
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/policies', () => listPolicies(ctx), {
      auth: 'admin',
      response: { 200: PolicyList },
      detail: { tags, summary: 'The booking policies (fair-use rules), by role' },
    })
    .post('/policies', async ({ body, user, set }) => {
      const created = await createPolicy(ctx, user, body)
      set.status = 201
      return created
    }, {
      auth: 'admin',
      body: CreatePolicyBody,
      response: { 201: PolicyReply },
      limit: perMinute('admin.policies.write', 30),
      errors: { 400: [POLICY_MSG.noScope, POLICY_MSG.noLimit], 404: [ROOM_MSG.notFound] },
      detail: {
        tags,
        summary: 'Add a booking policy: limits for one role, optionally only in rooms of a type or in one room',
        description: 'Every rule that matches a booking must hold, so the strictest wins for each limit. Admins are exempt. A booking over a limit is refused with 403 `{"msg","rule"}`.',
      },
    })
    .post('/policies/recommended', ({ user }) => applyRecommendedPolicies(ctx, user), {
      auth: 'admin',
      body: t.Object({ set: t.Literal('college', { description: 'which recommended set (one so far)', error: 'set must be "college"' }) }, { examples: [{ set: 'college' }] }),
      response: { 200: RecommendedReply },
      limit: perMinute('admin.policies.write', 30),
      detail: {
        tags,
        summary: 'Apply the recommended set for a college: students 4 h per booking, 14 days ahead, 3 active, 10 h a week; teachers 8 h, 180 days',
        description: 'Adds the recommended rules that are not there yet; calling it again changes nothing. Other rules are kept.',
      },
    })
    .patch('/policies/:id', ({ params, body, user }) => updatePolicy(ctx, user, params.id, body), {
      auth: 'admin',
      params: PolicyParams,
      body: UpdatePolicyBody,
      response: { 200: PolicyReply },
      limit: perMinute('admin.policies.write', 30),
      errors: { 400: [POLICY_MSG.noScope, POLICY_MSG.noLimit], 404: [POLICY_MSG.notFound, ROOM_MSG.notFound] },
      detail: { tags, summary: 'Change a booking policy (null removes a limit)' },
    })
    .delete('/policies/:id', ({ params, user }) => deletePolicy(ctx, user, params.id), {
      auth: 'admin',
      params: PolicyParams,
      response: { 200: t.Object({ status: t.Literal('deleted') }) },
      limit: perMinute('admin.policies.write', 30),
      errors: { 404: [POLICY_MSG.notFound] },
      detail: { tags, summary: 'Remove a booking policy' },
    })
    .get('/approvals', () => listPendingApprovals(ctx), {
      auth: 'admin',
      response: { 200: t.Object({ approvals: t.Array(PendingBooking) }) },
      detail: { tags, summary: "Bookings awaiting approval (rooms whose policy requires it), soonest first; one not decided by its start is released" },
    })
    .post('/approvals/:id', ({ params, body, user }) => decideApproval(ctx, user, params.id, body), {
      auth: 'admin',
      params: ReservationParams,
      body: DecisionBody,
      response: { 200: DecisionReply },
      limit: perMinute('admin.approvals.decide', 120),
      errors: { 404: [BOOKING_MSG.notFound], 409: [APPROVAL_MSG.notPending, APPROVAL_MSG.started] },
      detail: { tags, summary: 'Approve or reject a pending booking (rejected: cancelled, cancel_reason rejected); audited' },
    })
    .delete('/users/:id/suspension', ({ params, user }) => liftSuspension(ctx, user, params.id), {
      auth: 'admin',
      params: UserParams,
      response: { 200: t.Object({ user_id: Int(), no_shows_cleared_at: DateTime({ description: 'no-shows before this instant no longer count (ISO 8601 UTC)' }), lifted: t.Boolean({ description: 'a suspension was in force' }) }) },
      limit: perMinute('admin.users.update', 30),
      errors: { 404: [BOOKING_MSG.userNotFound] },
      detail: { tags, summary: "Lift a user's no-show suspension: their no-shows so far stop counting" },
    })
