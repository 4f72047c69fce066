/**
 * Webhooks for integrators (issue 28; docs/webhooks.md): admin-managed endpoints with an event
 * filter, Standard Webhooks signing, an outbox filled from the change record and emptied with
 * retries and back-off, a delivery log and a test button.
 */
export {
  createEndpoint, deleteEndpoint, failedDeliveriesCount, getEndpoint, listDeliveries, listEndpoints, retryDelivery, rotateSecret, sendTest, updateEndpoint,
} from './endpoints'
export { WEBHOOK_EVENTS } from './events'
export { WEBHOOK_MSG } from './messages'
export { MAX_ATTEMPTS } from './outbox'
