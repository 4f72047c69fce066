/**
 * The webhooks' outbox (webhook_deliveries), filled from the change record and emptied by the
 * delivery worker; never touched by a request's write, so a receiver that is down or slow never
 * delays or fails a booking.
 *
 * Filling: the follower `webhooks` (src/core/changes/follower.ts) hands each batch of changes to
 * queueChanges inside its cursor's transaction: one row per change and enabled endpoint whose
 * filter wants it, unique on (endpoint, change position), so a batch read twice queues nothing
 * twice. Exactly one row per change and endpoint, whichever instance reads it.
 *
 * Emptying: deliverDue claims due rows in one statement (FOR UPDATE SKIP LOCKED: two workers never
 * claim one row), each with a lease; signs each with Standard Webhooks (the `standardwebhooks`
 * library) and POSTs it with a timeout and without following redirects. A 2xx marks it sent;
 * anything else waits with exponential back-off and is given up (failed) after MAX_ATTEMPTS. A row
 * whose worker died while sending is claimed again once its lease has passed: at least once to the
 * receiver, which drops a repeat by its webhook-id. Every time is the injected clock's.
 */
import { and, eq, inArray, sql } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import type { Deps } from '../../deps'
import { rowsOf, type Executor } from '../../db/client'
import { webhookDeliveries, webhookEndpoints, type ChangeRow } from '../../db/schema'
import { changePayload, wants } from './events'

/** Attempts before a delivery is given up (failed; an admin may retry it). */
export const MAX_ATTEMPTS = 12
/** The wait after the first failed attempt; doubled after each, at most BACKOFF_MAX_MS. */
const BACKOFF_BASE_MS = 5_000
const BACKOFF_MAX_MS = 10 * 60_000
/** How long a claimed row is the claimer's: longer than a send can take (SEND_TIMEOUT_MS). */
const LEASE_MS = 60_000
/** A receiver that has not answered by then has failed this attempt. */
const SEND_TIMEOUT_MS = 10_000
/** Rows claimed, and sent at once, per round. */
const CLAIM_BATCH = 10
/** What of a receiver's refusal is kept for the admin. */
const ERROR_TEXT_MAX = 300

/** The wait before the next attempt after `attempts` failed ones: 5 s, 10 s, 20 s, ... at most 10 min. */
function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1), BACKOFF_MAX_MS)
}

/** The webhook-id of a change's delivery to an endpoint: the same on every attempt. */
const changeMessageId = (position: number, endpointId: number) => `msg_${position}_${endpointId}`

/**
 * Queues the changes for every enabled endpoint that wants them and existed when they were made
 * (inside the follower's transaction); how many rows it queued.
 */
export async function queueChanges(deps: Pick<Deps, 'clock'>, tx: Executor, batch: ChangeRow[]): Promise<number> {
  const endpoints = await tx.select({ id: webhookEndpoints.id, events: webhookEndpoints.events, createdAt: webhookEndpoints.createdAt })
    .from(webhookEndpoints).where(eq(webhookEndpoints.enabled, true))
  if (endpoints.length === 0) return 0
  const now = deps.clock.now()
  const rows = batch.flatMap((change) => endpoints.filter((endpoint) => change.at >= endpoint.createdAt && wants(endpoint.events, change.event)).map((endpoint) => ({
    endpointId: endpoint.id,
    changePosition: change.position,
    messageId: changeMessageId(change.position, endpoint.id),
    event: change.event,
    payload: changePayload(change),
    nextAttemptAt: now,
    createdAt: now,
  })))
  let queued = 0
  for (let i = 0; i < rows.length; i += 200) {
    const inserted = await tx.insert(webhookDeliveries).values(rows.slice(i, i + 200)).onConflictDoNothing().returning({ id: webhookDeliveries.id })
    queued += inserted.length
  }
  return queued
}

interface Claimed {
  id: number
  endpoint_id: number
  message_id: string
  /** the payload as JSON text: the body, signed as sent */
  body: string
  attempts: number
}

const stamp = (at: Date) => sql`${at.toISOString()}::timestamptz`

