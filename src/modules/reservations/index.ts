import { Elysia } from 'elysia'
import type { Ctx } from '../../context'

export const reservationRoutes = (_ctx: Ctx) => new Elysia({ prefix: '/reservations' })
