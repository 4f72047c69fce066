/**
 * The scan page's HTML: mobile-first, works without JavaScript, Russian or English. Every
 * interpolated value goes through esc(); forms post to paths relative to the page (`<id>/check-in`
 * from `/r/<id>`), so the page also works behind a proxy that serves the app under a path prefix.
 *
 * Privacy (decision 029): a booking reads "occupied", a lesson its title and teacher, a staff
 * member's booking their name; never a student's name. The viewer's own bookings are theirs.
 *
 * Times (decision 029): every instant is a `<time datetime="...Z">`, its text in the room's zone
 * (APP_TIMEZONE), which the page names once ("Times: Europe/Moscow (UTC+3)"), not beside every
 * time. Where APP_TIMEZONE is not set the text is UTC, and LOCAL_TIME_SCRIPT (inline, allowed by
 * its hash in the page's Content-Security-Policy) rewrites the times and that line to the device's
 * own clock: the phone at the door is in the room's zone. Without JavaScript the UTC times stay,
 * labelled UTC.
 */
import { esc } from '../../lib/html'
import { clockTime, localParts, zoneLabel } from '../../lib/time'
import type { ScanPageView, ViewReason } from '../../core/bookings/checkin/checkin'

import type { Lang } from '../../lib/i18n'

/** A message table looked up by a key from outside (a query parameter, an error message): no prototype. */
function lookup(entries: Record<string, string>): Record<string, string> {
  return Object.assign(Object.create(null), entries)
}

