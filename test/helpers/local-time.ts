/**
 * How the scan page and the door display write an instant: "HH:MM" in a zone, with the day first
 * ("7 Dec 00:20", "7 дек. 00:20") when it is not today's there. Tests against a started server run
 * on the real clock, so a booking made "now" ends tomorrow in some zone at some hour of the day;
 * expectations built with this helper read the same at any hour.
 */
export function localTime(iso: string, timeZone: string, lang: 'en' | 'ru' = 'en', now = new Date()): string {
  const at = new Date(iso)
  const ymd = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
  const day = ymd.format(at) === ymd.format(now)
    ? ''
    : `${new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { timeZone, day: 'numeric', month: 'short' }).format(at)} `
  return day + new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at)
}
