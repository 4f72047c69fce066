/**
 * One process per embedded database directory. PGlite has no lock of its own: two processes on one
 * directory each keep their own pages in memory and overwrite each other's files (a password set
 * by `bun run set-password` while the server ran was lost, and the directory can be corrupted).
 *
 * The lock is a file in the directory, created exclusively (O_EXCL) with the owner's pid in it.
 * A lock whose pid is no longer alive (the owner was killed with -9, or the container restarted
 * with a volume) is taken over. It is removed when the database is closed or the process exits.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'

export const LOCK_FILE = 'qrbook.lock'

class DataDirLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`the server is running on this data directory (${dir}, pid ${pid}); stop it, or use POST /api/admin/users/:id/reset-password`)
    this.name = 'DataDirLockedError'
  }
}

export interface DataDirLock {
  /** Removes the lock file (only if it is still ours). Safe to call twice. */
  release(): void
}

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return false // a previous life of this process's pid (container restart)
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined // vanished meanwhile, or unreadable
  }
}

/** Takes the directory's lock or throws DataDirLockedError naming the pid that holds it. */
export function lockDataDir(dir: string): DataDirLock {
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, LOCK_FILE)
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number
    try {
      fd = openSync(file, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = ownerOf(file)
      // An owner that is alive keeps it; an empty file is one being written right now.
      if (owner !== undefined && isAlive(owner)) throw new DataDirLockedError(dir, owner)
      if (owner === undefined && attempt === 0) {
        Bun.sleepSync(50)
        continue
      }
      rmSync(file, { force: true }) // stale: its owner died without removing it
      continue
    }
    writeSync(fd, `${process.pid}\n`)
    closeSync(fd)
    let released = false
    const release = () => {
      if (released) return
      released = true
      process.off('exit', release)
      if (ownerOf(file) === process.pid) rmSync(file, { force: true })
    }
    process.on('exit', release)
    return { release }
  }
  throw new DataDirLockedError(dir, ownerOf(file) ?? 0)
}
