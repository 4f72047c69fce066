/**
 * Real server processes for end-to-end tests: `bun src/index.ts` (or any command) with an exact
 * environment (not the test runner's, which has NODE_ENV=test), its output captured, its JSON
 * log lines parsed, and a registry so that every process a test file started is killed at the end.
 */
import path from 'node:path'
import type { Subprocess } from 'bun'

export const ROOT = path.resolve(import.meta.dir, '../..')

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

/** The minimal environment a server process gets: no NODE_ENV, DATABASE_URL or secrets inherited. */
export function processEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  }
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

interface LogLine {
  msg: string
  level: string
  [field: string]: unknown
}

export interface ServerProcess {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  port: number
  base: string
  readonly stdout: string
  readonly stderr: string
  /** The JSON log lines printed on stdout so far. */
  logs(): LogLine[]
  /** Resolves when `count` log lines with this msg were printed; rejects if the process exits first. */
  waitForLog(msg: string, count?: number, timeoutMs?: number): Promise<LogLine[]>
  /** Resolves with the first stdout line (JSON or not) that starts with this text. */
  waitForLine(prefix: string, timeoutMs?: number): Promise<string>
  exited: Promise<number>
  /** Sends a signal and waits for the exit code (SIGKILL after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number>
}

const running = new Set<Subprocess>()

/** Kills every process started through this module that is still running (call in afterAll). */
export async function killAll(): Promise<void> {
  const procs = [...running]
  for (const proc of procs) proc.kill('SIGKILL')
  await Promise.all(procs.map((p) => p.exited))
}
process.on('exit', () => {
  for (const proc of running) proc.kill('SIGKILL')
})

async function collect(stream: ReadableStream<Uint8Array>, onText: (text: string) => void) {
  const decoder = new TextDecoder()
  for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }))
}

export function spawnServer(options: {
  env: Record<string, string>
  cmd?: string[]
  cwd?: string
  port?: number
}): ServerProcess {
  // An explicit PORT in env is passed as is (tests give bad values on purpose).
  const port = options.port ?? (options.env.PORT !== undefined ? Number(options.env.PORT) : freePort())
  const proc = Bun.spawn(options.cmd ?? [process.execPath, 'src/index.ts'], {
    cwd: options.cwd ?? ROOT,
    env: { PORT: String(port), ...options.env },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  running.add(proc)
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  const notify = () => {
    for (const waiter of waiters) waiter()
  }
  const outDone = collect(proc.stdout, (text) => {
    stdout += text
    notify()
  })
  const errDone = collect(proc.stderr, (text) => {
    stderr += text
    notify()
  })
  const exited = proc.exited.then(async (code) => {
    running.delete(proc)
    await Promise.all([outDone, errDone]).catch(() => {})
    notify()
    return code
  })

  const logs = () =>
    stdout.split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return []
      try {
        return [JSON.parse(line) as LogLine]
      } catch {
        return []
      }
    })

  /** Resolves with found()'s first defined value, checked whenever output arrives; rejects at exit or timeout. */
  function waitFor<T>(what: string, found: () => T | undefined, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      let done = false
      const check = () => {
        if (done) return
        const value = found()
        if (value !== undefined) finish(() => resolve(value))
        else if (proc.exitCode !== null || proc.signalCode !== null)
          finish(() => reject(new Error(`process exited (${proc.exitCode ?? proc.signalCode}) before the ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`)))
      }
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${what} within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`))),
        timeoutMs,
      )
      const finish = (then: () => void) => {
        done = true
        clearTimeout(timer)
        waiters.delete(check)
        then()
      }
      waiters.add(check)
      check()
    })
  }

  const server: ServerProcess = {
    proc,
    port,
    base: `http://127.0.0.1:${port}`,
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
    logs,
    waitForLog(msg, count = 1, timeoutMs = 30_000) {
      return waitFor(`"${msg}" log line`, () => {
        const found = logs().filter((l) => l.msg === msg)
        return found.length >= count ? found : undefined
      }, timeoutMs)
    },
    waitForLine(prefix, timeoutMs = 30_000) {
      return waitFor(`line starting with "${prefix}"`, () => stdout.split('\n').slice(0, -1).find((l) => l.startsWith(prefix)), timeoutMs)
    },
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 20_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
  return server
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
