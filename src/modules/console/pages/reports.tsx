/**
 * GET /console/reports: room utilisation per room and per building per week (lessons and student
 * bookings), the no-show rate, the busiest hours as a heatmap and the weekly utilisation as a
 * chart, over a range of weeks (`from`, `to`: any day of the first and last week; default the
 * last four full weeks and the current one; at most 26 weeks). Definitions: src/core/console/reports.ts.
 *
 * GET /console/reports/<table>.<csv|xlsx> (same `from` / `to`): each table as a file, for
 * utilisation (rooms), buildings, noshows and heatmap. CSV by csv-stringify (UTF-8 with a BOM, so
 * a spreadsheet reads the Russian); XLSX by exceljs. Formula injection is neutralised: a text
 * cell that starts with =, +, -, @, a tab or a carriage return gets a leading apostrophe in CSV,
 * and XLSX cells are written as plain strings (never formulas).
 *
 * The charts are inline SVG (no script, no style attribute, no chart library): rect elements with
 * fill attributes, a <title> on each for its tooltip, role="img" and an aria-label; the heatmap's
 * numbers are also a table beside it.
 */
import { stringify } from 'csv-stringify/sync'
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../../context'
import { hasRole } from '../../../core/identity/actors'
import {
  cachedRoomReport, DEFAULT_OPEN, MAX_REPORT_WEEKS, noShowRate, reportRange, utilisation,
  type NoShows, type Report, type ReportRange, type Usage,
} from '../../../core/console/reports'
import type { Lang } from '../../../lib/i18n'
import { localParts } from '../../../lib/time'
import { accessToken, actorFor } from '../../../plugins/auth'
import { routeRules } from '../../../plugins/route-rules'
import { consoleLanguage, hidden, page, type PageEnv, type SetLike } from '../kit'
import { common, fill, words } from '../text'

