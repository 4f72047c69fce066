/**
 * JWTs in Flask-JWT-Extended's shape (claims sub, role, csrf, jti, type, exp), signed HS256 with
 * JWT_SECRET_KEY. jose is used directly rather than through @elysiajs/jwt because the contract
 * answers an expired token (401) differently from a forged one (422), and that plugin's verify()
 * reports both as `false` (docs/decisions/002-jose-for-tokens.md).
 */
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import type { Config } from '../../config'
import { Unauthorized, Unprocessable } from '../../lib/errors'
import type { Clock } from '../../lib/clock'
import { TOKEN_MSG } from './messages'
import { randomToken } from '../../lib/secret-tokens'

type TokenType = 'access' | 'refresh'

export interface TokenClaims {
  sub: string
  role: string
  csrf: string
  jti: string
  type: TokenType
  /** the session (login) this token belongs to: logout and revocation reach its access tokens too */
  sid?: string
  /**
   * The user's token generation (users.token_version) when the token was issued: a password
   * change or reset moves it on, and tokens of an older generation are refused. Absent from
   * tokens issued before migration 0006 (see tokenRevoked in actors.ts).
   */
  ver?: number
  iat: number
  exp: number
}

export interface IssuedToken {
  token: string
  claims: TokenClaims
}

export interface TokenSubject {
  id: number
  role: string
  tokenVersion: number
}

export interface TokenService {
  issue(type: TokenType, subject: TokenSubject, extra?: { sid?: string }): Promise<IssuedToken>
  /** Verifies signature, expiry and type; throws 401 `token has expired` or 422 `token invalid`. */
  verify(token: string, type: TokenType): Promise<TokenClaims>
}

export function createTokenService(config: Pick<Config, 'jwtSecretKey' | 'accessTokenTtlS' | 'refreshTokenTtlS'>, clock: Clock): TokenService {
  const key = new TextEncoder().encode(config.jwtSecretKey)
  const ttl = { access: config.accessTokenTtlS, refresh: config.refreshTokenTtlS }

  return {
    async issue(type, subject, extra = {}) {
      const iat = Math.floor(clock.now().getTime() / 1000)
      const claims: TokenClaims = {
        sub: String(subject.id),
        role: subject.role,
        csrf: randomToken(18),
        jti: crypto.randomUUID(),
        type,
        ...(extra.sid ? { sid: extra.sid } : {}),
        ver: subject.tokenVersion,
        iat,
        exp: iat + ttl[type],
      }
      const token = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key)
      return { token, claims }
    },

    async verify(token, type) {
      let payload: Record<string, unknown>
      try {
        ;({ payload } = await jwtVerify(token, key, { algorithms: ['HS256'], currentDate: clock.now() }))
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw new Unauthorized(TOKEN_MSG.expired)
        throw new Unprocessable(TOKEN_MSG.invalid)
      }
      if (payload.type !== type || typeof payload.sub !== 'string' || !/^\d+$/.test(payload.sub)
        || typeof payload.csrf !== 'string' || typeof payload.exp !== 'number' || typeof payload.iat !== 'number'
        || (payload.sid !== undefined && typeof payload.sid !== 'string')
        || (payload.ver !== undefined && !Number.isSafeInteger(payload.ver)))
        throw new Unprocessable(TOKEN_MSG.invalid)
      return payload as unknown as TokenClaims
    },
  }
}
