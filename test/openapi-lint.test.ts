/**
 * The published API document passes Redocly CLI's `recommended` lint (redocly.yaml, exceptions in
 * .redocly.lint-ignore.yaml): no error and no warning. openapi.json is the served document
 * (test/openapi-published.test.ts), so this lints what a client's developer gets. About 2 s.
 */
import { describe, expect, setDefaultTimeout, test } from 'bun:test'
import { ROOT } from './helpers/process'

setDefaultTimeout(30_000) // see test/setup.ts

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number }
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[]
}

describe('openapi.json', () => {
  test('passes the lint (bun run lint:openapi)', async () => {
    // Run by Bun (--bun), not by the Node.js its script names: Bun is what the project installs.
    const lint = Bun.spawn([process.execPath, '--bun', 'redocly', 'lint', 'openapi.json', '--format', 'json', '--max-problems', '1000'], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [out, err] = await Promise.all([new Response(lint.stdout).text(), new Response(lint.stderr).text(), lint.exited])
    let report: LintReport
    try {
      report = JSON.parse(out)
    } catch {
      throw new Error(`redocly printed no report (exit ${lint.exitCode}):\n${out}\n${err}`)
    }
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`)
    expect(problems).toEqual([])
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 })
    expect(lint.exitCode).toBe(0)
  })
})
