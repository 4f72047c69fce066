/**
 * /console/users (admin): find users (name, role, teachers awaiting approval, recent no-shows),
 * a page at a time; create one; and per user (/console/users/:id) rename or change the role,
 * approve a teacher who signed up, reset the password, lift a no-show suspension.
 *
 *   GET  /console/users                 ?q=&role=&teacher_pending=1&no_shows=1&page=
 *   POST /console/users/create          name, password, role
 *   GET  /console/users/:id
 *   POST /console/users/:id/update      name, role                 (PATCH /api/admin/users/:id)
 *   POST /console/users/:id/verify      back                       (PATCH ... teacher_pending: false)
 *   POST /console/users/:id/password    password                   (POST /api/admin/users/:id/reset-password)
 *   POST /console/users/:id/lift        back                       (DELETE /api/admin/users/:id/suspension)
 *
 * Every write is the API's own core call (identity/admin-users.ts, fair-use/strikes.ts); the
 * reads are core/console/users.ts.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../../context'
import { consoleUser, consoleUsers, type ConsoleUser } from '../../../core/console/users'
import { createUser, resetPassword, updateUser } from '../../../core/identity/admin-users'
import { liftSuspension } from '../../../core/bookings/fair-use/strikes'
import { ROLES } from '../../../core/identity/model'
import { BadRequest, NotFound } from '../../../lib/errors'
import { ACCOUNT_MSG } from '../../../core/identity/messages'
import type { Lang } from '../../../lib/i18n'
import { routeRules } from '../../../plugins/route-rules'
import { When } from '../format'
import { action, consolePath, hidden, page, type PageEnv, type SetLike } from '../kit'
import { common, fill, words } from '../text'
import { CSRF_FIELD, CsrfField, checked, Pager } from '../forms'

type Role = (typeof ROLES)[number]
const PER_PAGE = 25

const text = words({
  en: {
    find: 'Find users', name: 'Name', role: 'Role', anyRole: 'any role', pendingOnly: 'Teachers awaiting approval', noShowsOnly: 'With recent no-shows',
    status: 'Status', created: 'Created', pending: 'awaiting approval', suspendedUntil: 'suspended until', noShows: '{n} of {max} no-shows',
    found: '{n} found', prev: 'Previous', next: 'Next', pageOf: 'Page {page} of {pages}', manage: 'Manage',
    verify: 'Approve teacher', lift: 'Lift suspension', newUser: 'Create a user', password: 'Password', create: 'Create user',
    created_: 'User {name} created.', updated: 'User {name} saved.', verified: '{name} is now a verified teacher.', passwordReset: 'Password of {name} reset; their sessions have ended.',
    lifted: 'Suspension of {name} lifted: their no-shows so far no longer count.', cleared: 'No-shows of {name} cleared.',
    details: 'Details', nameRole: 'Name and role', resetPassword: 'Reset the password', newPassword: 'New password', reset: 'Reset password',
    resetNote: 'The user is signed out everywhere and signs in with the new password.',
    noShowTitle: 'No-shows', noShowNote: 'No-shows count for {days} days; {max} of them suspend booking for {suspension} days.',
    suspensionsOff: 'No-show suspensions are turned off (NO_SHOW_STRIKES=0).', notSuspended: 'Not suspended.',
    liftNote: 'Their no-shows so far stop counting; later ones count afresh.',
    pendingNote: 'Signed up as a teacher: has a student\'s powers until approved.', back: 'All users', updatedAt: 'Updated',
    notFound: 'There is no such user.', confirmLift: 'Lift the suspension of {name}?', confirmReset: 'Reset the password of {name}?',
    badRole: 'Choose a role: student, teacher or administrator.', needName: 'Enter a name.', needPassword: 'Enter a password.',
    filters: 'Filters',
  },
  ru: {
    find: 'Поиск пользователей', name: 'Имя', role: 'Роль', anyRole: 'любая роль', pendingOnly: 'Преподаватели, ждущие подтверждения', noShowsOnly: 'С недавними неявками',
    status: 'Состояние', created: 'Создан', pending: 'ждёт подтверждения', suspendedUntil: 'бронирование запрещено до', noShows: 'неявок: {n} из {max}',
    found: 'Найдено: {n}', prev: 'Назад', next: 'Дальше', pageOf: 'Страница {page} из {pages}', manage: 'Открыть',
    verify: 'Подтвердить преподавателя', lift: 'Снять запрет', newUser: 'Новый пользователь', password: 'Пароль', create: 'Создать пользователя',
    created_: 'Пользователь {name} создан.', updated: 'Пользователь {name} сохранён.', verified: '{name} подтверждён как преподаватель.', passwordReset: 'Пароль пользователя {name} сброшен, его сеансы завершены.',
    lifted: 'Запрет для {name} снят: прежние неявки больше не считаются.', cleared: 'Неявки пользователя {name} обнулены.',
    details: 'Сведения', nameRole: 'Имя и роль', resetPassword: 'Сброс пароля', newPassword: 'Новый пароль', reset: 'Сбросить пароль',
    resetNote: 'Пользователь выйдет на всех устройствах и войдёт с новым паролем.',
    noShowTitle: 'Неявки', noShowNote: 'Неявки учитываются {days} дн.; после {max} неявок бронирование запрещается на {suspension} дн.',
    suspensionsOff: 'Запрет за неявки выключен (NO_SHOW_STRIKES=0).', notSuspended: 'Бронирование не запрещено.',
    liftNote: 'Прежние неявки перестанут учитываться; новые будут считаться заново.',
    pendingNote: 'Зарегистрировался как преподаватель: до подтверждения у него права студента.', back: 'Все пользователи', updatedAt: 'Изменён',
    notFound: 'Такого пользователя нет.', confirmLift: 'Снять запрет для {name}?', confirmReset: 'Сбросить пароль пользователя {name}?',
    badRole: 'Выберите роль: студент, преподаватель или администратор.', needName: 'Введите имя.', needPassword: 'Введите пароль.',
    filters: 'Фильтры',
  },
})

const roleName = (lang: Lang, role: Role) => common(lang)[`role_${role}`]

function chosenRole(raw: string | undefined, lang: Lang): Role | undefined {
  const value = raw?.trim().toLowerCase()
  if (!value) return undefined
  const role = ROLES.find((r) => r === value)
  if (!role) throw new BadRequest(text(lang).badRole)
  return role
}

function userId(raw: string): number | undefined {
  return /^\d{1,9}$/.test(raw) && Number(raw) > 0 ? Number(raw) : undefined
}


/** The badges of a user's state: awaiting approval, suspended, no-shows so far. */
function States(props: { user: ConsoleUser; env: PageEnv }) {
  const { user, env } = props
  const t = text(env.lang)
  const record = user.noShows
  return (
    <>
      {user.teacherPending ? <span class="badge warn" safe>{t.pending}</span> : ''}
      {record?.suspendedUntil ? (
        <span class="badge bad">{t.suspendedUntil as 'safe'} <When date={record.suspendedUntil} env={env} /></span>
      ) : ''}
      {record && record.count > 0 && !record.suspendedUntil ? <span class="badge" safe>{fill(t.noShows, { n: record.count, max: record.threshold })}</span> : ''}
    </>
  )
}

