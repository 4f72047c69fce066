/**
 * The production image, without a Docker daemon: the Dockerfile's rules are checked, then exactly
 * the files it COPYs (minus .dockerignore) go to a temp dir, production dependencies are installed
 * with its own command, and its CMD runs with the deployment guide's variables on a fresh database,
 * as an unprivileged user when the test runs as root. It must answer /health with 200.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pkg from '../package.json'
import { randomSecret } from '../scripts/secrets'
import { createPostgresDatabase, postgresServerUrl } from './helpers/db'
import { killAll, processEnv, ROOT, spawnServer } from './helpers/process'

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

describe('the image\'s contents start and answer /health', () => {
  let temp: string
  let appDir: string
  let dropDatabase: (() => Promise<void>) | undefined

  beforeAll(() => {
    temp = mkdtempSync(path.join(tmpdir(), 'qrbook-image-'))
    chmodSync(temp, 0o755)
  })
  afterAll(async () => {
    await killAll()
    await dropDatabase?.()
    rmSync(temp, { recursive: true, force: true })
  })

  test('copy what the Dockerfile COPYs, install production dependencies, run its CMD', async () => {
    const workdir = all('WORKDIR').at(-1)!.args
    appDir = path.join(temp, workdir)
    mkdirSync(appDir, { recursive: true })

    // .dockerignore applies to what COPY takes from the build context
    const ignore = (await Bun.file(`${ROOT}/.dockerignore`).text()).split('\n').map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')).map((p) => new Bun.Glob(p))
    const ignored = (rel: string) => ignore.some((g) => rel.split('/').some((_, i, parts) => g.match(parts.slice(0, i + 1).join('/'))))

    for (const copy of all('COPY')) {
      expect(copy.args).not.toMatch(/--from/) // single stage: everything comes from the context
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'))
      const dest = parts.pop()!
      const target = path.resolve(appDir, dest)
      for (const src of parts) {
        const from = path.join(ROOT, src)
        expect(existsSync(from)).toBe(true)
        if (statSync(from).isDirectory()) {
          cpSync(from, target, { recursive: true, filter: (p) => !ignored(path.relative(ROOT, p)) })
        } else {
          const to = dest.endsWith('/') || parts.length > 1 ? path.join(target, path.basename(src)) : target
          mkdirSync(path.dirname(to), { recursive: true })
          cpSync(from, to)
        }
      }
    }
    expect(existsSync(path.join(appDir, 'drizzle/meta/_journal.json'))).toBe(true)
    expect(existsSync(path.join(appDir, 'src/index.ts'))).toBe(true)
    expect(existsSync(path.join(appDir, 'test'))).toBe(false)

    const install = Bun.spawn([process.execPath, 'install', '--production', '--frozen-lockfile'], {
      cwd: appDir, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', env: { ...process.env, NODE_ENV: 'production' },
    })
    const installOutput = (await new Response(install.stdout).text()) + (await new Response(install.stderr).text())
    expect({ code: await install.exited, installOutput }).toMatchObject({ code: 0 })
    // devDependencies are not installed (typescript and @types/bun do come in: they are peer
    // dependencies of elysia and @elysiajs/openapi)
    const peersOfProductionDeps = ['typescript', '@types/bun']
    for (const dev of Object.keys(pkg.devDependencies).filter((d) => !peersOfProductionDeps.includes(d)))
      expect({ dev, installed: existsSync(path.join(appDir, 'node_modules', dev)) }).toEqual({ dev, installed: false })
    expect(existsSync(path.join(appDir, 'node_modules/esbuild'))).toBe(false) // drizzle-kit's build tooling
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(path.join(appDir, 'node_modules', dep))).toBe(true)

    // the directories the image prepares for its unprivileged user
    const asNobody = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv')
    const home = path.join(temp, 'home')
    for (const dir of [path.join(appDir, 'data'), path.join(appDir, 'static/qr'), home]) {
      mkdirSync(dir, { recursive: true })
      if (asNobody) chownSync(dir, 65534, 65534)
    }
    if (asNobody) chownSync(path.join(appDir, 'static'), 65534, 65534)

    let databaseUrl = `pglite://${path.join(appDir, 'data/pglite')}`
    if (PG) {
      const created = await createPostgresDatabase('qrbook_image', PG)
      dropDatabase = created.drop
      databaseUrl = created.url
    }
    const imageEnv = Object.fromEntries(all('ENV').flatMap((e) => e.args.split(/\s+/).map((kv) => kv.split('=') as [string, string])))
    expect(imageEnv.NODE_ENV).toBe('production')
    // the deployment guide's variables, with secrets from `bun run secrets`
    const env = processEnv({
      ...imageEnv,
      HOME: home,
      HOST: '127.0.0.1', // the image listens on 0.0.0.0 (the default); tests stay on loopback
      FLASK_ENV: 'production',
      SECRET_KEY: randomSecret(),
      JWT_SECRET_KEY: randomSecret(),
      DATABASE_URL: databaseUrl,
      STATIC_QR_PATH: path.join(appDir, 'static/qr'),
      JWT_COOKIE_SECURE: 'true',
      JWT_CSRF_CHECK_FORM: 'false',
      SERVER_EXTERNAL_BASE: 'https://qrbook-api.up.railway.app',
      FRONTEND_BASE_URL: 'https://qrbook.up.railway.app',
      CORS_ORIGINS: 'https://qrbook.up.railway.app',
      WORKERS: '1',
      TIMEOUT: '120',
      RATELIMIT_STORAGE_URI: 'memory://',
      RATELIMIT_DEFAULTS: '6000 per hour;100000 per day',
      TRUST_PROXY: '1',
    })
    delete env.PORT // spawnServer picks a free port, as Railway sets PORT
    const [cmd] = all('CMD').map((c) => JSON.parse(c.args) as string[])
    const argv = [process.execPath, ...cmd!.slice(1)]
    const server = spawnServer({
      env,
      cwd: appDir,
      cmd: asNobody ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv] : argv,
    })
    const [listening] = await server.waitForLog('listening', 1, 40_000)
    expect(listening).toMatchObject({ url: `http://127.0.0.1:${server.port}/`, database: PG ? 'postgres' : 'pglite' })

    const res = await fetch(`${server.base}/health`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'healthy', database: 'connected', version: pkg.version })
    expect(res.headers.get('strict-transport-security')).toContain('max-age=') // JWT_COOKIE_SECURE=true
    // production start-up: no warning about generated secrets
    expect(server.logs().some((l) => l.level === 'warn' && /SECRET_KEY/.test(l.msg))).toBe(false)
    expect(server.stderr).toBe('')
    expect(await server.stop('SIGTERM')).toBe(0)
  }, 60_000)
})
