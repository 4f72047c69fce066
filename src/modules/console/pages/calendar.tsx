/**
 * The calendar (issue 27), for admins and teachers:
 *   GET  /console/calendar                        a week of one room (?room=<id>), Monday to Sunday in
 *                                                 the rooms' zone, or a day of a building's rooms
 *                                                 (?building=<name>&day=YYYY-MM-DD); ?week=YYYY-MM-DD
 *                                                 (any day of the week) moves between weeks
 *   GET  /console/calendar/reservation/:id        one booking or lesson, with what the viewer may do
 *   POST /console/calendar/reservation/:id/move   new start and end (datetime-local, the rooms' zone)
 *   POST /console/calendar/reservation/:id/cancel      this booking, or this one date of a lesson
 *   POST /console/calendar/reservation/:id/cancel-rest this date of a lesson and every later one
 *
 * Rooms have no building field: a building is the part of a room's name before its first digit or
 * space, as the reports group rooms (core/console/reports.ts buildingOf: "B101" and "B102" are in
 * building "B"), and a building is
 * shown a day at a time with its rooms side by side (a week of many rooms does not fit a screen).
 *
 * The grid is a table of 30-minute rows (07:00-22:00, or wider to show a booking outside it); an
 * item spans its rows with rowspan (no inline style: the CSP forbids it), and items that overlap
 * (a booking during a closure) take lanes side by side. On a phone the same items are a list by day.
 *
 * The writes are the API's core calls: for an admin PATCH /api/admin/reservations/:id
 * (updateReservation: moves, and cancels by status), for a teacher PATCH and DELETE
 * /api/reservations/:id (updateReservationTimes, cancelReservation); the rest of a series is
 * DELETE /api/series/:id?from= (cancelSeries) for both. A teacher acts on their own only.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../../context'
import {
  BUILDING_ROOM_LIMIT, calendarItems, calendarRooms, changeableReservation, reservationDetail,
  type CalendarItem, type CalendarRoom, type ReservationDetail,
} from '../../../core/console/calendar'
import { updateReservation } from '../../../core/bookings/reservations/admin'
import { cancelReservation, updateReservationTimes } from '../../../core/bookings/reservations/writes'
import { cancelSeries } from '../../../core/bookings/timetable/series'
import { BadRequest } from '../../../lib/errors'
import type { Lang } from '../../../lib/i18n'
import { localParts, localSecondsOfDay, zonedToUtc } from '../../../lib/time'
import { routeRules } from '../../../plugins/route-rules'
import { formatInstant, localInputValue, parseLocalInput, span, When } from '../format'
import { action, hidden, page, type PageEnv } from '../kit'
import { common, fill, words } from '../text'
import { CSRF_FIELD, CsrfField, CsrfOnly } from '../forms'

const text = words({
  en: {
    room: 'Room', building: 'Building', week: 'Week of', day: 'Day', show: 'Show', chooseRoom: 'A room', chooseBuilding: 'A building',
    previous: '← Previous week', next: 'Next week →', thisWeek: 'This week', weeks: 'Weeks', days: 'Days of the week',
    roomWeek: '{room}: week of {from}–{to}', buildingDay: 'Building {building}: {day}', noRoom: 'There is no such room.', noBuilding: 'There is no building with this name.',
    noRooms: 'There are no rooms yet.', tooManyRooms: 'Only the first {n} rooms of this building are shown.',
    time: 'Time', booking: 'Booking', lesson: 'Lesson', closure: 'Closure', pending: 'awaiting approval', nothing: 'Nothing booked.',
    legend: 'Legend', blocked: 'blocked',
    kind_holiday: 'holiday', kind_maintenance: 'maintenance', kind_exam: 'exams', kind_other: 'closed',
    // the detail page
    detailTitle: 'Booking #{id}', lessonTitle: 'Lesson #{id}', notFound: 'There is no booking with this number.', back: 'Back to the calendar',
    when: 'When', owner: 'Booked by', teacher: 'Teacher', status: 'Status', approval: 'Approval', series: 'Series', seriesUntil: 'runs until', title: 'Title',
    checkedIn: 'Checked in', exception: 'moved or cancelled on its own: changes of the series leave it alone',
    status_active: 'active', status_finished: 'finished', status_cancelled: 'cancelled', approval_pending: 'awaiting approval', approval_approved: 'approved', approval_rejected: 'rejected',
    reason_no_show: 'released: nobody checked in', reason_bumped: 'gave way to a lesson',
    readOnly: 'You can change only your own bookings and lessons.', over: 'This booking is over or cancelled: nothing to change.',
    move: 'Move', start: 'Start', end: 'End', moveButton: 'Move', overrideClosure: 'Move into a closure all the same (recorded)',
    cancelBooking: 'Cancel this booking', cancelDate: 'Cancel this date', cancelRest: 'Cancel this and every later date of the series',
    confirmCancel: 'Cancel this booking?', confirmDate: 'Cancel the lesson on this date?', confirmRest: 'Cancel this lesson and every later one of the series?',
    moved: 'Moved to {when}.', cancelled: 'Cancelled.', restCancelled: '{n} lessons cancelled.', badTime: 'Give the new start and end as a date and a time.',
    lessonsLink: 'All your series are on the My lessons page.',
  },
  ru: {
    room: 'Аудитория', building: 'Корпус', week: 'Неделя с', day: 'День', show: 'Показать', chooseRoom: 'Аудитория', chooseBuilding: 'Корпус',
    previous: '← Предыдущая неделя', next: 'Следующая неделя →', thisWeek: 'Эта неделя', weeks: 'Недели', days: 'Дни недели',
    roomWeek: '{room}: неделя {from}–{to}', buildingDay: 'Корпус {building}: {day}', noRoom: 'Такой аудитории нет.', noBuilding: 'Корпуса с таким названием нет.',
    noRooms: 'Аудиторий пока нет.', tooManyRooms: 'Показаны только первые {n} аудиторий корпуса.',
    time: 'Время', booking: 'Бронирование', lesson: 'Занятие', closure: 'Закрытие', pending: 'ждёт одобрения', nothing: 'Ничего не забронировано.',
    legend: 'Обозначения', blocked: 'заблокирована',
    kind_holiday: 'праздник', kind_maintenance: 'ремонт', kind_exam: 'экзамены', kind_other: 'закрыто',
    detailTitle: 'Бронирование №{id}', lessonTitle: 'Занятие №{id}', notFound: 'Бронирования с таким номером нет.', back: 'К календарю',
    when: 'Когда', owner: 'Забронировал(а)', teacher: 'Преподаватель', status: 'Состояние', approval: 'Одобрение', series: 'Серия', seriesUntil: 'до', title: 'Название',
    checkedIn: 'Отметка', exception: 'перенесено или отменено отдельно: изменения серии его не затрагивают',
    status_active: 'действует', status_finished: 'завершено', status_cancelled: 'отменено', approval_pending: 'ждёт одобрения', approval_approved: 'одобрено', approval_rejected: 'отклонено',
    reason_no_show: 'снято: никто не отметился', reason_bumped: 'уступило место занятию',
    readOnly: 'Изменять можно только свои бронирования и занятия.', over: 'Бронирование завершено или отменено: изменять нечего.',
    move: 'Перенести', start: 'Начало', end: 'Конец', moveButton: 'Перенести', overrideClosure: 'Перенести в закрытие всё равно (записывается в журнал)',
    cancelBooking: 'Отменить бронирование', cancelDate: 'Отменить это занятие', cancelRest: 'Отменить это и все следующие занятия серии',
    confirmCancel: 'Отменить это бронирование?', confirmDate: 'Отменить занятие в этот день?', confirmRest: 'Отменить это и все следующие занятия серии?',
    moved: 'Перенесено на {when}.', cancelled: 'Отменено.', restCancelled: 'Отменено занятий: {n}.', badTime: 'Укажите новые начало и конец: дату и время.',
    lessonsLink: 'Все ваши серии — на странице «Мои занятия».',
  },
})
type Words = ReturnType<typeof text>

// ---- local dates (a day in the rooms' zone) ----

export interface LocalDate { y: number; m: number; d: number }

/** A YYYY-MM-DD day (of a date input or a query), or undefined. */
export function parseDate(raw: unknown): LocalDate | undefined {
  if (typeof raw !== 'string') return undefined
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw.trim())
  if (!m) return undefined
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const check = new Date(Date.UTC(y, mo - 1, d))
  if (y < 2000 || y > 2999 || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined
  return { y, m: mo, d }
}
export const addDays = (date: LocalDate, n: number): LocalDate => {
  const x = new Date(Date.UTC(date.y, date.m - 1, date.d + n))
  return { y: x.getUTCFullYear(), m: x.getUTCMonth() + 1, d: x.getUTCDate() }
}
const mondayOf = (date: LocalDate): LocalDate => addDays(date, -((new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay() + 6) % 7))
export const isoDate = (date: LocalDate) => `${date.y}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`
const sameDate = (a: LocalDate, b: LocalDate) => a.y === b.y && a.m === b.m && a.d === b.d
export function localDate(instant: Date, timeZone: string): LocalDate {
  const p = localParts(instant, timeZone)
  return { y: p.year, m: p.month, d: p.day }
}
/** The instant `minutes` after the local midnight of the day (1440: the next midnight). */
export const at = (date: LocalDate, minutes: number, timeZone: string) => zonedToUtc(date.y, date.m, date.d, minutes * 60, timeZone)

