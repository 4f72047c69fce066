/** Request and response schemas of the auth routes. */
import { t } from 'elysia'
import { PublicUser, Role } from '../../core/identity/model'

export { PublicUser }

// Fields are optional in the schema so that a missing one gets the contract's own 400 message.
export const LoginBody = t.Object({
  name: t.Optional(t.String({ maxLength: 200, description: 'user name (the frontend sends this)' })),
  username: t.Optional(t.String({ maxLength: 200, description: 'synonym of name (the deployment guide sends this)' })),
  password: t.Optional(t.String({ maxLength: 1024 })),
}, { title: 'LoginRequest', examples: [{ username: 'admin', password: 'admin1234' }] })

export const SignupBody = t.Object({
  name: t.Optional(t.String({ maxLength: 200 })),
  username: t.Optional(t.String({ maxLength: 200 })),
  password: t.Optional(t.String({ maxLength: 1024 })),
  role: t.Optional(t.String({ maxLength: 20 })),
})

export const ChangePasswordBody = t.Object({
  current_password: t.String({ maxLength: 1024 }),
  new_password: t.String({ maxLength: 1024 }),
})

export const Message = t.Object({ msg: t.String() })
export const LoginReply = t.Object({
  msg: t.String(),
  role: Role,
  user: PublicUser,
  access_token: t.String(),
  csrf_token: t.String(),
}, { title: 'LoginReply' })
