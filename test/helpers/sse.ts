/** Reads a Server-Sent Events response as a queue of parsed events, for tests. */
export interface SseEvent {
  id?: string
  event: string
  data: any
}

export class SseReader {
  private buffer = ''
  private events: SseEvent[] = []
  private waiters: (() => void)[] = []
  private reader: { read(): Promise<{ value?: Uint8Array; done: boolean }>; cancel(): Promise<void> }
  closed = false

  constructor(response: Response) {
    if (!response.body) throw new Error('no body')
    this.reader = response.body.getReader()
    void this.pump()
  }

  private async pump() {
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { value, done } = await this.reader.read()
        if (done) break
        this.buffer += decoder.decode(value, { stream: true })
        let end: number
        while ((end = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, end)
          this.buffer = this.buffer.slice(end + 2)
          const event: SseEvent = { event: 'message', data: undefined }
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue
            const [field, ...rest] = line.split(':')
            const value = rest.join(':').replace(/^ /, '')
            if (field === 'id') event.id = value
            else if (field === 'event') event.event = value
            else if (field === 'data') data.push(value)
            else if (field === 'retry') event.event = 'retry'
          }
          if (event.event === 'retry') continue
          event.data = data.length ? JSON.parse(data.join('\n')) : undefined
          this.events.push(event)
        }
        for (const wake of this.waiters.splice(0)) wake()
      }
    } catch {}
    this.closed = true
    for (const wake of this.waiters.splice(0)) wake()
  }

  /** The next event matching the predicate (events before it are dropped); rejects after timeoutMs. */
  async next(predicate: (e: SseEvent) => boolean = () => true, timeoutMs = 5000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.events.findIndex(predicate)
      if (index >= 0) return this.events.splice(0, index + 1)[index]!
      this.events = []
      if (this.closed) throw new Error('stream closed')
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  async close() {
    await this.reader.cancel().catch(() => {})
  }
}
