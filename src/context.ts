/**
 * The services built once per app on top of Deps and shared by every module: token signing and
 * the cached actor lookup. Modules receive a Ctx; tests can reach the same services.
 */
import type { Deps } from './deps'
import { createActorCache, type ActorCache } from './modules/auth/actors'
import { createTokenService, type TokenService } from './modules/auth/tokens'
import { createRoomEventBus, type RoomEventBus } from './modules/events/bus'

export interface Ctx extends Deps {
  tokens: TokenService
  actors: ActorCache
  /** live room state for SSE subscribers; starts listening on first use */
  events: RoomEventBus
}

export function buildContext(deps: Deps): Ctx {
  const ctx = {
    ...deps,
    tokens: createTokenService(deps.config, deps.clock),
    actors: createActorCache(deps.database.db, deps.clock),
  } as Ctx
  ctx.events = createRoomEventBus(ctx)
  return ctx
}
