/** `bun run secrets`: two fresh, strong, distinct secrets in KEY=value form that production accepts. */
import { setDefaultTimeout, expect, test } from 'bun:test'
import { loadConfig } from '../src/config'
import { ROOT } from './helpers/process'

setDefaultTimeout(30_000) // see test/setup.ts

async function runSecrets() {
  const proc = Bun.spawn(['bun', 'run', 'secrets'], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code }
}

test('prints SECRET_KEY=... and JWT_SECRET_KEY=..., random base64url of at least 32 bytes each', async () => {
  const [a, b] = await Promise.all([runSecrets(), runSecrets()])
  expect(a.code).toBe(0)
  const lines = a.stdout.trimEnd().split('\n')
  expect(lines).toHaveLength(2)
  const [secretLine, jwtLine] = lines
  expect(secretLine).toMatch(/^SECRET_KEY=[A-Za-z0-9_-]+$/)
  expect(jwtLine).toMatch(/^JWT_SECRET_KEY=[A-Za-z0-9_-]+$/)
  const env = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  for (const value of [env.SECRET_KEY!, env.JWT_SECRET_KEY!]) {
    const bytes = Buffer.from(value, 'base64url')
    expect(bytes.length).toBeGreaterThanOrEqual(32)
    expect(bytes.toString('base64url')).toBe(value) // canonical base64url, no padding
    expect(new Set(bytes).size).toBeGreaterThan(16) // not a constant or a short repeated pattern
  }
  expect(env.SECRET_KEY).not.toBe(env.JWT_SECRET_KEY)
  // every run gives new values
  expect(b.code).toBe(0)
  expect(b.stdout).not.toBe(a.stdout)
  for (const line of b.stdout.trimEnd().split('\n')) expect(lines).not.toContain(line)

  // and production accepts them
  const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://127.0.0.1/qrbook', ...env })
  expect(config.secretKey).toBe(env.SECRET_KEY!)
  expect(config.jwtSecretKey).toBe(env.JWT_SECRET_KEY!)
})
