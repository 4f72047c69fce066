/**
 * The public room views served from memory (issue 17): the room list (GET /rooms) and each room's
 * detail (GET /rooms/:id), kept per process as serialized bytes with their ETag (and gzip, made
 * once when first asked for), so a hit costs no query and no JSON work.
 *
 * An entry is used only while all of these hold (docs/decisions/023-room-views-from-memory.md):
 * - the live feed runs: the room events bus follows the change record (decision 027), whose
 *   every change NOTIFYs at commit, from any instance or script; without it (never started,
 *   connection lost, database down) every read is built afresh and nothing is kept;
 * - the feed has heard every change committed before the read began (bus.readBarrier: on
 *   PostgreSQL one query for the newest committed position, shared by the reads that arrive
 *   while the previous one runs): after any write's answer, on any instance (a GET that writes,
 *   like the scan page's release, included), no read here is answered from before that write;
 * - no change arrived for it since it was built: a room id drops that room's detail and the list;
 *   "every room" (a user renamed, the feed restarted or lost) drops everything. Each key has a
 *   generation taken before the build, so a build that raced a change is answered but not kept;
 * - the clock has not reached the next instant at which the answer changes by itself: a booking
 *   of the room starts or ends (status, current and next booking, finished entries), a closure
 *   starts or ends, or MAX_AGE_MS passed. The detail's free slots start "now" (rounded up to the
 *   whole second), so they are computed once per second from the cached busy intervals and kept
 *   with the rest of its bytes until the next second.
 */
import { gt, min } from 'drizzle-orm'
import { closures } from '../../../db/schema'
import { cachedBody, type CachedBody } from '../../../lib/http-cache'
import type { RoomEventBus } from '../../events/bus'
import { detailFreeSlots, FREE_SLOT_HORIZON_MS, FREE_SLOT_STEP_MS, freeSlotsFrom, listRoomViews, roomDetailParts, type RoomDeps, type RoomDetailParts, type RoomView } from './rooms'

/** An entry is rebuilt at least this often, whatever the feed says (a safety net, not the mechanism). */
const MAX_AGE_MS = 5 * 60_000
/** Details kept at most (one per room; the oldest goes first). */
const MAX_DETAILS = 2000
/**
 * Up to this many changed rooms, the kept list is patched (those rooms read again and spliced in)
 * rather than rebuilt: a booking changes one room of the list, and under bookings the whole list's
 * query and mapping (200 rooms) ran for every booking, most of the mixed soak's CPU and garbage.
 */
const PATCH_MAX_ROOMS = 20

const encoder = new TextEncoder()

interface Entry<T> {
  value: T
  builtAt: number
  validUntil: number
  /** the generation of its key when its build began */
  gen: string
}

/** The list: its bytes, and each room's part of them, to patch it when a few rooms change. */
interface ListValue {
  body: CachedBody
  /** in the list's order (name, id) */
  rooms: { id: number; name: string; json: string; until: number }[]
  /** when the list was last built whole: MAX_AGE_MS counts from then */
  wholeAt: number
}

interface DetailValue {
  /**
   * `{"room":...,"schedule":[...],"free_slots":`. Once an answer is made, a view into the start of
   * that answer's bytes: a room's bytes are held once, not twice (the schedule is most of them).
   */
  prefix: Uint8Array<ArrayBuffer>
  /** the room, and only the busy intervals free slots can meet while the entry is valid */
  parts: Pick<RoomDetailParts, 'room' | 'busy'>
  /** the last answer: reused as it is within the same second (its slots start there), and while the slots come out the same */
  last?: { from: number; slots: string; body: CachedBody }
}

interface RoomViewCacheStats {
  live: boolean
  hits: number
  misses: number
  /** builds run (misses that joined a running build do not count) */
  builds: number
  /** list builds that patched the kept list (a few rooms read again) instead of reading every room */
  patches: number
  details: number
  bytes: number
}

export interface RoomViewCache {
  /** GET /rooms: `{"rooms":[...]}` */
  roomList(): Promise<CachedBody>
  /** GET /rooms/:id: `{"room":...,"schedule":[...],"free_slots":[...]}` as of now (404 like roomDetail). */
  roomDetail(id: number): Promise<CachedBody>
  /** Drops everything. */
  invalidateAll(): void
  stats(): RoomViewCacheStats
}

/** The earliest instant after `now` among `times` (ISO strings or dates), or Infinity. */
function nextInstant(now: number, times: (string | Date | null | undefined)[]): number {
  let next = Infinity
  for (const t of times) {
    if (!t) continue
    const ms = typeof t === 'string' ? Date.parse(t) : t.getTime()
    if (ms > now && ms < next) next = ms
  }
  return next
}

/** When a room's own fields change by themselves: its current booking ends, its next one starts, its closure ends. */
const roomInstants = (room: RoomView) => [room.current_reservation?.end_time, room.next_reservation?.start_time, room.closure?.end_time]

