/**
 * The door display: a full-screen page for the screen or tablet by the room's door, readable from
 * a few metres. Rendered on the server (it shows the truth even before its script runs), then kept
 * current by a few lines of script on the room's display stream (/display/<id>/events); EventSource
 * reconnects by itself, and the script reopens the stream when the server answered with an error,
 * so the page recovers after network or server outages.
 *
 * One page for every screen: CSS puts the QR code beside the text in landscape (1920x1080) and below
 * it in portrait (1080x1920, an 800x1280 tablet), sized by the short side (vmin). It shows a clock,
 * the state in one line ("Свободна до 14:00", "Занята до 11:20"), the current and the next booking
 * (a lesson's title and teacher; nobody's name for a student's booking: decision 029) and the QR
 * code, large enough to scan from a metre away. The language of the request (Accept-Language, or
 * ?lang=ru|en) is the main line, the other one the smaller line below.
 *
 * Times are in the room's zone (APP_TIMEZONE), named once at the bottom. Where APP_TIMEZONE is not
 * set the server writes UTC, and the script shows every time in the device's own zone (the screen
 * by the door is in the room's zone), naming it (decision 029).
 *
 * Opened with the room's display link (/display/<id>?t=<token>) it is paired: it shows the rotating
 * check-in code (decision 013), which its stream (/display/<id>/events?t=) replaces every period,
 * and hides it once it has expired without a successor (the display lost its stream). Opened
 * without the link it shows the public code (the room's page, no key), which proves nothing.
 */
import { esc } from '../../lib/html'
import type { Lang } from '../../lib/i18n'
import { clockTime, localParts, zoneLabel } from '../../lib/time'
import type { DisplayCode } from './code'
import type { DisplayBooking, DisplayState } from './state'

export interface DisplayInput {
  state: DisplayState
  /** APP_TIMEZONE when it is set; null: the page shows the device's own zone (UTC without script) */
  timeZone: string | null
  lang: Lang
  now: Date
  /** the paired display's token and current code; undefined for an unpaired display */
  paired?: { token: string; code: DisplayCode }
  /** a display link that is not (or no longer) valid */
  badLink?: boolean
}

/** The words of the page; the script gets those it renders (SCRIPT_KEYS) in its boot data. */
const TEXT = {
  ru: {
    free: 'Свободна', freeUntil: 'Свободна до {t}', busy: 'Занята', busyUntil: 'Занята до {t}', closedUntil: 'Закрыта до {t}', blocked: 'Недоступна',
    now: 'Сейчас', next: 'Далее', later: 'Позже', occupied: 'Занято', lesson: 'Занятие', until: 'до {t}', none: 'Сегодня больше ничего нет',
    zone: 'Время: {z}', zoneLocal: 'Время: по часам устройства, {z}',
    hintPaired: 'Сканируйте, чтобы отметиться или забронировать', hintPublic: 'Сканируйте, чтобы открыть аудиторию или забронировать',
    period: 'Новый код каждые {n} с', expired: 'Код устарел: переподключение…', offline: 'Переподключение…',
    badLink: 'Ссылка экрана недействительна: откройте новую ссылку из админки',
  },
  en: {
    free: 'Free', freeUntil: 'Free until {t}', busy: 'Occupied', busyUntil: 'Occupied until {t}', closedUntil: 'Closed until {t}', blocked: 'Unavailable',
    now: 'Now', next: 'Next', later: 'Later', occupied: 'Occupied', lesson: 'Lesson', until: 'until {t}', none: 'Nothing more today',
    zone: 'Times: {z}', zoneLocal: "Times: this device's clock, {z}",
    hintPaired: 'Scan to check in or book', hintPublic: 'Scan to see the room or book',
    period: 'New code every {n} s', expired: 'Code expired: reconnecting…', offline: 'Reconnecting…',
    badLink: 'This display link is not valid (replaced?): open the current link from the admin',
  },
}
type Text = (typeof TEXT)[Lang]
const SCRIPT_KEYS = ['free', 'freeUntil', 'busy', 'busyUntil', 'closedUntil', 'blocked', 'now', 'next', 'later', 'occupied', 'lesson', 'until', 'none'] as const

const other = (lang: Lang): Lang => (lang === 'ru' ? 'en' : 'ru')
const locale = (lang: Lang) => (lang === 'ru' ? 'ru-RU' : 'en-GB')

// ---- the state, as the script computes it too (render() in DISPLAY_SCRIPT) ----

