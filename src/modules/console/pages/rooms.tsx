/**
 * /console/rooms (admin): find rooms (name, type, blocked), a page at a time; create one with all
 * its settings; per room (/console/rooms/:id) edit every setting the API accepts, block or unblock,
 * reissue the QR code, pair, open and unpair the door display; door posters of a selection as one PDF.
 *
 *   GET  /console/rooms                 ?q=&type=&blocked=yes|no&page=
 *   POST /console/rooms/create          the settings                 (POST /api/admin/rooms)
 *   POST /console/rooms/block           ids[], is_blocked=1|0        (POST /api/admin/rooms/bulk/block)
 *   POST /console/rooms/posters         ids[]: answers the PDF       (GET /api/admin/rooms/posters.pdf?ids=)
 *   GET  /console/rooms/:id
 *   POST /console/rooms/:id/update      the settings                 (PATCH /api/admin/rooms/:id)
 *   POST /console/rooms/:id/block       is_blocked=1|0               (PATCH ... is_blocked)
 *   POST /console/rooms/:id/qr          a new QR code: retires the printed posters and the display link
 *                                                                    (POST /api/admin/rooms/:id/generate-qr)
 *   POST /console/rooms/:id/unpair      the same: unpairs every display of the room
 *
 * The door display link is GET /api/admin/rooms/:id/display-link's (no state: it is signed with
 * the room's qr_version, so a new QR code is what unpairs it).
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../../context'
import { consoleRoom, consoleRooms, postersPdfOf, type ConsoleRoom } from '../../../core/console/rooms'
import { createRoom } from '../../../core/bookings/rooms/writes'
import { bulkBlock, regenerateQr, updateRoom } from '../../../core/bookings/rooms/admin'
import { ROOM_TYPES } from '../../../core/bookings/model'
import { ROOM_MSG } from '../../../core/bookings/messages'
import type { RoomView } from '../../../core/bookings/views/rooms'
import { BadRequest, NotFound } from '../../../lib/errors'
import type { Lang } from '../../../lib/i18n'
import { routeRules } from '../../../plugins/route-rules'
import { action, hidden, page, type PageEnv, type SetLike } from '../kit'
import { common, fill, words } from '../text'
import { CSRF_FIELD, CsrfField, CsrfOnly, checked, Pager } from '../forms'

const PER_PAGE = 25
const PROOFS = ['display', 'poster', 'none'] as const
type Proof = (typeof PROOFS)[number]
type RoomType = (typeof ROOM_TYPES)[number]

const text = words({
  en: {
    find: 'Find rooms', name: 'Name', type: 'Type', anyType: 'any type', blocked: 'Blocked', any: 'any', blockedYes: 'blocked', blockedNo: 'not blocked',
    status: 'Status', window: 'Booking hours', checkIn: 'Check-in', found: '{n} rooms', prev: 'Previous', next: 'Next', pageOf: 'Page {page} of {pages}',
    select: 'Select {name}', selectAll: 'Select all rooms on this page', posters: 'Download posters (PDF)', blockSelected: 'Block', unblockSelected: 'Unblock',
    selection: 'With the selected rooms:', newRoom: 'Create a room', create: 'Create room', settings: 'Settings',
    type_public: 'public', type_admin: 'administrative', type_service: 'service',
    status_available: 'available', status_occupied: 'occupied', status_blocked: 'blocked',
    from: 'Bookable from', until: 'Bookable until', windowNote: 'Leave empty for no limit. Times in {zone}.', allDay: 'all day',
    requiresCheckIn: 'Bookings must be checked in (or are released)', seriesCheckIn: 'Lessons must be checked in too',
    opens: 'Check-in opens (minutes before the start)', release: 'Released if not checked in (minutes after the start)',
    proof: 'Proof of presence', proof_display: 'the door display\'s code', proof_poster: 'the poster (or the display)', proof_none: 'none',
    isBlocked: 'Blocked: nobody but an administrator may book it', required: 'required', notRequired: 'not required',
    created: 'Room {name} created.', saved: 'Room {name} saved.', blockedDone: 'Room {name} blocked.', unblockedDone: 'Room {name} unblocked.',
    bulkDone: 'Rooms changed: {n}.', selectRooms: 'Select at least one room.', badId: 'Not a room id: {id}', tooMany: 'At most 500 rooms at once.',
    edit: 'Edit', back: 'All rooms', block: 'Block the room', unblock: 'Unblock the room', notFound: 'There is no such room.',
    rules: 'Booking rules', rulesNote: 'Whether bookings of this room need an administrator\'s approval, and the booking limits, are rules on the Policies page.', openPolicies: 'Open the policies',
    qr: 'QR code and poster', qrVersion: 'QR code version {v}.', poster: 'Download the poster (PDF)', reissue: 'Issue a new QR code',
    reissueNote: 'A new code retires the printed posters and unpairs the door display: print the posters again and pair the display again.',
    confirmReissue: 'Issue a new QR code for {name}? The printed posters stop working for check-in and the door display is unpaired.',
    reissued: 'New QR code for {name} (version {v}): print its poster again.',
    display: 'Door display', displayNote: 'A tablet at the door shows the room\'s state and, when paired, the check-in code that changes every few seconds.',
    pair: 'Pair a door display', pairNote: 'Open this link in the display\'s browser. Keep it like a password: whoever has it sees the check-in code.',
    link: 'Display link', open: 'Open the display', unpair: 'Unpair the display', unpairNote: 'Unpairing issues a new QR code: the printed posters must be printed again.',
    confirmUnpair: 'Unpair the door display of {name}? Its printed posters stop working too.', unpaired: 'The door display of {name} is unpaired; print its poster again.',
    badProof: 'Choose the proof of presence.', needName: 'Enter a name.', current: 'Now',
  },
  ru: {
    find: 'Поиск аудиторий', name: 'Название', type: 'Тип', anyType: 'любой тип', blocked: 'Блокировка', any: 'все', blockedYes: 'заблокированы', blockedNo: 'не заблокированы',
    status: 'Состояние', window: 'Часы бронирования', checkIn: 'Отметка', found: 'Аудиторий: {n}', prev: 'Назад', next: 'Дальше', pageOf: 'Страница {page} из {pages}',
    select: 'Выбрать {name}', selectAll: 'Выбрать все аудитории на странице', posters: 'Скачать плакаты (PDF)', blockSelected: 'Заблокировать', unblockSelected: 'Разблокировать',
    selection: 'С выбранными аудиториями:', newRoom: 'Новая аудитория', create: 'Создать аудиторию', settings: 'Настройки',
    type_public: 'общая', type_admin: 'административная', type_service: 'служебная',
    status_available: 'свободна', status_occupied: 'занята', status_blocked: 'заблокирована',
    from: 'Бронировать с', until: 'Бронировать до', windowNote: 'Пусто — без ограничения. Время: {zone}.', allDay: 'весь день',
    requiresCheckIn: 'Нужна отметка о приходе (иначе бронь снимается)', seriesCheckIn: 'Занятиям тоже нужна отметка',
    opens: 'Отметка открывается (минут до начала)', release: 'Бронь снимается без отметки (минут после начала)',
    proof: 'Подтверждение присутствия', proof_display: 'код на табличке у двери', proof_poster: 'плакат (или табличка)', proof_none: 'не нужно',
    isBlocked: 'Заблокирована: бронировать может только администратор', required: 'нужна', notRequired: 'не нужна',
    created: 'Аудитория {name} создана.', saved: 'Аудитория {name} сохранена.', blockedDone: 'Аудитория {name} заблокирована.', unblockedDone: 'Аудитория {name} разблокирована.',
    bulkDone: 'Изменено аудиторий: {n}.', selectRooms: 'Выберите хотя бы одну аудиторию.', badId: 'Это не номер аудитории: {id}', tooMany: 'Не больше 500 аудиторий за раз.',
    edit: 'Изменить', back: 'Все аудитории', block: 'Заблокировать аудиторию', unblock: 'Разблокировать аудиторию', notFound: 'Такой аудитории нет.',
    rules: 'Правила бронирования', rulesNote: 'Нужно ли одобрение администратора для брони этой аудитории и какие действуют ограничения, задаётся на странице «Правила».', openPolicies: 'Открыть правила',
    qr: 'QR-код и плакат', qrVersion: 'Версия QR-кода: {v}.', poster: 'Скачать плакат (PDF)', reissue: 'Выпустить новый QR-код',
    reissueNote: 'Новый код отменяет напечатанные плакаты и отвязывает табличку у двери: плакаты нужно напечатать заново, табличку привязать снова.',
    confirmReissue: 'Выпустить новый QR-код для {name}? Напечатанные плакаты перестанут работать для отметки, табличка у двери будет отвязана.',
    reissued: 'Новый QR-код для {name} (версия {v}): напечатайте плакат заново.',
    display: 'Табличка у двери', displayNote: 'Планшет у двери показывает, свободна ли аудитория, а привязанный — ещё и код для отметки, который меняется каждые несколько секунд.',
    pair: 'Привязать табличку', pairNote: 'Откройте эту ссылку в браузере таблички. Храните её как пароль: по ней виден код для отметки.',
    link: 'Ссылка для таблички', open: 'Открыть табличку', unpair: 'Отвязать табличку', unpairNote: 'Отвязка выпускает новый QR-код: плакаты нужно напечатать заново.',
    confirmUnpair: 'Отвязать табличку у двери {name}? Напечатанные плакаты тоже перестанут работать.', unpaired: 'Табличка у двери {name} отвязана; напечатайте плакат заново.',
    badProof: 'Выберите подтверждение присутствия.', needName: 'Введите название.', current: 'Сейчас',
  },
})


function roomId(raw: string): number | undefined {
  return /^\d{1,9}$/.test(raw) && Number(raw) > 0 ? Number(raw) : undefined
}

function targetId(raw: string): number {
  const id = roomId(raw)
  if (id === undefined) throw new NotFound(ROOM_MSG.notFound)
  return id
}

/** The selected rooms of a form (ids=1&ids=2), each a positive whole number; at least one. */
function selectedIds(raw: string | string[] | undefined, lang: Lang): number[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
  if (list.length === 0) throw new BadRequest(text(lang).selectRooms)
  if (list.length > 500) throw new BadRequest(text(lang).tooMany)
  return [...new Set(list.map((value) => {
    const id = roomId(value.trim())
    if (id === undefined) throw new BadRequest(fill(text(lang).badId, { id: value.slice(0, 20) }))
    return id
  }))]
}

