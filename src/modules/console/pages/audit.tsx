/**
 * GET /console/audit: the audit log (the change record, in the vocabulary of GET /admin/audit/logs),
 * newest first, 50 to a page. Filters (a GET form, so a filtered view is a link): who did it
 * (`actor`, a user's name), a room it concerns (`room`, an id), its kind (`event`, the precise
 * event name), and dates (`from`, `to`: local days in the rooms' zone, both included). Pages go
 * by keyset (`before` / `after` a change's position): see src/core/console/audit.ts.
 */
import { Elysia } from 'elysia'
import type { Ctx } from '../../../context'
import { auditLog, roomChoices, type AuditQuery } from '../../../core/console/audit'
import { AUDIT_EVENTS } from '../../../core/audit'
import type { Lang } from '../../../lib/i18n'
import { routeRules } from '../../../plugins/route-rules'
import { When, parseLocalInput } from '../format'
import { consoleLanguage, hidden, page, type PageEnv } from '../kit'
import { common, fill, words } from '../text'

type EventName = (typeof AUDIT_EVENTS)[number]

const text = words({
  en: {
    actor: 'Who (user name)', room: 'Room', event: 'Kind', from: 'From (date)', to: 'To (date, included)', anyRoom: 'Any room', anyEvent: 'Any kind',
    reset: 'Clear filters', when: 'When', who: 'Who', what: 'What', rooms: 'Rooms', description: 'Description', system: 'system',
    allRooms: 'all rooms', details: 'data', newer: '← Newer', older: 'Older →', newest: 'Newest', nothing: 'No changes match these filters.',
    unknownActor: 'There is no user called "{name}".', badDate: 'A date must be a day such as 2026-09-01.', badRoom: 'Choose a room from the list.',
    badEvent: 'Choose a kind from the list.', badRange: 'The "to" date must not be before the "from" date.', caption: 'Changes, newest first',
    filters: 'Filters', filterBy: 'Show changes by this user',
  },
  ru: {
    actor: 'Кто (имя пользователя)', room: 'Аудитория', event: 'Вид', from: 'С (дата)', to: 'По (дата, включительно)', anyRoom: 'Любая аудитория', anyEvent: 'Любой вид',
    reset: 'Сбросить фильтры', when: 'Когда', who: 'Кто', what: 'Что', rooms: 'Аудитории', description: 'Описание', system: 'система',
    allRooms: 'все аудитории', details: 'данные', newer: '← Новее', older: 'Старше →', newest: 'Самые новые', nothing: 'Нет изменений, подходящих под фильтры.',
    unknownActor: 'Пользователя «{name}» нет.', badDate: 'Дата должна быть днём, например 2026-09-01.', badRoom: 'Выберите аудиторию из списка.',
    badEvent: 'Выберите вид из списка.', badRange: 'Дата «по» не может быть раньше даты «с».', caption: 'Изменения, сначала новые',
    filters: 'Фильтры', filterBy: 'Показать изменения этого пользователя',
  },
})

