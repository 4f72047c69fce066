/** Request and answer schemas of /admin/webhooks (issue 28; docs/webhooks.md). */
import { t } from 'elysia'
import { Id } from '../../lib/input'
import { Int } from '../../lib/wire-types'
import { Pagination, PaginationQuery } from '../../lib/pagination'
import { Timestamp } from '../../core/bookings/model'
import { MAX_ATTEMPTS, WEBHOOK_EVENTS } from '../../core/webhooks'

export const EndpointParams = t.Object({ id: Id('webhook endpoint id') })
export const DeliveryParams = t.Object({ id: Id('webhook endpoint id'), delivery_id: Id('delivery id (from the endpoint\'s delivery log)') })

const events = t.Array(t.String({ maxLength: 60 }), {
  maxItems: 100,
  description: `the change kinds it receives, or groups of them (reservation.*); empty: all of them. Kinds: ${WEBHOOK_EVENTS.join(', ')}`,
  examples: [['reservation.*', 'closure.created']],
})
const url = t.String({ maxLength: 2000, description: 'where the deliveries are POSTed: an absolute http or https URL (redirects are not followed)', examples: ['https://integrator.example/qrbook/webhook'] })
const description = t.Nullable(t.String({ maxLength: 200, description: 'a note for admins' }))

export const CreateEndpointBody = t.Object({
  url,
  events: t.Optional(events),
  description: t.Optional(description),
  enabled: t.Optional(t.Boolean({ description: 'false: nothing is queued or sent for it (default true)' })),
}, { examples: [{ url: 'https://integrator.example/qrbook/webhook', events: ['reservation.*'], description: 'the library door system' }] })

export const UpdateEndpointBody = t.Object({
  url: t.Optional(url),
  events: t.Optional(events),
  description: t.Optional(description),
  enabled: t.Optional(t.Boolean({ description: 'false pauses it: nothing new is queued, and what is queued waits until it is enabled again' })),
}, { examples: [{ enabled: false }, { events: ['reservation.created', 'reservation.cancelled'] }] })

const count = Int({ minimum: 0 })
const WebhookEndpoint = t.Object({
  id: Int(),
  url: t.String(),
  events: t.Array(t.String(), { description: 'its filter (empty: every kind a webhook carries)' }),
  description: t.Nullable(t.String()),
  enabled: t.Boolean(),
  pending_deliveries: Int({ minimum: 0, description: 'deliveries waiting or being sent' }),
  failed_deliveries: Int({ minimum: 0, description: `deliveries given up after ${MAX_ATTEMPTS} attempts (retry them from the delivery log)` }),
  created_at: Timestamp,
  updated_at: Timestamp,
}, { title: 'WebhookEndpoint' })

export const EndpointReply = t.Object({ endpoint: WebhookEndpoint })
export const EndpointWithSecret = t.Object({
  endpoint: WebhookEndpoint,
  secret: t.String({ description: 'the signing secret (whsec_...): shown only now; verify deliveries with it (Standard Webhooks)', examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }),
}, { title: 'WebhookEndpointWithSecret' })
export const EndpointList = t.Object({ endpoints: t.Array(WebhookEndpoint) })

const WebhookDelivery = t.Object({
  id: Int(),
  endpoint_id: Int(),
  message_id: t.String({ description: 'the webhook-id header: the same on every attempt' }),
  event: t.String({ description: 'the change kind, or webhook.test' }),
  change_position: t.Nullable(Int({ description: 'the change it carries (null: a test)' })),
  status: t.UnionEnum(['pending', 'sending', 'sent', 'failed'], { description: 'pending: waiting (maybe after a failure, until next_attempt_at); sending; sent; failed: given up' }),
  attempts: count,
  next_attempt_at: t.Nullable(Timestamp),
  response_status: t.Nullable(Int({ description: "the receiver's last HTTP status (null: no answer)" })),
  last_error: t.Nullable(t.String({ description: 'why the last attempt failed' })),
  payload: t.Record(t.String(), t.Unknown(), { description: 'the body sent: {type, timestamp, data}' }),
  created_at: Timestamp,
  sent_at: t.Nullable(Timestamp),
}, { title: 'WebhookDelivery' })

export const DeliveryReply = t.Object({ delivery: WebhookDelivery })
export const DeliveryList = t.Object({ deliveries: t.Array(WebhookDelivery), pagination: Pagination })
export const DeliveryListQuery = t.Object({ ...PaginationQuery })