// ---- the grid ----

const SLOT = 30
const DEFAULT_FROM = 7 * 60
const DEFAULT_TO = 22 * 60

/** A column of the grid: a day of a room, or a room on a day. */
interface Column { key: string; label: string; date: LocalDate; today: boolean; items: CalendarItem[] }

interface Placed { item: CalendarItem; first: number; last: number; lane: number }

/** The rows shown: 07:00-22:00, widened to the half hour to show every booking of the columns (closures are cut to it). */
function shownSpan(columns: Column[], timeZone: string): { from: number; to: number } {
  let from = DEFAULT_FROM
  let to = DEFAULT_TO
  for (const col of columns) {
    const dayStart = at(col.date, 0, timeZone)
    const dayEnd = at(col.date, 1440, timeZone)
    for (const item of col.items) {
      if (item.kind === 'closure' || item.end <= dayStart || item.start >= dayEnd) continue
      const s = item.start <= dayStart ? 0 : localSecondsOfDay(item.start, timeZone) / 60
      const e = item.end >= dayEnd ? 1440 : localSecondsOfDay(item.end, timeZone) / 60
      from = Math.min(from, Math.floor(s / SLOT) * SLOT)
      to = Math.max(to, Math.ceil((e === 0 ? 1440 : e) / SLOT) * SLOT)
    }
  }
  return { from, to }
}

