/**
 * What an admin does with webhooks (issue 28): endpoints (create, list, read, change, delete,
 * rotate the secret), the test button, the delivery log and a retry. An endpoint's secret is
 * answered only by create and rotate; every other answer leaves it out. Endpoint writes are
 * changes of the record (webhook.created / updated / deleted: the audit log shows who pointed the
 * data where), never carried by a webhook themselves (events.ts).
 */
import { randomBytes } from 'node:crypto'
import { and, count, desc, eq, inArray, sql } from 'drizzle-orm'
import type { Ctx } from '../../context'
import { changes, followerCursors, webhookDeliveries, webhookEndpoints, type WebhookDelivery, type WebhookEndpoint } from '../../db/schema'
import type { Executor } from '../../db/client'
import { BadRequest, Conflict, NotFound } from '../../lib/errors'
import { paginationOf, parsePagination } from '../../lib/pagination'
import { formatUtc, formatUtcOrNull } from '../../lib/time'
import { recordChange, writeTransaction } from '../changes'
import { cleanEvents, TEST_EVENT } from './events'
import { WEBHOOK_MSG } from './messages'
import { WEBHOOKS_FOLLOWER } from './service'

interface Admin { id: number; name: string }

export interface EndpointInput {
  url?: string
  events?: string[]
  description?: string | null
  enabled?: boolean
}

const URL_MAX = 2000

/** An absolute http(s) URL, as the URL parser writes it; 400 otherwise. */
function cleanUrl(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '' || raw.length > URL_MAX) throw new BadRequest(WEBHOOK_MSG.badUrl)
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new BadRequest(WEBHOOK_MSG.badUrl)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) throw new BadRequest(WEBHOOK_MSG.badUrl)
  return url.href
}

/** A new signing secret as Standard Webhooks writes it: whsec_ and 32 random bytes in base64. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`

/** The URL as the record shows it: without credentials or query (they may hold a receiver's key). */
function shownUrl(raw: string): string {
  const url = new URL(raw)
  return `${url.origin}${url.pathname}`
}

export interface EndpointCounts { pending: number; failed: number }

function endpointView(row: WebhookEndpoint, counts: EndpointCounts = { pending: 0, failed: 0 }) {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    pending_deliveries: counts.pending,
    failed_deliveries: counts.failed,
    created_at: formatUtc(row.createdAt),
    updated_at: formatUtc(row.updatedAt),
  }
}

function deliveryView(row: WebhookDelivery) {
  return {
    id: row.id,
    endpoint_id: row.endpointId,
    message_id: row.messageId,
    event: row.event,
    change_position: row.changePosition,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' || row.status === 'sending' ? formatUtc(row.nextAttemptAt) : null,
    response_status: row.responseStatus,
    last_error: row.lastError,
    payload: row.payload,
    created_at: formatUtc(row.createdAt),
    sent_at: formatUtcOrNull(row.sentAt),
  }
}

/** Waiting and failed deliveries per endpoint. */
async function countsOf(ctx: Ctx, ids: number[]): Promise<Map<number, EndpointCounts>> {
  const counts = new Map<number, EndpointCounts>(ids.map((id) => [id, { pending: 0, failed: 0 }]))
  if (ids.length === 0) return counts
  const rows = await ctx.database.db.select({ endpointId: webhookDeliveries.endpointId, status: webhookDeliveries.status, n: count() })
    .from(webhookDeliveries)
    .where(and(inArray(webhookDeliveries.endpointId, ids), inArray(webhookDeliveries.status, ['pending', 'sending', 'failed'])))
    .groupBy(webhookDeliveries.endpointId, webhookDeliveries.status)
  for (const row of rows) {
    const entry = counts.get(row.endpointId)!
    if (row.status === 'failed') entry.failed += row.n
    else entry.pending += row.n
  }
  return counts
}

