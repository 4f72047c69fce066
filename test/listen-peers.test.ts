/**
 * How an instance counts the other instances listening to its database (Listening.peers, src/db/
 * client.ts). An instance listens on two connections (the live feed, the notices' push); counted
 * as connections, each was the other's peer, so a lone instance believed it shared the database
 * and asked it before every cached read (the served room list fell to a tenth of its speed).
 * PostgreSQL only: on PGlite the database belongs to the process (peers is always 0).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { createDb, type Database } from '../src/db/client'
import type { Listening } from '../src/db/database'
import { createPostgresDatabase, onPostgres } from './helpers/db'

setDefaultTimeout(30_000)

/** Waits until every listener's count says `peers` (each heartbeat, every 250 ms, counts again). */
async function peersBecome(listeners: Listening[], peers: number): Promise<number[]> {
  const deadline = performance.now() + 5_000
  while (performance.now() < deadline) {
    if (listeners.every((l) => l.peers() === peers)) break
    await Bun.sleep(50)
  }
  return listeners.map((l) => l.peers() ?? -1)
}

describe.skipIf(!onPostgres)('instances counting each other (PostgreSQL)', () => {
  let created: Awaited<ReturnType<typeof createPostgresDatabase>>
  const opened: Database[] = []
  const listening: Listening[] = []

  beforeAll(async () => {
    created = await createPostgresDatabase()
  })
  afterAll(async () => {
    await Promise.all(listening.map((l) => l.stop()))
    await Promise.all(opened.map((d) => d.close()))
    await created.drop()
  })

  const instance = async () => {
    const database = await createDb({ kind: 'postgres', url: created.url })
    opened.push(database)
    return database
  }
  const listen = async (database: Database, channel: string) => {
    const listener = await database.listen(channel, () => {})
    listening.push(listener)
    return listener
  }

  test('one instance with two LISTEN connections counts no peer; a second instance is one peer to each; its end leaves none', async () => {
    const a = await instance()
    const aFeed = await listen(a, 'qrbook_room_events')
    const aNotices = await listen(a, 'qrbook_notices')
    expect(await peersBecome([aFeed, aNotices], 0)).toEqual([0, 0])

    const b = await instance()
    const bFeed = await listen(b, 'qrbook_room_events')
    const bNotices = await listen(b, 'qrbook_notices')
    expect(await peersBecome([aFeed, aNotices, bFeed, bNotices], 1)).toEqual([1, 1, 1, 1])

    await bFeed.stop()
    await bNotices.stop()
    expect(await peersBecome([aFeed, aNotices], 0)).toEqual([0, 0])
  })
})