function StatusBadge(props: { room: RoomView; lang: Lang }) {
  const t = text(props.lang)
  const kind = props.room.status === 'available' ? 'ok' : props.room.status === 'occupied' ? 'warn' : 'bad'
  return <span class={`badge ${kind}`} safe>{t[`status_${props.room.status}`]}</span>
}

function windowText(room: RoomView, lang: Lang): string {
  const { start, end } = room.booking_window
  return start || end ? `${start ?? '00:00'}–${end ?? '24:00'}` : text(lang).allDay
}

function checkInText(room: RoomView, lang: Lang): string {
  const t = text(lang)
  return room.requires_check_in ? `${t.required} · ${t[`proof_${room.check_in_proof}`]}` : t.notRequired
}

/** The settings of a room (create: defaults; edit: the room's), as one set of labelled fields. */
function Settings(props: { env: PageEnv; room?: RoomView; prefix: string }) {
  const { env, room, prefix } = props
  const t = text(env.lang)
  const id = (name: string) => `${prefix}-${name}`
  const type: RoomType = room?.type ?? 'public'
  const proof: Proof = room?.check_in_proof ?? 'poster'
  return (
    <div class="room-settings">
      <div class="row">
        <label>{t.name as 'safe'}<input id={id('name')} name="name" required maxlength="100" value={room?.name ?? ''} autocomplete="off" /></label>
        <label>{t.type as 'safe'}
          <select id={id('type')} name="type">
            {ROOM_TYPES.map((value) => <option value={value} selected={type === value} safe>{t[`type_${value}`]}</option>)}
          </select>
        </label>
      </div>
      <fieldset>
        <legend safe>{t.window}</legend>
        <label>{t.from as 'safe'}<input type="time" name="booking_start" value={room?.booking_window.start ?? ''} /></label>
        <label>{t.until as 'safe'}<input type="time" name="booking_end" value={room?.booking_window.end ?? ''} /></label>
        <p class="muted" safe>{fill(t.windowNote, { zone: env.timeZone })}</p>
      </fieldset>
      <fieldset>
        <legend safe>{t.checkIn}</legend>
        <label class="check"><input type="checkbox" name="requires_check_in" value="1" checked={room ? room.requires_check_in : true} />{t.requiresCheckIn as 'safe'}</label>
        <label class="check"><input type="checkbox" name="series_require_check_in" value="1" checked={room?.series_require_check_in ?? false} />{t.seriesCheckIn as 'safe'}</label>
        <label>{t.opens as 'safe'}<input type="number" name="check_in_opens_min" min="0" max="1440" step="1" required value={String(room?.check_in_opens_min ?? 10)} /></label>
        <label>{t.release as 'safe'}<input type="number" name="auto_release_after_min" min="1" max="1440" step="1" required value={String(room?.auto_release_after_min ?? 15)} /></label>
        <label>{t.proof as 'safe'}
          <select name="check_in_proof">
            {PROOFS.map((value) => <option value={value} selected={proof === value} safe>{t[`proof_${value}`]}</option>)}
          </select>
        </label>
      </fieldset>
      {room ? <label class="check"><input type="checkbox" name="is_blocked" value="1" checked={room.is_blocked} />{t.isBlocked as 'safe'}</label> : ''}
    </div>
  )
}

