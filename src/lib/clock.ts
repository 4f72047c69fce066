/** The current time, injected so that time-dependent rules can be tested with a fake clock. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

/** A clock that stands still until moved: for tests. */
export function fixedClock(start: Date | string): Clock & { set(at: Date | string): void; advance(ms: number): void } {
  let current = new Date(start)
  return {
    now: () => new Date(current),
    set: (at) => { current = new Date(at) },
    advance: (ms) => { current = new Date(current.getTime() + ms) },
  }
}