/**
 * The instants where the day's rows begin (and the last one ends): evenly spaced, unless the
 * zone's offset changes within them (a DST day), when each is found on its own.
 */
function slotBounds(date: LocalDate, from: number, rows: number, timeZone: string): number[] {
  const first = at(date, from, timeZone).getTime()
  const last = at(date, from + rows * SLOT, timeZone).getTime()
  if (last - first === rows * SLOT * 60_000) return Array.from({ length: rows + 1 }, (_, k) => first + k * SLOT * 60_000)
  return Array.from({ length: rows + 1 }, (_, k) => at(date, from + k * SLOT, timeZone).getTime())
}

/** Each item of the column in its rows (first..last) and a lane, so that items of one lane never overlap. */
function placeColumn(col: Column, from: number, rows: number, timeZone: string): { placed: Placed[]; lanes: number } {
  const bounds = slotBounds(col.date, from, rows, timeZone)
  const placed: Placed[] = []
  for (const item of col.items) {
    const s = item.start.getTime()
    const e = item.end.getTime()
    let first = 0
    while (first < rows && bounds[first + 1]! <= s) first++
    let last = rows - 1
    while (last >= 0 && bounds[last]! >= e) last--
    if (first > last) continue
    placed.push({ item, first, last, lane: 0 })
  }
  placed.sort((a, b) => a.first - b.first || b.last - a.last)
  const laneEnds: number[] = []
  for (const p of placed) {
    let lane = laneEnds.findIndex((end) => end < p.first)
    if (lane < 0) lane = laneEnds.push(-1) - 1
    laneEnds[lane] = p.last
    p.lane = lane
  }
  return { placed, lanes: Math.max(1, laneEnds.length) }
}