type ListQuery = { q?: string; type?: string; blocked?: string; page?: string }

async function RoomList(props: { env: PageEnv; query: ListQuery }) {
  const { env, query } = props
  const t = text(env.lang)
  const c = common(env.lang)
  const q = query.q?.trim().slice(0, 100) || undefined
  const type = ROOM_TYPES.find((value) => value === query.type)
  const blocked = query.blocked === 'yes' ? true : query.blocked === 'no' ? false : undefined
  const pageNo = Math.min(Math.max(Number.parseInt(query.page ?? '1', 10) || 1, 1), 100_000)
  const { rooms, total } = await consoleRooms(env.ctx, { q, types: type ? [type] : [], isBlocked: blocked }, { limit: PER_PAGE, offset: (pageNo - 1) * PER_PAGE })
  const pages = Math.max(1, Math.ceil(total / PER_PAGE))
  const link = (n: number) => {
    const params = new URLSearchParams()
    if (q) params.set('q', q)
    if (type) params.set('type', type)
    if (blocked !== undefined) params.set('blocked', blocked ? 'yes' : 'no')
    if (n > 1) params.set('page', String(n))
    const s = params.toString()
    return s ? `/console/rooms?${s}` : '/console/rooms'
  }
  return (
    <div class="rooms-page">
      <form method="get" action="/console/rooms" class="card row" role="search" aria-label={t.find}>
        <label>{t.name as 'safe'}<input type="search" name="q" value={q ?? ''} maxlength="100" /></label>
        <label>{t.type as 'safe'}
          <select name="type">
            <option value="" safe>{t.anyType}</option>
            {ROOM_TYPES.map((value) => <option value={value} selected={type === value} safe>{t[`type_${value}`]}</option>)}
          </select>
        </label>
        <label>{t.blocked as 'safe'}
          <select name="blocked">
            <option value="" safe>{t.any}</option>
            <option value="yes" selected={blocked === true} safe>{t.blockedYes}</option>
            <option value="no" selected={blocked === false} safe>{t.blockedNo}</option>
          </select>
        </label>
        <button type="submit" class="primary" safe>{c.search}</button>
      </form>
      <p class="muted" role="status" safe>{fill(t.found, { n: total })}</p>
      {rooms.length === 0 ? <p class="muted" safe>{c.none}</p> : (
        <form method="post" action="/console/rooms/posters" id="rooms-selection">
          <CsrfField csrf={env.viewer.csrf} />
          <div class="table-wrap"><table class="rooms">
            <thead><tr>
              <th scope="col" class="pick"><input type="checkbox" data-select-all="ids" aria-label={t.selectAll} /></th>
              <th scope="col" safe>{t.name}</th><th scope="col" safe>{t.type}</th><th scope="col" safe>{t.status}</th>
              <th scope="col" safe>{t.window}</th><th scope="col" safe>{t.checkIn}</th><th scope="col" safe>{c.actions}</th>
            </tr></thead>
            <tbody>
              {rooms.map((room) => (
                <tr>
                  <td class="pick"><input type="checkbox" name="ids" value={String(room.id)} aria-label={fill(t.select, { name: room.name })} /></td>
                  <th scope="row"><a href={`/console/rooms/${room.id}`} safe>{room.name}</a></th>
                  <td safe>{t[`type_${room.type}`]}</td>
                  <td><StatusBadge room={room} lang={env.lang} /></td>
                  <td safe>{windowText(room, env.lang)}</td>
                  <td safe>{checkInText(room, env.lang)}</td>
                  <td><a class="button" href={`/console/rooms/${room.id}`} aria-label={`${t.edit}: ${room.name}`} safe>{t.edit}</a></td>
                </tr>
              ))}
            </tbody>
          </table></div>
          <div class="row selection-actions">
            <span class="muted" safe>{t.selection}</span>
            <button type="submit" class="primary" safe>{t.posters}</button>
            <button type="submit" formaction="/console/rooms/block" name="is_blocked" value="1" safe>{t.blockSelected}</button>
            <button type="submit" formaction="/console/rooms/block" name="is_blocked" value="0" safe>{t.unblockSelected}</button>
          </div>
        </form>
      )}
      <Pager page={pageNo} pages={pages} label={fill(t.pageOf, { page: pageNo, pages })} link={link} prev={t.prev} next={t.next} />
      <section class="card" aria-labelledby="new-room">
        <h2 id="new-room" safe>{t.newRoom}</h2>
        <form method="post" action="/console/rooms/create" class="stack">
          <CsrfField csrf={env.viewer.csrf} />
          <Settings env={env} prefix="new" />
          <div><button type="submit" class="primary" safe>{t.create}</button></div>
        </form>
      </section>
    </div>
  )
}

