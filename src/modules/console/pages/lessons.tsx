/**
 * My lessons (issue 27): the viewer's own series (a teacher's; an admin sees theirs), each with
 * its room, weekday and time, dates, the lessons still to come, and what a teacher does with them:
 *   GET  /console/lessons
 *   POST /console/lessons/:id/cancel-date   one lesson (reservation_id, from its coming dates)
 *   POST /console/lessons/:id/shorten       a new last day (until, YYYY-MM-DD): later lessons are cancelled
 *   POST /console/lessons/:id/cancel-rest   every lesson still to come
 *
 * The same core calls as the API a teacher uses: DELETE /api/reservations/:id (cancelReservation,
 * which makes the lesson an exception of its series), PATCH /api/series/:id {until}
 * (updateSeries), DELETE /api/series/:id (cancelSeries); the series API's owner rule first.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../../context'
import { changeableLesson, changeableSeries, lessonSeriesOf, type LessonSeries } from '../../../core/console/calendar'
import { cancelReservation } from '../../../core/bookings/reservations/writes'
import { cancelSeries, updateSeries } from '../../../core/bookings/timetable/series'
import { BadRequest } from '../../../lib/errors'
import { routeRules } from '../../../plugins/route-rules'
import { formatInstant } from '../format'
import { action, hidden, page, type PageEnv } from '../kit'
import { common, fill, words } from '../text'
import { addDays, at, isoDate, localDate, parseDate } from './calendar'
import { CSRF_FIELD, CsrfField, CsrfOnly } from '../forms'

const text = words({
  en: {
    lead: 'Your lesson series that have not ended. Cancelling a date or shortening a series frees the room for others.',
    none: 'You have no lesson series. Series are made by the timetable import or through the API.',
    lesson: 'Lesson', room: 'Room', when: 'When', dates: 'Dates', remaining: 'Lessons to come', noneLeft: 'none: the series is over',
    every: 'every {days}', everyN: 'every {n} weeks on {days}', daily: 'every day', monthly: 'every month', yearly: 'every year',
    date: 'Date', cancelDateButton: 'Cancel this date', confirmDate: 'Cancel the lesson on the chosen date?',
    until: 'New last day', shortenButton: 'Shorten the series', confirmShorten: 'Cancel every lesson after the chosen day?',
    cancelRest: 'Cancel every lesson to come', confirmRest: 'Cancel every lesson of this series still to come?',
    pending: 'awaiting approval', calendar: 'calendar',
    dateCancelled: 'The lesson of {when} is cancelled.', shortened: 'The series now ends on {date}; {n} lessons cancelled.', restCancelled: '{n} lessons cancelled.',
    badDate: 'Choose a date from the list.', badUntil: 'Give the new last day as a date.', pastUntil: 'The new last day cannot be before today.', badSeries: 'There is no such series.',
    days: 'Mon,Tue,Wed,Thu,Fri,Sat,Sun',
  },
  ru: {
    lead: 'Ваши серии занятий, которые ещё не закончились. Отменённые даты освобождают аудиторию для других.',
    none: 'У вас нет серий занятий. Серии создаются импортом расписания или через API.',
    lesson: 'Занятие', room: 'Аудитория', when: 'Когда', dates: 'Даты', remaining: 'Осталось занятий', noneLeft: 'ни одного: серия закончилась',
    every: 'каждую неделю: {days}', everyN: 'каждые {n} нед.: {days}', daily: 'каждый день', monthly: 'каждый месяц', yearly: 'каждый год',
    date: 'Дата', cancelDateButton: 'Отменить занятие', confirmDate: 'Отменить занятие в выбранный день?',
    until: 'Новый последний день', shortenButton: 'Сократить серию', confirmShorten: 'Отменить все занятия после выбранного дня?',
    cancelRest: 'Отменить все оставшиеся занятия', confirmRest: 'Отменить все оставшиеся занятия этой серии?',
    pending: 'ждёт одобрения', calendar: 'календарь',
    dateCancelled: 'Занятие {when} отменено.', shortened: 'Теперь серия заканчивается {date}; отменено занятий: {n}.', restCancelled: 'Отменено занятий: {n}.',
    badDate: 'Выберите дату из списка.', badUntil: 'Укажите новый последний день — дату.', pastUntil: 'Новый последний день не может быть раньше сегодняшнего.', badSeries: 'Такой серии нет.',
    days: 'пн,вт,ср,чт,пт,сб,вс',
  },
})

const BYDAY = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU']

/** "every Mon, Wed" from the series' rule (its first lesson's weekday when the rule names none). */
function recurrence(s: LessonSeries, env: PageEnv): string {
  const w = text(env.lang)
  const parts = new Map(s.rrule.split(';').map((p) => p.split('=') as [string, string]))
  const freq = parts.get('FREQ')
  if (freq === 'DAILY') return w.daily
  if (freq === 'MONTHLY') return w.monthly
  if (freq === 'YEARLY') return w.yearly
  const names = w.days.split(',')
  const byDay = (parts.get('BYDAY') ?? '').split(',').map((d) => BYDAY.indexOf(d.replace(/^[+-]?\d+/, ''))).filter((i) => i >= 0)
  const first = localDate(s.firstStart, env.timeZone)
  const days = (byDay.length ? byDay : [(new Date(Date.UTC(first.y, first.m - 1, first.d)).getUTCDay() + 6) % 7]).map((i) => names[i]).join(', ')
  const interval = Number(parts.get('INTERVAL') ?? '1')
  return interval > 1 ? fill(w.everyN, { n: interval, days }) : fill(w.every, { days })
}