function itemClass(item: CalendarItem, now: Date): string {
  if (item.kind === 'closure') return 'ev closure'
  return `ev ${item.kind}${item.approval === 'pending' ? ' pending' : ''}${item.end <= now ? ' past' : ''}`
}

const detailPath = (id: number) => `/console/calendar/reservation/${id}`

/** What an item says: its time, its main line and a second one. */
function itemLines(item: CalendarItem, env: PageEnv, w: Words): { time: string; main: string; sub: string } {
  const sameDay = formatInstant(item.start, env, 'date') === formatInstant(item.end, env, 'date')
  const time = sameDay ? `${formatInstant(item.start, env, 'time')}–${formatInstant(item.end, env, 'time')}` : span(item.start, item.end, env)
  if (item.kind === 'closure') return { time, main: item.reason, sub: `${w.closure}: ${w[`kind_${item.closureKind}`]}` }
  if (item.kind === 'lesson') return { time, main: item.title ?? w.lesson, sub: item.owner }
  return { time, main: item.owner, sub: w.booking }
}

function Item(props: { item: CalendarItem; env: PageEnv; w: Words }) {
  const { item, env, w } = props
  const lines = itemLines(item, env, w)
  const body = (
    <>
      <span class="ev-time" safe>{lines.time}</span>
      <span class="ev-main" safe>{lines.main}</span>
      <span class="ev-sub" safe>{lines.sub}</span>
      {item.kind !== 'closure' && item.approval === 'pending' ? <span class="badge warn" safe>{w.pending}</span> : ''}
    </>
  )
  return item.kind === 'closure' ? <div class="ev-body">{body as 'safe'}</div> : <a class="ev-body" href={detailPath(item.id)}>{body as 'safe'}</a>
}

