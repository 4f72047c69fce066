/**
 * The messages of accounts and tokens. The services and the auth plugin throw these; the routes
 * list the same constants as their documented answers (src/plugins/route-rules.ts), so the two
 * cannot drift apart.
 */
export const ACCOUNT_MSG = {
  credentialsRequired: 'name and password are required',
  badCredentials: 'invalid credentials',
  adminSignup: 'role not allowed for self-signup',
  signupRole: 'role must be student or teacher',
  anyRole: 'role must be student, teacher or admin',
  notFound: 'user not found',
  exists: 'user already exists',
  wrongPassword: 'current password is incorrect',
  lastAdmin: 'cannot change the role of the last admin',
  teacherSignupOff: 'teacher accounts are made by an admin here: sign up as a student',
} as const

export const TOKEN_MSG = {
  missing: 'missing authorization',
  expired: 'token has expired',
  revoked: 'token has been revoked',
  refreshed: 'token has already been refreshed',
  invalid: 'token invalid',
  userGone: 'user no longer exists',
  forbidden: 'insufficient permissions',
} as const
