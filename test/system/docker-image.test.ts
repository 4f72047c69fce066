/**
 * The production image, without a Docker daemon: the Dockerfile's rules are checked, then its own
 * steps run in a temp root in order (WORKDIR, ENV, COPY minus .dockerignore, RUN with its absolute
 * paths moved into the root, USER mapped to `nobody` when the test runs as root), and its CMD and
 * HEALTHCHECK run as that user with exactly the deployment guide's variables plus Railway's
 * RAILWAY_PUBLIC_DOMAIN. What a deployer would see must hold: /health, the health check, a room's
 * QR code for the public domain written to the guide's STATIC_QR_PATH, the guide's login, and
 * `bun run set-password` inside the image.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pkg from '../../package.json'
import { randomSecret } from '../../scripts/secrets'
import { createPostgresDatabase, postgresServerUrl } from '../helpers/db'
import jsQR from 'jsqr'
import { PNG } from 'pngjs'
import { freePort, killAll, ROOT, spawnServer } from '../helpers/process'

setDefaultTimeout(30_000) // see test/setup.ts

interface Instruction {
  op: string
  args: string
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text.split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n').replace(/\\\n/g, ' ')
  return joined.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const [op, ...rest] = line.split(/\s+/)
    return { op: op!.toUpperCase(), args: rest.join(' ') }
  })
}

const dockerfile = parseDockerfile(await Bun.file(`${ROOT}/Dockerfile`).text())
const all = (op: string) => dockerfile.filter((i) => i.op === op)
const PG = await postgresServerUrl()

describe('Dockerfile', () => {
  test('official Bun image pinned to the exact version package.json names', () => {
    const from = all('FROM')
    expect(from.length).toBeGreaterThanOrEqual(1)
    for (const f of from) expect(f.args).toMatch(/^oven\/bun:\d+\.\d+\.\d+(-[a-z]+)?(\s+AS\s+\w+)?$/i)
    const version = /^oven\/bun:(\d+\.\d+\.\d+)/.exec(from.at(-1)!.args)![1]
    expect(version).toBe(pkg.engines.bun.replace(/^>=\s*/, ''))
  })

  test('production dependencies only, from the lockfile; runs the sources with bun, never a compiled binary', () => {
    const runs = all('RUN').map((r) => r.args)
    expect(runs.some((r) => /bun install --production --frozen-lockfile/.test(r))).toBe(true)
    expect(runs.join('\n')).not.toMatch(/--compile|bun build/)
    expect(all('CMD').map((c) => JSON.parse(c.args))).toEqual([['bun', 'src/index.ts']])
  })

  test('ships drizzle/, exposes 8080, runs as a non-root user', () => {
    const copies = all('COPY').map((c) => c.args)
    expect(copies).toContain('drizzle ./drizzle')
    expect(copies).toContain('src ./src')
    expect(all('EXPOSE').map((e) => e.args)).toEqual(['8080'])
    const user = all('USER').at(-1)?.args
    expect(user).toBeDefined()
    expect(['root', '0']).not.toContain(user!)
    // nothing runs as root after the switch
    const lastUser = dockerfile.findLastIndex((i) => i.op === 'USER')
    expect(dockerfile.slice(lastUser).filter((i) => i.op === 'RUN' || i.op === 'COPY')).toEqual([])
  })

  test('.dockerignore keeps local state and secrets out of the build context', async () => {
    const ignored = (await Bun.file(`${ROOT}/.dockerignore`).text()).split('\n').map((l) => l.trim())
    for (const entry of ['node_modules', 'data', '.env', '.git']) expect(ignored).toContain(entry)
  })

  test('railway.toml: Dockerfile builder, /health check, restart on failure 10 times', async () => {
    const railway = Bun.TOML.parse(await Bun.file(`${ROOT}/railway.toml`).text()) as any
    expect(railway.build.builder).toBe('DOCKERFILE')
    expect(railway.build.dockerfilePath ?? 'Dockerfile').toBe('Dockerfile')
    expect(railway.deploy.healthcheckPath).toBe('/health')
    expect(railway.deploy.restartPolicyType).toBe('ON_FAILURE')
    expect(railway.deploy.restartPolicyMaxRetries).toBe(10)
  })
})

