/** What both clients book: an hour in one of a room's free slots (GET /api/rooms/{id} free_slots). */
const HOUR = 3_600_000

/** The first free hour that starts on a full hour at least two hours from now, in one of these gaps. */
export function pickHour(freeSlots: { start: string; end: string }[], now: number): { start: Date; end: Date } | undefined {
  for (const slot of freeSlots) {
    const from = Math.max(new Date(slot.start).getTime(), now + 2 * HOUR)
    const start = Math.ceil(from / HOUR) * HOUR
    if (start + HOUR <= new Date(slot.end).getTime()) return { start: new Date(start), end: new Date(start + HOUR) }
  }
  return undefined
}
