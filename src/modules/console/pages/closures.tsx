/**
 * /console/closures (admin): when rooms cannot be booked (holidays, maintenance, exams).
 *   GET  /console/closures                 the closures not yet over (by start), or with ?show=past the
 *                                          ended ones (latest first), a page at a time; the form for a new one
 *   GET  /console/closures/:id             the form to change one
 *   POST /console/closures/create          POST /api/admin/closures (all rooms or a selection; times in the rooms' zone)
 *   POST /console/closures/:id/update      PATCH /api/admin/closures/:id
 *   POST /console/closures/:id/delete      DELETE /api/admin/closures/:id
 * The writes are the booking core's (closure-writes.ts), as the API's.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../../context'
import { CLOSURE_KINDS } from '../../../core/bookings/model'
import { createClosure, deleteClosure, updateClosure } from '../../../core/bookings/timetable/closure-writes'
import { closureById, closurePage, roomChoices, roomNames, type ClosureRow } from '../../../core/console/term'
import { BadRequest } from '../../../lib/errors'
import { perMinute } from '../../../plugins/rate-limit'
import { routeRules } from '../../../plugins/route-rules'
import { localInputValue, parseLocalInput, span } from '../format'
import { action, hidden, page, type PageEnv } from '../kit'
import { common, fill, words } from '../text'
import { CSRF_FIELD, CsrfField, CsrfOnly } from '../forms'

type Kind = (typeof CLOSURE_KINDS)[number]

const text = words({
  en: {
    upcoming: 'Current and upcoming', past: 'Past', newClosure: 'New closure', editTitle: 'Change closure',
    when: 'When', rooms: 'Rooms', kind: 'Kind', reason: 'Reason', allRooms: 'All rooms', someRooms: 'Only these rooms:', selectAll: 'Select all rooms',
    start: 'Start ({zone})', end: 'End ({zone})', reasonHint: 'Shown to whoever tries to book: "room is closed: <reason>".',
    cancelAffected: 'Cancel the active bookings inside it (each owner sees the reason)',
    holiday: 'holiday', maintenance: 'maintenance', exam: 'exam', other: 'other', imported: 'imported',
    none: 'No closures here.', prev: 'Newer', next: 'Older', later: 'Later', earlier: 'Earlier', page: 'Page {n}',
    deleteConfirm: 'Delete this closure? Rooms can be booked in its time again.',
    created: 'Closure created.', createdAffected: 'Closure created. {n} active bookings are inside it and were kept: cancel them in the calendar if need be.',
    createdCancelled: 'Closure created. {n} bookings inside it were cancelled.',
    updated: 'Closure changed.', updatedAffected: 'Closure changed. {n} active bookings are inside it (kept).', deleted: 'Closure deleted.',
    roomsFixed: 'The rooms of a closure cannot be changed: delete it and create another.',
    pickRooms: 'Choose the rooms, or "All rooms".', badTime: 'Give the start and the end as a date and a time.', badKind: 'Choose a kind.',
    notFound: 'There is no such closure.', back: 'Back to the closures', andMore: '+{n}',
  },
  ru: {
    upcoming: 'Текущие и будущие', past: 'Прошедшие', newClosure: 'Новое закрытие', editTitle: 'Изменить закрытие',
    when: 'Когда', rooms: 'Аудитории', kind: 'Вид', reason: 'Причина', allRooms: 'Все аудитории', someRooms: 'Только эти аудитории:', selectAll: 'Выбрать все аудитории',
    start: 'Начало ({zone})', end: 'Конец ({zone})', reasonHint: 'Её увидит тот, кто попробует забронировать: «аудитория закрыта: <причина>».',
    cancelAffected: 'Отменить действующие бронирования в это время (владельцы увидят причину)',
    holiday: 'праздник', maintenance: 'ремонт', exam: 'экзамен', other: 'другое', imported: 'из календаря',
    none: 'Закрытий нет.', prev: 'Новее', next: 'Старше', later: 'Позже', earlier: 'Раньше', page: 'Страница {n}',
    deleteConfirm: 'Удалить это закрытие? Аудитории снова можно будет бронировать на это время.',
    created: 'Закрытие создано.', createdAffected: 'Закрытие создано. В это время есть действующие бронирования ({n}), они сохранены: при необходимости отмените их в календаре.',
    createdCancelled: 'Закрытие создано. Отменено бронирований: {n}.',
    updated: 'Закрытие изменено.', updatedAffected: 'Закрытие изменено. В это время есть действующие бронирования ({n}), они сохранены.', deleted: 'Закрытие удалено.',
    roomsFixed: 'Аудитории закрытия изменить нельзя: удалите его и создайте новое.',
    pickRooms: 'Выберите аудитории или «Все аудитории».', badTime: 'Укажите начало и конец: дату и время.', badKind: 'Выберите вид.',
    notFound: 'Такого закрытия нет.', back: 'К списку закрытий', andMore: '+{n}',
  },
})

type Words = ReturnType<typeof text>

const ROOM_NAMES_SHOWN = 8

function kindOf(raw: unknown, t: Words): Kind {
  if (typeof raw === 'string' && (CLOSURE_KINDS as readonly string[]).includes(raw)) return raw as Kind
  throw new BadRequest(t.badKind)
}

/** A datetime-local value in the rooms' zone as the ISO instant the core reads. */
function instantOf(raw: unknown, env: PageEnv, t: Words): Date {
  const date = parseLocalInput(raw, env.timeZone)
  if (!date) throw new BadRequest(t.badTime)
  return date
}

