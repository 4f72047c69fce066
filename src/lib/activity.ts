/**
 * Whether the server is answering requests right now: background work that competes for the same
 * cores (the e-mail outbox) slows down while requests keep arriving and runs at full speed between
 * them. Scheduling only: nothing the application decides reads it.
 */
export interface Activity {
  /** a request arrived */
  touch(): void
  /** a request arrived within the last `windowMs` */
  busy(windowMs?: number): boolean
}

export function createActivity(): Activity {
  let last = -Infinity
  return {
    touch() { last = performance.now() },
    busy: (windowMs = 200) => performance.now() - last < windowMs,
  }
}
