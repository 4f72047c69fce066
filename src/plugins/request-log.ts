/** The request id header on every response, and one JSON access-log line per request. */
import { Elysia } from 'elysia'
import type { Activity } from '../lib/activity'
import type { Logger } from '../lib/log'
import { metaOf } from './request-context'

export const requestLog = (log: Logger, activity?: Activity) =>
  new Elysia({ name: 'request-log' })
    .onRequest(({ request, set }) => {
      activity?.touch()
      set.headers['x-request-id'] = metaOf(request).id
    })
    .onAfterResponse({ as: 'global' }, ({ request, set }) => {
      const meta = metaOf(request)
      log.info('request', {
        id: meta.id,
        method: request.method,
        path: new URL(request.url).pathname,
        status: typeof set.status === 'number' ? set.status : 200,
        ms: Math.round((performance.now() - meta.startedAt) * 10) / 10,
      })
    })