/** A page number from the query: 1..1000. */
function pageOf(raw: unknown): number {
  const value = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : 1
  return Math.min(Math.max(value, 1), 1000)
}

/** "12" from "/console/closures/12/...", or null. */
function idOf(raw: string): number | null {
  return /^\d{1,9}$/.test(raw) && Number(raw) > 0 ? Number(raw) : null
}

function KindSelect(props: { t: Words; value?: Kind }) {
  return (
    <label><span safe>{props.t.kind}</span>
      <select name="kind" required>
        {CLOSURE_KINDS.map((kind) => <option value={kind} selected={kind === (props.value ?? 'holiday')} safe>{props.t[kind]}</option>)}
      </select>
    </label>
  )
}

function TimeFields(props: { env: PageEnv; t: Words; start?: Date; end?: Date }) {
  const { env, t } = props
  return (
    <div class="row">
      <label><span safe>{fill(t.start, { zone: env.timeZone })}</span><input type="datetime-local" name="start" required value={props.start ? localInputValue(props.start, env.timeZone) : undefined} /></label>
      <label><span safe>{fill(t.end, { zone: env.timeZone })}</span><input type="datetime-local" name="end" required value={props.end ? localInputValue(props.end, env.timeZone) : undefined} /></label>
    </div>
  )
}

function ReasonField(props: { t: Words; value?: string }) {
  return (
    <label class="reason-field"><span safe>{props.t.reason}</span>
      <input name="reason" required maxlength="300" value={props.value} aria-describedby="reason-hint" />
    </label>
  )
}

async function CreateForm(props: { env: PageEnv }) {
  const { env } = props
  const t = text(env.lang)
  const rooms = await roomChoices(env.ctx)
  return (
    <section class="card new-closure" aria-labelledby="new-h">
      <h2 id="new-h" safe>{t.newClosure}</h2>
      <form method="post" action="/console/closures/create" class="stack">
        <CsrfField csrf={env.viewer.csrf} />
        <fieldset class="rooms-pick">
          <legend safe>{t.rooms}</legend>
          <label class="check"><input type="radio" name="scope" value="all" checked /><span safe>{t.allRooms}</span></label>
          <label class="check"><input type="radio" name="scope" value="some" /><span safe>{t.someRooms}</span></label>
          <div class="room-boxes">
            <label class="check select-all"><input type="checkbox" data-select-all="room_ids" /><span safe>{t.selectAll}</span></label>
            {rooms.map((room) => <label class="check"><input type="checkbox" name="room_ids" value={String(room.id)} /><span safe>{room.name}</span></label>)}
          </div>
        </fieldset>
        <TimeFields env={env} t={t} />
        <div class="row">
          <KindSelect t={t} />
          <ReasonField t={t} />
        </div>
        <p id="reason-hint" class="muted fine-print" safe>{t.reasonHint}</p>
        <label class="check"><input type="checkbox" name="cancel_affected" value="1" /><span safe>{t.cancelAffected}</span></label>
        <div class="row"><button type="submit" class="primary" safe>{common(env.lang).create}</button></div>
      </form>
    </section>
  )
}

