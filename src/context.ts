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
import { createWaitlist, type Waitlist } from './core/bookings/waitlist/service'
import { createWebhooks, type Webhooks } from './core/webhooks/service'
import { createNotifier, type Notifier } from './core/notifications/service'
import { reservationIcs } from './core/calendar/ics'
import { createActivity, type Activity } from './lib/activity'

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
  /** notices from the change record: in-app, e-mail (issue 28, decision 034) */
  notifier: Notifier
  /** whether requests are arriving: the e-mail outbox gives way to them */
  activity: Activity
  /** the waitlist that books freed slots (issue 28): follows the bus once started (app start()); tests drain() it */
  waitlist: Waitlist
  /** webhooks for integrators (issue 28): follower and delivery worker, started by app start(); tests drain() it */
  webhooks: Webhooks
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
  ctx.activity = createActivity()
  ctx.notifier = createNotifier(ctx, (reservationId) => reservationIcs(ctx, reservationId), ctx.activity)
  ctx.waitlist = createWaitlist(ctx)
  ctx.webhooks = createWebhooks(ctx, ctx.events.onChange)
  return ctx
}