/** Where the temp root puts an absolute path of the image. */
const inRoot = (root: string, imagePath: string) => path.join(root, imagePath)

/**
 * The unprivileged user the image's USER maps to here: `nobody` when the test runs as root (and
 * can switch to it with setpriv), else the test's own user (then ownership cannot be proved).
 */
const AS_NOBODY = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv')
const NOBODY = 65534
const asImageUser = (argv: string[]) => AS_NOBODY ? ['/usr/bin/setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv] : argv

/** The image's bun is the host's bun here: argv[0] `bun` runs this very binary. */
const bunArgv = (argv: string[]) => argv[0] === 'bun' ? [process.execPath, ...argv.slice(1)] : argv

/** Image ENV lines: KEY=value pairs (the only form this Dockerfile uses). */
function envPairs(args: string): [string, string][] {
  return args.split(/\s+/).filter(Boolean).map((kv) => {
    const eq = kv.indexOf('=')
    expect(eq).toBeGreaterThan(0)
    return [kv.slice(0, eq), kv.slice(eq + 1)]
  })
}

/**
 * A RUN line as it runs in the temp root: every absolute path moves into the root, and `chown
 * user:group` names the user the image's USER maps to (or is skipped when the test cannot chown).
 */
function runInRoot(command: string, root: string): string {
  const mapped = command.replace(/(^|\s)(\/[^\s;&|]*)/g, (_, lead: string, p: string) => `${lead}${inRoot(root, p)}`)
  return mapped.replace(/chown\s+(-R\s+)?([\w-]+):([\w-]+)\s/g, (_, recursive: string | undefined) =>
    AS_NOBODY ? `chown ${recursive ?? ''}${NOBODY}:${NOBODY} ` : 'true ')
}

describe("the image's own steps, run in a temp root with the deployment guide's variables", () => {
  const RAILWAY_DOMAIN = 'qrbook-api-production.up.railway.app'
  let root: string
  let dropDatabase: (() => Promise<void>) | undefined

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'qrbook-image-'))
    chmodSync(root, 0o755) // the unprivileged user must be able to walk into it
  })
  afterAll(async () => {
    await killAll()
    await dropDatabase?.()
    rmSync(root, { recursive: true, force: true })
  })

  test('build: FROM, WORKDIR, ENV, COPY, RUN and USER as the Dockerfile says; then CMD, HEALTHCHECK, a QR code for the public domain, login and set-password', async () => {
    // FROM: the image's Bun is the one that runs here.
    const fromVersion = /^oven\/bun:(\d+\.\d+\.\d+)/.exec(all('FROM').at(-1)!.args)![1]
    expect({ host_bun: Bun.version }).toEqual({ host_bun: fromVersion! })

    const ignore = (await Bun.file(`${ROOT}/.dockerignore`).text()).split('\n').map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')).map((p) => new Bun.Glob(p))
    const ignored = (rel: string) => ignore.some((g) => rel.split('/').some((_, i, parts) => g.match(parts.slice(0, i + 1).join('/'))))

    let workdir = '/'
    let user: string | undefined
    const imageEnv: Record<string, string> = {}
    let cmd: string[] | undefined
    let healthcheck: string[] | undefined
    for (const step of dockerfile) {
      switch (step.op) {
        case 'FROM':
        case 'EXPOSE':
          break
        case 'WORKDIR':
          workdir = path.posix.resolve(workdir, step.args)
          mkdirSync(inRoot(root, workdir), { recursive: true })
          break
        case 'ENV':
          for (const [key, value] of envPairs(step.args)) imageEnv[key] = value
          break
        case 'COPY': {
          expect(user).toBeUndefined() // everything is in place before the switch to the unprivileged user
          expect(step.args).not.toMatch(/--from/) // single stage: everything comes from the context
          const parts = step.args.split(/\s+/).filter((p) => !p.startsWith('--'))
          const dest = parts.pop()!
          const target = inRoot(root, path.posix.resolve(workdir, dest))
          for (const src of parts) {
            const from = path.join(ROOT, src)
            expect({ src, exists: existsSync(from) && !ignored(src) }).toEqual({ src, exists: true })
            if (statSync(from).isDirectory()) {
              cpSync(from, target, { recursive: true, filter: (p) => !ignored(path.relative(ROOT, p)) })
            } else {
              const to = dest.endsWith('/') || parts.length > 1 ? path.join(target, path.basename(src)) : target
              mkdirSync(path.dirname(to), { recursive: true })
              cpSync(from, to)
            }
          }
          break
        }
        case 'RUN': {
          expect(user).toBeUndefined()
          const run = Bun.spawn(['sh', '-c', runInRoot(step.args, root)], {
            cwd: inRoot(root, workdir), stdin: 'ignore', stdout: 'pipe', stderr: 'pipe',
            // The build's environment: the image's ENV so far, with the host's bun and its package cache.
            env: { ...imageEnv, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, HOME: process.env.HOME ?? '/root' },
          })
          const output = (await new Response(run.stdout).text()) + (await new Response(run.stderr).text())
          expect({ run: step.args, code: await run.exited, output: (await run.exited) === 0 ? '' : output }).toEqual({ run: step.args, code: 0, output: '' })
          break
        }
        case 'USER':
          user = step.args
          break
        case 'CMD':
          cmd = JSON.parse(step.args)
          break
        case 'HEALTHCHECK': {
          const exec = /\bCMD\s+(\[.*\])\s*$/.exec(step.args)
          expect(exec).not.toBeNull() // exec form: no shell in the way
          healthcheck = JSON.parse(exec![1]!)
          break
        }
        default:
          throw new Error(`the image test does not know Dockerfile instruction ${step.op}: teach it, so the test stays the image`)
      }
    }
    expect(user).toBe('bun')
    expect(cmd).toEqual(['bun', 'src/index.ts'])
    expect(healthcheck).toBeDefined()

    const appDir = inRoot(root, workdir)
    expect(existsSync(path.join(appDir, 'drizzle/meta/_journal.json'))).toBe(true)
    expect(existsSync(path.join(appDir, 'scripts/set-password.ts'))).toBe(true)
    expect(existsSync(path.join(appDir, 'test'))).toBe(false)
    // devDependencies are not installed (typescript and @types/bun do come in: they are peer
    // dependencies of elysia and @elysiajs/openapi)
    const peersOfProductionDeps = ['typescript', '@types/bun']
    for (const dev of Object.keys(pkg.devDependencies).filter((d) => !peersOfProductionDeps.includes(d)))
      expect({ dev, installed: existsSync(path.join(appDir, 'node_modules', dev)) }).toEqual({ dev, installed: false })
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(path.join(appDir, 'node_modules', dep))).toBe(true)
    // The install applied the patch to postgres.js (patches/README.md): without it a dropped
    // database connection can end the process.
    const driver = await Bun.file(path.join(appDir, 'node_modules/postgres/src/connection.js')).text()
    expect(driver).toContain('qrbook patch')

    // The bun user's home, as the base image has it.
    const home = inRoot(root, '/home/bun')
    mkdirSync(home, { recursive: true })
    if (AS_NOBODY) chownSync(home, NOBODY, NOBODY)

    let databaseUrl = `pglite://${inRoot(root, '/app/data/pglite')}`
    if (PG) {
      const created = await createPostgresDatabase('qrbook_image', PG)
      dropDatabase = created.drop
      databaseUrl = created.url
    }
    const port = freePort() // Railway sets PORT; 8080 may be taken on this machine
    // Exactly the guide's variables (step 3), with Railway's own, and nothing else of substance.
    const containerEnv = {
      ...imageEnv,
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: home,
      SECRET_KEY: randomSecret(),
      JWT_SECRET_KEY: randomSecret(),
      DATABASE_URL: databaseUrl,
      STATIC_QR_PATH: inRoot(root, '/app/app/static/qr'), // the guide's /app/app/static/qr, in the temp root
      JWT_COOKIE_SECURE: 'true',
      JWT_CSRF_CHECK_FORM: 'true',
      FLASK_ENV: 'production',
      FLASK_DEBUG: '0',
      PORT: String(port),
      RAILWAY_PUBLIC_DOMAIN: RAILWAY_DOMAIN,
    }
    const server = spawnServer({ env: containerEnv, cwd: appDir, port, cmd: asImageUser(bunArgv(cmd!)) })
    const [listening] = await server.waitForLog('listening', 1, 40_000)
    expect(listening).toMatchObject({ url: `http://0.0.0.0:${port}/`, database: PG ? 'postgres' : 'pglite' })
    const base = `http://127.0.0.1:${port}`

    const health = await fetch(`${base}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'healthy', database: 'connected', version: pkg.version })
    expect(health.headers.get('strict-transport-security')).toContain('max-age=') // JWT_COOKIE_SECURE=true

    // The HEALTHCHECK command itself, in the container's environment, as the image's user.
    const check = Bun.spawn(asImageUser(bunArgv(healthcheck!)), { cwd: appDir, env: containerEnv, stdout: 'pipe', stderr: 'pipe' })
    expect({ healthcheck: await check.exited, stderr: await new Response(check.stderr).text() }).toEqual({ healthcheck: 0, stderr: '' })

    // The guide's login, then a room (production seeds the accounts only): its QR code is for the public domain.
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'admin1234' }),
    })
    expect(login.status).toBe(200)
    const { access_token } = (await login.json()) as { access_token: string }
    const created = await fetch(`${base}/api/rooms`, {
      method: 'POST', headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'B101', room_type: 'public' }),
    })
    expect(created.status).toBe(201)
    const { room } = (await created.json()) as { room: { id: number; qr_code_url: string } }
    expect(room.qr_code_url).toBe(`https://${RAILWAY_DOMAIN}/static/qr/${room.id}.png`)
    const png = await fetch(`${base}${new URL(room.qr_code_url).pathname}`)
    expect(png.status).toBe(200)
    const image = PNG.sync.read(Buffer.from(await png.arrayBuffer()))
    expect(jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data).toBe(`https://${RAILWAY_DOMAIN}/r/${room.id}`)
    // The console's pages (JSX, compiled by Bun with the tsconfig.json the image copies) and its stylesheet.
    const consolePage = await fetch(`${base}/console/login`)
    expect(consolePage.status).toBe(200)
    expect(await consolePage.text()).toContain('<form method="post" action="/console/login"')
    expect((await fetch(`${base}/console/assets/console.css`)).status).toBe(200)
    const overview = await fetch(`${base}/console`, { headers: { authorization: `Bearer ${access_token}` } })
    expect(overview.status).toBe(200)
    expect(await overview.text()).toContain('<h1>Overview</h1>')
    // Written to the guide's directory, by the image's user, without a complaint.
    const file = path.join(containerEnv.STATIC_QR_PATH, `${room.id}.png`)
    expect(existsSync(file)).toBe(true)
    if (AS_NOBODY) expect(statSync(file).uid).toBe(NOBODY)
    const output = server.stdout + server.stderr
    expect(output).not.toContain('EACCES')
    expect(output).not.toContain('not writable')
    expect(output).not.toContain('localhost')
    // production: no warning about generated secrets; the seeded defaults are named
    expect(server.logs().some((l) => l.level === 'warn' && /SECRET_KEY/.test(l.msg))).toBe(false)
    expect(server.logs().filter((l) => l.msg.includes('still has its default password'))).toHaveLength(4)

    // The warning's advice can be followed inside the image: scripts/ and `bun run` are there.
    const setPassword = Bun.spawn(asImageUser([process.execPath, 'run', 'set-password', 'admin']), {
      cwd: appDir, env: { ...containerEnv, PATH: `${path.dirname(process.execPath)}:${containerEnv.PATH}` },
      stdin: new TextEncoder().encode('a-long-production-password\n'), stdout: 'pipe', stderr: 'pipe',
    })
    const [setOut, setErr, setCode] = await Promise.all([new Response(setPassword.stdout).text(), new Response(setPassword.stderr).text(), setPassword.exited])
    if (PG) {
      expect({ setCode, setErr: setErr.replace(/^\$ .*\n/m, '') }).toEqual({ setCode: 0, setErr: '' })
      expect(setOut).toContain('password of "admin" updated')
      const again = await fetch(`${base}/api/auth/login`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'a-long-production-password' }),
      })
      expect(again.status).toBe(200)
    } else {
      // On the embedded database the running server holds the directory: one clear line.
      expect(setCode).toBe(1)
      expect(setErr).toContain('the server is running on this data directory')
    }

    expect(server.stderr).toBe('')
    expect(await server.stop('SIGTERM')).toBe(0)
  }, 90_000)
})
