/** src/lib/passwords.ts rules and the shipped list of common passwords (src/lib/common-passwords.txt). */
import { describe, expect, test } from 'bun:test'
import { commonPasswordsFile, OUTPUT } from '../scripts/common-passwords'
import { loadConfig } from '../src/config'
import { commonPasswords, dummyPasswordHash, hashPassword, MIN_PASSWORD_LENGTH, passwordProblem, verifyPassword } from '../src/lib/passwords'

describe('hashing cost (PASSWORD_HASH_MEMORY_COST, PASSWORD_HASH_TIME_COST)', () => {
  test('a hash made with the default configuration has production\'s argon2id parameters: 19456 KiB, 2 passes', async () => {
    for (const config of [loadConfig({}), loadConfig({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(20) + crypto.randomUUID(), JWT_SECRET_KEY: 'y'.repeat(20) + crypto.randomUUID(), DATABASE_URL: 'memory://' })]) {
      const hash = await hashPassword('a-long-password', config.passwordHashCost)
      expect(hash).toStartWith('$argon2id$v=19$m=19456,t=2,p=1$')
      expect(await verifyPassword('a-long-password', hash)).toBe(true)
      // the hash an unknown name is checked against costs the same as a real one
      expect(await dummyPasswordHash(config.passwordHashCost)).toStartWith('$argon2id$v=19$m=19456,t=2,p=1$')
    }
  })

  test('the least cost Bun allows (the tests\' TEST_ENV) makes hashes that still verify', async () => {
    const cost = loadConfig({ PASSWORD_HASH_MEMORY_COST: '8', PASSWORD_HASH_TIME_COST: '1' }).passwordHashCost
    const hash = await hashPassword('a-long-password', cost)
    expect(hash).toStartWith('$argon2id$v=19$m=8,t=1,p=1$')
    expect(await verifyPassword('a-long-password', hash)).toBe(true)
    expect(await verifyPassword('a-long-passwore', hash)).toBe(false)
    expect(await dummyPasswordHash(cost)).toStartWith('$argon2id$v=19$m=8,t=1,p=1$')
  })
})

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
