/**
 * Live room events across instances (PostgreSQL LISTEN/NOTIFY): two server processes on one
 * database; a booking made on one reaches a subscriber of the other within 1 s. The events of one
 * instance: test/events.test.ts.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createPostgresDatabase, postgresServerUrl } from '../helpers/db'
import { killAll, processEnv, spawnServer } from '../helpers/process'
import { SseReader } from '../helpers/sse'

setDefaultTimeout(30_000) // see test/setup.ts

const iso = (ms: number) => new Date(ms).toISOString()

const readers: SseReader[] = []
afterAll(async () => {
  await Promise.all(readers.map((r) => r.close()))
  await killAll()
})

const PG_SERVER = await postgresServerUrl()

describe('across instances (PostgreSQL LISTEN/NOTIFY)', () => {
  test.skipIf(!PG_SERVER)('a booking made on one instance reaches a subscriber of another within 1 s (needs PostgreSQL)', async () => {
    const database = await createPostgresDatabase('qrbook_events', PG_SERVER!)
    try {
      const env = processEnv({ DATABASE_URL: database.url, RATELIMIT_ENABLED: 'false' })
      const one = spawnServer({ env })
      await one.waitForLog('listening')
      const two = spawnServer({ env })
      await two.waitForLog('listening')

      const stream = new SseReader(await fetch(`${two.base}/api/rooms/events`))
      readers.push(stream)
      const snapshot = await stream.next((e) => e.event === 'snapshot')
      const b102 = snapshot.data.rooms.find((r: any) => r.name === 'B102')

      const login = await (await fetch(`${one.base}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'guest', password: 'guest1234' }),
      })).json() as { access_token: string }
      // Sooner than B102's seeded next booking (+2 h), so it becomes the room's next reservation.
      const start = Math.ceil((Date.now() + 5 * 60_000) / 60_000) * 60_000
      const booked = await fetch(`${one.base}/api/rooms/${b102.id}/reserve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${login.access_token}` },
        body: JSON.stringify({ start_time: iso(start), end_time: iso(start + 30 * 60_000) }),
      })
      expect(booked.status).toBe(201)
      const sent = Date.now()
      const event = await stream.next((e) => e.event === 'room' && e.data.room.id === b102.id, 1000)
      expect(Date.now() - sent).toBeLessThan(1000)
      expect(event.data.room.next_reservation.user_name).toBe('guest')
      await stream.close()
      await Promise.all([one.stop(), two.stop()])
    } finally {
      await killAll()
      await database.drop()
    }
  })
})
