/** The schemas of a user as every route answers it; a `title` names a schema in the OpenAPI document. */
import { t } from 'elysia'
import { Int } from '../../lib/wire-types'

export const ROLES = ['student', 'teacher', 'admin'] as const
export const Role = t.UnionEnum(ROLES)

export const PublicUser = t.Object({
  id: Int(), name: t.String(), role: Role,
  teacher_pending: t.Optional(t.Literal(true, { description: "present while a teacher who signed up awaits an admin's approval: a student's powers until then (SIGNUP_TEACHERS=approve)" })),
}, {
  title: 'User', examples: [{ id: 3, name: 'student', role: 'student' }],
})