const text = words({
  en: {
    range: 'Weeks', from: 'First week (any day of it)', to: 'Last week (any day of it)', show: 'Show',
    last5: 'Last 4 weeks and this one', last13: 'Last 13 weeks', last26: 'Last 26 weeks',
    badRange: 'Choose dates (such as 2026-09-01), the last week not before the first, at most {max} weeks. Showing the default weeks instead.',
    summary: 'In these weeks', utilisation: 'utilisation', lessonsShare: 'of open hours in lessons', bookingsShare: 'of open hours in student bookings',
    noShowRate: 'no-show rate', openHours: 'open room-hours',
    weekly: 'Utilisation by week', weeklyLabel: 'Bar chart: utilisation of all rooms by week, lessons and student bookings stacked',
    byBuilding: 'Utilisation by building', byRoom: 'Utilisation by room', noShows: 'No-shows by room', heatmap: 'Busiest hours',
    heatmapLabel: 'Heatmap: booked room-hours by weekday and hour, darker is busier; busiest: {max} room-hours on {day} at {hour}',
    heatmapTable: 'The heatmap as a table (room-hours)', heatmapNote: 'Booked room-hours of all rooms in these weeks, by weekday and hour (bookings at any time, open or not).',
    building: 'Building', room: 'Room', rooms: 'Rooms', window: 'Open', week: 'Week', weekday: 'Weekday', hour: 'Hour',
    lessons: 'Lessons', bookings: 'Student bookings', legend: 'Legend', roomHours: 'room-hours',
    cellKey: 'Each cell: utilisation (booked ÷ open hours), then L lessons and S student bookings, in percentage points.',
    noShowKey: 'Each cell: no-shows / bookings that required a check-in (rate). Only rooms with such bookings are listed.',
    defaultWindow: 'default', download: 'Download:', csv: 'CSV', xlsx: 'XLSX', total: 'All rooms', noRooms: 'No rooms yet.',
    noNoShows: 'No booking in these weeks required a check-in.',
    definitions: 'How the figures are counted',
    def1: 'Open hours: the room\'s daily booking window, every day; a room without one counts as open {open} Monday to Friday. Closures are taken off.',
    def2: 'Booked hours: active and finished bookings (cancelled ones and no-shows do not count) within the open hours; lessons are occurrences of a series, the rest are student bookings.',
    def3: 'No-show rate: bookings released as no-shows over the bookings that required a check-in, were not cancelled and have started.',
    def4: 'Building: rooms have no building field, so a room\'s building is its name up to the first digit or space (B101 is in B).',
    def5: 'Weeks run Monday to Sunday in the rooms\' time zone ({zone}).',
    // file headers
    fWeek: 'Week (Monday)', fOpen: 'Open hours', fLessons: 'Lesson hours', fBookings: 'Student booking hours', fBooked: 'Booked hours',
    fUtil: 'Utilisation, %', fLessonsPct: 'Lessons, %', fBookingsPct: 'Student bookings, %', fRequired: 'Bookings requiring check-in',
    fReleased: 'No-shows', fRate: 'No-show rate, %', fWindow: 'Daily window', fRooms: 'Rooms',
    sheetUtil: 'Utilisation by room', sheetBuildings: 'Utilisation by building', sheetNoShows: 'No-shows', sheetHeatmap: 'Busiest hours',
  },
  ru: {
    range: 'Недели', from: 'Первая неделя (любой её день)', to: 'Последняя неделя (любой её день)', show: 'Показать',
    last5: 'Последние 4 недели и текущая', last13: 'Последние 13 недель', last26: 'Последние 26 недель',
    badRange: 'Укажите даты (например, 2026-09-01): последняя неделя не раньше первой, не больше {max} недель. Показаны недели по умолчанию.',
    summary: 'За эти недели', utilisation: 'загрузка', lessonsShare: 'открытых часов — занятия', bookingsShare: 'открытых часов — бронирования студентов',
    noShowRate: 'доля неявок', openHours: 'открытых аудиторо-часов',
    weekly: 'Загрузка по неделям', weeklyLabel: 'Столбчатая диаграмма: загрузка всех аудиторий по неделям, занятия и бронирования студентов',
    byBuilding: 'Загрузка по корпусам', byRoom: 'Загрузка по аудиториям', noShows: 'Неявки по аудиториям', heatmap: 'Самые загруженные часы',
    heatmapLabel: 'Тепловая карта: забронированные аудиторо-часы по дням недели и часам, темнее — больше; максимум: {max} аудиторо-часов, {day}, {hour}',
    heatmapTable: 'Тепловая карта в виде таблицы (аудиторо-часы)', heatmapNote: 'Забронированные аудиторо-часы всех аудиторий за эти недели по дням недели и часам (в любое время, в том числе вне открытых часов).',
    building: 'Корпус', room: 'Аудитория', rooms: 'Аудиторий', window: 'Открыта', week: 'Неделя', weekday: 'День недели', hour: 'Час',
    lessons: 'Занятия', bookings: 'Бронирования студентов', legend: 'Легенда', roomHours: 'аудиторо-часов',
    cellKey: 'В каждой ячейке: загрузка (забронировано ÷ открыто), затем З — занятия и С — бронирования студентов, в процентных пунктах.',
    noShowKey: 'В каждой ячейке: неявки / бронирования с обязательной отметкой (доля). Показаны только аудитории с такими бронированиями.',
    defaultWindow: 'по умолчанию', download: 'Скачать:', csv: 'CSV', xlsx: 'XLSX', total: 'Все аудитории', noRooms: 'Аудиторий пока нет.',
    noNoShows: 'За эти недели не было бронирований с обязательной отметкой.',
    definitions: 'Как считаются показатели',
    def1: 'Открытые часы: ежедневное окно бронирования аудитории, каждый день; аудитория без окна считается открытой {open} с понедельника по пятницу. Закрытия вычитаются.',
    def2: 'Забронированные часы: активные и завершённые бронирования (отменённые и неявки не учитываются) в пределах открытых часов; занятия — повторения серий, остальное — бронирования студентов.',
    def3: 'Доля неявок: бронирования, снятые за неявку, от бронирований с обязательной отметкой, которые не были отменены и уже начались.',
    def4: 'Корпус: у аудиторий нет поля «корпус», поэтому корпус — начало названия до первой цифры или пробела (B101 — корпус B).',
    def5: 'Недели — с понедельника по воскресенье в часовом поясе аудиторий ({zone}).',
    fWeek: 'Неделя (понедельник)', fOpen: 'Открыто, ч', fLessons: 'Занятия, ч', fBookings: 'Бронирования студентов, ч', fBooked: 'Забронировано, ч',
    fUtil: 'Загрузка, %', fLessonsPct: 'Занятия, %', fBookingsPct: 'Бронирования студентов, %', fRequired: 'Бронирований с отметкой',
    fReleased: 'Неявки', fRate: 'Доля неявок, %', fWindow: 'Окно бронирования', fRooms: 'Аудиторий',
    sheetUtil: 'Загрузка по аудиториям', sheetBuildings: 'Загрузка по корпусам', sheetNoShows: 'Неявки', sheetHeatmap: 'Загруженные часы',
  },
})

const WEEKDAYS: Record<Lang, string[]> = {
  en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
  ru: ['Пн', 'Вт', 'Ср', 'Чт', 'Пт', 'Сб', 'Вс'],
}
const SHORT = { en: { lessons: 'L', bookings: 'S' }, ru: { lessons: 'З', bookings: 'С' } }

