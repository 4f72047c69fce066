import { Elysia } from 'elysia'
import type { Ctx } from '../../context'

export const rooms = (_ctx: Ctx) => new Elysia({ prefix: '/rooms' })