/** Claims up to `limit` due rows of enabled endpoints (waiting and due, or sending with a passed lease): status sending, a lease, one more attempt. */
async function claim(deps: Pick<Deps, 'database'>, now: Date, limit: number): Promise<Claimed[]> {
  return rowsOf<Claimed>(await deps.database.db.execute(sql`
    update webhook_deliveries set status = 'sending', lease_until = ${stamp(new Date(now.getTime() + LEASE_MS))}, attempts = attempts + 1
    where id in (
      select id from webhook_deliveries
      where status in ('pending', 'sending') and next_attempt_at <= ${stamp(now)}
        and (status = 'pending' or lease_until <= ${stamp(now)})
        and endpoint_id in (select id from webhook_endpoints where enabled)
      order by next_attempt_at, id
      limit ${limit}
      for update skip locked)
    returning id, endpoint_id, message_id, payload::text as body, attempts`))
}

type Outcome = { ok: true; status: number } | { ok: false; status: number | null; error: string }

/** One signed POST: its outcome (never throws). */
async function post(url: string, secret: string, messageId: string, at: Date, body: string, stop?: AbortSignal): Promise<Outcome> {
  try {
    const signature = new Webhook(secret).sign(messageId, at, body)
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'QRBOOK-Webhooks/1',
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signature,
      },
      body,
      redirect: 'manual',
      signal: stop ? AbortSignal.any([AbortSignal.timeout(SEND_TIMEOUT_MS), stop]) : AbortSignal.timeout(SEND_TIMEOUT_MS),
    })
    if (response.status >= 200 && response.status < 300) {
      await response.body?.cancel().catch(() => {})
      return { ok: true, status: response.status }
    }
    const text = (await response.text().catch(() => '')).slice(0, ERROR_TEXT_MAX)
    const redirect = response.status >= 300 && response.status < 400 ? ` (redirects are not followed: ${response.headers.get('location') ?? 'no location'})` : ''
    return { ok: false, status: response.status, error: `HTTP ${response.status}${redirect}${text ? `: ${text}` : ''}` }
  } catch (error) {
    const e = error as Error
    const reason = e.name === 'TimeoutError' ? `no answer within ${SEND_TIMEOUT_MS / 1000} s` : e.message
    return { ok: false, status: null, error: reason.slice(0, ERROR_TEXT_MAX) }
  }
}

/** Records an attempt's outcome, only while the row is still this claim's (a lease passed meanwhile: the new claimer decides). */
async function settle(deps: Pick<Deps, 'database' | 'clock'>, row: Claimed, outcome: Outcome): Promise<void> {
  const now = deps.clock.now()
  const mine = and(eq(webhookDeliveries.id, row.id), eq(webhookDeliveries.status, 'sending'), eq(webhookDeliveries.attempts, row.attempts))
  const set = outcome.ok
    ? { status: 'sent' as const, sentAt: now, responseStatus: outcome.status, lastError: null, leaseUntil: null }
    : {
      status: row.attempts >= MAX_ATTEMPTS ? 'failed' as const : 'pending' as const,
      nextAttemptAt: new Date(now.getTime() + backoffMs(row.attempts)),
      responseStatus: outcome.status,
      lastError: outcome.error,
      leaseUntil: null,
    }
  await deps.database.db.update(webhookDeliveries).set(set).where(mine)
}

/**
 * One round: claims the due rows (at most CLAIM_BATCH), sends them at once, records each outcome.
 * How many it claimed (0: nothing was due). `stop` aborts the sends in progress (shutdown): their
 * rows stay claimed until the lease passes, then any instance sends them again.
 */
export async function deliverDue(deps: Pick<Deps, 'database' | 'clock'>, stop?: AbortSignal): Promise<number> {
  const claimed = await claim(deps, deps.clock.now(), CLAIM_BATCH)
  if (claimed.length === 0) return 0
  const endpoints = await deps.database.db.select({ id: webhookEndpoints.id, url: webhookEndpoints.url, secret: webhookEndpoints.secret })
    .from(webhookEndpoints).where(inArray(webhookEndpoints.id, [...new Set(claimed.map((row) => row.endpoint_id))]))
  const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]))
  await Promise.all(claimed.map(async (row) => {
    const endpoint = byId.get(row.endpoint_id)
    // deleted meanwhile: its deliveries went with it (cascade)
    if (!endpoint) return
    const outcome = await post(endpoint.url, endpoint.secret, row.message_id, deps.clock.now(), row.body, stop)
    if (stop?.aborted) return
    await settle(deps, row, outcome)
  }))
  return claimed.length
}
