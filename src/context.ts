/**
 * The services built once per app on top of Deps and shared by every module: token signing and
 * the cached actor lookup. Modules receive a Ctx; tests can reach the same services.
 */
import type { Deps } from './deps'
import { createRateLimitStore, type RateLimitStore } from './lib/rate-limit-store'
import { createActorCache, type ActorCache } from './core/identity/actors'
import { createAuthThrottle, type AuthThrottle } from './core/identity/throttle'
import { createTokenService, type TokenService } from './core/identity/tokens'
import { createRoomEventBus, type RoomEventBus } from './core/events/bus'
import { createRoomViewCache, type RoomViewCache } from './core/bookings/views/view-cache'

export interface Ctx extends Deps {
  tokens: TokenService
  actors: ActorCache
  /** Failed-login and password-check limits (src/core/identity/throttle.ts). */
  throttle: AuthThrottle
  /** The rate-limit counters (RATELIMIT_STORAGE_URI) the plugin and the auth throttle share; none when limits are off. */
  rateLimitStore?: RateLimitStore
  /** live room state for SSE subscribers; starts listening on first use */
  events: RoomEventBus
  /** the public room views served from memory, kept exact by the events bus (issue 17) */
  roomViews: RoomViewCache
}

export function buildContext(deps: Deps): Ctx {
  const rateLimitStore = deps.config.rateLimitEnabled
    ? deps.rateLimitStore ?? createRateLimitStore(deps.config.rateLimitStorageUri, deps.log)
    : undefined
  const ctx = {
    ...deps,
    rateLimitStore,
    tokens: createTokenService(deps.config, deps.clock),
    actors: createActorCache(deps.database.db, deps.clock, deps.config.accessTokenTtlS),
    throttle: createAuthThrottle(deps.config, rateLimitStore, deps.log),
  } as Ctx
  ctx.events = createRoomEventBus(ctx)
  ctx.roomViews = createRoomViewCache(ctx, ctx.events)
  return ctx
}