function RoomPage(props: { env: PageEnv; data: ConsoleRoom }) {
  const { env, data } = props
  const { room } = data
  const t = text(env.lang)
  const c = common(env.lang)
  return (
    <div class="rooms-page">
      <p><a href="/console/rooms" safe>{`← ${t.back}`}</a></p>
      <p class="row">
        <StatusBadge room={room} lang={env.lang} />
        <span safe>{t[`type_${room.type}`]}</span>
        <span class="muted" safe>{`${t.window}: ${windowText(room, env.lang)}`}</span>
      </p>
      <section class="card" aria-labelledby="settings">
        <h2 id="settings" safe>{t.settings}</h2>
        <form method="post" action={`/console/rooms/${room.id}/update`} class="stack">
          <CsrfField csrf={env.viewer.csrf} />
          <Settings env={env} room={room} prefix="edit" />
          <div><button type="submit" class="primary" safe>{c.save}</button></div>
        </form>
        <form method="post" action={`/console/rooms/${room.id}/block`} class="row block-room">
          <CsrfField csrf={env.viewer.csrf} />
          <input type="hidden" name="is_blocked" value={room.is_blocked ? '0' : '1'} />
          <button type="submit" class={room.is_blocked ? '' : 'danger'} safe>{room.is_blocked ? t.unblock : t.block}</button>
        </form>
      </section>
      <section class="card" aria-labelledby="rules">
        <h2 id="rules" safe>{t.rules}</h2>
        <p class="muted" safe>{t.rulesNote}</p>
        <p><a href="/console/policies" safe>{t.openPolicies}</a></p>
      </section>
      <section class="card" aria-labelledby="qr">
        <h2 id="qr" safe>{t.qr}</h2>
        <p class="muted" safe>{fill(t.qrVersion, { v: data.qrVersion })}</p>
        <div class="row">
          <form method="post" action="/console/rooms/posters" class="inline">
            <CsrfField csrf={env.viewer.csrf} /><input type="hidden" name="ids" value={String(room.id)} />
            <button type="submit" class="primary" safe>{t.poster}</button>
          </form>
          <form method="post" action={`/console/rooms/${room.id}/qr`} class="inline" data-confirm={fill(t.confirmReissue, { name: room.name })}>
            <CsrfField csrf={env.viewer.csrf} />
            <button type="submit" class="danger" safe>{t.reissue}</button>
          </form>
        </div>
        <p class="muted" safe>{t.reissueNote}</p>
      </section>
      <section class="card" aria-labelledby="display">
        <h2 id="display" safe>{t.display}</h2>
        <p class="muted" safe>{t.displayNote}</p>
        <details class="pair">
          <summary safe>{t.pair}</summary>
          <p safe>{t.pairNote}</p>
          <label>{t.link as 'safe'}<input type="text" readonly value={data.displayUrl} class="display-link" /></label>
          <p><a class="button primary" href={data.displayPath} target="_blank" rel="noopener noreferrer" safe>{t.open}</a></p>
        </details>
        <form method="post" action={`/console/rooms/${room.id}/unpair`} class="row" data-confirm={fill(t.confirmUnpair, { name: room.name })}>
          <CsrfField csrf={env.viewer.csrf} />
          <button type="submit" class="danger" safe>{t.unpair}</button>
          <span class="muted" safe>{t.unpairNote}</span>
        </form>
      </section>
    </div>
  )
}