/** The state line: which words, and the instant its {t} stands for. */
function headline(state: DisplayState): { cls: string; key: keyof Text; at: string | null } {
  const { room } = state
  if (room.closure) return { cls: 'closed', key: 'closedUntil', at: room.closure.end_time }
  if (room.status === 'blocked') return { cls: 'blocked', key: 'blocked', at: null }
  if (room.status === 'occupied' && room.current_reservation) return { cls: 'busy', key: 'busyUntil', at: room.current_reservation.end_time }
  if (room.next_reservation) return { cls: 'free', key: 'freeUntil', at: room.next_reservation.start_time }
  return { cls: 'free', key: 'free', at: null }
}

/** The booking now (if it is among today's), the next one and a few after it. */
function slots(state: DisplayState): { current?: DisplayBooking; next?: DisplayBooking; later: DisplayBooking[] } {
  const currentId = state.room.current_reservation?.id
  const current = state.upcoming.find((b) => b.id === currentId)
  const rest = state.upcoming.filter((b) => b.id !== currentId)
  return { current, next: rest[0], later: rest.slice(1, 4) }
}

// ---- HTML ----

/** An instant: `<time datetime="...Z">HH:MM</time>` in the zone, with the day first when it is not today's. */
function timeHtml(iso: string, now: Date, timeZone: string, lang: Lang): string {
  const date = new Date(iso)
  const a = localParts(date, timeZone), b = localParts(now, timeZone)
  const today = a.year === b.year && a.month === b.month && a.day === b.day
  const day = today ? '' : `${new Intl.DateTimeFormat(locale(lang), { timeZone, day: 'numeric', month: 'short' }).format(date)} `
  return `<time datetime="${esc(iso)}">${esc(day + clockTime(date, timeZone))}</time>`
}

/** A template of TEXT with {t} (a time, HTML) and {n}, {z} (text) filled in. */
function fill(template: string, values: { t?: string; n?: number | string; z?: string }): string {
  return esc(template).replace(/\{(t|n|z)\}/g, (_, key: 't' | 'n' | 'z') => (key === 't' ? values.t ?? '' : esc(values[key] ?? '')))
}

function slotHtml(id: string, heading: string, T: Text, booking: DisplayBooking | undefined, time: (iso: string) => string, closure?: DisplayState['room']['closure']): string {
  let body: string
  if (closure) body = `<p class="when">${fill(T.until, { t: time(closure.end_time) })}</p><p class="what">${esc(closure.reason)}</p>`
  else if (!booking) body = `<p class="what none">${esc(T.none)}</p>`
  else {
    const what = booking.lesson ? booking.title ?? T.lesson : booking.name ?? T.occupied
    const who = booking.lesson && booking.name ? `<p class="who">${esc(booking.name)}</p>` : ''
    body = `<p class="when">${time(booking.start_time)}–${time(booking.end_time)}</p><p class="what">${esc(what)}</p>${who}`
  }
  return `<div class="slot" id="${id}"><h2>${heading}</h2>${body}</div>`
}

/** The parts the script re-renders: the state line, the slots. */
function stateHtml(state: DisplayState, T: Text, T2: Text, time: (iso: string) => string): { cls: string; status: string; slots: string } {
  const head = headline(state)
  const at = head.at === null ? '' : time(head.at)
  const status = `<p class="main">${fill(T[head.key], { t: at })}</p><p class="second">${fill(T2[head.key], { t: at })}</p>`
  const { current, next, later } = slots(state)
  const heading = (key: 'now' | 'next') => `${esc(T[key])}<span class="second"> · ${esc(T2[key])}</span>`
  const nowSlot = state.room.closure ? slotHtml('now', heading('now'), T, undefined, time, state.room.closure)
    : current ? slotHtml('now', heading('now'), T, current, time) : ''
  const laterList = later.map((b) => `<li><span class="when">${time(b.start_time)}–${time(b.end_time)}</span>${esc(b.lesson ? [b.title ?? T.lesson, b.name].filter(Boolean).join(' · ') : b.name ?? T.occupied)}</li>`).join('')
  return { cls: head.cls, status, slots: `${nowSlot}${slotHtml('next', heading('next'), T, next, time)}<ul id="later">${laterList}</ul>` }
}