async function findEndpoint(executor: Executor, id: number, lock = false): Promise<WebhookEndpoint> {
  const query = executor.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id))
  const [row] = lock ? await query.for('update') : await query
  if (!row) throw new NotFound(WEBHOOK_MSG.notFound)
  return row
}

export async function listEndpoints(ctx: Ctx) {
  const rows = await ctx.database.db.select().from(webhookEndpoints).orderBy(webhookEndpoints.id)
  const counts = await countsOf(ctx, rows.map((row) => row.id))
  return { endpoints: rows.map((row) => endpointView(row, counts.get(row.id))) }
}

export async function getEndpoint(ctx: Ctx, id: number) {
  const row = await findEndpoint(ctx.database.db, id)
  return { endpoint: endpointView(row, (await countsOf(ctx, [id])).get(id)) }
}

/** A new endpoint, with its secret (the only answer but rotateSecret's that shows it). */
export async function createEndpoint(ctx: Ctx, actor: Admin, input: EndpointInput) {
  const url = cleanUrl(input.url)
  const events = cleanEvents(input.events ?? [])
  const now = ctx.clock.now()
  const row = await writeTransaction(ctx.database, async (tx) => {
    // The follower starts at the newest change (follower.ts): from this endpoint's creation on,
    // even if no pass has run yet on any instance.
    await tx.insert(followerCursors)
      .values({ name: WEBHOOKS_FOLLOWER, position: sql`(select coalesce(max(${changes.position}), 0) from ${changes})`, updatedAt: now })
      .onConflictDoNothing()
    const [created] = await tx.insert(webhookEndpoints).values({
      url, events, secret: newSecret(), description: input.description ?? null, enabled: input.enabled ?? true, createdAt: now, updatedAt: now,
    }).returning()
    recordChange(tx, {
      at: now, actorId: actor.id, event: 'webhook.created', rooms: [], users: [],
      description: `${actor.name} added webhook #${created!.id} to ${shownUrl(url)}`,
      data: { webhook_id: created!.id, url: shownUrl(url), events, enabled: created!.enabled },
    })
    return created!
  })
  return { endpoint: endpointView(row), secret: row.secret }
}

export async function updateEndpoint(ctx: Ctx, actor: Admin, id: number, input: EndpointInput) {
  const url = input.url === undefined ? undefined : cleanUrl(input.url)
  const events = input.events === undefined ? undefined : cleanEvents(input.events)
  const row = await writeTransaction(ctx.database, async (tx) => {
    const before = await findEndpoint(tx, id, true)
    const now = ctx.clock.now()
    const [after] = await tx.update(webhookEndpoints).set({
      ...(url === undefined ? {} : { url }),
      ...(events === undefined ? {} : { events }),
      ...(input.description === undefined ? {} : { description: input.description }),
      ...(input.enabled === undefined ? {} : { enabled: input.enabled }),
      updatedAt: now,
    }).where(eq(webhookEndpoints.id, id)).returning()
    const view = (r: WebhookEndpoint) => ({ url: shownUrl(r.url), events: r.events, enabled: r.enabled, description: r.description })
    recordChange(tx, {
      at: now, actorId: actor.id, event: 'webhook.updated', rooms: [], users: [],
      description: `${actor.name} changed webhook #${id} (${shownUrl(after!.url)})`,
      data: { webhook_id: id, from: view(before), to: view(after!) },
    })
    return after!
  })
  return { endpoint: endpointView(row, (await countsOf(ctx, [id])).get(id)) }
}

/** A new secret; the old one signs nothing from now on. */
export async function rotateSecret(ctx: Ctx, actor: Admin, id: number) {
  const row = await writeTransaction(ctx.database, async (tx) => {
    await findEndpoint(tx, id, true)
    const now = ctx.clock.now()
    const [after] = await tx.update(webhookEndpoints).set({ secret: newSecret(), updatedAt: now }).where(eq(webhookEndpoints.id, id)).returning()
    recordChange(tx, {
      at: now, actorId: actor.id, event: 'webhook.updated', rooms: [], users: [],
      description: `${actor.name} issued a new secret for webhook #${id} (${shownUrl(after!.url)})`,
      data: { webhook_id: id, secret_rotated: true },
    })
    return after!
  })
  return { endpoint: endpointView(row, (await countsOf(ctx, [id])).get(id)), secret: row.secret }
}

