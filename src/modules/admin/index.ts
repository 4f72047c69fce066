/**
 * /admin: the admin panel's routes (contract section 5), all admin-only. Unnamed on purpose: the
 * app mounts the feature routes twice (/api and the legacy root), and a named instance would be
 * deduplicated away at the second mount.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { adminAudit } from './audit'
import { adminReservations } from './reservations'
import { adminRooms } from './rooms'
import { adminStats } from './stats'
import { adminUsers } from './users'

export const admin = (ctx: Ctx) =>
  new Elysia({ prefix: '/admin' })
    .use(adminRooms(ctx))
    .use(adminUsers(ctx))
    .use(adminReservations(ctx))
    .use(adminAudit(ctx))
    .use(adminStats(ctx))