const STYLE = `
*{box-sizing:border-box}html,body{margin:0;height:100%;background:#0b1220;color:#f8fafc;font-family:"DejaVu Sans",system-ui,sans-serif}
main{height:100vh;display:grid;gap:2.2vmin;padding:3.5vmin;grid-template-columns:minmax(0,1fr) auto;grid-template-rows:auto auto minmax(0,1fr) auto;grid-template-areas:"head head" "status qr" "slots qr" "zone qr"}
header{grid-area:head;display:flex;justify-content:space-between;align-items:flex-start;gap:3vmin;min-width:0}
h1{margin:0;font-size:9vmin;line-height:1;overflow-wrap:anywhere;min-width:0}
.clock{text-align:right;white-space:nowrap}#clock{display:block;font-size:9vmin;line-height:1;font-weight:bold;font-variant-numeric:tabular-nums}
#date{margin:.8vmin 0 0;font-size:2.6vmin;opacity:.75}
#status{grid-area:status;border-radius:2.5vmin;padding:2.2vmin 3.2vmin}
#status .main{margin:0;font-size:7.2vmin;font-weight:bold;line-height:1.1;overflow-wrap:anywhere;text-wrap:balance}#status .second{margin:.8vmin 0 0;font-size:3.4vmin;opacity:.9}
.free{background:#15803d}.busy{background:#b91c1c}.closed{background:#a16207}.blocked{background:#52525b}
#slots{grid-area:slots;min-height:0;overflow:hidden;display:flex;flex-direction:column;gap:2.2vmin}
.slot{border-left:1.2vmin solid #475569;padding:.2vmin 0 .2vmin 2.4vmin}#now{border-color:#f8fafc}
.slot h2{margin:0;font-size:2.6vmin;text-transform:uppercase;letter-spacing:.08em;opacity:.7;font-weight:normal}
.slot p{margin:.5vmin 0 0}.when{font-size:3.6vmin;font-variant-numeric:tabular-nums}
.what{font-size:5vmin;font-weight:bold;line-height:1.15;overflow-wrap:anywhere;text-wrap:balance}.who{font-size:3.6vmin;opacity:.85}
.what.none{font-size:3.6vmin;font-weight:normal;opacity:.7}
#later{list-style:none;margin:0;padding:0 0 0 3.6vmin;font-size:3vmin;opacity:.8}
#later li{padding:.3vmin 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}#later .when{font-size:inherit;margin-right:1.5vmin}
aside{grid-area:qr;display:flex;flex-direction:column;align-items:center;justify-content:center;text-align:center;width:min(62vmin,44vw)}
#code{display:block;width:min(58vmin,42vw);height:min(58vmin,42vw);background:#fff;padding:1.4vmin;border-radius:2vmin}
.hint{margin:2vmin 0 0;font-size:3vmin;line-height:1.25}.hint.second{margin-top:.6vmin;font-size:2.3vmin;opacity:.75}
.period{margin:1vmin 0 0;font-size:2.2vmin;opacity:.7}
#zone{grid-area:zone;margin:0;font-size:2.2vmin;opacity:.6}
#expired{display:none;margin:1vmin 0 0;font-size:2.6vmin;color:#fbbf24}body.expired #code{visibility:hidden}body.expired #expired{display:block}
#offline,#badlink{position:fixed;bottom:0;left:0;right:0;background:#b36b00;text-align:center;font-size:2.6vmin;padding:1vmin;display:none}
body.offline #offline{display:block}#badlink{display:block;background:#b91c1c}
@media (orientation:portrait){
main{grid-template-columns:minmax(0,1fr);grid-template-rows:auto auto minmax(0,1fr) auto auto;grid-template-areas:"head" "status" "slots" "qr" "zone"}
aside{width:auto}#code{width:min(62vmin,36vh);height:min(62vmin,36vh)}
}`

/** The page's own Content-Security-Policy: its script file, inline styles, images from itself or data: URLs (the codes). */
export const DISPLAY_CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