/** Each event's name for a person (the code is shown beside it). */
const EVENT_LABELS: Record<Lang, Record<EventName, string>> = {
  en: {
    'reservation.created': 'Booking created', 'reservation.updated': 'Booking changed', 'reservation.cancelled': 'Booking cancelled',
    'reservation.bumped': 'Booking bumped by a lesson', 'reservation.released': 'Released as a no-show', 'reservation.checked_in': 'Checked in',
    'reservation.checked_out': 'Checked out', 'reservation.approved': 'Booking approved', 'reservation.rejected': 'Booking rejected',
    'room.created': 'Room created', 'room.updated': 'Room changed', 'room.blocked': 'Room blocked', 'room.unblocked': 'Room unblocked',
    'room.qr_regenerated': 'QR code reissued', 'user.created': 'User created', 'user.signed_up': 'User signed up', 'user.updated': 'User changed',
    'user.password_reset': 'Password reset', 'user.password_changed': 'Password changed', 'user.logged_in': 'Signed in', 'user.logged_out': 'Signed out',
    'user.suspension_lifted': 'Suspension lifted', 'series.created': 'Lesson series created', 'series.updated': 'Lesson series changed',
    'series.cancelled': 'Lesson series cancelled', 'closure.created': 'Closure created', 'closure.updated': 'Closure changed',
    'closure.deleted': 'Closure deleted', 'term.created': 'Term created', 'policy.created': 'Policy created', 'policy.updated': 'Policy changed',
    'policy.deleted': 'Policy deleted', 'settings.updated': 'Settings changed',
    'waitlist.joined': 'Joined a waitlist', 'waitlist.left': 'Left a waitlist', 'waitlist.expired': 'Waitlist entry expired',
    'webhook.created': 'Webhook created', 'webhook.updated': 'Webhook changed', 'webhook.deleted': 'Webhook deleted',
  },
  ru: {
    'reservation.created': 'Бронирование создано', 'reservation.updated': 'Бронирование изменено', 'reservation.cancelled': 'Бронирование отменено',
    'reservation.bumped': 'Бронирование вытеснено занятием', 'reservation.released': 'Снято за неявку', 'reservation.checked_in': 'Отметка о приходе',
    'reservation.checked_out': 'Отметка об уходе', 'reservation.approved': 'Бронирование одобрено', 'reservation.rejected': 'Бронирование отклонено',
    'room.created': 'Аудитория создана', 'room.updated': 'Аудитория изменена', 'room.blocked': 'Аудитория заблокирована', 'room.unblocked': 'Аудитория разблокирована',
    'room.qr_regenerated': 'QR-код перевыпущен', 'user.created': 'Пользователь создан', 'user.signed_up': 'Пользователь зарегистрировался', 'user.updated': 'Пользователь изменён',
    'user.password_reset': 'Пароль сброшен', 'user.password_changed': 'Пароль изменён', 'user.logged_in': 'Вход', 'user.logged_out': 'Выход',
    'user.suspension_lifted': 'Блокировка снята', 'series.created': 'Серия занятий создана', 'series.updated': 'Серия занятий изменена',
    'series.cancelled': 'Серия занятий отменена', 'closure.created': 'Закрытие создано', 'closure.updated': 'Закрытие изменено',
    'closure.deleted': 'Закрытие удалено', 'term.created': 'Семестр создан', 'policy.created': 'Правило создано', 'policy.updated': 'Правило изменено',
    'policy.deleted': 'Правило удалено', 'settings.updated': 'Настройки изменены',
    'waitlist.joined': 'Встал в очередь', 'waitlist.left': 'Вышел из очереди', 'waitlist.expired': 'Ожидание истекло',
    'webhook.created': 'Вебхук создан', 'webhook.updated': 'Вебхук изменён', 'webhook.deleted': 'Вебхук удалён',
  },
}

/** The groups of the kind list: the first part of the event's name. */
const GROUPS: Record<Lang, Record<string, string>> = {
  en: { reservation: 'Bookings', room: 'Rooms', user: 'Users', series: 'Lessons', closure: 'Closures', term: 'Terms', policy: 'Policies', settings: 'Settings', waitlist: 'Waitlist', webhook: 'Webhooks' },
  ru: { reservation: 'Бронирования', room: 'Аудитории', user: 'Пользователи', series: 'Занятия', closure: 'Закрытия', term: 'Семестры', policy: 'Правила', settings: 'Настройки', waitlist: 'Очередь', webhook: 'Вебхуки' },
}

interface Filters { actor: string; room: string; event: string; from: string; to: string }

/** The query read and checked: the core's query, or the message of what is wrong (in the viewer's language). */
function readQuery(url: URL, timeZone: string, lang: Lang): { filters: Filters; query: AuditQuery; error?: string } {
  const t = text(lang)
  const value = (name: string, max = 100) => (url.searchParams.get(name) ?? '').trim().slice(0, max)
  const filters: Filters = { actor: value('actor', 80), room: value('room', 12), event: value('event', 40), from: value('from', 10), to: value('to', 10) }
  const query: AuditQuery = {}
  const errors: string[] = []
  if (filters.actor) query.actor = filters.actor
  if (filters.room) {
    if (/^\d{1,9}$/.test(filters.room)) query.roomId = Number(filters.room)
    else errors.push(t.badRoom)
  }
  if (filters.event) {
    const event = AUDIT_EVENTS.find((e) => e === filters.event)
    if (event) query.event = event
    else errors.push(t.badEvent)
  }
  const day = (raw: string, next: boolean) => {
    if (!raw) return undefined
    const start = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? parseLocalInput(raw, timeZone) : null
    if (!start) { errors.push(t.badDate); return undefined }
    if (!next) return start
    const [y, m, d] = raw.split('-').map(Number) as [number, number, number]
    const following = new Date(Date.UTC(y, m - 1, d + 1))
    return parseLocalInput(following.toISOString().slice(0, 10), timeZone) ?? undefined
  }
  query.from = day(filters.from, false)
  query.to = day(filters.to, true)
  if (query.from && query.to && query.to <= query.from) errors.push(t.badRange)
  const cursor = (name: string) => {
    const raw = value(name, 16)
    return /^\d{1,15}$/.test(raw) ? Number(raw) : undefined
  }
  query.before = cursor('before')
  if (query.before === undefined) query.after = cursor('after')
  return { filters, query, error: errors.length ? [...new Set(errors)].join(' ') : undefined }
}