function SeriesCard(props: { env: PageEnv; s: LessonSeries }) {
  const { env, s } = props
  const w = text(env.lang)
  const base = `/console/lessons/${s.id}`
  const csrf = <CsrfField csrf={env.viewer.csrf} />
  const today = isoDate(localDate(env.now, env.timeZone))
  const lastDay = isoDate(localDate(s.until, env.timeZone))
  const next = s.upcoming[0]
  const calendarLink = `/console/calendar?${new URLSearchParams({ room: String(s.roomId), week: isoDate(localDate(next?.start ?? s.firstStart, env.timeZone)) })}`
  const time = `${formatInstant(s.firstStart, env, 'time')}–${formatInstant(s.firstEnd, env, 'time')}`
  return (
    <article class="card lesson-series" aria-labelledby={`series-${s.id}`}>
      <h2 id={`series-${s.id}`} safe>{s.title ?? w.lesson}</h2>
      <dl class="cal-facts">
        <dt safe>{w.room}</dt><dd><span safe>{s.roomName}</span> (<a href={calendarLink} safe>{w.calendar}</a>)</dd>
        <dt safe>{w.when}</dt><dd safe>{`${recurrence(s, env)}, ${time}`}</dd>
        <dt safe>{w.dates}</dt><dd safe>{`${formatInstant(s.firstStart, env, 'date')}–${formatInstant(s.until, env, 'date')}`}</dd>
        <dt safe>{w.remaining}</dt><dd safe>{s.upcoming.length ? String(s.upcoming.length) : w.noneLeft}</dd>
      </dl>
      {s.upcoming.length === 0 ? '' : (
        <div class="lesson-actions">
          <form method="post" action={`${base}/cancel-date`} data-confirm={w.confirmDate} class="row">
            {csrf as 'safe'}
            <label><span safe>{w.date}</span>
              <select name="reservation_id">
                {s.upcoming.map((l) => (
                  <option value={String(l.id)} safe>{`${formatInstant(l.start, env, 'weekday')} ${formatInstant(l.start, env, 'time')}${l.approval === 'pending' ? ` (${w.pending})` : ''}`}</option>
                ))}
              </select>
            </label>
            <button type="submit" class="danger" safe>{w.cancelDateButton}</button>
          </form>
          <form method="post" action={`${base}/shorten`} data-confirm={w.confirmShorten} class="row">
            {csrf as 'safe'}
            <label><span safe>{w.until}</span><input type="date" name="until" required min={today} max={lastDay} value={lastDay} /></label>
            <button type="submit" safe>{w.shortenButton}</button>
          </form>
          <form method="post" action={`${base}/cancel-rest`} data-confirm={w.confirmRest} class="row">
            {csrf as 'safe'}
            <button type="submit" class="danger" safe>{w.cancelRest}</button>
          </form>
        </div>
      )}
    </article>
  )
}