const two = (n: number) => String(n).padStart(2, '0')
const hh = (hour: number) => `${two(hour)}:00`
const DEFAULT_OPEN_TEXT = `${hh(DEFAULT_OPEN.start / 3600)}–${hh(DEFAULT_OPEN.end / 3600)}`

const numberFormats = new Map<string, Intl.NumberFormat>()
function formatNumber(value: number, lang: Lang, style: 'percent' | 'decimal', digits = 0): string {
  const key = `${lang}|${style}|${digits}`
  let f = numberFormats.get(key)
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { style, maximumFractionDigits: digits, minimumFractionDigits: 0 })))
  return f.format(value)
}
const pct = (value: number | null, lang: Lang) => (value === null ? '—' : formatNumber(value, lang, 'percent'))

/** "03.08–09.08": the days of a week (its Monday "YYYY-MM-DD"). */
function weekLabel(key: string): string {
  const [y, m, d] = key.split('-').map(Number) as [number, number, number]
  const sunday = new Date(Date.UTC(y, m - 1, d + 6))
  return `${two(d)}.${two(m)}–${two(sunday.getUTCDate())}.${two(sunday.getUTCMonth() + 1)}`
}

/** "03.08.2026": a week's Monday ("YYYY-MM-DD") or a day after it. */
function dayLabel(key: string, plusDays = 0): string {
  const [y, m, d] = key.split('-').map(Number) as [number, number, number]
  const day = new Date(Date.UTC(y, m - 1, d + plusDays))
  return `${two(day.getUTCDate())}.${two(day.getUTCMonth() + 1)}.${day.getUTCFullYear()}`
}

// ---- the range ------------------------------------------------------------------------------

interface Chosen { range: ReportRange; from: string; to: string; error: boolean }

/** The range the query asks for, or the default one (error: true) when it asks for none that works. */
function chosenRange(ctx: Ctx, url: URL): Chosen {
  const now = ctx.clock.now()
  const zone = ctx.config.appTimezone
  const from = (url.searchParams.get('from') ?? '').trim().slice(0, 20)
  const to = (url.searchParams.get('to') ?? '').trim().slice(0, 20)
  const asked = reportRange(now, zone, from || undefined, to || undefined)
  const range = asked ?? reportRange(now, zone)!
  return { range, from: asked ? from : '', to: asked ? to : '', error: !asked }
}

function rangeQuery(range: ReportRange): string {
  return new URLSearchParams({ from: range.weeks[0]!.key, to: range.weeks[range.weeks.length - 1]!.key }).toString()
}

// ---- the charts -----------------------------------------------------------------------------

/** Fills of the heatmap, lightest (nothing booked) to darkest. */
const HEAT = ['#f1f4f8', '#d6e4f7', '#a9c6ee', '#6f9fdc', '#3a73c4', '#1f4f99', '#0f2f61']

function heatLevel(value: number, max: number): number {
  if (value <= 0 || max <= 0) return 0
  return Math.min(HEAT.length - 1, Math.max(1, Math.ceil((value / max) * (HEAT.length - 1))))
}