/** Removes the endpoint and its delivery log. */
export async function deleteEndpoint(ctx: Ctx, actor: Admin, id: number): Promise<{ status: 'deleted' }> {
  await writeTransaction(ctx.database, async (tx) => {
    const row = await findEndpoint(tx, id, true)
    await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id))
    recordChange(tx, {
      at: ctx.clock.now(), actorId: actor.id, event: 'webhook.deleted', rooms: [], users: [],
      description: `${actor.name} removed webhook #${id} (${shownUrl(row.url)})`,
      data: { webhook_id: id, url: shownUrl(row.url) },
    })
  })
  return { status: 'deleted' }
}

/** The test button: a `webhook.test` delivery to this endpoint, sent by the worker like any other. */
export async function sendTest(ctx: Ctx, actor: Admin, id: number) {
  const endpoint = await findEndpoint(ctx.database.db, id)
  if (!endpoint.enabled) throw new Conflict(WEBHOOK_MSG.disabled)
  const now = ctx.clock.now()
  const [row] = await ctx.database.db.insert(webhookDeliveries).values({
    endpointId: id,
    changePosition: null,
    messageId: `msg_test_${id}_${randomBytes(9).toString('base64url')}`,
    event: TEST_EVENT,
    payload: {
      type: TEST_EVENT,
      timestamp: now.toISOString(),
      data: { webhook_id: id, actor_id: actor.id, description: `${actor.name} sent a test to webhook #${id}` },
    },
    nextAttemptAt: now,
    createdAt: now,
  }).returning()
  ctx.webhooks.poke()
  return { delivery: deliveryView(row!) }
}

/** The endpoint's delivery log, newest first, paginated. */
export async function listDeliveries(ctx: Ctx, id: number, query: { page?: string; per_page?: string }) {
  const page = parsePagination(query)
  await findEndpoint(ctx.database.db, id)
  const where = eq(webhookDeliveries.endpointId, id)
  const [rows, [total]] = await Promise.all([
    ctx.database.db.select().from(webhookDeliveries).where(where).orderBy(desc(webhookDeliveries.id)).limit(page.limit).offset(page.offset),
    ctx.database.db.select({ n: count() }).from(webhookDeliveries).where(where),
  ])
  return { deliveries: rows.map(deliveryView), pagination: paginationOf(page, total?.n ?? 0) }
}

/** A failed delivery back to waiting (its attempts start again), or a waiting one due now. */
export async function retryDelivery(ctx: Ctx, id: number, deliveryId: number) {
  const now = ctx.clock.now()
  const [row] = await ctx.database.db.update(webhookDeliveries)
    .set({ status: 'pending', nextAttemptAt: now, attempts: sql`case when ${webhookDeliveries.status} = 'failed' then 0 else ${webhookDeliveries.attempts} end` })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, id), inArray(webhookDeliveries.status, ['failed', 'pending'])))
    .returning()
  if (!row) {
    const [exists] = await ctx.database.db.select({ id: webhookDeliveries.id }).from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, id)))
    if (!exists) throw new NotFound(WEBHOOK_MSG.deliveryNotFound)
    throw new Conflict(WEBHOOK_MSG.notRetryable)
  }
  ctx.webhooks.poke()
  return { delivery: deliveryView(row) }
}

/** Deliveries given up, over every endpoint: for the console's overview. */
export async function failedDeliveriesCount(ctx: Pick<Ctx, 'database'>): Promise<number> {
  const [row] = await ctx.database.db.select({ n: count() }).from(webhookDeliveries).where(eq(webhookDeliveries.status, 'failed'))
  return row?.n ?? 0
}