const TEXT = {
  en: {
    room: 'Room', free: 'Free', freeUntil: 'Free until {t}', occupiedUntil: 'Occupied until {t}',
    awaiting: 'Booked until {e}: waiting for check-in until {t}', blocked: 'Temporarily unavailable', closed: 'Closed until {t}: {r}',
    loginTitle: 'Log in to check in or book', name: 'Name', password: 'Password', login: 'Log in',
    yourBooking: 'Your booking {s}–{e}', checkIn: 'Check in', checkInBy: 'Check in by {t}, or the booking is released.',
    checkedInAt: 'You are checked in (since {t}).', checkOut: 'Check out (end now)',
    checkInOpens: 'Check-in opens at {t}.', checkInClosed: 'Check-in has closed.',
    bookNow: 'Book now', minutes: '{n} min', until: 'until {t}', bookHint: 'You will be checked in at once.',
    bookHintScan_display: 'This booking will not be checked in yet: to be checked in at once, scan the code on the door display first.',
    bookHintScan_poster: 'This booking will not be checked in yet: to be checked in at once, scan the QR code on the poster on the room door first.',
    timesIn: 'Times: {z}', timesLocal: "Times: this device's clock, {z}",
    today: "Today's bookings", none: 'No more bookings today.', checkedInBadge: 'checked in', awaitingBadge: 'awaiting check-in', you: 'you',
    occupied: 'Occupied', lesson: 'Lesson', yours: 'Your booking',
    openApp: 'Open the room in QRBOOK', loggedInAs: 'Logged in as {n}', logout: 'Log out',
    done: lookup({
      checked_in: 'You are checked in.', booked: 'Booked. You are checked in.', checked_out: 'Checked out: the room is free.',
      logged_in: 'You are logged in.', logged_out: 'You are logged out.',
    }),
    reasons: lookup({
      key_missing_poster: 'To check in, scan the QR code on the poster on the room door.',
      key_missing_display: 'To check in, scan the code on the door display.',
      key_invalid_poster: 'This code is not valid for this room. Scan the QR code on the poster on the room door.',
      key_invalid_display: 'This code is not valid for this room. Scan the code on the door display.',
      key_outdated: 'This QR code has been replaced. Scan the current code on the door to check in or book.',
      key_stale: 'This code from the door display has expired. Scan the code on the display again.',
      key_needs_display: 'This room checks in with the door display. Scan the code on the display, not the printed poster.',
      blocked: 'The room is temporarily unavailable.',
      closed: 'The room is closed now.',
      not_bookable: 'This room cannot be booked here.',
      occupied: 'The room is occupied now.',
      outside_hours: 'The room cannot be booked at this time of day.',
      too_short: 'The room is free only for a few minutes.',
    }),
    errors: lookup({}),
  },
  ru: {
    room: 'Аудитория', free: 'Свободна', freeUntil: 'Свободна до {t}', occupiedUntil: 'Занята до {t}',
    awaiting: 'Забронирована до {e}: ждёт отметки до {t}', blocked: 'Временно недоступна', closed: 'Закрыта до {t}: {r}',
    loginTitle: 'Войдите, чтобы отметиться или забронировать', name: 'Имя пользователя', password: 'Пароль', login: 'Войти',
    yourBooking: 'Ваша бронь {s}–{e}', checkIn: 'Отметиться', checkInBy: 'Отметьтесь до {t}, иначе бронь будет снята.',
    checkedInAt: 'Вы отметились (в {t}).', checkOut: 'Освободить (завершить сейчас)',
    checkInOpens: 'Отметка откроется в {t}.', checkInClosed: 'Время отметки прошло.',
    bookNow: 'Забронировать сейчас', minutes: '{n} мин', until: 'до {t}', bookHint: 'Вы будете отмечены сразу.',
    bookHintScan_display: 'Бронь пока не будет отмечена: чтобы отметиться сразу, сначала отсканируйте код на экране у двери.',
    bookHintScan_poster: 'Бронь пока не будет отмечена: чтобы отметиться сразу, сначала отсканируйте QR-код на табличке у двери аудитории.',
    timesIn: 'Время: {z}', timesLocal: 'Время: по часам устройства, {z}',
    today: 'Брони на сегодня', none: 'На сегодня броней больше нет.', checkedInBadge: 'отметился', awaitingBadge: 'ждёт отметки', you: 'вы',
    occupied: 'Занято', lesson: 'Занятие', yours: 'Ваша бронь',
    openApp: 'Открыть аудиторию в QRBOOK', loggedInAs: 'Вы вошли как {n}', logout: 'Выйти',
    done: lookup({
      checked_in: 'Вы отметились.', booked: 'Забронировано. Вы отмечены.', checked_out: 'Вы освободили аудиторию.',
      logged_in: 'Вы вошли.', logged_out: 'Вы вышли.',
    }),
    reasons: lookup({
      key_missing_poster: 'Чтобы отметиться, отсканируйте QR-код на табличке у двери аудитории.',
      key_missing_display: 'Чтобы отметиться, отсканируйте код на экране у двери аудитории.',
      key_invalid_poster: 'Этот код не подходит к этой аудитории. Отсканируйте QR-код на табличке у двери.',
      key_invalid_display: 'Этот код не подходит к этой аудитории. Отсканируйте код на экране у двери.',
      key_outdated: 'Этот QR-код заменён новым. Отсканируйте актуальный код на двери.',
      key_stale: 'Код с экрана у двери устарел. Отсканируйте код на экране ещё раз.',
      key_needs_display: 'В этой аудитории отмечаются по коду на экране у двери. Отсканируйте код на экране, а не на табличке.',
      blocked: 'Аудитория временно недоступна.',
      closed: 'Аудитория сейчас закрыта.',
      not_bookable: 'Эту аудиторию нельзя забронировать здесь.',
      occupied: 'Аудитория сейчас занята.',
      outside_hours: 'В это время аудиторию нельзя бронировать.',
      too_short: 'Аудитория свободна лишь несколько минут.',
    }),
    errors: lookup({
      'invalid credentials': 'Неверное имя пользователя или пароль.',
      'name and password are required': 'Введите имя пользователя и пароль.',
      'Missing CSRF token': 'Сессия устарела: обновите страницу.',
      'CSRF double submit tokens do not match': 'Сессия устарела: обновите страницу.',
      'login form expired: try again': 'Форма входа устарела: попробуйте ещё раз.',
      'missing authorization': 'Войдите ещё раз.',
      'token has expired': 'Сеанс истёк: войдите ещё раз.',
      'room is occupied now': 'Аудитория сейчас занята.',
      'Reservation conflicts with existing booking': 'Это время уже занято.',
      'only the person who booked can check in': 'Отметиться может только тот, кто бронировал.',
      'reservation was released: it was not checked in in time': 'Бронь снята: отметки не было вовремя.',
      'k is required: scan the QR code on the room door': 'Отсканируйте QR-код на табличке у двери аудитории.',
      'k is required: scan the code on the door display': 'Отсканируйте код на экране у двери аудитории.',
      'this QR code is not valid for this room: scan the code on the room door': 'Этот QR-код не подходит к этой аудитории. Отсканируйте код на двери.',
      'this code is not valid for this room: scan the code on the door display': 'Этот код не подходит к этой аудитории. Отсканируйте код на экране у двери.',
      'this QR code has been replaced: scan the current code on the room door': 'Этот QR-код заменён новым. Отсканируйте актуальный код на двери.',
      'this code from the door display has expired: scan the code on the display again': 'Код с экрана у двери устарел. Отсканируйте код на экране ещё раз.',
      'this room checks in with the door display: scan the code on the display, not the printed poster': 'В этой аудитории отмечаются по коду на экране у двери. Отсканируйте код на экране, а не на табличке.',
    }),
  },
}