export function renderDisplay(input: DisplayInput): string {
  const { state, paired, lang, now } = input
  const T = TEXT[lang], T2 = TEXT[other(lang)]
  const zone = input.timeZone ?? 'UTC'
  const time = (iso: string) => timeHtml(iso, now, zone, lang)
  const parts = stateHtml(state, T, T2, time)
  const offset = zoneLabel(now, zone)
  const zoneLine = input.timeZone === null
    ? `<p id="zone" data-local="${esc(T.zoneLocal)}">${fill(T.zone, { z: 'UTC' })}</p>`
    : `<p id="zone">${fill(T.zone, { z: offset === zone ? zone : `${zone} (${offset})` })}</p>`
  const date = new Intl.DateTimeFormat(locale(lang), { timeZone: zone, weekday: 'long', day: 'numeric', month: 'long' }).format(now)
  const text = (t: Text) => Object.fromEntries(SCRIPT_KEYS.map((k) => [k, t[k]]))
  const boot = {
    roomId: state.room.id, timeZone: input.timeZone, lang, token: paired?.token ?? null, expiresInMs: paired?.code.expires_in_ms ?? null,
    text: { main: text(T), second: text(T2) }, state,
  }
  const code = paired
    ? `<img id="code" src="${esc(paired.code.image)}" alt="${esc(`${T.hintPaired}: ${state.room.name}`)}">
    <p class="hint">${esc(T.hintPaired)}</p><p class="hint second" lang="${other(lang)}">${esc(T2.hintPaired)}</p>
    <p class="period">${fill(T.period, { n: paired.code.period_s })} · ${fill(T2.period, { n: paired.code.period_s })}</p>
    <p id="expired">${esc(T.expired)}</p>`
    : `<img id="code" src="/static/qr/${state.room.id}.svg" alt="${esc(`QR: ${state.room.name}`)}">
    <p class="hint">${esc(T.hintPublic)}</p><p class="hint second" lang="${other(lang)}">${esc(T2.hintPublic)}</p>`
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${esc(state.room.name)} · QRBOOK</title>
<style>${STYLE}</style>
</head>
<body data-status="${esc(state.room.status)}" data-state="${parts.cls}">
<main>
  <header>
    <h1 id="name">${esc(state.room.name)}</h1>
    <div class="clock"><time id="clock" datetime="${esc(now.toISOString())}">${esc(clockTime(now, zone))}</time><p id="date">${esc(date)}</p></div>
  </header>
  <section id="status" class="${parts.cls}">${parts.status}</section>
  <section id="slots">${parts.slots}</section>
  <aside>
    ${code}
  </aside>
  ${zoneLine}
</main>
<div id="offline">${esc(T.offline)} · ${esc(T2.offline)}</div>${input.badLink ? `
<div id="badlink">${esc(T.badLink)} · ${esc(T2.badLink)}</div>` : ''}
<script id="boot" type="application/json">${JSON.stringify(boot).replace(/</g, '\\u003c')}</script>
<script src="/display/assets/display.js?v=${SCRIPT_VERSION}"></script>
</body>
</html>`
}

/**
 * The page's script, served as a file so a strict Content-Security-Policy stays possible. It
 * renders the state as the server does (headline, slots, stateHtml above), in the room's zone or,
 * without APP_TIMEZONE, the device's: at once from the state in the boot data, then on each event.
 */
export const DISPLAY_SCRIPT = `(function () {
  var boot = JSON.parse(document.getElementById('boot').textContent)
  var T = boot.text.main, T2 = boot.text.second
  var zone = boot.timeZone || undefined
  var locale = boot.lang === 'ru' ? 'ru-RU' : 'en-GB'
  var hm = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  var dm = new Intl.DateTimeFormat(locale, { timeZone: zone, day: 'numeric', month: 'short' })
  var ymd = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
  var longDate = new Intl.DateTimeFormat(locale, { timeZone: zone, weekday: 'long', day: 'numeric', month: 'long' })
  function el(tag, cls, children) {
    var node = document.createElement(tag)
    if (cls) node.className = cls
    ;(children || []).forEach(function (c) { node.append(c) })
    return node
  }
  // "HH:MM", with the day first when it is not today's (as the server writes it)
  function time(iso) {
    var at = new Date(iso), node = el('time')
    node.setAttribute('datetime', iso)
    node.textContent = (ymd.format(at) === ymd.format(new Date()) ? '' : dm.format(at) + ' ') + hm.format(at)
    return node
  }
  // a template with {t} replaced by a time element
  function fill(template, iso) {
    var parts = template.split('{t}'), out = [parts[0]]
    if (parts.length > 1) out.push(iso ? time(iso) : '', parts[1])
    return out
  }
  function headline(room) {
    if (room.closure) return { cls: 'closed', key: 'closedUntil', at: room.closure.end_time }
    if (room.status === 'blocked') return { cls: 'blocked', key: 'blocked', at: null }
    if (room.status === 'occupied' && room.current_reservation) return { cls: 'busy', key: 'busyUntil', at: room.current_reservation.end_time }
    if (room.next_reservation) return { cls: 'free', key: 'freeUntil', at: room.next_reservation.start_time }
    return { cls: 'free', key: 'free', at: null }
  }
  function heading(key) { return el('h2', null, [T[key], el('span', 'second', [' · ' + T2[key]])]) }
  function slot(id, key, booking, closure) {
    var node = el('div', 'slot', [heading(key)])
    node.id = id
    if (closure) node.append(el('p', 'when', fill(T.until, closure.end_time)), el('p', 'what', [closure.reason]))
    else if (!booking) node.append(el('p', 'what none', [T.none]))
    else {
      node.append(el('p', 'when', [time(booking.start_time), '–', time(booking.end_time)]),
        el('p', 'what', [booking.lesson ? booking.title || T.lesson : booking.name || T.occupied]))
      if (booking.lesson && booking.name) node.append(el('p', 'who', [booking.name]))
    }
    return node
  }
  function render(state) {
    var room = state.room, head = headline(room)
    var status = document.getElementById('status')
    status.className = head.cls
    status.replaceChildren(el('p', 'main', fill(T[head.key], head.at)), el('p', 'second', fill(T2[head.key], head.at)))
    var currentId = room.current_reservation ? room.current_reservation.id : null
    var current = state.upcoming.filter(function (b) { return b.id === currentId })[0]
    var rest = state.upcoming.filter(function (b) { return b.id !== currentId })
    var parts = []
    if (room.closure) parts.push(slot('now', 'now', null, room.closure))
    else if (current) parts.push(slot('now', 'now', current))
    parts.push(slot('next', 'next', rest[0]))
    parts.push(el('ul', null, rest.slice(1, 4).map(function (b) {
      var who = b.lesson ? [b.title || T.lesson, b.name].filter(Boolean).join(' · ') : b.name || T.occupied
      return el('li', null, [el('span', 'when', [time(b.start_time), '–', time(b.end_time)]), who])
    })))
    parts[parts.length - 1].id = 'later'
    var slots = document.getElementById('slots')
    slots.replaceChildren.apply(slots, parts)
    document.getElementById('name').textContent = room.name
    document.body.dataset.state = head.cls
    document.body.dataset.status = room.status
  }
  function tick() {
    var now = new Date(), clock = document.getElementById('clock')
    clock.setAttribute('datetime', now.toISOString())
    clock.textContent = hm.format(now)
    document.getElementById('date').textContent = longDate.format(now)
    setTimeout(tick, 1000 - (now.getTime() % 1000) + 20)
  }
  // Without APP_TIMEZONE the times are the device's: say which zone that is.
  var line = document.getElementById('zone')
  if (!zone && line.dataset.local) {
    var part = new Intl.DateTimeFormat('en-GB', { timeZoneName: 'shortOffset' }).formatToParts(new Date()).filter(function (p) { return p.type === 'timeZoneName' })[0]
    var offset = (part ? part.value : 'GMT').replace(/^GMT([+]0)?$/, 'UTC').replace(/^GMT/, 'UTC')
    var name = Intl.DateTimeFormat().resolvedOptions().timeZone
    line.textContent = line.dataset.local.replace('{z}', name && name !== offset ? name + ' (' + offset + ')' : offset)
  }
  render(boot.state)
  tick()
  // A paired display's code: hidden once it has expired without a successor (no stream), so
  // nobody scans a code that no longer works.
  var expiry
  function armExpiry(ms) {
    clearTimeout(expiry)
    if (ms !== null) expiry = setTimeout(function () { document.body.classList.add('expired') }, Math.max(0, ms))
  }
  function showCode(code) {
    document.getElementById('code').src = code.image
    document.body.classList.remove('expired')
    document.body.dataset.codeStep = String(code.step)
    armExpiry(code.expires_in_ms)
  }
  armExpiry(boot.expiresInMs)
  function connect() {
    var url = '/display/' + boot.roomId + '/events' + (boot.token ? '?t=' + encodeURIComponent(boot.token) : '')
    var source = new EventSource(url)
    function onState(event) { document.body.classList.remove('offline'); render(JSON.parse(event.data)) }
    source.addEventListener('snapshot', onState)
    source.addEventListener('room', onState)
    source.addEventListener('code', function (event) { document.body.classList.remove('offline'); showCode(JSON.parse(event.data)) })
    // The display link was replaced (generate-qr): the page, loaded again, says so.
    source.addEventListener('unpaired', function () { source.close(); location.reload() })
    // the database is down: the state shown may be stale until the next snapshot
    source.addEventListener('unavailable', function () { document.body.classList.add('offline') })
    source.onopen = function () { document.body.classList.remove('offline') }
    source.onerror = function () {
      document.body.classList.add('offline')
      // EventSource retries network errors itself, but gives up after an HTTP error: start again.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000)
    }
  }
  connect()
})()
`

/** The script's URL changes with its text: a display never runs a cached script of another version of the page. */
const SCRIPT_VERSION = new Bun.CryptoHasher('sha256').update(DISPLAY_SCRIPT).digest('hex').slice(0, 12)
