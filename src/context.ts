/**
 * The services built once per app on top of Deps and shared by every module: token signing and
 * the cached actor lookup. Modules receive a Ctx; tests can reach the same services.
 */
import type { Deps } from './deps'
import { createActorCache, type ActorCache } from './modules/auth/actors'
import { createTokenService, type TokenService } from './modules/auth/tokens'

export interface Ctx extends Deps {
  tokens: TokenService
  actors: ActorCache
}

export function buildContext(deps: Deps): Ctx {
  return {
    ...deps,
    tokens: createTokenService(deps.config, deps.clock),
    actors: createActorCache(deps.database.db, deps.clock),
  }
}