function Grid(props: { columns: Column[]; env: PageEnv; caption: string; headerLabel: string }) {
  const { columns, env } = props
  const w = text(env.lang)
  const { from, to } = shownSpan(columns, env.timeZone)
  const rows = (to - from) / SLOT
  const laid = columns.map((col) => placeColumn(col, from, rows, env.timeZone))
  const startAt = laid.map(({ placed }) => new Map(placed.map((p) => [`${p.lane}:${p.first}`, p])))
  const covered = laid.map(({ placed }) => new Set(placed.flatMap((p) => Array.from({ length: p.last - p.first }, (_, k) => `${p.lane}:${p.first + k + 1}`))))
  // one row's cells, already rendered JSX: an item starting in it (rowspan), nothing under an item, or an empty slot
  const cellsOf = (r: number): string => columns.map((col, i) => Array.from({ length: laid[i]!.lanes }, (_, lane) => {
    const key = `${lane}:${r}`
    const p = startAt[i]!.get(key)
    if (p) return <td rowspan={String(p.last - p.first + 1)} class={itemClass(p.item, env.now)}><Item item={p.item} env={env} w={w} /></td>
    if (covered[i]!.has(key)) return ''
    return <td class={col.today ? 'free today' : 'free'}></td>
  }).join('')).join('')
  const label = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`
  return (
    <div class="table-wrap cal-grid">
      <table class={`cal cols-${Math.min(columns.length, 12)}`}>
        <caption class="visually-hidden" safe>{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col" class="cal-time" safe>{props.headerLabel}</th>
            {columns.map((col, i) => <th scope="col" colspan={String(laid[i]!.lanes)} class={col.today ? 'today' : undefined} safe>{col.label}</th>)}
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: rows }, (_, r) => (
            <tr class={(from + r * SLOT) % 60 === 0 ? 'hour' : 'half'}>
              <th scope="row" class="cal-time" safe>{label(from + r * SLOT)}</th>
              {cellsOf(r) as 'safe'}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/** The same items as lists, a column at a time (shown instead of the grid on a narrow screen). */
function List(props: { columns: Column[]; env: PageEnv }) {
  const w = text(props.env.lang)
  return (
    <div class="cal-list">
      {props.columns.map((col) => {
        const items = [...col.items].sort((a, b) => a.start.getTime() - b.start.getTime())
        return (
          <section class={`cal-day${col.today ? ' today' : ''}`}>
            <h3 safe>{col.label}</h3>
            {items.length === 0 ? <p class="muted" safe>{w.nothing}</p> : (
              <ul>{items.map((item) => <li class={itemClass(item, props.env.now)}><Item item={item} env={props.env} w={w} /></li>)}</ul>
            )}
          </section>
        )
      })}
    </div>
  )
}

function Legend(props: { w: Words }) {
  const { w } = props
  return (
    <p class="cal-legend">
      <span class="visually-hidden" safe>{w.legend}</span>
      <span class="key booking" safe>{w.booking}</span>
      <span class="key lesson" safe>{w.lesson}</span>
      <span class="key pending" safe>{w.pending}</span>
      <span class="key closure" safe>{w.closure}</span>
    </p>
  )
}

// ---- the page ----

interface View {
  rooms: CalendarRoom[]
  room?: CalendarRoom
  building?: string
  buildingRooms: CalendarRoom[]
  monday: LocalDate
  day: LocalDate
  today: LocalDate
  problem?: string
}

function chooseView(env: PageEnv, rooms: CalendarRoom[], query: Query): View {
  const w = text(env.lang)
  const today = localDate(env.now, env.timeZone)
  const asked = parseDate(query.week) ?? parseDate(query.day) ?? today
  const monday = mondayOf(asked)
  const chosenDay = parseDate(query.day)
  const day = chosenDay && sameDate(mondayOf(chosenDay), monday) ? chosenDay : sameDate(mondayOf(today), monday) ? today : monday
  const base = { rooms, monday, day, today, buildingRooms: [] as CalendarRoom[] }
  const buildingName = typeof query.building === 'string' ? query.building.trim().slice(0, 100) : ''
  const roomRaw = typeof query.room === 'string' ? query.room.trim() : ''
  if (roomRaw) {
    const room = /^\d{1,9}$/.test(roomRaw) ? rooms.find((r) => r.id === Number(roomRaw)) : undefined
    return room ? { ...base, room } : { ...base, problem: w.noRoom }
  }
  if (buildingName) {
    const inside = rooms.filter((r) => r.building === buildingName)
    return inside.length ? { ...base, building: buildingName, buildingRooms: inside } : { ...base, problem: w.noBuilding }
  }
  return rooms[0] ? { ...base, room: rooms[0] } : { ...base, problem: w.noRooms }
}

interface Query { room?: string; building?: string; week?: string; day?: string }

function calendarHref(view: { room?: CalendarRoom; building?: string }, week: LocalDate, day?: LocalDate): string {
  const params = new URLSearchParams()
  if (view.building) params.set('building', view.building)
  else if (view.room) params.set('room', String(view.room.id))
  params.set('week', isoDate(week))
  if (day && view.building) params.set('day', isoDate(day))
  return `/console/calendar?${params}`
}

function Picker(props: { env: PageEnv; view: View }) {
  const { env, view } = props
  const w = text(env.lang)
  const buildings = [...new Set(view.rooms.map((r) => r.building))].sort((a, b) => a.localeCompare(b))
  const week = isoDate(view.monday)
  return (
    <div class="card cal-picker">
      <form method="get" action="/console/calendar" class="row">
        <label><span safe>{w.chooseRoom}</span>
          <select name="room">
            {view.rooms.map((r) => <option value={String(r.id)} selected={view.room?.id === r.id} safe>{r.isBlocked ? `${r.name} (${w.blocked})` : r.name}</option>)}
          </select>
        </label>
        <label><span safe>{w.week}</span><input type="date" name="week" value={week} required /></label>
        <button type="submit" safe>{w.show}</button>
      </form>
      <form method="get" action="/console/calendar" class="row">
        <label><span safe>{w.chooseBuilding}</span>
          <select name="building">
            {buildings.map((b) => <option value={b} selected={view.building === b} safe>{b}</option>)}
          </select>
        </label>
        <label><span safe>{w.day}</span><input type="date" name="day" value={isoDate(view.day)} required /></label>
        <button type="submit" safe>{w.show}</button>
      </form>
    </div>
  )
}

async function CalendarBody(props: { env: PageEnv; query: Query }) {
  const { env, query } = props
  const w = text(env.lang)
  const rooms = await calendarRooms(env.ctx)
  const view = chooseView(env, rooms, query)
  const picker = <Picker env={env} view={view} />
  if (view.problem) return <>{picker as 'safe'}<p class="flash error" role="alert" safe>{view.problem}</p></>

  const weekDays = Array.from({ length: 7 }, (_, i) => addDays(view.monday, i))
  const dayLabel = (date: LocalDate) => formatInstant(at(date, 12 * 60, env.timeZone), env, 'weekday')
  const nav = (
    <nav class="pager" aria-label={w.weeks}>
      <a href={calendarHref(view, addDays(view.monday, -7), view.building ? addDays(view.day, -7) : undefined)} safe>{w.previous}</a>
      <a href={calendarHref(view, view.today, view.building ? view.today : undefined)} safe>{w.thisWeek}</a>
      <a href={calendarHref(view, addDays(view.monday, 7), view.building ? addDays(view.day, 7) : undefined)} safe>{w.next}</a>
    </nav>
  )

  let columns: Column[]
  let heading: string
  let note = ''
  if (view.room) {
    const room = view.room
    const items = await calendarItems(env.ctx, env.viewer.actor, [room.id], at(view.monday, 0, env.timeZone), at(addDays(view.monday, 7), 0, env.timeZone))
    columns = weekDays.map((date) => {
      const from = at(date, 0, env.timeZone)
      const to = at(date, 1440, env.timeZone)
      return { key: isoDate(date), label: dayLabel(date), date, today: sameDate(date, view.today), items: items.filter((i) => i.start < to && i.end > from) }
    })
    heading = fill(w.roomWeek, { room: room.name, from: formatInstant(at(view.monday, 12 * 60, env.timeZone), env, 'date'), to: formatInstant(at(addDays(view.monday, 6), 12 * 60, env.timeZone), env, 'date') })
  } else {
    const shown = view.buildingRooms.slice(0, BUILDING_ROOM_LIMIT)
    if (view.buildingRooms.length > shown.length) note = fill(w.tooManyRooms, { n: BUILDING_ROOM_LIMIT })
    const from = at(view.day, 0, env.timeZone)
    const to = at(view.day, 1440, env.timeZone)
    const items = await calendarItems(env.ctx, env.viewer.actor, shown.map((r) => r.id), from, to)
    columns = shown.map((room) => ({
      key: String(room.id), label: room.name, date: view.day, today: false,
      items: items.filter((i) => (i.kind === 'closure' ? i.roomIds.includes(room.id) : i.roomId === room.id)),
    }))
    heading = fill(w.buildingDay, { building: view.building!, day: formatInstant(at(view.day, 12 * 60, env.timeZone), env, 'date') })
  }

  return (
    <>
      {picker as 'safe'}
      <h2 safe>{heading}</h2>
      {nav as 'safe'}
      {view.building ? (
        <nav class="cal-days" aria-label={w.days}>
          {weekDays.map((date) => (
            <a href={calendarHref(view, view.monday, date)} aria-current={sameDate(date, view.day) ? 'page' : undefined} safe>{dayLabel(date)}</a>
          ))}
        </nav>
      ) : ''}
      {note ? <p class="muted" safe>{note}</p> : ''}
      <Legend w={w} />
      <Grid columns={columns} env={env} caption={heading} headerLabel={view.building ? w.room : w.time} />
      <List columns={columns} env={env} />
    </>
  )
}

// ---- one booking ----

function Detail(props: { env: PageEnv; r: ReservationDetail }) {
  const { env, r } = props
  const w = text(env.lang)
  const isLesson = r.seriesId !== null
  const active = r.status === 'active'
  const back = `/console/calendar?${new URLSearchParams({ room: String(r.roomId), week: isoDate(mondayOf(localDate(r.start, env.timeZone))) })}`
  const base = detailPath(r.id)
  const csrf = <CsrfField csrf={env.viewer.csrf} />
  return (
    <>
      <p><a href={back} safe>{w.back}</a></p>
      <div class="card">
        <dl class="cal-facts">
          <dt safe>{w.room}</dt><dd safe>{r.roomName}</dd>
          <dt safe>{w.when}</dt><dd><time datetime={r.start.toISOString()} safe>{span(r.start, r.end, env)}</time></dd>
          {isLesson ? <><dt safe>{w.title}</dt><dd safe>{r.title ?? w.lesson}</dd></> : ''}
          <dt safe>{isLesson ? w.teacher : w.owner}</dt><dd safe>{r.owner}</dd>
          <dt safe>{w.status}</dt>
          <dd>
            <span class={`badge ${r.status === 'active' ? 'ok' : r.status === 'cancelled' ? 'bad' : ''}`} safe>{w[`status_${r.status}`]}</span>
            {r.cancelReason === 'no_show' || r.cancelReason === 'bumped' ? <span class="muted" safe>{` ${w[`reason_${r.cancelReason}`]}`}</span> : ''}
          </dd>
          {r.approval ? <><dt safe>{w.approval}</dt><dd><span class={`badge ${r.approval === 'pending' ? 'warn' : r.approval === 'approved' ? 'ok' : 'bad'}`} safe>{w[`approval_${r.approval}`]}</span></dd></> : ''}
          {r.checkedInAt ? <><dt safe>{w.checkedIn}</dt><dd><When date={r.checkedInAt} env={env} /></dd></> : ''}
          {isLesson ? (
            <>
              <dt safe>{w.series}</dt>
              <dd>
                <span safe>{`#${r.seriesId} ${r.seriesTitle ?? ''}`}</span>
                {r.seriesUntil ? <span class="muted"> {w.seriesUntil as 'safe'} <When date={r.seriesUntil} env={env} kind="date" /></span> : ''}
                {r.exception ? <div class="muted" safe>{w.exception}</div> : ''}
              </dd>
            </>
          ) : ''}
        </dl>
      </div>
      {!r.mayChange ? <p class="muted" safe>{w.readOnly}</p> : !active ? <p class="muted" safe>{w.over}</p> : (
        <>
          <section class="card cal-action">
            <h2 safe>{w.move}</h2>
            <form method="post" action={`${base}/move`} class="row">
              {csrf as 'safe'}
              <label><span safe>{w.start}</span><input type="datetime-local" name="start" required value={localInputValue(r.start, env.timeZone)} /></label>
              <label><span safe>{w.end}</span><input type="datetime-local" name="end" required value={localInputValue(r.end, env.timeZone)} /></label>
              {env.viewer.actor.role === 'admin' ? <label class="check"><input type="checkbox" name="override_closure" value="1" /><span safe>{w.overrideClosure}</span></label> : ''}
              <button type="submit" class="primary" safe>{w.moveButton}</button>
            </form>
          </section>
          <section class="card row">
            <form method="post" action={`${base}/cancel`} data-confirm={isLesson ? w.confirmDate : w.confirmCancel} class="inline">
              {csrf as 'safe'}
              <button type="submit" class="danger" safe>{isLesson ? w.cancelDate : w.cancelBooking}</button>
            </form>
            {isLesson ? (
              <form method="post" action={`${base}/cancel-rest`} data-confirm={w.confirmRest} class="inline">
                {csrf as 'safe'}
                <button type="submit" class="danger" safe>{w.cancelRest}</button>
              </form>
            ) : ''}
          </section>
          {isLesson && r.ownerId === env.viewer.actor.id ? <p class="muted"><a href="/console/lessons" safe>{w.lessonsLink}</a></p> : ''}
        </>
      )}
    </>
  )
}