/** The text of a reason, in the wording of the room's proof (door display or printed poster) when it has one. */
function reasonText(T: (typeof TEXT)[Lang], reason: ViewReason, mode: ScanPageView['room']['check_in_proof']): string | undefined {
  if (!reason) return undefined
  return T.reasons[`${reason}_${mode === 'display' ? 'display' : 'poster'}`] ?? T.reasons[reason]
}

/**
 * Why the key the page was opened with proves nothing, for a viewer who is not logged in yet (the
 * logged-in view says it in `reason`): a stale display code, a replaced poster, a poster in a
 * display room, an unknown key. Nothing for a page opened without a key.
 */
function keyProblem(view: ScanPageView): ViewReason {
  if (view.proof_ok || view.key_status === 'missing') return null
  if (view.room.check_in_proof === 'display' && view.key_kind === 'poster') return 'key_needs_display'
  return view.key_status === 'valid' ? null : `key_${view.key_status}`
}

/** HTML already made safe (a `<time>` element), passed through fill() as it is. */
class Html {
  constructor(readonly html: string) {}
}

/** The template (a constant of TEXT) with its {keys} filled: strings escaped, Html as it is. */
function fill(template: string, values: Record<string, string | number | Html>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = values[key]
    return value instanceof Html ? value.html : esc(value ?? '')
  })
}

/** Formats of the page's times in a zone: "HH:MM", and the day ("8 Dec", "8 дек.") for an instant on another day than now. */
function dayFormat(lang: Lang, timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { timeZone, day: 'numeric', month: 'short' })
}

const sameDay = (a: Date, b: Date, timeZone: string) => {
  const x = localParts(a, timeZone), y = localParts(b, timeZone)
  return x.year === y.year && x.month === y.month && x.day === y.day
}

/**
 * An instant as the page shows it: `<time datetime="...Z">HH:MM</time>` in the zone, with the day
 * first when it is not today's. LOCAL_TIME_SCRIPT rewrites the same text in the device's zone.
 */
function timeHtml(iso: string | null, now: Date, timeZone: string, lang: Lang): Html {
  if (!iso) return new Html('')
  const date = new Date(iso)
  const text = sameDay(date, now, timeZone) ? clockTime(date, timeZone) : `${dayFormat(lang, timeZone).format(date)} ${clockTime(date, timeZone)}`
  return new Html(`<time datetime="${esc(iso)}">${esc(text)}</time>`)
}

/**
 * Rewrites the page's times to the device's own zone (where APP_TIMEZONE is not set), the same
 * "HH:MM" (with the day when not today's) as the server writes, and the line that names the zone.
 * Constant text: its hash is in the page's Content-Security-Policy (LOCAL_TIME_SCRIPT_HASH).
 */
