/** /admin/users: list, create, patch, reset password. */
import { Elysia } from 'elysia'
import type { Ctx } from '../../context'
import { authGuard } from '../../plugins/auth'
import { CreateUserBody, IdParams, ResetPasswordBody, UpdateUserBody, UserList, UserListQuery, UserReply } from './model'
import * as service from '../../core/identity/admin-users'
import { routeRules } from '../../plugins/route-rules'
import { perMinute } from '../../plugins/rate-limit'
import { ACCOUNT_MSG } from '../../core/identity/messages'
import { NAME_MSG } from '../../lib/names'
import { EMAIL_MSG } from '../../core/notifications/addresses'

const detail = (summary: string) => ({ tags: ['Admin'], summary })

export const adminUserRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/users', ({ query }) => service.listUsers(ctx, query), {
      auth: 'admin',
      query: UserListQuery,
      response: { 200: UserList },
      limit: perMinute('admin.users.list', 60),
      detail: detail('List users, filtered by name and role, paginated'),
    })
    .post('/users', async ({ body, user, set }) => {
      const created = await service.createUser(ctx, user, body)
      set.status = 201
      return { user: created }
    }, {
      auth: 'admin',
      body: CreateUserBody,
      response: { 201: UserReply },
      limit: perMinute('admin.users.create', 20),
      errors: { 400: [NAME_MSG.controlChars], 409: [ACCOUNT_MSG.exists] },
      detail: detail('Create a user of any role; 409 when the name is taken'),
    })
    .patch('/users/:id', async ({ params, body, user }) => ({ user: await service.updateUser(ctx, user, params.id, body) }), {
      auth: 'admin',
      params: IdParams,
      body: UpdateUserBody,
      response: { 200: UserReply },
      limit: perMinute('admin.users.update', 30),
      errors: { 400: [NAME_MSG.controlChars, EMAIL_MSG.invalid], 404: [ACCOUNT_MSG.notFound], 409: [ACCOUNT_MSG.exists, ACCOUNT_MSG.lastAdmin] },
      detail: detail("Rename a user, change their role, or set their address for e-mail notices (takes effect on the user's existing tokens)"),
    })
    .post('/users/:id/reset-password', async ({ params, body, user }) => ({
      user: await service.resetPassword(ctx, user, params.id, body.password),
    }), {
      auth: 'admin',
      params: IdParams,
      body: ResetPasswordBody,
      response: { 200: UserReply },
      limit: perMinute('admin.users.reset-password', 20),
      errors: { 404: [ACCOUNT_MSG.notFound] },
      detail: detail("Set a user's password; ends all of their sessions"),
    })