const IdParam = t.Object({ id: t.String({ maxLength: 12 }) })
const Ids = { ids: t.Optional(t.Union([t.String({ maxLength: 12 }), t.Array(t.String({ maxLength: 12 }), { maxItems: 1000 })])) }
const SettingsBody = t.Object({
  ...CSRF_FIELD,
  name: t.Optional(t.String({ maxLength: 200 })),
  type: t.Optional(t.String({ maxLength: 20 })),
  booking_start: t.Optional(t.String({ maxLength: 8 })),
  booking_end: t.Optional(t.String({ maxLength: 8 })),
  requires_check_in: t.Optional(t.String({ maxLength: 8 })),
  series_require_check_in: t.Optional(t.String({ maxLength: 8 })),
  check_in_opens_min: t.Optional(t.String({ maxLength: 8 })),
  auto_release_after_min: t.Optional(t.String({ maxLength: 8 })),
  check_in_proof: t.Optional(t.String({ maxLength: 20 })),
  is_blocked: t.Optional(t.String({ maxLength: 8 })),
})
type SettingsForm = typeof SettingsBody.static

/** A settings form as the API's room body: every field the form has (an unticked box is false, an empty time no limit). */
function roomInput(body: SettingsForm, lang: Lang) {
  const t = text(lang)
  if (!body.name?.trim()) throw new BadRequest(t.needName)
  const proof = body.check_in_proof === undefined ? undefined : PROOFS.find((p) => p === body.check_in_proof)
  if (body.check_in_proof !== undefined && !proof) throw new BadRequest(t.badProof)
  return {
    name: body.name,
    type: body.type || undefined,
    booking_start: body.booking_start?.trim() ? body.booking_start : null,
    booking_end: body.booking_end?.trim() ? body.booking_end : null,
    requires_check_in: checked(body.requires_check_in),
    series_require_check_in: checked(body.series_require_check_in),
    check_in_opens_min: body.check_in_opens_min ?? '10',
    auto_release_after_min: body.auto_release_after_min ?? '15',
    check_in_proof: proof,
  }
}