function Heatmap(props: { report: Report; lang: Lang }) {
  const { report, lang } = props
  const t = text(lang)
  const days = WEEKDAYS[lang]
  const cell = { w: 26, h: 24 }
  const left = 40
  const top = 22
  const values = report.heatmap.flat()
  const max = Math.max(0, ...values)
  let peak = { day: 0, hour: 0 }
  report.heatmap.forEach((row, d) => row.forEach((v, h) => { if (v > report.heatmap[peak.day]![peak.hour]!) peak = { day: d, hour: h } }))
  const legendTop = top + 7 * cell.h + 16
  const width = left + 24 * cell.w + 4
  const height = legendTop + 46
  const step = max / (HEAT.length - 1)
  const label = fill(t.heatmapLabel, { max: formatNumber(max, lang, 'decimal', 1), day: days[peak.day]!, hour: `${hh(peak.hour)}–${hh(peak.hour + 1)}` })
  return (
    <svg class="chart heatmap" viewBox={`0 0 ${width} ${height}`} width={String(width)} height={String(height)} role="img" aria-label={label} xmlns="http://www.w3.org/2000/svg">
      <title safe>{label}</title>
      {Array.from({ length: 24 }, (_, h) => (h % 3 === 0
        ? <text x={String(left + h * cell.w + cell.w / 2)} y={String(top - 7)} font-size="11" text-anchor="middle" fill="#1c2430" safe>{two(h)}</text>
        : ''))}
      {report.heatmap.map((row, d) => (
        <g>
          <text x={String(left - 6)} y={String(top + d * cell.h + cell.h / 2 + 4)} font-size="12" text-anchor="end" fill="#1c2430" safe>{days[d]}</text>
          {row.map((v, h) => (
            <rect x={String(left + h * cell.w)} y={String(top + d * cell.h)} width={String(cell.w - 2)} height={String(cell.h - 2)} rx="3" fill={HEAT[heatLevel(v, max)]!}>
              <title safe>{`${days[d]} ${hh(h)}–${hh(h + 1)}: ${formatNumber(v, lang, 'decimal', 1)} ${t.roomHours}`}</title>
            </rect>
          ))}
        </g>
      ))}
      <g class="legend">
        <text x={String(left)} y={String(legendTop + 12)} font-size="11" fill="#1c2430" safe>{`${t.legend} (${t.roomHours}):`}</text>
        {HEAT.map((colour, i) => {
          const x = left + i * 80
          const range = i === 0 ? '0' : `≤ ${formatNumber(step * i, lang, 'decimal', 1)}`
          return (
            <g>
              <rect x={String(x)} y={String(legendTop + 22)} width="16" height="16" rx="3" fill={colour} stroke="#b8c0cc" stroke-width="1"><title safe>{range}</title></rect>
              <text x={String(x + 20)} y={String(legendTop + 34)} font-size="11" fill="#1c2430" safe>{range}</text>
            </g>
          )
        })}
      </g>
    </svg>
  )
}

const LESSON_FILL = '#1f5fbf'
const BOOKING_FILL = '#2e9d5f'

function WeeklyChart(props: { report: Report; lang: Lang }) {
  const { report, lang } = props
  const t = text(lang)
  const weeks = report.range.weeks
  const left = 44
  const top = 12
  const plot = 160
  const width = Math.max(600, left + 10 + weeks.length * 24)
  const slot = (width - left - 10) / weeks.length
  const bar = Math.min(56, Math.round(slot * 0.7))
  const gap = slot - bar
  const shares = report.totals.map((u) => ({ lessons: u.open > 0 ? u.lessons / u.open : 0, bookings: u.open > 0 ? u.bookings / u.open : 0 }))
  const most = Math.max(0, ...shares.map((s) => s.lessons + s.bookings))
  // the scale: a multiple of 20%, so that its quarters are whole percents
  const scaleMax = Math.max(0.2, Math.ceil(most * 5 - 1e-9) / 5)
  const y = (share: number) => top + plot - (share / scaleMax) * plot
  const labelEvery = Math.ceil(weeks.length / 10)
  const legendY = top + plot + 40
  const height = legendY + 20
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * scaleMax)
  return (
    <svg class="chart weekly" viewBox={`0 0 ${width} ${height}`} width={String(width)} height={String(height)} role="img" aria-label={t.weeklyLabel} xmlns="http://www.w3.org/2000/svg">
      <title safe>{t.weeklyLabel}</title>
      {ticks.map((v) => (
        <g>
          <line x1={String(left)} x2={String(width - 6)} y1={String(y(v))} y2={String(y(v))} stroke="#d9dee5" stroke-width="1" />
          <text x={String(left - 6)} y={String(y(v) + 4)} font-size="11" text-anchor="end" fill="#1c2430" safe>{formatNumber(v, lang, 'percent')}</text>
        </g>
      ))}
      {weeks.map((w, i) => {
        const x = left + i * (bar + gap) + gap / 2
        const s = shares[i]!
        const u = report.totals[i]!
        const tip = `${weekLabel(w.key)}: ${pct(utilisation(u), lang)} (${t.lessons} ${pct(u.open > 0 ? s.lessons : null, lang)}, ${t.bookings} ${pct(u.open > 0 ? s.bookings : null, lang)})`
        return (
          <g>
            <rect x={String(x)} y={String(y(s.lessons))} width={String(bar)} height={String(Math.max(0, y(0) - y(s.lessons)))} fill={LESSON_FILL}><title safe>{tip}</title></rect>
            <rect x={String(x)} y={String(y(s.lessons + s.bookings))} width={String(bar)} height={String(Math.max(0, y(s.lessons) - y(s.lessons + s.bookings)))} fill={BOOKING_FILL}><title safe>{tip}</title></rect>
            {i % labelEvery === 0 ? <text x={String(x + bar / 2)} y={String(top + plot + 16)} font-size="10" text-anchor="middle" fill="#1c2430" safe>{weekLabel(w.key).slice(0, 5)}</text> : ''}
          </g>
        )
      })}
      <rect x={String(left)} y={String(legendY - 10)} width="12" height="12" fill={LESSON_FILL} />
      <text x={String(left + 16)} y={String(legendY)} font-size="11" fill="#1c2430" safe>{t.lessons}</text>
      <rect x={String(left + 110)} y={String(legendY - 10)} width="12" height="12" fill={BOOKING_FILL} />
      <text x={String(left + 126)} y={String(legendY)} font-size="11" fill="#1c2430" safe>{t.bookings}</text>
    </svg>
  )
}

