/**
 * The door display: a full-screen page for a tablet by the room's door. Rendered on the server
 * (it shows the truth even before its script runs), then kept current by a few lines of script on
 * the room's event stream; EventSource reconnects by itself, and the script reopens the stream
 * when the server answered with an error, so the page recovers after network or server outages.
 *
 * Opened with the room's display link (/display/<id>?t=<token>) it is paired: it shows the rotating
 * check-in code (decision 013), which its stream (/display/<id>/events?t=) replaces every period,
 * and hides it once it has expired without a successor (the display lost its stream). Opened
 * without the link it shows the public code (the room's page, no key), which proves nothing.
 */
import { esc } from '../../lib/html'
import { clockTime, labelledTime, zoneLabel } from '../../lib/time'
import type { RoomState } from '../../core/events/bus'
import type { DisplayCode } from './code'

export interface DisplayInput {
  state: RoomState
  timeZone: string
  /** the paired display's token and current code; undefined for an unpaired display */
  paired?: { token: string; code: DisplayCode }
  /** a display link that is not (or no longer) valid */
  badLink?: boolean
}

const HINTS = {
  paired: 'Scan to check in or book · Сканируйте, чтобы отметиться или забронировать',
  unpaired: 'Scan to see the room or book · Сканируйте, чтобы открыть аудиторию или забронировать',
  expired: 'Code expired: reconnecting… · Код устарел: переподключение…',
  badLink: 'This display link is not valid (replaced?): open the current link from the admin · Ссылка экрана недействительна: откройте новую ссылку из админки',
}

/**
 * The big line: FREE, BUSY until HH:MM, CLOSED until HH:MM (a closure), or BLOCKED (with the Russian below). Every time carries its
 * zone (APP_TIMEZONE's offset, "UTC+3"): a phone set to another zone must not mislead; in the
 * English line the label is a smaller `zone` span so the line still fits the screen.
 */
function headline(state: RoomState, timeZone: string): { cls: string; en: string; ru: string; zone?: string } {
  const { room } = state
  if (room.closure) {
    // A closure (issue 15): until when, with its zone, like BUSY.
    const end = new Date(room.closure.end_time)
    const until = clockTime(end, timeZone)
    const zone = zoneLabel(end, timeZone)
    return { cls: 'blocked', en: `CLOSED until ${until}`, ru: `ЗАКРЫТА до ${until} ${zone}`, zone }
  }
  if (room.status === 'blocked') return { cls: 'blocked', en: 'BLOCKED', ru: 'НЕДОСТУПНА' }
  if (room.status === 'occupied' && room.current_reservation) {
    const end = new Date(room.current_reservation.end_time)
    const until = clockTime(end, timeZone)
    const zone = zoneLabel(end, timeZone)
    return { cls: 'busy', en: `BUSY until ${until}`, ru: `ЗАНЯТА до ${until} ${zone}`, zone }
  }
  return { cls: 'free', en: 'FREE', ru: 'СВОБОДНА' }
}

function upcomingItems(state: RoomState, timeZone: string): string {
  if (state.upcoming.length === 0) return '<li class="none">No more bookings today · Больше броней сегодня нет</li>'
  return state.upcoming
    .map((b) => `<li><span class="time">${esc(clockTime(new Date(b.start_time), timeZone))}–${esc(labelledTime(new Date(b.end_time), timeZone))}</span> ${esc(b.user_name)}</li>`)
    .join('')
}

const STYLE = `
*{box-sizing:border-box}html,body{margin:0;height:100%;font-family:"DejaVu Sans",system-ui,sans-serif;background:#111;color:#fff}
main{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:4vw;height:100%;padding:4vw}
h1{font-size:9vw;margin:0;line-height:1}
#status{margin:3vh 0;padding:3vh 3vw;border-radius:2vw;font-weight:bold}
#status .en{font-size:4vw;display:block;white-space:nowrap}#status .ru{font-size:3vw;opacity:.85}#status .zone{font-size:.55em;font-weight:normal}
.free{background:#1b7f3b}.busy{background:#b3261e}.blocked{background:#555}
h2{font-size:2.4vw;margin:2vh 0 1vh;opacity:.8}ul{list-style:none;padding:0;margin:0;font-size:2.6vw}li{padding:.6vh 0}
.time{font-variant-numeric:tabular-nums;font-weight:bold;margin-right:1vw}.none{opacity:.7}
aside{display:flex;flex-direction:column;align-items:center;justify-content:center;text-align:center;font-size:2vw}
aside img{width:min(30vw,60vh);height:min(30vw,60vh);background:#fff;padding:1vw;border-radius:1vw}
.period{font-size:1.4vw;opacity:.7}#expired{display:none}body.expired #code{visibility:hidden}body.expired #expired{display:block}
#offline,#badlink{position:fixed;bottom:0;left:0;right:0;background:#b36b00;text-align:center;font-size:2vw;padding:1vh;display:none}
body.offline #offline{display:block}#badlink{display:block;background:#b3261e}`