const LOCAL_TIME_SCRIPT = `(function () {
  var lang = document.documentElement.lang === 'ru' ? 'ru-RU' : 'en-GB'
  var hm = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  var dm = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'short' })
  var ymd = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' })
  var now = new Date(), today = ymd.format(now)
  document.querySelectorAll('time[datetime]').forEach(function (el) {
    var at = new Date(el.getAttribute('datetime'))
    if (isNaN(at)) return
    el.textContent = (ymd.format(at) === today ? '' : dm.format(at) + ' ') + hm.format(at)
  })
  var line = document.getElementById('zone')
  if (!line) return
  var part = new Intl.DateTimeFormat('en-GB', { timeZoneName: 'shortOffset' }).formatToParts(now).filter(function (p) { return p.type === 'timeZoneName' })[0]
  var offset = (part ? part.value : 'GMT').replace(/^GMT([+]0)?$/, 'UTC').replace(/^GMT/, 'UTC')
  var name = Intl.DateTimeFormat().resolvedOptions().timeZone
  line.textContent = line.getAttribute('data-local').replace('{z}', name && name !== offset ? name + ' (' + offset + ')' : offset)
})()`

/** The CSP source that allows LOCAL_TIME_SCRIPT and nothing else. */
export const LOCAL_TIME_SCRIPT_HASH = `'sha256-${new Bun.CryptoHasher('sha256').update(LOCAL_TIME_SCRIPT).digest('base64')}'`

/** "Europe/Moscow (UTC+3)", or "UTC". */
function zoneName(now: Date, timeZone: string): string {
  const offset = zoneLabel(now, timeZone)
  return offset === timeZone ? timeZone : `${timeZone} (${offset})`
}

