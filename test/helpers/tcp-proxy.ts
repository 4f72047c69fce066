/**
 * A TCP proxy between the app and PostgreSQL that a test can cut, so that "the database stops
 * answering" is tested for real without touching the machine's shared PostgreSQL server.
 *
 * Modes:
 * - pass:   bytes flow both ways.
 * - stall:  connections stay open and new ones are accepted, but no byte is forwarded (a hung
 *           server or a network partition). Switching back to pass delivers what was held.
 * - refuse: every open connection is closed and new ones are accepted and closed at once (a proxy
 *           or load balancer whose backend is gone).
 * - down:   every open connection is closed and nothing listens on the port any more, so new
 *           connections are refused (ECONNREFUSED): what a stopped PostgreSQL server looks like.
 *           Switching back to pass listens again on the same port.
 *
 * Open connections are closed with a reset (RST) by default; `{ close: 'fin' }` ends them in order
 * (FIN), as PgBouncer, a load balancer or a server-side timeout does. The two reach different paths
 * of the driver (patches/README.md).
 *
 * stallWhere(match) partitions only some connections: those whose first bytes from the client (for
 * PostgreSQL, the start-up message with its application_name) match, now and later, stay open and
 * forward nothing, while the others pass (e.g. the LISTEN connection cut off, the pool not).
 */
import type { Socket, SocketHandler, TCPSocketListener } from 'bun'

type ProxyMode = 'pass' | 'stall' | 'refuse' | 'down'
type CloseHow = 'reset' | 'fin'

interface Pipe {
  client: Socket<Pipe>
  upstream?: Socket<Pipe>
  toUpstream: Uint8Array[]
  toClient: Uint8Array[]
  closed: boolean
  /** the client's first bytes, as latin1 text (what stallWhere matches) */
  first?: string
}

export interface TcpProxy {
  readonly port: number
  readonly mode: ProxyMode
  /** Connections accepted so far (to check that traffic really goes through the proxy). */
  readonly accepted: number
  setMode(mode: ProxyMode, options?: { close?: CloseHow }): void
  /** Connections open through the proxy now. */
  readonly open: number
  /** Stalls the connections (open and future) whose client's first bytes match; null lets them pass again. */
  stallWhere(match: ((firstBytes: string) => boolean) | null): void
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string
  close(): void
}

/** Writes what the socket accepts and keeps the rest queued (for the drain callback). */
function flush(socket: Socket<Pipe> | undefined, queue: Uint8Array[]) {
  while (socket && queue.length) {
    const chunk = queue[0]!
    const written = socket.write(chunk)
    if (written < chunk.byteLength) {
      queue[0] = chunk.subarray(Math.max(written, 0))
      return
    }
    queue.shift()
  }
}

export function startTcpProxy(target: { hostname: string; port: number }): TcpProxy {
  let mode: ProxyMode = 'pass'
  let accepted = 0
  const pipes = new Set<Pipe>()

  const shut = (pipe: Pipe, how: CloseHow = 'reset') => {
    if (pipe.closed) return
    pipe.closed = true
    pipes.delete(pipe)
    if (how === 'fin') {
      pipe.client.end()
      pipe.upstream?.end()
    } else {
      pipe.client.terminate()
      pipe.upstream?.terminate()
    }
  }
  let stallMatch: ((firstBytes: string) => boolean) | null = null
  const stalled = (pipe: Pipe) => stallMatch !== null && pipe.first !== undefined && stallMatch(pipe.first)
  const pump = (pipe: Pipe) => {
    if (mode !== 'pass' || pipe.closed || stalled(pipe)) return
    flush(pipe.upstream, pipe.toUpstream)
    flush(pipe.client, pipe.toClient)
  }

  const handlers: SocketHandler<Pipe> = {
    open(client) {
      accepted++
      if (mode === 'refuse' || mode === 'down') {
        client.terminate()
        return
      }
      const pipe: Pipe = { client, toUpstream: [], toClient: [], closed: false }
      client.data = pipe
      pipes.add(pipe)
      Bun.connect<Pipe>({
        hostname: target.hostname,
        port: target.port,
        data: pipe,
        socket: {
          open(upstream) {
            if (pipe.closed) return void upstream.terminate()
            pipe.upstream = upstream
            pump(pipe)
          },
          data(_upstream, chunk) {
            pipe.toClient.push(new Uint8Array(chunk))
            pump(pipe)
          },
          drain: () => pump(pipe),
          close: () => shut(pipe),
          error: () => shut(pipe),
        },
      }).catch(() => shut(pipe))
    },
    data(client, chunk) {
      if (!client.data) return
      client.data.first ??= Buffer.from(chunk).toString('latin1')
      client.data.toUpstream.push(new Uint8Array(chunk))
      pump(client.data)
    },
    drain(client) {
      if (client.data) pump(client.data)
    },
    close(client) {
      if (client.data) shut(client.data)
    },
    error(client) {
      if (client.data) shut(client.data)
    },
  }

  let listener: TCPSocketListener<Pipe> | undefined = Bun.listen<Pipe>({ hostname: '127.0.0.1', port: 0, socket: handlers })
  const port = listener.port
  let closed = false

  return {
    port,
    get mode() {
      return mode
    },
    get accepted() {
      return accepted
    },
    get open() {
      return pipes.size
    },
    setMode(next, options = {}) {
      if (closed) throw new Error('the proxy is closed')
      mode = next
      if (next === 'refuse' || next === 'down') for (const pipe of [...pipes]) shut(pipe, options.close)
      if (next === 'down') {
        listener?.stop(true)
        listener = undefined
      } else if (!listener) {
        listener = Bun.listen<Pipe>({ hostname: '127.0.0.1', port, socket: handlers })
      }
      if (next === 'pass') for (const pipe of pipes) pump(pipe)
    },
    stallWhere(match) {
      stallMatch = match
      if (match === null) for (const pipe of pipes) pump(pipe)
    },
    urlFor(url) {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    close() {
      closed = true
      for (const pipe of [...pipes]) shut(pipe)
      listener?.stop(true)
      listener = undefined
    },
  }
}