export function createRoomViewCache(deps: RoomDeps, bus: Pick<RoomEventBus, 'start' | 'live' | 'onChange' | 'readBarrier'>): RoomViewCache {
  let list: Entry<ListValue> | undefined
  /** rooms changed since the kept list was made: patched into it by the next read */
  const listStale = new Set<number>()
  const details = new Map<number, Entry<DetailValue>>()
  /** bumped by every change: the list's generation */
  let listGen = 0
  /** bumped by "every room": part of every detail's generation */
  let allGen = 0
  const roomGens = new Map<number, number>()
  let hits = 0
  let misses = 0
  let builds = 0
  let patches = 0
  let starting: Promise<boolean> | undefined
  let started = false

  const detailGen = (id: number) => `${allGen}:${roomGens.get(id) ?? 0}`
  const listKey = () => `${listGen}`

  function invalidateAll() {
    allGen++
    listGen++
    list = undefined
    listStale.clear()
    details.clear()
  }

  bus.onChange((roomId) => {
    if (roomId === null) return invalidateAll()
    listGen++
    if (list) listStale.add(roomId)
    roomGens.set(roomId, (roomGens.get(roomId) ?? 0) + 1)
    details.delete(roomId)
  })

  /**
   * Whether entries may be used and kept: the feed runs, was heard lately (started on first use)
   * and has heard every change committed before this read began.
   */
  async function live(): Promise<boolean> {
    if (bus.live()) return bus.readBarrier()
    const first = !started
    started = true
    starting ??= bus.start().catch(() => false).finally(() => { starting = undefined })
    // The first request waits for the feed; later ones (while it is down, or while a partitioned
    // LISTEN connection is being replaced, which may take seconds) are built afresh at once.
    return first ? starting : false
  }

  const fresh = <T>(entry: Entry<T> | undefined, gen: string, now: number): entry is Entry<T> =>
    entry !== undefined && entry.gen === gen && entry.builtAt <= now && now < entry.validUntil

  /** The next start of a closure after now (any room: a closure's start changes the rooms it covers). */
  async function nextClosureStart(now: Date): Promise<Date | null> {
    const [row] = await deps.database.db.select({ at: min(closures.startTime) }).from(closures).where(gt(closures.startTime, now))
    return row?.at ?? null
  }

  /** Builds in progress, by key: a miss joins the one running for the same generation instead of building again. */
  const inflight = new Map<string, { gen: string; promise: Promise<Entry<unknown>> }>()

  /**
   * The entry a build gives, shared by every miss of the same key and generation while it runs
   * (32 readers arriving after a booking cost one build, not 32). A joiner takes it only if it is
   * valid at the joiner's own instant (no change since, the build began before it, the next
   * instant not reached); otherwise it builds its own. Without the live feed nothing is shared.
   */
  async function shared<T>(key: string, gen: string, now: Date, isLive: boolean, build: () => Promise<Entry<T>>): Promise<Entry<T>> {
    const running = isLive ? inflight.get(key) : undefined
    if (running && running.gen === gen) {
      const entry = (await running.promise) as Entry<T>
      if (fresh(entry, gen, now.getTime())) return entry
    }
    builds++
    const promise = build()
    if (!isLive) return promise
    inflight.set(key, { gen, promise })
    try {
      return await promise
    } finally {
      if (inflight.get(key)?.promise === promise) inflight.delete(key)
    }
  }

  /** The deps of one build: one instant for every part of it. */
  const frozenAt = (now: Date): RoomDeps => ({ ...deps, clock: { now: () => now } })

  /** A list entry from its rooms' parts (the bytes are those of JSON.stringify({ rooms })). */
  function listEntry(rooms: ListValue['rooms'], closureStart: Date | null, now: number, wholeAt: number, gen: string): Entry<ListValue> {
    let validUntil = Math.min(closureStart ? closureStart.getTime() : Infinity, wholeAt + MAX_AGE_MS)
    for (const room of rooms) if (room.until < validUntil) validUntil = room.until
    const body = cachedBody(encoder.encode(`{"rooms":[${rooms.map((r) => r.json).join(',')}]}`))
    return { value: { body, rooms, wholeAt }, builtAt: now, validUntil, gen }
  }

  const roomPart = (room: RoomView, now: number) =>
    ({ id: room.id, name: room.name, json: JSON.stringify(room), until: nextInstant(now, roomInstants(room)) })

  /**
   * `base` with the rooms `ids` read again at `now`, or undefined when the list's membership or
   * order would change (a room created, deleted or renamed: a whole build orders by the database's
   * collation, which this does not imitate).
   */
  async function patchedList(base: Entry<ListValue>, ids: number[], now: Date, gen: string): Promise<Entry<ListValue> | undefined> {
    const [{ rooms: changed }, closureStart] = await Promise.all([listRoomViews(frozenAt(now), { ids }), nextClosureStart(now)])
    const byId = new Map(changed.map((room) => [room.id, room]))
    const listed = new Map(base.value.rooms.map((room) => [room.id, room]))
    for (const id of ids) if (listed.has(id) !== byId.has(id) || (byId.has(id) && byId.get(id)!.name !== listed.get(id)!.name)) return undefined
    const rooms = base.value.rooms.map((room) => {
      const view = byId.get(room.id)
      return view ? roomPart(view, now.getTime()) : room
    })
    return listEntry(rooms, closureStart, now.getTime(), base.value.wholeAt, gen)
  }

  return {
    async roomList() {
      const isLive = await live()
      const now = deps.clock.now()
      const t = now.getTime()
      if (isLive && listStale.size === 0 && fresh(list, listKey(), t)) {
        hits++
        return list.value.body
      }
      misses++
      const gen = listKey()
      // The kept list, if only a few rooms changed since it was made (and its time has not run
      // out): those are read again and spliced in. The barrier above has let every change
      // committed before this read into listStale.
      const base = isLive && list && listStale.size <= PATCH_MAX_ROOMS && list.builtAt <= t && t < list.validUntil ? list : undefined
      const ids = [...listStale]
      const entry = await shared('list', gen, now, isLive, async () => {
        if (base) {
          const patched = await patchedList(base, ids, now, gen)
          if (patched) {
            patches++
            return patched
          }
        }
        const [{ rooms }, closureStart] = await Promise.all([listRoomViews(frozenAt(now)), nextClosureStart(now)])
        return listEntry(rooms.map((room) => roomPart(room, t)), closureStart, t, t, gen)
      })
      // Kept only if no change arrived meanwhile (the generation): then it covers every room listStale named.
      if (isLive && bus.live() && gen === listKey() && entry.builtAt === t) {
        list = entry
        listStale.clear()
      }
      return entry.value.body
    },

    async roomDetail(id) {
      const isLive = await live()
      const now = deps.clock.now()
      let entry = details.get(id)
      if (isLive && fresh(entry, detailGen(id), now.getTime())) hits++
      else {
        misses++
        const gen = detailGen(id)
        entry = await shared(`room:${id}`, gen, now, isLive, async () => {
          const until = now.getTime() + MAX_AGE_MS
          // Closures far enough ahead for free slots computed until the entry expires.
          const [parts, closureStart] = await Promise.all([
            roomDetailParts(frozenAt(now), id, new Date(until + FREE_SLOT_HORIZON_MS + FREE_SLOT_STEP_MS)),
            nextClosureStart(now),
          ])
          const { room, schedule } = parts
          const prefix = encoder.encode(`{"room":${JSON.stringify(room)},"schedule":${JSON.stringify(schedule)},"free_slots":`)
          const validUntil = Math.min(
            nextInstant(now.getTime(), [...roomInstants(room), ...schedule.filter((e) => e.status === 'active').map((e) => e.end_time), closureStart]),
            until,
          )
          // Free slots are computed from now to now + the horizon, now before validUntil: the
          // room's months of future bookings (and the ones each booking adds) are not kept for them.
          const horizonEnd = validUntil + FREE_SLOT_HORIZON_MS + FREE_SLOT_STEP_MS
          const busy = parts.busy.filter((b) => b.end.getTime() > now.getTime() && b.start.getTime() < horizonEnd)
          return { value: { prefix, parts: { room, busy } }, builtAt: now.getTime(), validUntil, gen }
        })
        if (isLive && bus.live() && gen === detailGen(id) && entry.builtAt === now.getTime()) {
          details.delete(id)
          details.set(id, entry)
          if (details.size > MAX_DETAILS) details.delete(details.keys().next().value!)
        }
      }
      const value = entry.value
      const from = freeSlotsFrom(now).getTime()
      if (value.last?.from === from) return value.last.body
      const slots = JSON.stringify(detailFreeSlots(deps, value.parts, now))
      if (value.last?.slots === slots) {
        value.last.from = from
        return value.last.body
      }
      const tail = encoder.encode(`${slots}}`)
      const bytes = new Uint8Array(value.prefix.length + tail.length)
      bytes.set(value.prefix)
      bytes.set(tail, value.prefix.length)
      const body = cachedBody(bytes)
      value.prefix = bytes.subarray(0, value.prefix.length)
      value.last = { from, slots, body }
      return body
    },

    invalidateAll,

    stats() {
      let bytes = list?.value.body.bytes.length ?? 0
      for (const entry of details.values()) bytes += entry.value.last?.body.bytes.length ?? entry.value.prefix.length
      return { live: bus.live(), hits, misses, builds, patches, details: details.size, bytes }
    },
  }
}