function reservationId(raw: string): number | undefined {
  return /^\d{1,9}$/.test(raw) ? Number(raw) : undefined
}

function detailTitle(lang: Lang, r: ReservationDetail | undefined, id: string): string {
  const w = text(lang)
  if (!r) return common(lang).notFoundTitle
  return fill(r.seriesId !== null ? w.lessonTitle : w.detailTitle, { id })
}

const IdParams = t.Object({ id: t.String({ maxLength: 20 }) })
const MoveForm = t.Object({
  ...CSRF_FIELD, start: t.Optional(t.String({ maxLength: 40 })), end: t.Optional(t.String({ maxLength: 40 })),
  override_closure: t.Optional(t.String({ maxLength: 10 })),
})
const CalendarQuery = t.Object({
  room: t.Optional(t.String({ maxLength: 200 })), building: t.Optional(t.String({ maxLength: 200 })),
  week: t.Optional(t.String({ maxLength: 200 })), day: t.Optional(t.String({ maxLength: 200 })),
})

/** The reservation a form acts on, for this viewer (404, or 403 for a teacher's other than their own). */
async function target(env: PageEnv, raw: string): Promise<ReservationDetail> {
  const id = reservationId(raw)
  if (id === undefined) throw new BadRequest(text(env.lang).notFound)
  return changeableReservation(env.ctx, env.viewer.actor, id)
}

