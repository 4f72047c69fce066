import { Elysia } from 'elysia'
import type { Ctx } from '../../context'

export const admin = (_ctx: Ctx) => new Elysia({ prefix: '/admin' })
