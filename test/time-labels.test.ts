/** The zone labels beside every time on the door pages (src/lib/time.ts): offsets, never abbreviations. */
import { describe, expect, test } from 'bun:test'
import { clockTime, labelledTime, zoneLabel } from '../src/lib/time'

describe('zoneLabel', () => {
  test('the offset at that instant, as UTC±H[:MM]; a zero offset is plain UTC', () => {
    const winter = new Date('2031-01-15T12:00:00Z')
    const summer = new Date('2031-07-15T12:00:00Z')
    expect(zoneLabel(winter, 'UTC')).toBe('UTC')
    expect(zoneLabel(winter, 'Europe/London')).toBe('UTC') // not "GMT"
    expect(zoneLabel(summer, 'Europe/London')).toBe('UTC+1') // not "BST"
    expect(zoneLabel(winter, 'Europe/Moscow')).toBe('UTC+3')
    expect(zoneLabel(winter, 'America/New_York')).toBe('UTC-5')
    expect(zoneLabel(summer, 'America/New_York')).toBe('UTC-4')
    expect(zoneLabel(winter, 'Asia/Kolkata')).toBe('UTC+5:30') // not "IST", which is also Israel's and Ireland's
  })

  test('labelledTime: the local HH:MM with its label', () => {
    const at = new Date('2031-01-15T21:05:00Z')
    expect(clockTime(at, 'Europe/Moscow')).toBe('00:05')
    expect(labelledTime(at, 'Europe/Moscow')).toBe('00:05 UTC+3')
    expect(labelledTime(at, 'UTC')).toBe('21:05 UTC')
  })
})
