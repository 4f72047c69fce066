/**
 * GET /console: today at a glance and what waits for the admin (approvals, teachers to verify);
 * for a teacher, their lessons and bookings of the coming week.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { adminOverview, upcomingOf } from '../../../core/console/overview'
import { routeRules } from '../../../plugins/route-rules'
import { When, span } from '../format'
import { hidden, page, type PageEnv } from '../kit'
import { common, words } from '../text'

const text = words({
  en: {
    today: 'Today', lessons: 'lessons', bookings: 'bookings', checkedIn: 'checked in', released: 'released as no-shows',
    waiting: 'Waiting for you', approvals: 'booking requests to decide', teachers: 'teachers to verify', failedMail: 'e-mail notices not delivered', failedWebhooks: 'webhook deliveries failed', rooms: 'rooms', blocked: 'blocked',
    upcoming: 'Your lessons and bookings this week', room: 'Room', when: 'When', what: 'What', booking: 'booking', allClear: 'Nothing waits for you.',
    setUp: 'Setting up a term: import the timetable and the holidays on the Term page, then check the policies.',
  },
  ru: {
    today: 'Сегодня', lessons: 'занятий', bookings: 'бронирований', checkedIn: 'отметились', released: 'снято за неявку',
    waiting: 'Ждёт вашего решения', approvals: 'заявок на бронирование', teachers: 'преподавателей ждут подтверждения', failedMail: 'писем-уведомлений не доставлено', failedWebhooks: 'вебхуков не доставлено', rooms: 'аудиторий', blocked: 'заблокировано',
    upcoming: 'Ваши занятия и бронирования на неделю', room: 'Аудитория', when: 'Когда', what: 'Что', booking: 'бронирование', allClear: 'Ничего не ждёт вашего решения.',
    setUp: 'Начало семестра: загрузите расписание и праздники на странице «Семестр», затем проверьте правила.',
  },
})

function Tile(props: { n: number; label: string; href?: string; attention?: boolean }) {
  const body = <><strong>{props.n}</strong><span safe>{props.label}</span></>
  return props.href
    ? <a class={`tile${props.attention ? ' attention' : ''}`} href={props.href}>{body}</a>
    : <div class="tile">{body}</div>
}

async function AdminOverview(props: { env: PageEnv }) {
  const o = await adminOverview(props.env.ctx)
  const t = text(props.env.lang)
  return (
    <>
      <h2 safe>{t.waiting}</h2>
      <div class="tiles">
        <Tile n={o.waiting.approvals} label={t.approvals} href="/console/approvals" attention={o.waiting.approvals > 0} />
        <Tile n={o.waiting.teachers} label={t.teachers} href="/console/users?teacher_pending=1" attention={o.waiting.teachers > 0} />
        {o.waiting.failedMail > 0 ? <Tile n={o.waiting.failedMail} label={t.failedMail} href="/api/admin/notifications/failed" attention /> : ''}
        {o.waiting.failedWebhooks > 0 ? <Tile n={o.waiting.failedWebhooks} label={t.failedWebhooks} href="/api/admin/webhooks" attention /> : ''}
      </div>
      {o.waiting.approvals + o.waiting.teachers + o.waiting.failedMail + o.waiting.failedWebhooks === 0 ? <p class="muted" safe>{t.allClear}</p> : ''}
      <h2 safe>{t.today}</h2>
      <div class="tiles">
        <Tile n={o.today.lessons} label={t.lessons} href="/console/calendar" />
        <Tile n={o.today.bookings} label={t.bookings} href="/console/calendar" />
        <Tile n={o.today.checkedIn} label={t.checkedIn} />
        <Tile n={o.today.released} label={t.released} />
        <Tile n={o.rooms.total} label={t.rooms} href="/console/rooms" />
        <Tile n={o.rooms.blocked} label={t.blocked} href="/console/rooms" />
      </div>
      <p class="muted" safe>{t.setUp}</p>
    </>
  )
}

async function TeacherOverview(props: { env: PageEnv }) {
  const { env } = props
  const t = text(env.lang)
  const rows = await upcomingOf(env.ctx, env.viewer.actor.id)
  return (
    <>
      <h2 safe>{t.upcoming}</h2>
      {rows.length === 0 ? <p class="muted" safe>{common(env.lang).none}</p> : (
        <div class="table-wrap"><table>
          <thead><tr><th safe>{t.when}</th><th safe>{t.room}</th><th safe>{t.what}</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr>
                <td><time datetime={r.start.toISOString()} safe>{span(r.start, r.end, env)}</time></td>
                <td safe>{r.roomName}</td>
                <td safe>{r.title ?? t.booking}</td>
              </tr>
            ))}
          </tbody>
        </table></div>
      )}
    </>
  )
}

export const overviewPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console', ({ request, set }) => page(ctx, request, set, {
      role: 'teacher', active: 'overview', title: (lang) => common(lang).overview,
      render: (env) => (env.viewer.actor.role === 'admin' ? <AdminOverview env={env} /> : <TeacherOverview env={env} />),
    }), hidden())
