/**
 * Issue 30: a frontend developer's typed client, generated from the API, compiles without a cast
 * and works. Against a real server (`bun src/index.ts` on a free port, a fresh embedded database):
 * - its /swagger/json is turned into `schema.d.ts` by openapi-typescript (its Node API, as its CLI
 *   does), and tsc (strict, noUncheckedIndexedAccess) checks test/system/clients/openapi-client.ts
 *   (openapi-fetch over the generated types), type-probes.ts (what those types must refuse) and
 *   eden-client.ts (Eden Treaty over src/app.ts's `App`): no error;
 * - the clients' sources have no cast, `any`, `// @ts-` comment or non-null assertion;
 * - each client then runs against the server: one route of every tag, a booking made and found
 *   again in /reservations/mine;
 * - the live document is openapi.json (the published one) but for its example times, which the
 *   server moves with its clock.
 * The clients are files so that a reader sees them; `./schema` is generated into a temporary folder
 * that tsc merges with the clients' folder (rootDirs), so the repository's own tsc leaves the
 * folder out (tsconfig.json's exclude) and only this test checks it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import openapiTS, { astToString } from 'openapi-typescript'
import { killAll, processEnv, ROOT, spawnServer, type ServerProcess } from '../helpers/process'

setDefaultTimeout(60_000) // see test/setup.ts; tsc over Eden's types alone takes ~25 s on 2 cores

const CLIENTS = path.join(import.meta.dir, 'clients')
const CLIENT_FILES = ['openapi-client.ts', 'eden-client.ts', 'free-hour.ts']
const SECRETS = { SECRET_KEY: 'typed-clients-secret-key-0123456789abcdefgh', JWT_SECRET_KEY: 'typed-clients-jwt-key-0123456789abcdefghijk' }

const work = mkdtempSync(path.join(tmpdir(), 'qrbook-typed-clients-'))
let server: ServerProcess
let served: any
beforeAll(async () => {
  server = spawnServer({ env: processEnv({ ...SECRETS, DATABASE_URL: `pglite://${path.join(work, 'pglite')}`, STATIC_QR_PATH: path.join(work, 'qr') }) })
  await server.waitForLog('listening')
  const res = await fetch(`${server.base}/swagger/json`)
  expect(res.status).toBe(200)
  served = await res.json()
})
afterAll(async () => {
  await server?.stop()
  await killAll()
  rmSync(work, { recursive: true, force: true })
})

/** The source without its comments and the contents of its strings (a message may say "as"). */
function code(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
    .replace(/`(?:\\.|[^`\\])*`|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"/g, '""')
}

describe('typed clients of the API', () => {
  test('the clients have no cast, any, @ts- comment or non-null assertion', async () => {
    for (const file of CLIENT_FILES) {
      const source = await Bun.file(path.join(CLIENTS, file)).text()
      expect(source, `${file}: no // @ts- comment`).not.toMatch(/@ts-/)
      const body = code(source)
      expect(body.match(/\bas\s+[\w{[(]/g), `${file}: no \`as\` cast`).toBeNull()
      expect(body.match(/\bany\b/g), `${file}: no any`).toBeNull()
      expect(body.match(/<\s*[\w.[\]]+\s*>\s*[\w(]/g)?.filter((m) => !/^<\s*(paths|App)\s*>/.test(m)) ?? [], `${file}: no <T>value cast`).toEqual([])
      // a non-null assertion: `x!`, `x()!`, `x[0]!` followed by anything but `=` (x !== y, x != y)
      expect(body.match(/[\w)\]]!(?!=)/g), `${file}: no non-null assertion`).toBeNull()
    }
  })

  test('openapi-typescript types from /swagger/json, and both clients, pass tsc strict with no error', async () => {
    let started = performance.now()
    const schema = astToString(await openapiTS(served, { silent: true }))
    await Bun.write(path.join(work, 'schema.d.ts'), schema)
    const generateMs = performance.now() - started
    await Bun.write(path.join(work, 'tsconfig.json'), JSON.stringify({
      // The repository's settings (JSX for the console, Bun's types) so that Eden's import of
      // src/app.ts compiles as it does for the server; the client-facing checks made explicit.
      extends: path.join(ROOT, 'tsconfig.json'),
      compilerOptions: {
        strict: true,
        noImplicitAny: true,
        noUncheckedIndexedAccess: true,
        noEmit: true,
        rootDirs: [CLIENTS, work],
        typeRoots: [path.join(ROOT, 'node_modules/@types')],
        plugins: [],
      },
      include: [],
      files: [...CLIENT_FILES, 'type-probes.ts'].map((file) => path.join(CLIENTS, file)),
    }, null, 2))
    started = performance.now()
    const tsc = Bun.spawn([process.execPath, path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(work, 'tsconfig.json'), '--pretty', 'false'], {
      cwd: ROOT, stdout: 'pipe', stderr: 'pipe',
    })
    const [out, err, exit] = await Promise.all([new Response(tsc.stdout).text(), new Response(tsc.stderr).text(), tsc.exited])
    const tscMs = performance.now() - started
    console.log(`schema.d.ts: ${schema.split('\n').length} lines in ${Math.round(generateMs)} ms; tsc: ${Math.round(tscMs)} ms`)
    const errors = `${out}${err}`.split('\n').filter((line) => /error TS\d+/.test(line)).map((line) => line.replace(`${ROOT}/`, ''))
    expect(errors).toEqual([])
    expect(exit).toBe(0)
  }, 120_000)

  /** What a tour must have seen, whichever client made it. */
  function expectTour(tour: any) {
    expect(tour.statuses).toEqual({ login: 200, rooms: 200, room: 200, reserve: 201, mine: 200, series: 200, closures: 200, policies: 200, scan: 200, stats: 200 })
    expect(tour.role).toBe('student')
    expect(tour.policiesRole).toBe('student')
    expect(tour.booking).toMatchObject({ room_id: tour.room.id, status: 'active', start_time: tour.asked.start_time.replace('.000Z', 'Z'), end_time: tour.asked.end_time.replace('.000Z', 'Z') })
    // the instants are the strings the types say, in UTC with a trailing Z
    expect(tour.booking.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(tour.listedInMine).toEqual({ id: tour.booking.id, start_time: tour.booking.start_time, end_time: tour.booking.end_time })
    expect(tour.seriesCount).toBeGreaterThanOrEqual(0)
    expect(tour.closuresCount).toBeGreaterThanOrEqual(0)
    expect(['check_in', 'book_now', 'login', 'view']).toContain(tour.scanAction)
    expect(tour.activeNow).toBeGreaterThanOrEqual(1)
  }

  test('the openapi-fetch client runs against the server: every tag, a booking made and listed', async () => {
    const { openapiTour } = await import(path.join(CLIENTS, 'openapi-client.ts'))
    expectTour(await openapiTour(server.base))
  })

  test('the Eden Treaty client does the same', async () => {
    const { edenTour } = await import(path.join(CLIENTS, 'eden-client.ts'))
    expectTour(await edenTour(server.base))
  })

  test('the live document is openapi.json but for the example times (moved with the clock)', async () => {
    // Every ISO instant, and the dates of the timetable import's CSV example, follow the clock.
    const timeless = (doc: unknown) => JSON.parse(JSON.stringify(doc)
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<instant>')
      .replace(/\d\d\.\d\d\.\d{4}/g, '<date>'))
    const published = await Bun.file(path.join(ROOT, 'openapi.json')).json()
    expect(timeless(served), 'run `bun run openapi`').toEqual(timeless(published))
  })
})