/** A link to this page with the filters and a cursor. */
function pageLink(filters: Filters, cursor: Record<string, number> = {}): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v)
  for (const [k, v] of Object.entries(cursor)) params.set(k, String(v))
  const search = params.toString()
  return `/console/audit${search ? `?${search}` : ''}`
}

async function AuditBody(props: { env: PageEnv; filters: Filters; query: AuditQuery | null }) {
  const { env, filters } = props
  const t = text(env.lang)
  const labels = EVENT_LABELS[env.lang]
  const [roomList, log] = await Promise.all([roomChoices(env.ctx), props.query ? auditLog(env.ctx, props.query) : null])
  const groups = [...new Set(AUDIT_EVENTS.map((e) => e.split('.')[0]!))]
  return (
    <>
      <form method="get" action="/console/audit" class="card audit-filters" aria-label={t.filters}>
        <div class="row">
          <label>{t.actor as 'safe'}<input name="actor" value={filters.actor} maxlength="80" autocomplete="off" /></label>
          <label>{t.room as 'safe'}
            <select name="room">
              <option value="" safe>{t.anyRoom}</option>
              {roomList.map((r) => <option value={String(r.id)} selected={filters.room === String(r.id)} safe>{r.name}</option>)}
            </select>
          </label>
          <label>{t.event as 'safe'}
            <select name="event">
              <option value="" safe>{t.anyEvent}</option>
              {groups.map((g) => (
                <optgroup label={GROUPS[env.lang][g] ?? g}>
                  {AUDIT_EVENTS.filter((e) => e.startsWith(`${g}.`)).map((e) => <option value={e} selected={filters.event === e} safe>{labels[e]}</option>)}
                </optgroup>
              ))}
            </select>
          </label>
          <label>{t.from as 'safe'}<input type="date" name="from" value={filters.from} /></label>
          <label>{t.to as 'safe'}<input type="date" name="to" value={filters.to} /></label>
          <button type="submit" class="primary" safe>{common(env.lang).filter}</button>
          <a class="button" href="/console/audit" safe>{t.reset}</a>
        </div>
      </form>
      {log?.unknownActor ? <p class="flash error" role="alert" safe>{fill(t.unknownActor, { name: filters.actor })}</p> : ''}
      {!log || log.entries.length === 0 ? <p class="muted" safe>{t.nothing}</p> : (
        <div class="table-wrap" tabindex="0" role="region" aria-label={t.caption}>
          <table class="audit">
            <caption class="visually-hidden" safe>{t.caption}</caption>
            <thead><tr><th scope="col" safe>{t.when}</th><th scope="col" safe>{t.who}</th><th scope="col" safe>{t.what}</th><th scope="col" safe>{t.rooms}</th><th scope="col" safe>{t.description}</th></tr></thead>
            <tbody>
              {log.entries.map((e) => (
                <tr>
                  <td class="nowrap"><When date={e.at} env={env} /></td>
                  <td>{e.actorName
                    ? <a href={pageLink({ ...filters, actor: e.actorName })} title={t.filterBy} safe>{e.actorName}</a>
                    : <span class="muted" safe>{t.system}</span>}</td>
                  <td>
                    <span safe>{labels[e.event] ?? e.event}</span>
                    <br /><code class="event">{e.event}</code> <span class="badge" safe>{e.action}</span>
                  </td>
                  <td>{e.allRooms ? <span class="muted" safe>{t.allRooms}</span> : e.rooms.map((r, i) => <>{i ? ', ' : ''}<a href={pageLink({ ...filters, room: String(r.id) })} safe>{r.name}</a></>)}</td>
                  <td>
                    <span safe>{e.description}</span>
                    {Object.keys(e.data).length ? <details class="data"><summary safe>{t.details}</summary><pre safe>{JSON.stringify(e.data, null, 1)}</pre></details> : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {log && (log.newer || log.older) ? (
        <nav class="pager" aria-label={t.caption}>
          {log.newer ? <a href={pageLink(filters)} safe>{t.newest}</a> : ''}
          {log.newer && log.entries[0] ? <a href={pageLink(filters, { after: log.entries[0].position })} rel="prev" safe>{t.newer}</a> : ''}
          {log.older && log.entries.length ? <a href={pageLink(filters, { before: log.entries[log.entries.length - 1]!.position })} rel="next" safe>{t.older}</a> : ''}
        </nav>
      ) : ''}
    </>
  )
}

export const auditPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/audit', ({ request, set }) => {
      const url = new URL(request.url)
      const { filters, query, error } = readQuery(url, ctx.config.appTimezone, consoleLanguage(request))
      return page(ctx, request, set, {
        role: 'admin', active: 'audit', title: (lang) => common(lang).audit, error, status: error ? 400 : 200,
        render: (env) => <AuditBody env={env} filters={filters} query={error ? null : query} />,
      })
    }, hidden())
