/**
 * createApp(deps): the whole HTTP application and the services it owns, built the same way in
 * production and in tests, started and stopped together (start/stop).
 * Cross-cutting plugins come first so every route gets them. Feature routes are mounted twice:
 * under /api (canonical, documented) and at the root (the existing frontend's legacy paths).
 * Feature modules are unnamed Elysia instances on purpose: a named plugin is deduplicated, and
 * the second mount would silently lose its routes.
 */
import { Elysia } from 'elysia'
import { buildContext, type Ctx } from './context'
import type { Deps } from './deps'
import { startSweeper, type Sweeper } from './core/bookings/checkin/sweeper'
import { PEER_NOTICE_MS } from './core/events/bus'
import { followSettings, loadSettings } from './core/settings/settings'
import { adminRoutes } from './modules/admin'
import { authRoutes } from './modules/auth'
import { calendarRoutes } from './modules/calendar'
import { checkinRoutes } from './modules/checkin'
import { closureRoutes } from './modules/closures'
import { scanPageRoutes } from './modules/checkin/page'
import { displayRoutes, displayAdminRoutes } from './modules/display'
import { roomEventRoutes } from './modules/events'
import { healthRoutes } from './modules/health'
import { homeRoutes } from './modules/home'
import { consoleRoutes } from './modules/console'
import { adminFairUseRoutes, policyRoutes } from './modules/policies'
import { posterRoutes } from './modules/posters'
import { qrRoutes } from './modules/qr'
import { reservationRoutes } from './modules/reservations'
import { roomRoutes } from './modules/rooms'
import { seriesRoutes } from './modules/series'
import { notificationRoutes } from './modules/notifications'
import { waitlistRoutes } from './modules/waitlist'
import { webhookRoutes } from './modules/webhooks'
import { corsPlugin } from './plugins/cors'
import { docs } from './plugins/docs'
import { formCsrfCapture } from './plugins/auth'
import { errorHandler } from './plugins/errors'
import { bodyDepthLimit } from './plugins/body-depth'
import { rateLimiterFor } from './plugins/rate-limit'
import { requestLog } from './plugins/request-log'
import { securityHeaders } from './plugins/security-headers'

/** The feature routes, without prefix. Called once per mount point. */
function routes(ctx: Ctx) {
  return new Elysia()
    .use(healthRoutes(ctx))
    .use(authRoutes(ctx))
    .use(roomEventRoutes(ctx))
    .use(roomRoutes(ctx))
    .use(reservationRoutes(ctx))
    .use(seriesRoutes(ctx))
    .use(closureRoutes(ctx))
    .use(checkinRoutes(ctx))
    .use(adminRoutes(ctx))
    .use(policyRoutes(ctx))
    .use(adminFairUseRoutes(ctx))
    .use(posterRoutes(ctx))
    .use(displayAdminRoutes(ctx))
    .use(waitlistRoutes(ctx))
    .use(webhookRoutes(ctx))
    .use(calendarRoutes(ctx))
    .use(notificationRoutes(ctx))
}

/** The Elysia app on a context: every plugin and route, both mounts. */
function buildApp(deps: Deps, ctx: Ctx) {
  // encodeSchema off: responses are checked with the compiled validator, never encoded. Answers'
  // schemas hold no transform (lib/wire-types.ts), and when they did (t.Integer, a decode-only
  // transform) TypeBox's interpreted Encode cost 15% of the CPU of GET /api/rooms (docs/performance.md).
  const app = new Elysia({ encodeSchema: false })
    .use(errorHandler(deps.log, { get timeZone() { return deps.config.appTimezone }, clock: deps.clock }))
    .use(securityHeaders(deps.config))
    .use(requestLog(deps.log, ctx.activity))
    .use(corsPlugin(deps.config.corsOrigins))
    .use(formCsrfCapture(deps.config.jwtCsrfCheckForm))
  const limiter = rateLimiterFor(ctx)
  if (limiter) app.use(limiter.plugin)
  // After the rate limiter: a refused over-deep body still spends the sender's default budget.
  app.use(bodyDepthLimit())
  if (deps.config.swaggerEnabled) app.use(docs(() => app, deps.clock))
  return app
    .group('/api', (api) => api.use(routes(ctx)))
    .use(routes(ctx))
    .use(qrRoutes(ctx))
    .use(scanPageRoutes(ctx))
    .use(displayRoutes(ctx))
    .use(homeRoutes(ctx))
    .use(consoleRoutes(ctx))
}

/** The HTTP application: `app.handle(request)`, or served by startServer. */
export type App = ReturnType<typeof buildApp>

/** What createApp returns: the app, the services its routes share, and one start and stop for those that run on their own. */
export interface Qrbook {
  app: App
  /** the shared services (tokens, caches, the live bus): tests look into them */
  ctx: Ctx
  /**
   * Starts what runs beside the requests: the live feed that keeps the cached room views exact
   * (and the SSE streams live), so that the first request is served from memory too, and the
   * sweeper every SWEEP_INTERVAL_S (0: none) that finishes ended bookings and releases no-shows.
   * Without start the feed starts on first use and nothing sweeps (tests drive the sweeper
   * themselves, on their clock). On PostgreSQL it resolves PEER_NOTICE_MS after the feed listens:
   * by then the other instances count this one, so none answers a read from before its first
   * write (decision 027).
   */
  start(): Promise<void>
  /** Stops the sweeper (after a sweep in progress), the live feed and the rate-limit store it opened. Idempotent. */
  stop(): Promise<void>
}

export function createApp(deps: Deps): Qrbook {
  const ctx = buildContext(deps)
  const app = buildApp(deps, ctx)
  // Another instance's settings change reaches this one through the change record.
  const unfollow = followSettings(ctx, ctx.events.onChange)
  let sweeper: Sweeper | undefined
  let stopped: Promise<void> | undefined
  return {
    app,
    ctx,
    async start() {
      // The rooms' time zone an admin set, before the first request and the first sweep.
      await loadSettings(ctx).catch((error: Error) => deps.log.warn('could not read the settings; APP_TIMEZONE applies', { error: error.message }))
      // Not listening (the database is down at start) does not keep the server from starting: reads
      // are built afresh until the feed runs.
      const listening = await ctx.events.start().catch(() => false)
      if (listening && deps.database.kind === 'postgres') await Bun.sleep(PEER_NOTICE_MS)
      // Notices: the change record into notices and e-mail, reminders, the outbox's worker (its
      // cursor placed before anything can change).
      await ctx.notifier.start(ctx.events.onChange)
      // Freed slots go to their waiters: after every change of a room with waiters, and every 30 s.
      ctx.waitlist.start()
      // Webhooks: the change record into deliveries, and the deliveries to their receivers.
      ctx.webhooks.start()
      // Last, so that its first sweep (and its log line) comes once the server can answer about it.
      // Every worker runs one; a PostgreSQL advisory lock per sweep lets only one of them work at a time.
      if (deps.config.sweepIntervalS > 0 && !sweeper) sweeper = startSweeper(ctx, deps.config.sweepIntervalS)
    },
    stop() {
      stopped ??= (async () => {
        await sweeper?.stop()
        await ctx.waitlist.stop()
        await ctx.webhooks.stop()
        await ctx.notifier.stop()
        unfollow()
        await ctx.events.stop()
        // a store passed in deps belongs to whoever passed it
        if (!deps.rateLimitStore) await ctx.rateLimitStore?.close()
      })()
      return stopped
    },
  }
}
