/** src/lib/passwords.ts rules and the shipped list of common passwords (src/lib/common-passwords.txt). */
import { describe, expect, test } from 'bun:test'
import { commonPasswordsFile, OUTPUT } from '../scripts/common-passwords'
import { commonPasswords, MIN_PASSWORD_LENGTH, passwordProblem } from '../src/lib/passwords'

describe('the common-password list', () => {
  test('is what scripts/common-passwords.ts makes from the installed @zxcvbn-ts/language-common', async () => {
    // After upgrading the package: bun run common-passwords, and commit the file.
    expect(await Bun.file(OUTPUT).text()).toBe(await commonPasswordsFile())
  })

  test('holds the well-known ones that the length rule lets through, lower-cased', () => {
    const list = commonPasswords()
    expect(list.size).toBeGreaterThan(3000)
    for (const p of ['password', '12345678', 'password1', 'password123', 'qwerty123', 'iloveyou', 'football', '1qaz2wsx']) expect(list.has(p)).toBe(true)
    for (const p of list) {
      expect(p.length).toBeGreaterThanOrEqual(MIN_PASSWORD_LENGTH)
      expect(p).toBe(p.toLowerCase())
    }
  })
})

describe('passwordProblem', () => {
  test('the contract: missing, under 8 and over 1024 characters', () => {
    expect(passwordProblem(undefined)).toBe('password is required')
    expect(passwordProblem('')).toBe('password is required')
    expect(passwordProblem(12345678)).toBe('password is required')
    expect(passwordProblem('short')).toBe('password must be at least 8 characters')
    expect(passwordProblem('1234567')).toBe('password must be at least 8 characters') // the contract suite's "short password"
    expect(passwordProblem('x'.repeat(1025))).toBe('password must be at most 1024 characters')
  })

  test('only spaces, the name (any case, spaces around), a common password (any case)', () => {
    expect(passwordProblem('        ')).toBe('password must not be only spaces')
    expect(passwordProblem('\t\n \u3000    ')).toBe('password must not be only spaces')
    expect(passwordProblem('Alexandra', 'alexandra')).toBe('password must not be the same as the name')
    expect(passwordProblem(' alexandra ', 'ALEXANDRA')).toBe('password must not be the same as the name')
    expect(passwordProblem('ａｌｅｘａｎｄｒａ', 'alexandra')).toBe('password must not be the same as the name') // full-width
    for (const p of ['PASSWORD123', 'Qwerty123', 'football ', 'Ｐａｓｓｗｏｒｄ１']) expect(passwordProblem(p)).toMatch(/most common passwords/)
  })

  test('accepts every password the contract suite and the seeds use', () => {
    const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`
    const PW = `Pw-${run}-secret`
    for (const [password, name] of [[PW, `acc_${run}_alice`], [`${PW}-new`, `acc_${run}_u1`], [`${PW}x`, `acc_${run}_bob`],
      ['admin1234', 'admin'], ['teacher1234', 'teacher'], ['student1234', 'student'], ['guest1234', 'guest'],
      ['alexandra-1', 'alexandra'], ['correct horse battery staple', 'x']]) {
      expect(passwordProblem(password, name)).toBeUndefined()
    }
  })
})
