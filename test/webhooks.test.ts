/**
 * Webhooks for integrators (issue 28; docs/webhooks.md), against a real HTTP receiver on
 * 127.0.0.1 that verifies every delivery with the standardwebhooks library: admin endpoints with
 * an event filter, each change delivered once and signed, retries with back-off on the app's
 * clock, a receiver that is down never delays a booking, the test button, the delivery log and a
 * retry of a failed delivery. Two processes on one PostgreSQL: test/system/webhooks-two-instances.test.ts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, setSystemTime, test } from 'bun:test'
import { eq } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import { webhookDeliveries } from '../src/db/schema'
import { fixedClock } from '../src/lib/clock'
import { loggedIn, testApp, type Client, type TestApp } from './helpers/app'
import { timeShifter } from './helpers/clock'

setDefaultTimeout(30_000) // see test/setup.ts

const shifted = timeShifter('2030-05-06T08:00:00Z')
const clock = fixedClock(shifted('2030-05-06T08:00:00Z'))

interface Received {
  id: string
  timestamp: string
  body: any
  valid: boolean
}

/** An integrator's receiver: verifies each delivery with the endpoint's secret, answers what `answer` says. */
class Receiver {
  received: Received[] = []
  answers: number[] = []
  secret = ''
  server: ReturnType<typeof Bun.serve>
  readonly port: number
  constructor() {
    this.server = this.listen(0)
    this.port = this.server.port!
  }
  private listen(port: number) {
    return Bun.serve({
      hostname: '127.0.0.1',
      port,
      fetch: async (request) => {
        const text = await request.text()
        const headers = Object.fromEntries(request.headers)
        let valid = false
        // The receiver's clock is the test's: verify() checks the timestamp against Date.now().
        setSystemTime(clock.now())
        try {
          new Webhook(this.secret).verify(text, headers)
          valid = true
        } catch {
          valid = false
        } finally {
          setSystemTime()
        }
        this.received.push({ id: headers['webhook-id']!, timestamp: headers['webhook-timestamp']!, body: JSON.parse(text), valid })
        return new Response('ok', { status: this.answers.shift() ?? 200 })
      },
    })
  }
  get url() {
    return `http://127.0.0.1:${this.port}/hook`
  }
  stop() {
    this.server.stop(true)
  }
  restart() {
    this.server = this.listen(this.port)
  }
}

let t: TestApp
let admin: Client, student: Client
let roomId: number
const receivers: Receiver[] = []

beforeAll(async () => {
  t = await testApp({ clock })
  ;[admin, student] = await Promise.all(['admin', 'student'].map((n) => loggedIn(t.app, n))) as [Client, Client]
  const room = await admin.post('/api/admin/rooms', { name: 'WH1', requires_check_in: false })
  roomId = room.body.room.id
})
afterAll(async () => {
  for (const r of receivers) r.stop()
  await t.close()
})

async function endpoint(events: string[], receiver = new Receiver()) {
  receivers.push(receiver)
  const created = await admin.post('/api/admin/webhooks', { url: receiver.url, events, description: 'test receiver' })
  expect(created.status).toBe(201)
  receiver.secret = created.body.secret
  return { receiver, id: created.body.endpoint.id as number, body: created.body }
}

const slot = (hour: number, day = 6) => ({
  start_time: shifted(`2030-05-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00Z`),
  end_time: shifted(`2030-05-${String(day).padStart(2, '0')}T${String(hour + 1).padStart(2, '0')}:00:00Z`),
})

const deliveriesOf = (id: number) => t.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, id))