async function LessonsBody(props: { env: PageEnv }) {
  const { env } = props
  const w = text(env.lang)
  const list = await lessonSeriesOf(env.ctx, env.viewer.actor.id, at(localDate(env.now, env.timeZone), 0, env.timeZone))
  return (
    <>
      <p class="muted" safe>{w.lead}</p>
      {list.length === 0 ? <p safe>{w.none}</p> : <div class="lesson-list">{list.map((s) => <SeriesCard env={env} s={s} />)}</div>}
    </>
  )
}

function seriesId(raw: string, env: PageEnv): number {
  if (!/^\d{1,9}$/.test(raw)) throw new BadRequest(text(env.lang).badSeries)
  return Number(raw)
}

const IdParams = t.Object({ id: t.String({ maxLength: 20 }) })
const DateForm = t.Object({ ...CSRF_FIELD, reservation_id: t.Optional(t.String({ maxLength: 20 })) })
const ShortenForm = t.Object({ ...CSRF_FIELD, until: t.Optional(t.String({ maxLength: 40 })) })

export const lessonPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/lessons', ({ request, set }) => page(ctx, request, set, {
      role: 'teacher', active: 'lessons', title: (lang) => common(lang).lessons,
      render: (env) => <LessonsBody env={env} />,
    }), hidden())

    .post('/console/lessons/:id/cancel-date', ({ request, set, params, body }) => action(ctx, request, set, body.csrf_token, {
      role: 'teacher', back: '/console/lessons',
      act: async (env) => {
        const w = text(env.lang)
        const id = seriesId(params.id, env)
        if (!body.reservation_id || !/^\d{1,9}$/.test(body.reservation_id)) throw new BadRequest(w.badDate)
        const lesson = await changeableLesson(env.ctx, env.viewer.actor, id, Number(body.reservation_id))
        await cancelReservation(env.ctx, env.viewer.actor, lesson.id)
        return { done: fill(w.dateCancelled, { when: `${formatInstant(lesson.start, env, 'date')} ${formatInstant(lesson.start, env, 'time')}` }) }
      },
    }), { params: IdParams, body: DateForm, ...hidden() })

    .post('/console/lessons/:id/shorten', ({ request, set, params, body }) => action(ctx, request, set, body.csrf_token, {
      role: 'teacher', back: '/console/lessons',
      act: async (env) => {
        const w = text(env.lang)
        const id = seriesId(params.id, env)
        const day = parseDate(body.until)
        if (!day) throw new BadRequest(w.badUntil)
        if (isoDate(day) < isoDate(localDate(env.now, env.timeZone))) throw new BadRequest(w.pastUntil)
        const row = await changeableSeries(env.ctx, env.viewer.actor, id)
        // the last instant of the chosen day: its lessons stay; no later than the series' own end
        const endOfDay = new Date(at(addDays(day, 1), 0, env.timeZone).getTime() - 1000)
        const until = endOfDay < row.until ? endOfDay : row.until
        const { cancelled } = await updateSeries(env.ctx, env.viewer.actor, id, { until })
        return { done: fill(w.shortened, { date: formatInstant(until, env, 'date'), n: cancelled.length }) }
      },
    }), { params: IdParams, body: ShortenForm, ...hidden() })

    .post('/console/lessons/:id/cancel-rest', ({ request, set, params, body }) => action(ctx, request, set, body.csrf_token, {
      role: 'teacher', back: '/console/lessons',
      act: async (env) => {
        const id = seriesId(params.id, env)
        await changeableSeries(env.ctx, env.viewer.actor, id)
        const { cancelled } = await cancelSeries(env.ctx, env.viewer.actor, id)
        return { done: fill(text(env.lang).restCancelled, { n: cancelled.length }) }
      },
    }), { params: IdParams, body: CsrfOnly, ...hidden() })
