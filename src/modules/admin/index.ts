/**
 * /admin: the admin panel's routes (contract section 5), all admin-only. Unnamed on purpose: the
 * app mounts the feature routes twice (/api and the legacy root), and a named instance would be
 * deduplicated away at the second mount.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { adminAuditRoutes } from './audit'
import { adminReservationRoutes } from './reservations'
import { adminRoomRoutes } from './rooms'
import { adminSettingsRoutes } from './settings'
import { adminStatsRoutes } from './stats'
import { adminTimetableRoutes } from './timetable'
import { adminUserRoutes } from './users'

export const adminRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/admin' })
    .use(adminRoomRoutes(ctx))
    .use(adminUserRoutes(ctx))
    .use(adminReservationRoutes(ctx))
    .use(adminAuditRoutes(ctx))
    .use(adminStatsRoutes(ctx))
    .use(adminTimetableRoutes(ctx))
    .use(adminSettingsRoutes(ctx))