function RoleSelect(props: { lang: Lang; name: string; id: string; value?: Role; any?: string }) {
  return (
    <select name={props.name} id={props.id}>
      {props.any !== undefined ? <option value="" safe>{props.any}</option> : ''}
      {ROLES.map((role) => <option value={role} selected={props.value === role} safe>{roleName(props.lang, role)}</option>)}
    </select>
  )
}

type ListQuery = { q?: string; role?: string; teacher_pending?: string; no_shows?: string; page?: string }

async function UserList(props: { env: PageEnv; query: ListQuery }) {
  const { env, query } = props
  const t = text(env.lang)
  const c = common(env.lang)
  const role = chosenRole(query.role, env.lang)
  const pending = checked(query.teacher_pending)
  const noShows = checked(query.no_shows)
  const q = query.q?.trim().slice(0, 100) || undefined
  const pageNo = Math.min(Math.max(Number.parseInt(query.page ?? '1', 10) || 1, 1), 100_000)
  const { users, total } = await consoleUsers(env.ctx, { q, role, teacherPending: pending ? true : undefined, noShows }, { limit: PER_PAGE, offset: (pageNo - 1) * PER_PAGE })
  const pages = Math.max(1, Math.ceil(total / PER_PAGE))
  const here = env.url.pathname + env.url.search
  const link = (n: number) => {
    const params = new URLSearchParams()
    if (q) params.set('q', q)
    if (role) params.set('role', role)
    if (pending) params.set('teacher_pending', '1')
    if (noShows) params.set('no_shows', '1')
    if (n > 1) params.set('page', String(n))
    const s = params.toString()
    return s ? `/console/users?${s}` : '/console/users'
  }
  return (
    <div class="users-page">
      <form method="get" action="/console/users" class="card row" role="search" aria-label={t.find}>
        <label>{t.name as 'safe'}<input type="search" name="q" value={q ?? ''} maxlength="100" /></label>
        <label>{t.role as 'safe'}<RoleSelect lang={env.lang} name="role" id="filter-role" value={role} any={t.anyRole} /></label>
        <label class="check"><input type="checkbox" name="teacher_pending" value="1" checked={pending} />{t.pendingOnly as 'safe'}</label>
        <label class="check"><input type="checkbox" name="no_shows" value="1" checked={noShows} />{t.noShowsOnly as 'safe'}</label>
        <button type="submit" class="primary" safe>{c.search}</button>
      </form>
      <p class="muted" role="status" safe>{fill(t.found, { n: total })}</p>
      {users.length === 0 ? <p class="muted" safe>{c.none}</p> : (
        <div class="table-wrap"><table class="users">
          <thead><tr><th scope="col" safe>{t.name}</th><th scope="col" safe>{t.role}</th><th scope="col" safe>{t.status}</th><th scope="col" safe>{t.created}</th><th scope="col" safe>{c.actions}</th></tr></thead>
          <tbody>
            {users.map((u) => (
              <tr>
                <th scope="row"><a href={`/console/users/${u.id}`} safe>{u.name}</a></th>
                <td safe>{roleName(env.lang, u.role)}</td>
                <td><States user={u} env={env} /></td>
                <td><When date={u.createdAt} env={env} kind="date" /></td>
                <td class="actions">
                  {u.teacherPending ? (
                    <form method="post" action={`/console/users/${u.id}/verify`} class="inline">
                      <CsrfField csrf={env.viewer.csrf} /><input type="hidden" name="back" value={here} />
                      <button type="submit" class="primary" aria-label={`${t.verify}: ${u.name}`} safe>{t.verify}</button>
                    </form>
                  ) : ''}
                  {u.noShows?.suspendedUntil ? (
                    <form method="post" action={`/console/users/${u.id}/lift`} class="inline" data-confirm={fill(t.confirmLift, { name: u.name })}>
                      <CsrfField csrf={env.viewer.csrf} /><input type="hidden" name="back" value={here} />
                      <button type="submit" aria-label={`${t.lift}: ${u.name}`} safe>{t.lift}</button>
                    </form>
                  ) : ''}
                  <a class="button" href={`/console/users/${u.id}`} aria-label={`${t.manage}: ${u.name}`} safe>{t.manage}</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table></div>
      )}
      <Pager page={pageNo} pages={pages} label={fill(t.pageOf, { page: pageNo, pages })} link={link} prev={t.prev} next={t.next} />
      <section class="card" aria-labelledby="new-user">
        <h2 id="new-user" safe>{t.newUser}</h2>
        <form method="post" action="/console/users/create" class="row">
          <CsrfField csrf={env.viewer.csrf} />
          <label>{t.name as 'safe'}<input name="name" required maxlength="80" autocomplete="off" /></label>
          <label>{t.password as 'safe'}<input name="password" type="password" required maxlength="1024" autocomplete="new-password" /></label>
          <label>{t.role as 'safe'}<RoleSelect lang={env.lang} name="role" id="new-role" value="student" /></label>
          <button type="submit" class="primary" safe>{t.create}</button>
        </form>
      </section>
    </div>
  )
}

function UserDetail(props: { env: PageEnv; user: ConsoleUser }) {
  const { env, user } = props
  const t = text(env.lang)
  const c = common(env.lang)
  const record = user.noShows
  const here = `/console/users/${user.id}`
  const config = env.ctx.config
  return (
    <div class="users-page">
      <p><a href="/console/users" safe>{`← ${t.back}`}</a></p>
      <section class="card" aria-labelledby="details">
        <h2 id="details" safe>{t.details}</h2>
        <dl class="facts">
          <dt safe>{t.name}</dt><dd safe>{user.name}</dd>
          <dt safe>{t.role}</dt><dd safe>{roleName(env.lang, user.role)}</dd>
          <dt safe>{t.status}</dt><dd><States user={user} env={env} /></dd>
          <dt safe>{t.created}</dt><dd><When date={user.createdAt} env={env} /></dd>
          <dt safe>{t.updatedAt}</dt><dd><When date={user.updatedAt} env={env} /></dd>
        </dl>
        {user.teacherPending ? (
          <form method="post" action={`/console/users/${user.id}/verify`} class="row">
            <CsrfField csrf={env.viewer.csrf} /><input type="hidden" name="back" value={here} />
            <p class="muted" safe>{t.pendingNote}</p>
            <button type="submit" class="primary" safe>{t.verify}</button>
          </form>
        ) : ''}
      </section>
      <section class="card" aria-labelledby="name-role">
        <h2 id="name-role" safe>{t.nameRole}</h2>
        <form method="post" action={`/console/users/${user.id}/update`} class="row">
          <CsrfField csrf={env.viewer.csrf} />
          <label>{t.name as 'safe'}<input name="name" required maxlength="80" value={user.name} autocomplete="off" /></label>
          <label>{t.role as 'safe'}<RoleSelect lang={env.lang} name="role" id="user-role" value={user.role} /></label>
          <button type="submit" class="primary" safe>{c.save}</button>
        </form>
      </section>
      <section class="card" aria-labelledby="no-shows">
        <h2 id="no-shows" safe>{t.noShowTitle}</h2>
        {record ? (
          <>
            <p class="muted" safe>{fill(t.noShowNote, { days: config.noShowWindowDays, max: config.noShowStrikes, suspension: config.noShowSuspensionDays })}</p>
            <p>
              <span safe>{fill(t.noShows, { n: record.count, max: record.threshold })}</span>{'. '}
              {record.suspendedUntil
                ? <strong class="badge bad">{t.suspendedUntil as 'safe'} <When date={record.suspendedUntil} env={env} /></strong>
                : <span safe>{t.notSuspended}</span>}
            </p>
            {record.count > 0 || record.suspendedUntil ? (
              <form method="post" action={`/console/users/${user.id}/lift`} class="row" data-confirm={fill(t.confirmLift, { name: user.name })}>
                <CsrfField csrf={env.viewer.csrf} /><input type="hidden" name="back" value={here} />
                <p class="muted" safe>{t.liftNote}</p>
                <button type="submit" class="danger" safe>{t.lift}</button>
              </form>
            ) : ''}
          </>
        ) : <p class="muted" safe>{t.suspensionsOff}</p>}
      </section>
      <section class="card" aria-labelledby="reset">
        <h2 id="reset" safe>{t.resetPassword}</h2>
        <form method="post" action={`/console/users/${user.id}/password`} class="row" data-confirm={fill(t.confirmReset, { name: user.name })}>
          <CsrfField csrf={env.viewer.csrf} />
          <label>{t.newPassword as 'safe'}<input name="password" type="password" required maxlength="1024" autocomplete="new-password" /></label>
          <button type="submit" class="danger" safe>{t.reset}</button>
        </form>
        <p class="muted" safe>{t.resetNote}</p>
      </section>
    </div>
  )
}

const Back = { back: t.Optional(t.String({ maxLength: 500 })) }
const IdParam = t.Object({ id: t.String({ maxLength: 12 }) })
const ListQuerySchema = t.Object({
  q: t.Optional(t.String({ maxLength: 200 })), role: t.Optional(t.String({ maxLength: 20 })),
  teacher_pending: t.Optional(t.String({ maxLength: 8 })), no_shows: t.Optional(t.String({ maxLength: 8 })), page: t.Optional(t.String({ maxLength: 12 })),
})

/** The user of a form post's path, or a refusal (as the API's). */
function targetId(raw: string): number {
  const id = userId(raw)
  if (id === undefined) throw new NotFound(ACCOUNT_MSG.notFound)
  return id
}

export const userPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/users', ({ request, set, query }) => page(ctx, request, set as SetLike, {
      role: 'admin', active: 'users', title: (lang) => common(lang).users,
      render: (env) => <UserList env={env} query={query} />,
    }), { query: ListQuerySchema, ...hidden() })

    .post('/console/users/create', ({ request, set, body }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: '/console/users',
      act: async (env) => {
        const t = text(env.lang)
        if (!body.name?.trim()) throw new BadRequest(t.needName)
        if (!body.password) throw new BadRequest(t.needPassword)
        const role = chosenRole(body.role, env.lang) ?? 'student'
        const user = await createUser(ctx, env.viewer.actor, { name: body.name, password: body.password, role })
        return { done: fill(t.created_, { name: user.name }), back: `/console/users/${user.id}` }
      },
    }), { body: t.Object({ ...CSRF_FIELD, name: t.Optional(t.String({ maxLength: 200 })), password: t.Optional(t.String({ maxLength: 1024 })), role: t.Optional(t.String({ maxLength: 20 })) }), ...hidden() })

    .get('/console/users/:id', async ({ request, set, params }) => {
      let missing = false
      let heading: string | undefined // the user's name, once render has found it
      const html = await page(ctx, request, set as SetLike, {
        role: 'admin', active: 'users', title: (lang) => heading ?? common(lang).users,
        render: async (env) => {
          const id = userId(params.id)
          const user = id === undefined ? undefined : await consoleUser(ctx, id).catch(() => undefined)
          if (!user) {
            missing = true
            return <><p safe>{text(env.lang).notFound}</p><p><a href="/console/users" safe>{text(env.lang).back}</a></p></>
          }
          heading = user.name
          return <UserDetail env={env} user={user} />
        },
      })
      if (missing) set.status = 404
      return html
    }, { params: IdParam, ...hidden() })

    .post('/console/users/:id/update', ({ request, set, body, params }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: `/console/users/${userId(params.id) ?? ''}`,
      act: async (env) => {
        const t = text(env.lang)
        if (body.name !== undefined && !body.name.trim()) throw new BadRequest(t.needName)
        const user = await updateUser(ctx, env.viewer.actor, targetId(params.id), { name: body.name, role: chosenRole(body.role, env.lang) })
        return { done: fill(t.updated, { name: user.name }) }
      },
    }), { params: IdParam, body: t.Object({ ...CSRF_FIELD, name: t.Optional(t.String({ maxLength: 200 })), role: t.Optional(t.String({ maxLength: 20 })) }), ...hidden() })

    .post('/console/users/:id/verify', ({ request, set, body, params }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: consolePath(body.back, '/console/users'),
      act: async (env) => {
        const user = await updateUser(ctx, env.viewer.actor, targetId(params.id), { teacher_pending: false })
        return { done: fill(text(env.lang).verified, { name: user.name }) }
      },
    }), { params: IdParam, body: t.Object({ ...CSRF_FIELD, ...Back }), ...hidden() })

    .post('/console/users/:id/password', ({ request, set, body, params }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: `/console/users/${userId(params.id) ?? ''}`,
      act: async (env) => {
        const t = text(env.lang)
        if (!body.password) throw new BadRequest(t.needPassword)
        const user = await resetPassword(ctx, env.viewer.actor, targetId(params.id), body.password)
        return { done: fill(t.passwordReset, { name: user.name }) }
      },
    }), { params: IdParam, body: t.Object({ ...CSRF_FIELD, password: t.Optional(t.String({ maxLength: 1024 })) }), ...hidden() })

    .post('/console/users/:id/lift', ({ request, set, body, params }) => action(ctx, request, set as SetLike, body.csrf_token, {
      role: 'admin', back: consolePath(body.back, '/console/users'),
      act: async (env) => {
        const t = text(env.lang)
        const id = targetId(params.id)
        const result = await liftSuspension(ctx, env.viewer.actor, id)
        const user = await consoleUser(ctx, id)
        return { done: fill(result.lifted ? t.lifted : t.cleared, { name: user.name }) }
      },
    }), { params: IdParam, body: t.Object({ ...CSRF_FIELD, ...Back }), ...hidden() })