export interface PageInput {
  lang: Lang
  /** APP_TIMEZONE when it is set; null: times in UTC, rewritten to the device's zone by LOCAL_TIME_SCRIPT */
  timeZone: string | null
  /** the clock's now */
  now: Date
  view: ScanPageView
  /** the k the page was opened with (echoed into the forms) */
  k: string
  viewerName?: string
  /** CSRF token of the viewer's session (the csrf claim), for the forms */
  csrf?: string
  /** login-form nonce (double-submitted with its cookie) when logged out */
  loginNonce?: string
  /** a success notice key (done=...) */
  done?: string
  /** an error from a form post */
  error?: string
  frontendUrl?: string
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827}
main{max-width:480px;margin:0 auto;padding:16px}header{margin-bottom:12px}.brand{margin:0;color:#6b7280;font-size:13px;letter-spacing:.08em;text-transform:uppercase}
h1{margin:2px 0 8px;font-size:28px}h2{font-size:17px;margin:0 0 8px}
.status{display:inline-block;padding:4px 10px;border-radius:999px;font-weight:600;font-size:14px}
.status-available{background:#dcfce7;color:#166534}.status-occupied{background:#fee2e2;color:#991b1b}.status-blocked{background:#e5e7eb;color:#374151}.status-awaiting{background:#fef3c7;color:#92400e}
.card{background:#fff;border-radius:12px;padding:16px;margin:12px 0;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.notice{border-radius:10px;padding:12px 14px;margin:12px 0}.ok{background:#dcfce7;color:#14532d}.error{background:#fee2e2;color:#7f1d1d}.info{background:#e0e7ff;color:#1e3a8a}
label{display:block;font-size:14px;color:#374151;margin:8px 0 4px}input[type=text],input[type=password]{width:100%;padding:12px;font-size:16px;border:1px solid #d1d5db;border-radius:8px}
button{font:inherit;width:100%;padding:14px;margin-top:12px;font-size:17px;font-weight:600;border:0;border-radius:10px;background:#2563eb;color:#fff}
button.secondary{background:#e5e7eb;color:#111827}.options{display:flex;gap:8px}.options button{flex:1;padding:14px 6px}.options small{display:block;font-weight:400;font-size:12px}
ul{list-style:none;margin:0;padding:0}li{padding:8px 0;border-top:1px solid #f3f4f6;display:flex;gap:10px;flex-wrap:wrap}li:first-child{border-top:0}
.zone{margin:8px 0 0;font-size:13px;color:#6b7280}li.mine{background:#eff6ff;margin:0 -8px;padding:8px;border-radius:8px}
.time{font-variant-numeric:tabular-nums;font-weight:600}.badge{font-size:12px;padding:2px 8px;border-radius:999px;background:#f3f4f6;color:#374151}.muted{color:#6b7280;font-size:14px}
footer{margin:16px 0;font-size:14px;color:#4b5563}footer .line{margin:8px 0}footer a{color:#2563eb}footer form{display:inline}footer button{width:auto;padding:0;margin:0;background:none;color:#2563eb;font-size:14px;font-weight:400;text-decoration:underline}
`

function hidden(name: string, value: string | number | undefined): string {
  return value === undefined ? '' : `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`
}

export function renderScanPage(input: PageInput): string {
  const T = TEXT[input.lang]
  const { view } = input
  const timeZone = input.timeZone ?? 'UTC'
  const room = view.room
  const id = room.id
  const time = (iso: string | null) => timeHtml(iso, input.now, timeZone, input.lang)
  const formStart = (action: string) => `<form method="post" action="${esc(`${id}/${action}`)}">${hidden('k', input.k)}${hidden('csrf_token', input.csrf)}`

  let status: string
  const current = room.current_reservation
  // A closure (holiday, maintenance, exam: issue 15) says why and until when.
  if (room.closure) status = `<span class="status status-blocked">${fill(T.closed, { t: time(room.closure.end_time), r: room.closure.reason })}</span>`
  else if (room.status === 'blocked') status = `<span class="status status-blocked">${esc(T.blocked)}</span>`
  else if (current && current.check_in_required && !current.checked_in_at && room.requires_check_in && view.today.some((r) => r.id === current.id)) {
    const deadline = new Date(Date.parse(view.today.find((r) => r.id === current.id)!.start_time) + room.auto_release_after_min * 60_000).toISOString()
    status = `<span class="status status-awaiting">${fill(T.awaiting, { e: time(current.end_time), t: time(deadline) })}</span>`
  } else if (current) status = `<span class="status status-occupied">${fill(T.occupiedUntil, { t: time(current.end_time) })}</span>`
  else status = `<span class="status status-available">${view.free_until ? fill(T.freeUntil, { t: time(view.free_until) }) : esc(T.free)}</span>`

  const notices: string[] = []
  if (input.done && T.done[input.done]) notices.push(`<div class="notice ok" role="status">${esc(T.done[input.done])}</div>`)
  if (input.error) notices.push(`<div class="notice error" role="alert">${esc(T.errors[input.error] ?? input.error)}</div>`)

  let action = ''
  const reservation = view.reservation
  const mode = room.check_in_proof
  const why = (reason: ViewReason) => reasonText(T, reason, mode)
  if (view.action === 'login') {
    const problem = why(keyProblem(view))
    if (problem) notices.push(`<div class="notice info">${esc(problem)}</div>`)
    action = `<section class="card"><h2>${esc(T.loginTitle)}</h2>
<form method="post" action="${esc(`${id}/login`)}">${hidden('k', input.k)}${hidden('nonce', input.loginNonce)}
<label for="name">${esc(T.name)}</label><input type="text" id="name" name="name" autocomplete="username" autocapitalize="none" required>
<label for="password">${esc(T.password)}</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">${esc(T.login)}</button></form></section>`
  } else if (view.action === 'check_in' && reservation) {
    const closes = reservation.check_in_required && room.requires_check_in
      ? `<p class="muted">${fill(T.checkInBy, { t: time(reservation.check_in_closes_at) })}</p>` : ''
    action = `<section class="card"><h2>${fill(T.yourBooking, { s: time(reservation.start_time), e: time(reservation.end_time) })}</h2>${closes}
${formStart('check-in')}${hidden('reservation_id', reservation.id)}<button type="submit">${esc(T.checkIn)}</button></form></section>`
  } else if (view.action === 'book_now') {
    const buttons = view.book_now.map((o) => `<button type="submit" name="minutes" value="${esc(o.minutes)}">${fill(T.minutes, { n: o.minutes })}<small>${fill(T.until, { t: time(o.end_time) })}</small></button>`).join('')
    const hint = view.proof_ok ? T.bookHint : mode === 'display' ? T.bookHintScan_display : T.bookHintScan_poster
    action = `<section class="card"><h2>${esc(T.bookNow)}</h2>${formStart('book')}<div class="options">${buttons}</div></form><p class="${view.proof_ok ? 'muted' : 'notice info'}">${esc(hint)}</p></section>`
  } else if (reservation) {
    const lines = [`<h2>${fill(T.yourBooking, { s: time(reservation.start_time), e: time(reservation.end_time) })}</h2>`]
    if (reservation.checked_in_at) lines.push(`<p>${fill(T.checkedInAt, { t: time(reservation.checked_in_at) })}</p>`)
    else if (view.reason === 'check_in_not_open') {
      const notYet = input.now < new Date(reservation.check_in_opens_at)
      lines.push(`<p class="muted">${notYet ? fill(T.checkInOpens, { t: time(reservation.check_in_opens_at) }) : esc(T.checkInClosed)}</p>`)
    } else if (why(view.reason)) lines.push(`<p class="notice info">${esc(why(view.reason)!)}</p>`)
    if (new Date(reservation.start_time) < input.now)
      lines.push(`${formStart('check-out')}${hidden('reservation_id', reservation.id)}<button type="submit" class="secondary">${esc(T.checkOut)}</button></form>`)
    action = `<section class="card">${lines.join('\n')}</section>`
  } else if (why(view.reason)) {
    action = `<div class="notice info">${esc(why(view.reason)!)}</div>`
  }

  // Who holds each slot, as a door page says it: a lesson's title and teacher, a staff member's
  // name, the viewer's own booking; anyone else's is "occupied", never a student's name.
  const who = (r: ScanPageView['today'][number]) => {
    if (r.lesson) return `<b>${esc(r.title ?? T.lesson)}</b>${r.public_name ? ` · ${esc(r.public_name)}` : ''}${r.mine ? ` (${esc(T.you)})` : ''}`
    if (r.mine) return `<b>${esc(T.yours)}</b>`
    return esc(r.public_name ?? T.occupied)
  }
  const today = view.today.length
    ? `<ul>${view.today.map((r) => `<li${r.mine ? ' class="mine"' : ''}><span class="time">${time(r.start_time).html}–${time(r.end_time).html}</span><span>${who(r)}</span>${
      r.checked_in_at ? `<span class="badge">${esc(T.checkedInBadge)}</span>` : r.check_in_required && room.requires_check_in ? `<span class="badge">${esc(T.awaitingBadge)}</span>` : ''}</li>`).join('')}</ul>`
    : `<p class="muted">${esc(T.none)}</p>`

  // The zone, said once: APP_TIMEZONE's, or (not set) UTC until the script names the device's.
  const zoneLine = input.timeZone === null
    ? `<p class="zone" id="zone" data-local="${esc(T.timesLocal)}">${fill(T.timesIn, { z: 'UTC' })}</p>`
    : `<p class="zone" id="zone">${fill(T.timesIn, { z: zoneName(input.now, timeZone) })}</p>`

  const footer: string[] = []
  if (input.frontendUrl) footer.push(`<a href="${esc(input.frontendUrl)}">${esc(T.openApp)}</a>`)
  if (input.viewerName) footer.push(`${fill(T.loggedInAs, { n: input.viewerName })} · ${formStart('logout')}<button type="submit">${esc(T.logout)}</button></form>`)

  return `<!doctype html>
<html lang="${input.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${esc(`${T.room} ${room.name}`)} · QRBOOK</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header><p class="brand">QRBOOK · ${esc(T.room)}</p><h1>${esc(room.name)}</h1>${status}${zoneLine}</header>
${notices.join('\n')}
${action}
<section class="card"><h2>${esc(T.today)}</h2>${today}</section>
<footer>${footer.map((f) => `<div class="line">${f}</div>`).join('')}</footer>
</main>${input.timeZone === null ? `\n<script>${LOCAL_TIME_SCRIPT}</script>` : ''}
</body>
</html>`
}