describe('webhooks', () => {
  test('a booking and its cancellation reach an endpoint filtered to reservation.*, once each, signed; another filter gets nothing', async () => {
    const bookings = await endpoint(['reservation.*'])
    expect(bookings.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{40,}={0,2}$/)
    expect(bookings.body.endpoint).toMatchObject({ url: bookings.receiver.url, events: ['reservation.*'], enabled: true, description: 'test receiver' })
    const others = await endpoint(['closure.created', 'room.blocked'])

    const booked = await student.post(`/api/rooms/${roomId}/reserve`, slot(10))
    expect(booked.status).toBe(201)
    const cancelled = await student.delete(`/api/reservations/${booked.body.reservation.id}`)
    expect(cancelled.status).toBe(200)
    await t.ctx.webhooks.drain()
    await t.ctx.webhooks.drain() // a second drain sends nothing again

    const got = bookings.receiver.received
    expect(got.map((r) => r.body.type)).toEqual(['reservation.created', 'reservation.cancelled'])
    expect(got.every((r) => r.valid)).toBe(true)
    expect(new Set(got.map((r) => r.id)).size).toBe(2)
    const [created, cancel] = got.map((r) => r.body)
    expect(created.timestamp).toBe(clock.now().toISOString())
    expect(created.data).toMatchObject({
      event: 'reservation.created', reservation_id: booked.body.reservation.id, room_id: roomId, room_ids: [roomId], room_name: 'WH1',
      start_time: slot(10).start_time, end_time: slot(10).end_time, all_rooms: false,
    })
    expect(created.data.actor_id).toBe(created.data.user_id)
    expect(created.data.user_ids).toEqual([created.data.user_id])
    expect(created.data.position).toBeNumber()
    expect(created.data.description).toContain('student')
    expect(cancel.data).toMatchObject({ event: 'reservation.cancelled', reservation_id: booked.body.reservation.id })
    expect(got[0]!.id).toBe(`msg_${created.data.position}_${bookings.id}`)
    expect(got[0]!.timestamp).toBe(String(Math.floor(clock.now().getTime() / 1000)))
    expect(others.receiver.received).toEqual([])

    const log = await admin.get(`/api/admin/webhooks/${bookings.id}/deliveries`)
    expect(log.status).toBe(200)
    expect(log.body.deliveries.map((d: any) => [d.event, d.status, d.attempts, d.response_status])).toEqual([
      ['reservation.cancelled', 'sent', 1, 200], ['reservation.created', 'sent', 1, 200],
    ])
    expect(log.body.pagination).toEqual({ page: 1, per_page: 20, total: 2, pages: 1 })
    const page2 = await admin.get(`/api/admin/webhooks/${bookings.id}/deliveries?per_page=1&page=2`)
    expect(page2.body.deliveries.map((d: any) => d.event)).toEqual(['reservation.created'])
    await admin.patch(`/api/admin/webhooks/${bookings.id}`, { enabled: false })
    await admin.patch(`/api/admin/webhooks/${others.id}`, { enabled: false })
  })

  test('sign-ins never go out; an empty filter gets every other kind', async () => {
    const all = await endpoint([])
    await loggedIn(t.app, 'teacher')
    const room = await admin.patch(`/api/admin/rooms/${roomId}`, { booking_start: '07:00', booking_end: '21:00' })
    expect(room.status).toBe(200)
    await t.ctx.webhooks.drain()
    const types = all.receiver.received.map((r) => r.body.type)
    expect(types).toContain('room.updated')
    expect(types).not.toContain('user.logged_in')
    expect(JSON.stringify(all.receiver.received)).not.toContain('session')
    await admin.patch(`/api/admin/webhooks/${all.id}`, { enabled: false })
  })

  test('a receiver answering 500 then 200: retried after the back-off on the clock, delivered once', async () => {
    const flaky = await endpoint(['reservation.created'])
    flaky.receiver.answers = [500]
    const booked = await student.post(`/api/rooms/${roomId}/reserve`, slot(12))
    expect(booked.status).toBe(201)
    await t.ctx.webhooks.drain()
    expect(flaky.receiver.received).toHaveLength(1)
    let [row] = await deliveriesOf(flaky.id)
    expect(row).toMatchObject({ status: 'pending', attempts: 1, responseStatus: 500 })
    expect(row!.lastError).toStartWith('HTTP 500')
    expect(row!.nextAttemptAt.getTime() - clock.now().getTime()).toBe(5_000)

    clock.advance(4_000)
    await t.ctx.webhooks.drain()
    expect(flaky.receiver.received).toHaveLength(1) // not yet due
    clock.advance(1_000)
    await t.ctx.webhooks.drain()
    expect(flaky.receiver.received).toHaveLength(2)
    expect(flaky.receiver.received.every((r) => r.valid)).toBe(true)
    // the same message both times: the receiver can drop a repeat
    expect(new Set(flaky.receiver.received.map((r) => r.id)).size).toBe(1)
    ;[row] = await deliveriesOf(flaky.id)
    expect(row).toMatchObject({ status: 'sent', attempts: 2, responseStatus: 200, lastError: null })
    const log = await admin.get(`/api/admin/webhooks/${flaky.id}/deliveries`)
    expect(log.body.deliveries[0]).toMatchObject({ status: 'sent', attempts: 2, response_status: 200, sent_at: clock.now().toISOString().replace('.000Z', 'Z') })
    await admin.patch(`/api/admin/webhooks/${flaky.id}`, { enabled: false })
  })

  test('a receiver that is down: the booking is 201 at once, the delivery waits and goes out when it is back', async () => {
    const down = await endpoint(['reservation.created'])
    down.receiver.stop()
    await t.ctx.webhooks.start()
    try {
      const began = performance.now()
      const booked = await student.post(`/api/rooms/${roomId}/reserve`, slot(14))
      expect(booked.status).toBe(201)
      expect(performance.now() - began).toBeLessThan(1000)
    } finally {
      await t.ctx.webhooks.stop()
    }
    await t.ctx.webhooks.drain()
    let [row] = await deliveriesOf(down.id)
    expect(row).toMatchObject({ status: 'pending', attempts: 1, responseStatus: null })
    expect(row!.lastError).toBeTruthy()

    down.receiver.restart()
    clock.advance(5_000)
    await t.ctx.webhooks.drain()
    ;[row] = await deliveriesOf(down.id)
    expect(row).toMatchObject({ status: 'sent', attempts: 2, responseStatus: 200 })
    expect(down.receiver.received.map((r) => [r.body.type, r.valid])).toEqual([['reservation.created', true]])
    await admin.patch(`/api/admin/webhooks/${down.id}`, { enabled: false })
  })

  test('given up after 12 attempts; counted for admins; a retry sends it again', async () => {
    const failing = await endpoint(['reservation.created'])
    failing.receiver.answers = Array(12).fill(503)
    const booked = await student.post(`/api/rooms/${roomId}/reserve`, slot(16))
    expect(booked.status).toBe(201)
    for (let i = 0; i < 12; i++) {
      await t.ctx.webhooks.drain()
      clock.advance(10 * 60_000)
    }
    let [row] = await deliveriesOf(failing.id)
    expect(row).toMatchObject({ status: 'failed', attempts: 12, responseStatus: 503 })
    // two hours on the clock: the access tokens have expired
    ;[admin, student] = await Promise.all(['admin', 'student'].map((n) => loggedIn(t.app, n))) as [Client, Client]
    const { failedDeliveriesCount } = await import('../src/core/webhooks')
    expect(await failedDeliveriesCount(t.ctx)).toBe(1)
    const listed = await admin.get('/api/admin/webhooks')
    expect(listed.body.endpoints.find((e: any) => e.id === failing.id)).toMatchObject({ failed_deliveries: 1, pending_deliveries: 0 })

    const sent = await admin.get(`/api/admin/webhooks/${failing.id}/deliveries`)
    const retried = await admin.post(`/api/admin/webhooks/${failing.id}/deliveries/${sent.body.deliveries[0].id}/retry`)
    expect(retried.status).toBe(200)
    expect(retried.body.delivery).toMatchObject({ status: 'pending', attempts: 0 })
    await t.ctx.webhooks.drain()
    ;[row] = await deliveriesOf(failing.id)
    expect(row).toMatchObject({ status: 'sent', attempts: 1 })
    expect(failing.receiver.received).toHaveLength(13)
    expect(await failedDeliveriesCount(t.ctx)).toBe(0)
    const again = await admin.post(`/api/admin/webhooks/${failing.id}/deliveries/${row!.id}/retry`)
    expect(again.status).toBe(409)
    expect(again.body.msg).toBe('only a failed or waiting delivery can be retried')
    expect((await admin.post(`/api/admin/webhooks/${failing.id}/deliveries/999999/retry`)).status).toBe(404)
    await admin.patch(`/api/admin/webhooks/${failing.id}`, { enabled: false })
  })

  test("a delivery whose worker died while sending is claimed again once its lease has passed", async () => {
    const orphan = await endpoint([])
    const queued = await admin.post(`/api/admin/webhooks/${orphan.id}/test`)
    // a worker claimed it (attempt 1, leased for 60 s) and died before it answered
    await t.database.db.update(webhookDeliveries).set({ status: 'sending', attempts: 1, leaseUntil: new Date(clock.now().getTime() + 60_000) })
      .where(eq(webhookDeliveries.id, queued.body.delivery.id))
    await t.ctx.webhooks.drain()
    expect(orphan.receiver.received).toEqual([])
    clock.advance(60_000)
    await t.ctx.webhooks.drain()
    expect(orphan.receiver.received.map((r) => [r.body.type, r.valid])).toEqual([['webhook.test', true]])
    const [row] = await deliveriesOf(orphan.id)
    expect(row).toMatchObject({ status: 'sent', attempts: 2 })
    await admin.patch(`/api/admin/webhooks/${orphan.id}`, { enabled: false })
  })

  test('the test button queues a signed webhook.test delivery that the worker sends', async () => {
    const tested = await endpoint(['closure.created'])
    const queued = await admin.post(`/api/admin/webhooks/${tested.id}/test`)
    expect(queued.status).toBe(202)
    expect(queued.body.delivery).toMatchObject({ event: 'webhook.test', status: 'pending', change_position: null, endpoint_id: tested.id })
    await t.ctx.webhooks.drain()
    expect(tested.receiver.received.map((r) => [r.body.type, r.valid, r.id])).toEqual([['webhook.test', true, queued.body.delivery.message_id]])
    const log = await admin.get(`/api/admin/webhooks/${tested.id}/deliveries`)
    expect(log.body.deliveries[0]).toMatchObject({ id: queued.body.delivery.id, status: 'sent', attempts: 1 })

    await admin.patch(`/api/admin/webhooks/${tested.id}`, { enabled: false })
    const disabled = await admin.post(`/api/admin/webhooks/${tested.id}/test`)
    expect(disabled.status).toBe(409)
    expect(disabled.body.msg).toBe('the webhook endpoint is disabled: enable it to send a test')
  })

  test('a rotated secret signs from then on; the old one no longer verifies', async () => {
    const rotating = await endpoint([])
    const old = rotating.receiver.secret
    const rotated = await admin.post(`/api/admin/webhooks/${rotating.id}/rotate-secret`)
    expect(rotated.status).toBe(200)
    expect(rotated.body.secret).not.toBe(old)
    await admin.post(`/api/admin/webhooks/${rotating.id}/test`)
    await t.ctx.webhooks.drain()
    expect(rotating.receiver.received.at(-1)!.valid).toBe(false) // the receiver still has the old secret
    rotating.receiver.secret = rotated.body.secret
    await admin.post(`/api/admin/webhooks/${rotating.id}/test`)
    await t.ctx.webhooks.drain()
    expect(rotating.receiver.received.at(-1)!.valid).toBe(true)
    const deleted = await admin.delete(`/api/admin/webhooks/${rotating.id}`)
    expect(deleted.body).toEqual({ status: 'deleted' })
    expect((await admin.get(`/api/admin/webhooks/${rotating.id}`)).status).toBe(404)
    expect(await deliveriesOf(rotating.id)).toEqual([])
  })

  test('admins only; bad input is a clear 400; the secret is never listed; changes are audited', async () => {
    expect((await student.get('/api/admin/webhooks')).status).toBe(403)
    expect((await student.post('/api/admin/webhooks', { url: 'http://127.0.0.1:1/x' })).status).toBe(403)
    for (const url of ['ftp://example.com/x', 'not a url', 'javascript:alert(1)', '', 'file:///etc/passwd']) {
      const bad = await admin.post('/api/admin/webhooks', { url })
      expect(bad.status, url).toBe(400)
      expect(bad.body.msg).toBe('url must be an absolute http or https URL')
    }
    const badEvent = await admin.post('/api/admin/webhooks', { url: 'https://example.com/x', events: ['user.logged_in'] })
    expect(badEvent.status).toBe(400)
    expect(badEvent.body.msg).toStartWith('unknown webhook event user.logged_in')
    const ru = await admin.post('/api/admin/webhooks', { url: 'gopher://x' }, { headers: { 'accept-language': 'ru' } })
    expect(ru.body.msg).toBe('url: полный адрес http или https')

    const created = await admin.post('/api/admin/webhooks', { url: 'https://example.com/hook?key=abc', events: ['series.*'] })
    expect(created.status).toBe(201)
    const secret = created.body.secret as string
    const listed = await admin.get('/api/admin/webhooks')
    const one = await admin.get(`/api/admin/webhooks/${created.body.endpoint.id}`)
    const patched = await admin.patch(`/api/admin/webhooks/${created.body.endpoint.id}`, { description: 'renamed' })
    for (const reply of [listed, one, patched]) {
      expect(reply.status).toBe(200)
      expect(reply.text).not.toContain(secret)
      expect(reply.text).not.toContain('whsec_')
    }
    expect(patched.body.endpoint.description).toBe('renamed')
    expect((await admin.patch('/api/admin/webhooks/999999', { enabled: true })).status).toBe(404)
    const audit = await admin.get('/api/admin/audit/logs?event=webhook.created&event=webhook.updated')
    expect(audit.status).toBe(200)
    const mine = audit.body.logs.filter((l: any) => l.payload.webhook_id === created.body.endpoint.id)
    expect(mine.map((l: any) => l.event).sort()).toEqual(['webhook.created', 'webhook.updated'])
    // the record shows where, without the URL's query (it may hold the receiver's key)
    expect(JSON.stringify(mine)).not.toContain('key=abc')
    expect(JSON.stringify(mine)).not.toContain('whsec_')
  })
})
