/**
 * The one way a state change is written (docs/decisions/027-one-record-of-every-change.md).
 *
 * A write opens its transaction with writeTransaction() and records what it changed with
 * recordChange() anywhere inside it. The records are inserted as the transaction's last statement,
 * under a transaction-level advisory lock that is held until COMMIT, each with the next value of
 * changes_position_seq: so positions follow commit order, and a follower that has read every
 * change up to position N has seen everything committed before N (gaps are possible, from a
 * commit that failed, never a late lower number). The insert NOTIFYs every instance (the trigger
 * of migration 0015). A change recorded outside writeTransaction is a programming error: it throws.
 */
import { sql } from 'drizzle-orm'
import { rowsOf, type Db, type Executor } from '../../db/client'
import type { ChangeEvent } from './events'

export interface Change {
  event: ChangeEvent
  /** who did it; null for the system (the sweeper, a script) */
  actorId: number | null
  /** the rooms whose views it changes ('all': every room); default: data.room_id / data.room_ids */
  rooms?: number[] | 'all'
  /** the users it concerns; default: data.user_id / data.user_ids */
  users?: number[]
  /** one line for a person (the audit log's description) */
  description: string
  /** the facts that matter: ids, before and after (the audit log's payload) */
  data?: Record<string, unknown>
  /** when it happened: the caller's clock, never the database's */
  at: Date
}

/** Serializes the tail (record insert to COMMIT) of every transaction that records a change. */
const CHANGE_LOCK_KEY = 0x51524348

const pending = new WeakMap<object, Change[]>()
/** The newest position each database (its Db handle) committed through this process. */
const committed = new WeakMap<object, number>()

export function recordChange(tx: Executor, change: Change): void {
  recordChanges(tx, [change])
}

export function recordChanges(tx: Executor, changes: Change[]): void {
  const queue = pending.get(tx)
  if (!queue) throw new Error('a change is recorded only inside writeTransaction() (src/core/changes/record.ts)')
  queue.push(...changes)
}

const ids = (value: unknown): number[] =>
  typeof value === 'number' ? [value] : Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : []

function rowOf(change: Change) {
  const data = change.data ?? {}
  const rooms = change.rooms ?? [...ids(data.room_id), ...ids(data.room_ids)]
  return {
    event: change.event,
    actor_id: change.actorId,
    room_ids: rooms === 'all' ? [] : [...new Set(rooms)],
    all_rooms: rooms === 'all',
    user_ids: [...new Set(change.users ?? [...ids(data.user_id), ...ids(data.user_ids)])],
    description: change.description,
    data,
    at: change.at.toISOString(),
  }
}

/** Inserts the records in one statement that first takes the change lock; the newest position. */
async function insertChanges(tx: Executor, changes: Change[]): Promise<number> {
  const rows = rowsOf<{ position: string | number }>(await tx.execute(sql`
    with change_lock as (select pg_advisory_xact_lock(${CHANGE_LOCK_KEY}))
    insert into changes (position, event, actor_id, room_ids, all_rooms, user_ids, description, data, at)
    select nextval('changes_position_seq'), c.event, c.actor_id, c.room_ids, c.all_rooms, c.user_ids, c.description, c.data, c.at
    from change_lock, json_to_recordset(${JSON.stringify(changes.map(rowOf))}::json)
      as c(event text, actor_id integer, room_ids integer[], all_rooms boolean, user_ids integer[], description text, data jsonb, at timestamptz)
    returning position`))
  return Math.max(...rows.map((r) => Number(r.position)))
}

/**
 * Resolves once every statement already started on a transaction has been handed to its
 * connection (not answered): each is handed within microtasks (Drizzle, the breaker's guard,
 * postgres.js), and a macrotask runs only after every microtask queued before it. What is started
 * after this is sent, and so executed, after them: how a write puts a statement behind a lock
 * without waiting for the lock's answer first (issue 29).
 */
export function handedOff(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Runs `fn` in a transaction whose recorded changes commit with it (or not at all). Once it has
 * committed, the newest position is known to this process (committedPosition), so a read of this
 * process can wait until its live feed has heard it.
 *
 * On PostgreSQL the records' insert is sent with the COMMIT, not before it (issue 29): it takes the
 * change lock, which every writer queues for, and waiting for its answer before sending COMMIT held
 * that lock for a round trip plus however long this process's event loop took to come back to it
 * (under load, milliseconds: it capped bookings at a few hundred a second). The insert is handed to
 * the transaction's connection before `fn`'s result goes back to the driver, which then sends
 * COMMIT behind it; its answer is awaited after COMMIT's. If it failed, PostgreSQL answered the
 * COMMIT of the failed transaction with a rollback: nothing was kept, and its error is thrown.
 */
export async function writeTransaction<T>(database: { db: Db; kind?: string }, fn: (tx: Executor) => Promise<T>): Promise<T> {
  let position = 0
  let records: Promise<number> | undefined
  const result = await database.db.transaction(async (tx) => {
    const queue: Change[] = []
    pending.set(tx, queue)
    try {
      const value = await fn(tx)
      if (queue.length > 0) {
        // PGlite runs a transaction's statements one after another in the process: nothing to save.
        if (database.kind !== 'postgres') position = await insertChanges(tx, queue)
        else {
          records = insertChanges(tx, queue)
          records.catch(() => {}) // awaited below, after COMMIT
          await handedOff()
        }
      }
      return value
    } finally {
      pending.delete(tx)
    }
  })
  if (records) position = await records
  if (position > (committed.get(database.db) ?? 0)) committed.set(database.db, position)
  return result
}

/** The newest change position this process committed to this database (0: none yet). */
export function committedPosition(database: { db: Db }): number {
  return committed.get(database.db) ?? 0
}