function RoomsCell(props: { row: ClosureRow; names: Map<number, string>; t: Words }) {
  const { row, names, t } = props
  if (row.allRooms) return <td data-label={t.rooms} safe>{t.allRooms}</td>
  const listed = row.roomIds.slice(0, ROOM_NAMES_SHOWN).map((id) => names.get(id) ?? `#${id}`).join(', ')
  const rest = row.roomIds.length - ROOM_NAMES_SHOWN
  return <td data-label={t.rooms} safe>{rest > 0 ? `${listed} ${fill(t.andMore, { n: rest })}` : listed}</td>
}

async function ClosureList(props: { env: PageEnv }) {
  const { env } = props
  const t = text(env.lang)
  const c = common(env.lang)
  const which = env.url.searchParams.get('show') === 'past' ? 'past' : 'upcoming'
  const pageNo = pageOf(env.url.searchParams.get('page'))
  const { rows, more } = await closurePage(env.ctx, which, pageNo)
  const names = await roomNames(env.ctx, rows.flatMap((r) => r.roomIds))
  const link = (show: string, p: number) => `/console/closures?${new URLSearchParams({ ...(show === 'past' ? { show } : {}), ...(p > 1 ? { page: String(p) } : {}) })}`.replace(/\?$/, '')
  return (
    <section aria-labelledby="list-h">
      <h2 id="list-h" class="visually-hidden" safe>{which === 'past' ? t.past : t.upcoming}</h2>
      <nav class="closure-tabs" aria-label={t.when}>
        <a href={link('upcoming', 1)} aria-current={which === 'upcoming' ? 'page' : undefined} safe>{t.upcoming}</a>
        <a href={link('past', 1)} aria-current={which === 'past' ? 'page' : undefined} safe>{t.past}</a>
      </nav>
      {rows.length === 0 ? <p class="muted" safe>{t.none}</p> : (
        <div class="table-wrap">
          <table class="closures">
            <thead><tr>
              <th scope="col" safe>{t.when}</th><th scope="col" safe>{t.rooms}</th><th scope="col" safe>{t.kind}</th>
              <th scope="col" safe>{t.reason}</th><th scope="col" safe>{c.actions}</th>
            </tr></thead>
            <tbody>
              {rows.map((row) => (
                <tr data-id={row.id}>
                  <td data-label={t.when}><time datetime={row.start.toISOString()} safe>{span(row.start, row.end, env)}</time></td>
                  <RoomsCell row={row} names={names} t={t} />
                  <td data-label={t.kind}><span class={`badge kind-${row.kind}`} safe>{t[row.kind]}</span></td>
                  <td data-label={t.reason}><span safe>{row.reason}</span>{row.imported ? <> <span class="badge" safe>{t.imported}</span></> : ''}</td>
                  <td class="closure-actions" data-label={c.actions}>
                    <a class="button" href={`/console/closures/${row.id}`} safe>{c.edit}</a>
                    <form method="post" action={`/console/closures/${row.id}/delete`} class="inline" data-confirm={t.deleteConfirm}>
                      <CsrfField csrf={env.viewer.csrf} />
                      <button type="submit" class="danger" aria-label={`${c.delete}: ${row.reason}`} safe>{c.delete}</button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pageNo > 1 || more ? (
        <nav class="pager" aria-label={fill(t.page, { n: pageNo })}>
          {pageNo > 1 ? <a href={link(which, pageNo - 1)} safe>{which === 'past' ? t.prev : t.earlier}</a> : ''}
          <span safe>{fill(t.page, { n: pageNo })}</span>
          {more ? <a href={link(which, pageNo + 1)} safe>{which === 'past' ? t.next : t.later}</a> : ''}
        </nav>
      ) : ''}
    </section>
  )
}

async function EditPage(props: { env: PageEnv; id: number | null }) {
  const { env } = props
  const t = text(env.lang)
  const row = props.id === null ? undefined : await closureById(env.ctx, props.id)
  if (!row) return <><p safe>{t.notFound}</p><p><a href="/console/closures" safe>{t.back}</a></p></>
  const names = await roomNames(env.ctx, row.roomIds)
  return (
    <>
      <form method="post" action={`/console/closures/${row.id}/update`} class="card stack">
        <CsrfField csrf={env.viewer.csrf} />
        <p><strong safe>{t.rooms}:</strong> <span safe>{row.allRooms ? t.allRooms : row.roomIds.map((id) => names.get(id) ?? `#${id}`).join(', ')}</span></p>
        <p class="muted fine-print" safe>{t.roomsFixed}</p>
        <TimeFields env={env} t={t} start={row.start} end={row.end} />
        <div class="row">
          <KindSelect t={t} value={row.kind} />
          <ReasonField t={t} value={row.reason} />
        </div>
        <p id="reason-hint" class="muted fine-print" safe>{t.reasonHint}</p>
        <div class="row"><button type="submit" class="primary" safe>{common(env.lang).save}</button> <a class="button" href="/console/closures" safe>{common(env.lang).cancel}</a></div>
      </form>
    </>
  )
}

const Field = (max = 100) => t.Optional(t.String({ maxLength: max }))
const ClosureForm = t.Object({
  ...CSRF_FIELD, scope: Field(10), room_ids: t.Optional(t.Union([t.String({ maxLength: 12 }), t.Array(t.String({ maxLength: 12 }), { maxItems: 5000 })])),
  start: Field(30), end: Field(30), kind: Field(20), reason: Field(400), cancel_affected: Field(10),
})
const EditForm = t.Object({ ...CSRF_FIELD, start: Field(30), end: Field(30), kind: Field(20), reason: Field(400) })
const IdParam = t.Object({ id: t.String({ maxLength: 20 }) })
const BACK = '/console/closures'

/** The room ids ticked, checked: whole numbers. */
function roomIdsOf(raw: string | string[] | undefined, t: Words): number[] {
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
  const ids = values.map(idOf)
  if (ids.length === 0 || ids.some((id) => id === null)) throw new BadRequest(t.pickRooms)
  return ids as number[]
}

function affectedNotice(t: Words, affected: number, cancelled: boolean): string {
  if (affected === 0) return t.created
  return fill(cancelled ? t.createdCancelled : t.createdAffected, { n: affected })
}

export const closurePages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get(BACK, ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'closures', title: (lang) => common(lang).closures,
      render: (env) => <><ClosureList env={env} /><CreateForm env={env} /></>,
    }), hidden())

    .get('/console/closures/:id', async ({ request, set, params }) => {
      const id = idOf(params.id)
      const exists = id !== null && (await closureById(ctx, id)) !== undefined
      return page(ctx, request, set, {
        role: 'admin', active: 'closures', title: (lang) => text(lang).editTitle, status: exists ? 200 : 404,
        render: (env) => <EditPage env={env} id={id} />,
      })
    }, { params: IdParam, ...hidden() })

    .post('/console/closures/create', ({ request, body, set }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const t = text(env.lang)
        const all = body.scope !== 'some'
        const cancel = body.cancel_affected === '1'
        const { affected } = await createClosure(ctx, env.viewer.actor, {
          ...(all ? { all_rooms: true } : { room_ids: roomIdsOf(body.room_ids, t) }),
          start_time: instantOf(body.start, env, t), end_time: instantOf(body.end, env, t),
          kind: kindOf(body.kind, t), reason: body.reason ?? '', cancel_affected: cancel,
        })
        return { done: affectedNotice(t, affected.length, cancel) }
      },
    }), { body: ClosureForm, limit: perMinute('admin.closures.write', 30), ...hidden() })

    .post('/console/closures/:id/update', ({ request, body, set, params }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: `${BACK}/${idOf(params.id) ?? ''}`.replace(/\/$/, ''),
      act: async (env) => {
        const t = text(env.lang)
        const id = idOf(params.id)
        if (id === null) throw new BadRequest(t.notFound)
        const { affected } = await updateClosure(ctx, env.viewer.actor, id, {
          start_time: instantOf(body.start, env, t), end_time: instantOf(body.end, env, t), kind: kindOf(body.kind, t), reason: body.reason ?? '',
        })
        return { done: affected.length ? fill(t.updatedAffected, { n: affected.length }) : t.updated, back: BACK }
      },
    }), { params: IdParam, body: EditForm, limit: perMinute('admin.closures.write', 30), ...hidden() })

    .post('/console/closures/:id/delete', ({ request, body, set, params }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const t = text(env.lang)
        const id = idOf(params.id)
        if (id === null) throw new BadRequest(t.notFound)
        await deleteClosure(ctx, env.viewer.actor, id)
        return { done: t.deleted }
      },
    }), { params: IdParam, body: CsrfOnly, limit: perMinute('admin.closures.write', 30), ...hidden() })