// ---- the tables -----------------------------------------------------------------------------

function UsageCell(props: { u: Usage; lang: Lang }) {
  const { u, lang } = props
  const share = utilisation(u)
  if (share === null) return <td class="num muted">—</td>
  const s = SHORT[lang]
  return (
    <td class="num">
      <strong safe>{pct(share, lang)}</strong>
      <small class="split" safe>{`${s.lessons} ${formatNumber((u.lessons / u.open) * 100, lang, 'decimal')} · ${s.bookings} ${formatNumber((u.bookings / u.open) * 100, lang, 'decimal')}`}</small>
    </td>
  )
}

function NoShowCell(props: { n: NoShows; lang: Lang }) {
  const rate = noShowRate(props.n)
  if (rate === null) return <td class="num muted">—</td>
  return <td class={`num${props.n.released > 0 ? ' warn' : ''}`} safe>{`${props.n.released} / ${props.n.required} (${pct(rate, props.lang)})`}</td>
}

function WeekHeads(props: { range: ReportRange }) {
  return <>{props.range.weeks.map((w) => <th scope="col" class="num"><time datetime={w.key} safe>{weekLabel(w.key)}</time></th>)}</>
}

function Downloads(props: { table: TableName; range: ReportRange; lang: Lang; title: string }) {
  const t = text(props.lang)
  const q = rangeQuery(props.range)
  return (
    <p class="downloads">
      <span safe>{t.download}</span>{' '}
      <a href={`/console/reports/${props.table}.csv?${q}`} download="" aria-label={`${props.title}: CSV`} safe>{t.csv}</a>{' · '}
      <a href={`/console/reports/${props.table}.xlsx?${q}`} download="" aria-label={`${props.title}: XLSX`} safe>{t.xlsx}</a>
    </p>
  )
}

function sum(list: Usage[]): Usage {
  return list.reduce((a, u) => ({ open: a.open + u.open, lessons: a.lessons + u.lessons, bookings: a.bookings + u.bookings }), { open: 0, lessons: 0, bookings: 0 })
}

function shortcut(env: PageEnv, weeks: number): string {
  const p = localParts(env.now, env.timeZone)
  const today = new Date(Date.UTC(p.year, p.month - 1, p.day))
  const first = new Date(today.getTime() - (weeks - 1) * 7 * 86400_000)
  const iso = (d: Date) => d.toISOString().slice(0, 10)
  return `/console/reports?${new URLSearchParams({ from: iso(first), to: iso(today) })}`
}

