/**
 * /admin/webhooks (issue 28; docs/webhooks.md): integrators' endpoints, the test button, the
 * delivery log and a retry; admin only. Thin routes over src/core/webhooks.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import * as webhooks from '../../core/webhooks'
import { WEBHOOK_MSG } from '../../core/webhooks'
import { authGuard } from '../../plugins/auth'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'
import {
  CreateEndpointBody, DeliveryList, DeliveryListQuery, DeliveryParams, DeliveryReply, EndpointList, EndpointParams, EndpointReply, EndpointWithSecret, UpdateEndpointBody,
} from './model'

const detail = (summary: string) => ({ tags: ['Admin'], summary })
const BAD_INPUT = [WEBHOOK_MSG.badUrl, WEBHOOK_MSG.badEvent('<event>')]

export const webhookRoutes = (ctx: Ctx) =>
  new Elysia({ prefix: '/admin/webhooks' })
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('', () => webhooks.listEndpoints(ctx), {
      auth: 'admin',
      response: { 200: EndpointList },
      limit: perMinute('admin.webhooks.read', 120),
      detail: detail("List the webhook endpoints (without their secrets), with each one's waiting and failed deliveries"),
    })
    .post('', async ({ body, user, set }) => {
      const created = await webhooks.createEndpoint(ctx, user, body)
      set.status = 201
      return created
    }, {
      auth: 'admin',
      body: CreateEndpointBody,
      response: { 201: EndpointWithSecret },
      limit: perMinute('admin.webhooks.write', 30),
      errors: { 400: BAD_INPUT },
      detail: detail('Add a webhook endpoint; the answer shows its signing secret, once'),
    })
    .get('/:id', ({ params }) => webhooks.getEndpoint(ctx, params.id), {
      auth: 'admin',
      params: EndpointParams,
      response: { 200: EndpointReply },
      limit: perMinute('admin.webhooks.read', 120),
      errors: { 404: [WEBHOOK_MSG.notFound] },
      detail: detail('A webhook endpoint (without its secret)'),
    })
    .patch('/:id', ({ params, body, user }) => webhooks.updateEndpoint(ctx, user, params.id, body), {
      auth: 'admin',
      params: EndpointParams,
      body: UpdateEndpointBody,
      response: { 200: EndpointReply },
      limit: perMinute('admin.webhooks.write', 30),
      errors: { 400: BAD_INPUT, 404: [WEBHOOK_MSG.notFound] },
      detail: detail("Change a webhook endpoint's URL, event filter, note, or pause it (enabled: false)"),
    })
    .delete('/:id', ({ params, user }) => webhooks.deleteEndpoint(ctx, user, params.id), {
      auth: 'admin',
      params: EndpointParams,
      response: { 200: t.Object({ status: t.Literal('deleted') }) },
      limit: perMinute('admin.webhooks.write', 30),
      errors: { 404: [WEBHOOK_MSG.notFound] },
      detail: detail('Remove a webhook endpoint and its delivery log'),
    })
    .post('/:id/rotate-secret', ({ params, user }) => webhooks.rotateSecret(ctx, user, params.id), {
      auth: 'admin',
      params: EndpointParams,
      response: { 200: EndpointWithSecret },
      limit: perMinute('admin.webhooks.write', 30),
      errors: { 404: [WEBHOOK_MSG.notFound] },
      detail: detail('Issue a new signing secret (shown once); deliveries are signed with it from now on'),
    })
    .post('/:id/test', async ({ params, user, set }) => {
      const queued = await webhooks.sendTest(ctx, user, params.id)
      set.status = 202
      return queued
    }, {
      auth: 'admin',
      params: EndpointParams,
      response: { 202: DeliveryReply },
      limit: perMinute('admin.webhooks.test', 10),
      errors: { 404: [WEBHOOK_MSG.notFound], 409: [WEBHOOK_MSG.disabled] },
      detail: detail('The test button: queues a webhook.test delivery, sent at once like any other (see its delivery log)'),
    })
    .get('/:id/deliveries', ({ params, query }) => webhooks.listDeliveries(ctx, params.id, query), {
      auth: 'admin',
      params: EndpointParams,
      query: DeliveryListQuery,
      response: { 200: DeliveryList },
      limit: perMinute('admin.webhooks.read', 120),
      errors: { 404: [WEBHOOK_MSG.notFound] },
      detail: detail("An endpoint's delivery log, newest first: status, attempts, the receiver's last answer"),
    })
    .post('/:id/deliveries/:delivery_id/retry', ({ params }) => webhooks.retryDelivery(ctx, params.id, params.delivery_id), {
      auth: 'admin',
      params: DeliveryParams,
      response: { 200: DeliveryReply },
      limit: perMinute('admin.webhooks.write', 30),
      errors: { 404: [WEBHOOK_MSG.deliveryNotFound], 409: [WEBHOOK_MSG.notRetryable] },
      detail: detail('Send a failed delivery again (its attempts start over), or a waiting one now'),
    })
