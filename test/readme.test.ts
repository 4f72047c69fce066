/**
 * README.md stays short and says what a deployment by the Railway guide needs: under 200 lines, a
 * table row for each of the guide's 13 variables and for each of its files that no longer exist,
 * and a link to the Russian deploy page, which names the same variables and the two-domain fix.
 * The reference moved to docs/; every relative link of the README and of docs/*.md must lead to a
 * file that exists. (The full variable table: test/config.test.ts, on docs/configuration.md.)
 */
import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { ROOT } from './helpers/process'

/** The variables the Railway deployment guide sets (its Flask backend's settings). */
const GUIDE_VARIABLES = [
  'DATABASE_URL', 'SECRET_KEY', 'JWT_SECRET_KEY', 'FLASK_ENV', 'FLASK_DEBUG', 'PORT', 'STATIC_QR_PATH',
  'SERVER_EXTERNAL_BASE', 'QR_BASE_URL', 'FRONTEND_BASE_URL', 'CORS_ORIGINS', 'JWT_COOKIE_SECURE', 'JWT_CSRF_CHECK_FORM',
]
/** The guide's files, gone with the Flask backend. */
const GUIDE_FILES = ['generate_secrets.py', 'start.sh', 'seed.py']

const readme = await Bun.file(`${ROOT}/README.md`).text()
const russian = await Bun.file(`${ROOT}/docs/deploy.ru.md`).text()
const row = (name: string) => new RegExp(`^\\|\\s*\`${name.replace('.', '\\.')}\`\\s*\\|`, 'm')

describe('README.md', () => {
  test('is under 200 lines', () => {
    expect(readme.split('\n').length).toBeLessThan(200)
  })

  test('maps each of the guide\'s 13 variables, and each of its files, to what QRBOOK does', () => {
    expect(GUIDE_VARIABLES).toHaveLength(13)
    expect(GUIDE_VARIABLES.filter((name) => !row(name).test(readme))).toEqual([])
    expect(GUIDE_FILES.filter((name) => !row(name).test(readme))).toEqual([])
    expect(readme).toContain('`bun run secrets`')
  })

  test('has the quick start and the tests, and links the Russian deploy page', () => {
    expect(readme).toContain('npm i -g bun')
    expect(readme).toContain('bun install && bun run start')
    expect(readme).toContain('bun test')
    expect(readme).toContain('bun run test:system')
    expect(readme).toContain('](docs/deploy.ru.md)')
  })
})

describe('docs/deploy.ru.md', () => {
  test('is in Russian and names every variable of the guide, the secrets and the two-domain fix', () => {
    expect(russian).toMatch(/^# Развёртывание/)
    expect(GUIDE_VARIABLES.filter((name) => !row(name).test(russian))).toEqual([])
    for (const needed of ['bun run secrets', 'bun run set-password', 'JWT_COOKIE_SAMESITE=None', 'JWT_COOKIE_SECURE=true', '.up.railway.app', '/health'])
      expect(russian).toContain(needed)
  })
})

describe('links', () => {
  const documents = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

  test('every relative link of README.md and docs/*.md leads to a file that exists', async () => {
    const broken: string[] = []
    for (const document of documents) {
      const text = await Bun.file(path.join(ROOT, document)).text()
      const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g), ...text.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]!)
      for (const target of targets) {
        if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue
        const file = target.split('#')[0]!
        if (!existsSync(path.join(ROOT, path.dirname(document), file))) broken.push(`${document}: ${target}`)
      }
    }
    expect(broken).toEqual([])
  })

  test('the benchmark writes its results into docs/performance.md, between its markers', async () => {
    const performance = await Bun.file(`${ROOT}/docs/performance.md`).text()
    expect(performance.indexOf('<!-- bench:start -->')).toBeGreaterThan(0)
    expect(performance.indexOf('<!-- bench:end -->')).toBeGreaterThan(performance.indexOf('<!-- bench:start -->'))
    expect(await Bun.file(`${ROOT}/bench/run.ts`).text()).toContain("path.join(ROOT, 'docs', 'performance.md')")
  })
})