async function ReportsBody(props: { env: PageEnv; chosen: Chosen }) {
  const { env, chosen } = props
  const { lang } = env
  const t = text(lang)
  const report = await cachedRoomReport(env.ctx, chosen.range)
  const range = report.range
  const all = sum(report.totals)
  const allNoShows = report.noShowTotals.reduce((a, n) => ({ required: a.required + n.required, released: a.released + n.released }), { required: 0, released: 0 })
  const first = range.weeks[0]!.key
  const last = range.weeks[range.weeks.length - 1]!.key
  return (
    <>
      <form method="get" action="/console/reports" class="card" aria-label={t.range}>
        <div class="row">
          <label>{t.from as 'safe'}<input type="date" name="from" value={chosen.from || first} required /></label>
          <label>{t.to as 'safe'}<input type="date" name="to" value={chosen.to || last} required /></label>
          <button type="submit" class="primary" safe>{t.show}</button>
        </div>
        <p class="shortcuts">
          <a href="/console/reports" safe>{t.last5}</a>
          <a href={shortcut(env, 13)} safe>{t.last13}</a>
          <a href={shortcut(env, MAX_REPORT_WEEKS)} safe>{t.last26}</a>
        </p>
      </form>

      <h2 safe>{`${t.summary}: ${dayLabel(first)} – ${dayLabel(last, 6)}`}</h2>
      <div class="tiles">
        <div class="tile"><strong safe>{pct(utilisation(all), lang)}</strong><span safe>{t.utilisation}</span></div>
        <div class="tile"><strong safe>{pct(all.open > 0 ? all.lessons / all.open : null, lang)}</strong><span safe>{t.lessonsShare}</span></div>
        <div class="tile"><strong safe>{pct(all.open > 0 ? all.bookings / all.open : null, lang)}</strong><span safe>{t.bookingsShare}</span></div>
        <div class="tile"><strong safe>{pct(noShowRate(allNoShows), lang)}</strong><span safe>{t.noShowRate}</span></div>
        <div class="tile"><strong safe>{formatNumber(all.open, lang, 'decimal')}</strong><span safe>{t.openHours}</span></div>
      </div>

      <section aria-labelledby="weekly">
        <h2 id="weekly" safe>{t.weekly}</h2>
        <div class="chart-scroll" tabindex="0" role="region" aria-label={t.weekly}><WeeklyChart report={report} lang={lang} /></div>
      </section>

      <section aria-labelledby="heatmap">
        <h2 id="heatmap" safe>{t.heatmap}</h2>
        <p class="muted" safe>{t.heatmapNote}</p>
        <div class="chart-scroll" tabindex="0" role="region" aria-label={t.heatmap}><Heatmap report={report} lang={lang} /></div>
        <details class="heatmap-table">
          <summary safe>{t.heatmapTable}</summary>
          <div class="table-wrap" tabindex="0" role="region" aria-label={t.heatmapTable}>
            <table>
              <thead><tr><th scope="col" safe>{t.weekday}</th>{Array.from({ length: 24 }, (_, h) => <th scope="col" class="num" safe>{two(h)}</th>)}</tr></thead>
              <tbody>
                {report.heatmap.map((row, d) => (
                  <tr><th scope="row" safe>{WEEKDAYS[lang][d]!}</th>{row.map((v) => <td class="num" safe>{formatNumber(v, lang, 'decimal', 1)}</td>)}</tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
        <Downloads table="heatmap" range={range} lang={lang} title={t.heatmap} />
      </section>

      <section aria-labelledby="buildings">
        <h2 id="buildings" safe>{t.byBuilding}</h2>
        <p class="muted" safe>{t.cellKey}</p>
        <div class="table-wrap" tabindex="0" role="region" aria-label={t.byBuilding}>
          <table class="report">
            <thead><tr><th scope="col" safe>{t.building}</th><th scope="col" class="num" safe>{t.rooms}</th><WeekHeads range={range} /></tr></thead>
            <tbody>
              {report.buildings.map((b) => (
                <tr><th scope="row" safe>{b.name}</th><td class="num" safe>{String(b.rooms)}</td>{b.weeks.map((u) => <UsageCell u={u} lang={lang} />)}</tr>
              ))}
              <tr class="total"><th scope="row" safe>{t.total}</th><td class="num" safe>{String(report.rooms.length)}</td>{report.totals.map((u) => <UsageCell u={u} lang={lang} />)}</tr>
            </tbody>
          </table>
        </div>
        <Downloads table="buildings" range={range} lang={lang} title={t.byBuilding} />
      </section>

      <section aria-labelledby="rooms">
        <h2 id="rooms" safe>{t.byRoom}</h2>
        {report.rooms.length === 0 ? <p class="muted" safe>{t.noRooms}</p> : (
          <div class="table-wrap" tabindex="0" role="region" aria-label={t.byRoom}>
            <table class="report">
              <thead><tr><th scope="col" safe>{t.room}</th><th scope="col" safe>{t.building}</th><th scope="col" safe>{t.window}</th><WeekHeads range={range} /></tr></thead>
              <tbody>
                {report.rooms.map((r) => (
                  <tr>
                    <th scope="row" safe>{r.name}</th>
                    <td safe>{r.building}</td>
                    <td class="nowrap" safe>{r.window ?? `${DEFAULT_OPEN_TEXT} (${t.defaultWindow})`}</td>
                    {r.weeks.map((u) => <UsageCell u={u} lang={lang} />)}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Downloads table="utilisation" range={range} lang={lang} title={t.byRoom} />
      </section>

      <section aria-labelledby="noshows">
        <h2 id="noshows" safe>{t.noShows}</h2>
        {report.noShows.length === 0 ? <p class="muted" safe>{t.noNoShows}</p> : (
          <>
            <p class="muted" safe>{t.noShowKey}</p>
            <div class="table-wrap" tabindex="0" role="region" aria-label={t.noShows}>
              <table class="report">
                <thead><tr><th scope="col" safe>{t.room}</th><WeekHeads range={range} /></tr></thead>
                <tbody>
                  {report.noShows.map((r) => <tr><th scope="row" safe>{r.name}</th>{r.weeks.map((n) => <NoShowCell n={n} lang={lang} />)}</tr>)}
                  <tr class="total"><th scope="row" safe>{t.total}</th>{report.noShowTotals.map((n) => <NoShowCell n={n} lang={lang} />)}</tr>
                </tbody>
              </table>
            </div>
          </>
        )}
        <Downloads table="noshows" range={range} lang={lang} title={t.noShows} />
      </section>

      <details class="card definitions">
        <summary safe>{t.definitions}</summary>
        <ul>
          <li safe>{fill(t.def1, { open: DEFAULT_OPEN_TEXT })}</li>
          <li safe>{t.def2}</li>
          <li safe>{t.def3}</li>
          <li safe>{t.def4}</li>
          <li safe>{fill(t.def5, { zone: env.timeZone })}</li>
        </ul>
      </details>
    </>
  )
}

// ---- the files ------------------------------------------------------------------------------

const TABLES = ['utilisation', 'buildings', 'noshows', 'heatmap'] as const
type TableName = (typeof TABLES)[number]
type Cell = string | number | Date | null

interface Sheet { title: string; columns: { header: string; kind: 'text' | 'number' | 'hours' | 'percent' | 'week' }[]; rows: Cell[][] }

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits
const share = (part: number, whole: number) => (whole > 0 ? part / whole : null)

function sheetOf(table: TableName, report: Report, lang: Lang): Sheet {
  const t = text(lang)
  const weekDate = (key: string) => {
    const [y, m, d] = key.split('-').map(Number) as [number, number, number]
    return new Date(Date.UTC(y, m - 1, d))
  }
  const usageColumns = [
    { header: t.fWeek, kind: 'week' as const }, { header: t.fOpen, kind: 'hours' as const }, { header: t.fLessons, kind: 'hours' as const },
    { header: t.fBookings, kind: 'hours' as const }, { header: t.fBooked, kind: 'hours' as const }, { header: t.fUtil, kind: 'percent' as const },
    { header: t.fLessonsPct, kind: 'percent' as const }, { header: t.fBookingsPct, kind: 'percent' as const },
  ]
  const usageCells = (key: string, u: Usage): Cell[] => [
    weekDate(key), round(u.open), round(u.lessons), round(u.bookings), round(u.lessons + u.bookings),
    share(u.lessons + u.bookings, u.open), share(u.lessons, u.open), share(u.bookings, u.open),
  ]
  const weeks = report.range.weeks
  switch (table) {
    case 'utilisation':
      return {
        title: t.sheetUtil,
        columns: [{ header: t.room, kind: 'text' }, { header: t.building, kind: 'text' }, { header: t.fWindow, kind: 'text' }, ...usageColumns],
        rows: report.rooms.flatMap((r) => r.weeks.map((u, i) => [r.name, r.building, r.window ?? `${DEFAULT_OPEN_TEXT} (${t.defaultWindow})`, ...usageCells(weeks[i]!.key, u)])),
      }
    case 'buildings':
      return {
        title: t.sheetBuildings,
        columns: [{ header: t.building, kind: 'text' }, { header: t.fRooms, kind: 'number' }, ...usageColumns],
        rows: report.buildings.flatMap((b) => b.weeks.map((u, i) => [b.name, b.rooms, ...usageCells(weeks[i]!.key, u)])),
      }
    case 'noshows':
      return {
        title: t.sheetNoShows,
        columns: [{ header: t.room, kind: 'text' }, { header: t.building, kind: 'text' }, { header: t.fWeek, kind: 'week' }, { header: t.fRequired, kind: 'number' }, { header: t.fReleased, kind: 'number' }, { header: t.fRate, kind: 'percent' }],
        rows: report.noShows.flatMap((r) => r.weeks.flatMap((n, i) => (n.required > 0 ? [[r.name, r.building, weekDate(weeks[i]!.key), n.required, n.released, noShowRate(n)]] : []))),
      }
    case 'heatmap':
      return {
        title: t.sheetHeatmap,
        columns: [{ header: t.weekday, kind: 'text' }, ...Array.from({ length: 24 }, (_, h) => ({ header: hh(h), kind: 'hours' as const }))],
        rows: report.heatmap.map((row, d) => [WEEKDAYS[lang][d]!, ...row.map((v) => round(v))]),
      }
  }
}

/** A text cell a spreadsheet could take for a formula: =, +, -, @, tab, carriage return first. */
const FORMULA_START = /^[=+\-@\t\r]/
/** The text of a CSV cell with a formula's first character defused by an apostrophe. */
function csvText(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value
}

function csvOf(sheet: Sheet): string {
  const rows = sheet.rows.map((row) => row.map((cell, i) => {
    const kind = sheet.columns[i]!.kind
    if (cell === null) return ''
    if (cell instanceof Date) return cell.toISOString().slice(0, 10)
    if (typeof cell === 'number') return kind === 'percent' ? round(cell * 100, 1) : cell
    return csvText(cell)
  }))
  // a BOM, so that a spreadsheet opens the file as UTF-8 (Russian headers and names)
  return `\ufeff${stringify([sheet.columns.map((c) => csvText(c.header)), ...rows], { record_delimiter: 'windows' })}`
}

async function xlsxOf(sheet: Sheet): Promise<Uint8Array> {
  // Loaded on the first download, not at start: exceljs holds ~30 MB of RSS in every process
  // that imports it, and most processes never write a workbook (docs/performance.md, Memory).
  const { default: ExcelJS } = await import('exceljs')
  const book = new ExcelJS.Workbook()
  book.creator = 'QRBOOK'
  const ws = book.addWorksheet(sheet.title.replace(/[*?:\\/[\]]/g, ' ').slice(0, 31))
  ws.addRow(sheet.columns.map((c) => c.header))
  ws.getRow(1).font = { bold: true }
  ws.views = [{ state: 'frozen', ySplit: 1 }]
  for (const row of sheet.rows) {
    // strings stay strings: exceljs writes a formula only from a { formula } value, never from text
    ws.addRow(row.map((cell) => (cell === null ? null : cell)))
  }
  sheet.columns.forEach((c, i) => {
    const column = ws.getColumn(i + 1)
    column.width = c.kind === 'text' ? Math.min(40, Math.max(12, c.header.length + 2)) : Math.max(10, Math.min(24, c.header.length + 2))
    if (c.kind === 'percent') column.numFmt = '0.0%'
    else if (c.kind === 'hours') column.numFmt = '0.##'
    else if (c.kind === 'week') column.numFmt = 'yyyy-mm-dd'
  })
  return new Uint8Array(await book.xlsx.writeBuffer())
}

const FILE_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const

/** Whether the request's session is an admin's (the page's own check answers anyone else). */
async function isAdmin(ctx: Ctx, request: Request): Promise<boolean> {
  try {
    const access = await accessToken(ctx, request)
    return Boolean(access) && hasRole(await actorFor(ctx, access!.claims), 'admin')
  } catch {
    return false
  }
}

async function download(ctx: Ctx, request: Request, set: SetLike, file: string): Promise<Response | string> {
  const match = /^(utilisation|buildings|noshows|heatmap)\.(csv|xlsx)$/.exec(file)
  const title = (lang: Lang) => common(lang).reports
  if (!(await isAdmin(ctx, request))) {
    // as the page: an anonymous visitor to the sign-in, anyone else 403
    return page(ctx, request, set, { role: 'admin', active: 'reports', title, render: () => <p></p> })
  }
  if (!match) return page(ctx, request, set, { role: 'admin', active: 'reports', title: (lang) => common(lang).notFoundTitle, status: 404, render: (env) => <p safe>{common(env.lang).notFound}</p> })
  const [, table, format] = match as unknown as [string, TableName, keyof typeof FILE_TYPES]
  const chosen = chosenRange(ctx, new URL(request.url))
  if (chosen.error) {
    const lang = consoleLanguage(request)
    return new Response(fill(text(lang).badRange, { max: MAX_REPORT_WEEKS }), { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } })
  }
  const lang = consoleLanguage(request)
  const report = await cachedRoomReport(ctx, chosen.range)
  const sheet = sheetOf(table, report, lang)
  const body = format === 'csv' ? csvOf(sheet) : await xlsxOf(sheet)
  const range = report.range
  const name = `qrbook-${table}-${range.weeks[0]!.key}-${range.weeks[range.weeks.length - 1]!.key}.${format}`
  return new Response(body, {
    headers: {
      'content-type': FILE_TYPES[format],
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
  })
}

export const reportPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/reports', ({ request, set }) => {
      const chosen = chosenRange(ctx, new URL(request.url))
      const error = chosen.error ? fill(text(consoleLanguage(request)).badRange, { max: MAX_REPORT_WEEKS }) : undefined
      return page(ctx, request, set, {
        role: 'admin', active: 'reports', title: (lang) => common(lang).reports, error, status: error ? 400 : 200,
        render: (env) => <ReportsBody env={env} chosen={chosen} />,
      })
    }, hidden())
    .get('/console/reports/:file', ({ request, set, params }) => download(ctx, request, set as SetLike, params.file), {
      params: t.Object({ file: t.String({ maxLength: 40 }) }), ...hidden(),
    })
