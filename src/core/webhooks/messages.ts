/** Every message the webhooks core answers with; the routes list the same constants as their documented errors. */
export const WEBHOOK_MSG = {
  notFound: 'webhook endpoint not found',
  deliveryNotFound: 'webhook delivery not found',
  badUrl: 'url must be an absolute http or https URL',
  badEvent: (event: string) => `unknown webhook event ${event}: use a change kind such as reservation.created, or a group such as reservation.*`,
  disabled: 'the webhook endpoint is disabled: enable it to send a test',
  notRetryable: 'only a failed or waiting delivery can be retried',
} as const