/** The page's own Content-Security-Policy: its script file, inline styles, images from itself or data: URLs (the codes). */
export const DISPLAY_CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

export function renderDisplay(input: DisplayInput): string {
  const { state, timeZone, paired } = input
  const head = headline(state, timeZone)
  const boot = { roomId: state.room.id, timeZone, token: paired?.token ?? null, expiresInMs: paired?.code.expires_in_ms ?? null }
  const code = paired
    ? `<img id="code" src="${esc(paired.code.image)}" alt="Check-in code of ${esc(state.room.name)}">
    <p>${esc(HINTS.paired)}</p>
    <p class="period">New code every ${paired.code.period_s} s · Новый код каждые ${paired.code.period_s} с</p>
    <p id="expired">${esc(HINTS.expired)}</p>`
    : `<img id="code" src="/static/qr/${state.room.id}.svg" alt="QR code of ${esc(state.room.name)}">
    <p>${esc(HINTS.unpaired)}</p>`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${esc(state.room.name)} · QRBOOK</title>
<style>${STYLE}</style>
</head>
<body>
<main>
  <section>
    <h1 id="name">${esc(state.room.name)}</h1>
    <div id="status" class="${head.cls}"><span class="en">${esc(head.en)}${head.zone ? ` <span class="zone">${esc(head.zone)}</span>` : ''}</span><span class="ru">${esc(head.ru)}</span></div>
    <h2>Today · Сегодня</h2>
    <ul id="upcoming">${upcomingItems(state, timeZone)}</ul>
  </section>
  <aside>
    ${code}
  </aside>
</main>
<div id="offline">Reconnecting… · Переподключение…</div>${input.badLink ? `
<div id="badlink">${esc(HINTS.badLink)}</div>` : ''}
<script id="boot" type="application/json">${JSON.stringify(boot).replace(/</g, '\\u003c')}</script>
<script src="/display/assets/display.js"></script>
</body>
</html>`
}

/** The page's script, served as a file so a strict Content-Security-Policy stays possible. */
export const DISPLAY_SCRIPT = `(function () {
  var boot = JSON.parse(document.getElementById('boot').textContent)
  // The same "HH:MM" and "UTC+3" labels as the server's (src/lib/time.ts), in the room's zone.
  var fmt = new Intl.DateTimeFormat('en-GB', { timeZone: boot.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  var offset = new Intl.DateTimeFormat('en-GB', { timeZone: boot.timeZone, timeZoneName: 'shortOffset' })
  function hhmm(iso) { return fmt.format(new Date(iso)) }
  function zone(iso) {
    var part = offset.formatToParts(new Date(iso)).filter(function (p) { return p.type === 'timeZoneName' })[0]
    return (part ? part.value : 'GMT').replace(/^GMT([+]0)?$/, 'UTC').replace(/^GMT/, 'UTC')
  }
  function text(tag, cls, value) { var el = document.createElement(tag); if (cls) el.className = cls; el.textContent = value; return el }
  function render(state) {
    var room = state.room, status = document.getElementById('status')
    if (room.closure) {
      var closedUntil = hhmm(room.closure.end_time)
      var closed = text('span', 'en', 'CLOSED until ' + closedUntil + ' ')
      closed.append(text('span', 'zone', zone(room.closure.end_time)))
      status.className = 'blocked'
      status.replaceChildren(closed, text('span', 'ru', 'ЗАКРЫТА до ' + closedUntil + ' ' + zone(room.closure.end_time)))
    } else if (room.status === 'blocked') {
      status.className = 'blocked'
      status.replaceChildren(text('span', 'en', 'BLOCKED'), text('span', 'ru', 'НЕДОСТУПНА'))
    } else if (room.status === 'occupied' && room.current_reservation) {
      var end = room.current_reservation.end_time, until = hhmm(end)
      var en = text('span', 'en', 'BUSY until ' + until + ' ')
      en.append(text('span', 'zone', zone(end)))
      status.className = 'busy'
      status.replaceChildren(en, text('span', 'ru', 'ЗАНЯТА до ' + until + ' ' + zone(end)))
    } else {
      status.className = 'free'
      status.replaceChildren(text('span', 'en', 'FREE'), text('span', 'ru', 'СВОБОДНА'))
    }
    document.getElementById('name').textContent = room.name
    var list = document.getElementById('upcoming'), items = []
    state.upcoming.forEach(function (b) {
      var li = document.createElement('li')
      li.append(text('span', 'time', hhmm(b.start_time) + '–' + hhmm(b.end_time) + ' ' + zone(b.end_time)), ' ' + b.user_name)
      items.push(li)
    })
    if (!items.length) items.push(text('li', 'none', 'No more bookings today · Больше броней сегодня нет'))
    list.replaceChildren.apply(list, items)
    document.body.dataset.status = room.status
  }
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
    var url = boot.token
      ? '/display/' + boot.roomId + '/events?t=' + encodeURIComponent(boot.token)
      : '/api/rooms/' + boot.roomId + '/events'
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