export const roomPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/rooms', ({ request, set, query }) => page(ctx, request, set as SetLike, {
      role: 'admin', active: 'rooms', title: (lang) => common(lang).rooms,
      render: (env) => <RoomList env={env} query={query} />,
    }), {
      query: t.Object({ q: t.Optional(t.String({ maxLength: 200 })), type: t.Optional(t.String({ maxLength: 20 })), blocked: t.Optional(t.String({ maxLength: 8 })), page: t.Optional(t.String({ maxLength: 12 })) }),
      ...hidden(),
    })

    .post('/console/rooms/create', ({ request, set, body }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: '/console/rooms',
      act: async (env) => {
        const room = await createRoom(ctx, env.viewer.actor, roomInput(body, env.lang))
        return { done: fill(text(env.lang).created, { name: room.name }), back: `/console/rooms/${room.id}` }
      },
    }), { body: SettingsBody, ...hidden() })

    .post('/console/rooms/block', ({ request, set, body }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: '/console/rooms',
      act: async (env) => {
        const result = await bulkBlock(ctx, env.viewer.actor, selectedIds(body.ids, env.lang), checked(body.is_blocked))
        return { done: fill(text(env.lang).bulkDone, { n: result.updated }) }
      },
    }), { body: t.Object({ ...CSRF_FIELD, ...Ids, is_blocked: t.Optional(t.String({ maxLength: 8 })) }), ...hidden() })

    .post('/console/rooms/posters', async ({ request, set, body }) => {
      let pdf: Uint8Array | undefined
      let names: string[] = []
      const answer = await action(ctx, request, set as SetLike, body.csrf_token, {
        role: 'admin', back: '/console/rooms',
        act: async (env) => {
          const made = await postersPdfOf(ctx, selectedIds(body.ids, env.lang))
          pdf = made.pdf
          names = made.rooms.map((r) => r.name)
          return { html: '' }
        },
      })
      if (!pdf) return answer
      // as the API names them: qrbook-poster-<name>.pdf for one room, qrbook-posters.pdf for several
      const filename = names.length === 1 ? `qrbook-poster-${names[0]!.replace(/[^\w.-]+/g, '_')}.pdf` : 'qrbook-posters.pdf'
      return new Response(pdf, {
        headers: {
          ...Object.fromEntries(Object.entries(set.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string')),
          'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${filename}"`, 'cache-control': 'no-store' },
      })
    }, { body: t.Object({ ...CSRF_FIELD, ...Ids, is_blocked: t.Optional(t.String({ maxLength: 8 })) }), ...hidden() })

    .get('/console/rooms/:id', async ({ request, set, params }) => {
      let missing = false
      let heading: string | undefined // the room's name, once render has found it
      const html = await page(ctx, request, set as SetLike, {
        role: 'admin', active: 'rooms', title: (lang) => heading ?? common(lang).rooms,
        render: async (env) => {
          const id = roomId(params.id)
          const data = id === undefined ? undefined : await consoleRoom(ctx, id).catch((error) => {
            if (error instanceof NotFound) return undefined
            throw error
          })
          if (!data) {
            missing = true
            return <><p safe>{text(env.lang).notFound}</p><p><a href="/console/rooms" safe>{text(env.lang).back}</a></p></>
          }
          heading = data.room.name
          return <RoomPage env={env} data={data} />
        },
      })
      if (missing) set.status = 404
      return html
    }, { params: IdParam, ...hidden() })

    .post('/console/rooms/:id/update', ({ request, set, body, params }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: `/console/rooms/${roomId(params.id) ?? ''}`,
      act: async (env) => {
        const room = await updateRoom(ctx, env.viewer.actor, targetId(params.id), { ...roomInput(body, env.lang), is_blocked: checked(body.is_blocked) })
        return { done: fill(text(env.lang).saved, { name: room.name }) }
      },
    }), { params: IdParam, body: SettingsBody, ...hidden() })

    .post('/console/rooms/:id/block', ({ request, set, body, params }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: `/console/rooms/${roomId(params.id) ?? ''}`,
      act: async (env) => {
        const blocked = checked(body.is_blocked)
        const room = await updateRoom(ctx, env.viewer.actor, targetId(params.id), { is_blocked: blocked })
        return { done: fill(blocked ? text(env.lang).blockedDone : text(env.lang).unblockedDone, { name: room.name }) }
      },
    }), { params: IdParam, body: t.Object({ ...CSRF_FIELD, is_blocked: t.Optional(t.String({ maxLength: 8 })) }), ...hidden() })

    .post('/console/rooms/:id/qr', ({ request, set, body, params }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: `/console/rooms/${roomId(params.id) ?? ''}`,
      act: async (env) => {
        const id = targetId(params.id)
        await regenerateQr(ctx, env.viewer.actor, id)
        const data = await consoleRoom(ctx, id)
        return { done: fill(text(env.lang).reissued, { name: data.room.name, v: data.qrVersion }) }
      },
    }), { params: IdParam, body: CsrfOnly, ...hidden() })

    .post('/console/rooms/:id/unpair', ({ request, set, body, params }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: `/console/rooms/${roomId(params.id) ?? ''}`,
      act: async (env) => {
        const id = targetId(params.id)
        await regenerateQr(ctx, env.viewer.actor, id)
        const data = await consoleRoom(ctx, id)
        return { done: fill(text(env.lang).unpaired, { name: data.room.name }) }
      },
    }), { params: IdParam, body: CsrfOnly, ...hidden() })