export const calendarPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/calendar', ({ request, set, query }) => page(ctx, request, set, {
      role: 'teacher', active: 'calendar', title: (lang) => common(lang).calendar,
      render: (env) => <CalendarBody env={env} query={query} />,
    }), { query: CalendarQuery, ...hidden() })

    .get('/console/calendar/reservation/:id', async ({ request, set, params }) => {
      const id = reservationId(params.id)
      // The status is decided before page() knows who asks: a first read says only whether it exists
      // (as no one in particular); the page reads it again for the viewer (names, what they may do).
      const found = id === undefined ? undefined : await reservationDetail(ctx, { id: 0, role: 'teacher' }, id)
      return page(ctx, request, set, {
        role: 'teacher', active: 'calendar', status: found ? 200 : 404, title: (lang) => detailTitle(lang, found, params.id),
        render: async (env) => {
          const r = id === undefined ? undefined : await reservationDetail(env.ctx, env.viewer.actor, id)
          if (!r) return <><p safe>{text(env.lang).notFound}</p><p><a href="/console/calendar" safe>{text(env.lang).back}</a></p></>
          return <Detail env={env} r={r} />
        },
      })
    }, { params: IdParams, ...hidden() })

    .post('/console/calendar/reservation/:id/move', ({ request, set, params, body }) => action(ctx, request, set, body.csrf_token, {
      role: 'teacher', back: reservationId(params.id) ? detailPath(Number(params.id)) : '/console/calendar',
      act: async (env) => {
        const w = text(env.lang)
        const r = await target(env, params.id)
        const start = parseLocalInput(body.start, env.timeZone)
        const end = parseLocalInput(body.end, env.timeZone)
        if (!start || !end || !body.start?.includes('T') || !body.end?.includes('T')) throw new BadRequest(w.badTime)
        const times = { start_time: start, end_time: end }
        if (env.viewer.actor.role === 'admin') {
          await updateReservation(env.ctx, env.viewer.actor, r.id, { ...times, override_closure: body.override_closure === '1' })
        } else {
          await updateReservationTimes(env.ctx, env.viewer.actor, r.id, times)
        }
        return { done: fill(w.moved, { when: span(start, end, env) }) }
      },
    }), { params: IdParams, body: MoveForm, ...hidden() })

    .post('/console/calendar/reservation/:id/cancel', ({ request, set, params, body }) => action(ctx, request, set, body.csrf_token, {
      role: 'teacher', back: reservationId(params.id) ? detailPath(Number(params.id)) : '/console/calendar',
      act: async (env) => {
        const r = await target(env, params.id)
        if (env.viewer.actor.role === 'admin') await updateReservation(env.ctx, env.viewer.actor, r.id, { status: 'cancelled' })
        else await cancelReservation(env.ctx, env.viewer.actor, r.id)
        return { done: text(env.lang).cancelled }
      },
    }), { params: IdParams, body: CsrfOnly, ...hidden() })

    .post('/console/calendar/reservation/:id/cancel-rest', ({ request, set, params, body }) => action(ctx, request, set, body.csrf_token, {
      role: 'teacher', back: reservationId(params.id) ? detailPath(Number(params.id)) : '/console/calendar',
      act: async (env) => {
        const r = await target(env, params.id)
        if (r.seriesId === null) throw new BadRequest(text(env.lang).notFound)
        const { cancelled } = await cancelSeries(env.ctx, env.viewer.actor, r.seriesId, r.start)
        return { done: fill(text(env.lang).restCancelled, { n: cancelled.length }) }
      },
    }), { params: IdParams, body: CsrfOnly, ...hidden() })
