/**
 * `bun run openapi`: writes openapi.json at the repository's root, the API document exactly as a
 * server serves it at /swagger/json (createApp, in this process, with no database behind it: the
 * document is built from the routes alone), on a clock fixed at EXAMPLES_AS_WRITTEN_AT so that its
 * example times are as the models write them and the file does not change with the day it is made.
 * The configuration is the defaults (`bun run start` with no variables), never this shell's
 * environment. test/openapi-published.test.ts fails while the file differs from the served document.
 */
import path from 'node:path'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { createDb } from '../src/db/client'
import { fixedClock } from '../src/lib/clock'
import { silentLogger } from '../src/lib/log'
import { EXAMPLES_AS_WRITTEN_AT } from '../src/plugins/docs'

export const PUBLISHED_PATH = path.resolve(import.meta.dir, '../openapi.json')

/** The document as a file: two-space JSON and a final newline. */
function asFile(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`
}

async function servedDocument(): Promise<unknown> {
  const config = loadConfig({ DATABASE_URL: 'memory://' })
  const database = await createDb(config.database)
  try {
    const { app } = createApp({ config, database, clock: fixedClock(EXAMPLES_AS_WRITTEN_AT), log: silentLogger, startedAt: Date.now() })
    const res = await app.handle(new Request('http://localhost/swagger/json'))
    if (res.status !== 200) throw new Error(`/swagger/json answered ${res.status}`)
    return await res.json()
  } finally {
    await database.close()
  }
}

if (import.meta.main) {
  const text = asFile(await servedDocument())
  const before = await Bun.file(PUBLISHED_PATH).text().catch(() => '')
  await Bun.write(PUBLISHED_PATH, text)
  console.log(`${path.relative(process.cwd(), PUBLISHED_PATH)}: ${before === text ? 'unchanged' : 'written'} (${Math.round(text.length / 1024)} KiB)`)
}
