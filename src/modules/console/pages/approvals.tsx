/**
 * /console/approvals (admin): the bookings awaiting an admin's decision (listPendingApprovals,
 * soonest first), with room, user, time in the rooms' zone and the rule that made each wait;
 * approve or reject each with a reason, or many at once with one reason (decideApproval, the
 * API's POST /admin/approvals/:id, audited there).
 *   GET  /console/approvals
 *   POST /console/approvals/:id/decide   decision=approve|reject, reason
 *   POST /console/approvals/bulk         ids (many), decision, reason
 * The per-row fields belong to a form of their own (the `form` attribute), so the table can sit
 * in the bulk form without nesting forms; all of it works without script.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../../context'
import { decideApproval } from '../../../core/bookings/fair-use/approvals'
import { pendingWithReasons, roomChoices } from '../../../core/console/policies'
import { BadRequest, HttpError } from '../../../lib/errors'
import type { Lang } from '../../../lib/i18n'
import { routeRules } from '../../../plugins/route-rules'
import { When, span } from '../format'
import { action, hidden, page, refusal, type PageEnv } from '../kit'
import { common, fill, words } from '../text'
import { ruleSentence } from './policies'
import { CSRF_FIELD, CsrfField } from '../forms'

const text = words({
  en: {
    lead: "Bookings in rooms whose rule needs an administrator's approval. Each holds its slot until you decide; one not decided before its start is released.",
    none: 'No booking is waiting for approval.', count: '{n} waiting',
    select: 'Select', selectAll: 'Select all', selectOne: 'Select booking #{id}',
    when: 'When', room: 'Room', user: 'Who', asked: 'Asked', why: 'Why it waits', decide: 'Decision',
    ruleGone: 'no rule requires it any more', reason: 'Reason (optional)', reasonFor: 'Reason for booking #{id} (optional)',
    approve: 'Approve', reject: 'Reject', bulkReason: 'Reason for the selected (optional)', approveSelected: 'Approve selected', rejectSelected: 'Reject selected',
    confirmReject: 'Reject this booking?',
    approved: 'Booking #{id} approved.', rejected: 'Booking #{id} rejected.', approvedN: 'Approved: {n}.', rejectedN: 'Rejected: {n}.',
    partly: '{done} of {all} done. Not done: {errors}', noneSelected: 'Select at least one booking.', badDecision: 'Choose approve or reject.',
    badId: 'No such booking', tooLong: 'The reason is at most 300 characters.', tooMany: 'At most 200 bookings at once.',
  },
  ru: {
    lead: 'Бронирования в аудиториях, где по правилу нужно одобрение администратора. Каждое удерживает время, пока вы не решите; не решённое до начала снимается.',
    none: 'Заявок, ждущих одобрения, нет.', count: 'ждут: {n}',
    select: 'Выбрать', selectAll: 'Выбрать все', selectOne: 'Выбрать бронирование №{id}',
    when: 'Когда', room: 'Аудитория', user: 'Кто', asked: 'Запрошено', why: 'Почему ждёт', decide: 'Решение',
    ruleGone: 'правила, требующего одобрения, больше нет', reason: 'Причина (необязательно)', reasonFor: 'Причина для бронирования №{id} (необязательно)',
    approve: 'Одобрить', reject: 'Отклонить', bulkReason: 'Причина для выбранных (необязательно)', approveSelected: 'Одобрить выбранные', rejectSelected: 'Отклонить выбранные',
    confirmReject: 'Отклонить это бронирование?',
    approved: 'Бронирование №{id} одобрено.', rejected: 'Бронирование №{id} отклонено.', approvedN: 'Одобрено: {n}.', rejectedN: 'Отклонено: {n}.',
    partly: 'Выполнено {done} из {all}. Не выполнено: {errors}', noneSelected: 'Выберите хотя бы одно бронирование.', badDecision: 'Выберите «одобрить» или «отклонить».',
    badId: 'Такого бронирования нет', tooLong: 'Причина — не больше 300 символов.', tooMany: 'Не больше 200 бронирований за раз.',
  },
})

async function ApprovalsPage(props: { env: PageEnv }) {
  const { env } = props
  const t = text(env.lang)
  const rows = await pendingWithReasons(env.ctx)
  const rooms = rows.some((r) => r.rules.some((rule) => rule.roomId !== null)) ? new Map((await roomChoices(env.ctx)).map((r) => [r.id, r])) : new Map()
  if (rows.length === 0) return <><p class="muted" safe>{t.lead}</p><p class="card" safe>{t.none}</p></>
  return (
    <>
      <p class="muted" safe>{t.lead}</p>
      <p><span class="badge warn" safe>{fill(t.count, { n: rows.length })}</span></p>
      <form method="post" action="/console/approvals/bulk" id="bulk" class="approvals-form">
        <CsrfField csrf={env.viewer.csrf} />
        <div class="table-wrap"><table>
          <thead>
            <tr>
              <th scope="col" class="pick"><input type="checkbox" data-select-all="ids" aria-label={t.selectAll} /></th>
              <th scope="col" safe>{t.when}</th>
              <th scope="col" safe>{t.room}</th>
              <th scope="col" safe>{t.user}</th>
              <th scope="col" safe>{t.why}</th>
              <th scope="col" safe>{t.asked}</th>
              <th scope="col" safe>{t.decide}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr id={`approval-${r.id}`}>
                <td class="pick"><input type="checkbox" name="ids" value={String(r.id)} aria-label={fill(t.selectOne, { id: r.id })} /></td>
                <td><time datetime={r.start.toISOString()} safe>{span(r.start, r.end, env)}</time></td>
                <td safe>{r.roomName}</td>
                <td safe>{r.userName}</td>
                <td>{r.rules.length
                  ? r.rules.map((rule) => <div safe>{ruleSentence(rule, rooms, env.lang)}</div>)
                  : <span class="muted" safe>{t.ruleGone}</span>}</td>
                <td><When date={r.createdAt} env={env} /></td>
                <td>
                  <div class="decide">
                    <label for={`reason-${r.id}`}><span class="visually-hidden" safe>{fill(t.reasonFor, { id: r.id })}</span>
                      <input id={`reason-${r.id}`} name="reason" form={`decide-${r.id}`} maxlength="300" placeholder={t.reason} />
                    </label>
                    <button type="submit" form={`decide-${r.id}`} name="decision" value="approve" class="primary" safe>{t.approve}</button>
                    <button type="submit" form={`decide-${r.id}`} name="decision" value="reject" class="danger" safe>{t.reject}</button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table></div>
        <div class="approvals-bulk">
          <label for="bulk-reason">{t.bulkReason as 'safe'}<input id="bulk-reason" name="reason" maxlength="300" /></label>
          <button type="submit" name="decision" value="approve" class="primary" safe>{t.approveSelected}</button>
          <button type="submit" name="decision" value="reject" class="danger" safe>{t.rejectSelected}</button>
        </div>
      </form>
      {rows.map((r) => (
        <form method="post" action={`/console/approvals/${r.id}/decide`} id={`decide-${r.id}`} class="inline">
          <CsrfField csrf={env.viewer.csrf} />
        </form>
      ))}
    </>
  )
}

const DecideForm = t.Object({
  ...CSRF_FIELD,
  decision: t.Optional(t.String({ maxLength: 20 })),
  reason: t.Optional(t.String({ maxLength: 1000 })),
})
const BulkForm = t.Object({
  ...CSRF_FIELD,
  decision: t.Optional(t.String({ maxLength: 20 })),
  reason: t.Optional(t.String({ maxLength: 1000 })),
  ids: t.Optional(t.Union([t.String({ maxLength: 12 }), t.Array(t.String({ maxLength: 12 }), { maxItems: 1000 })])),
})
const IdParams = t.Object({ id: t.String({ maxLength: 12 }) })

function readDecision(body: { decision?: string; reason?: string }, lang: Lang): { decision: 'approve' | 'reject'; reason?: string } {
  const t = text(lang)
  if (body.decision !== 'approve' && body.decision !== 'reject') throw new BadRequest(t.badDecision)
  const reason = body.reason?.trim()
  if (reason && reason.length > 300) throw new BadRequest(t.tooLong)
  return { decision: body.decision, reason: reason || undefined }
}

function parseId(raw: string, lang: Lang): number {
  if (!/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 2147483647) throw new BadRequest(text(lang).badId)
  return Number(raw)
}

const BACK = '/console/approvals'

export const approvalPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/approvals', ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'approvals', title: (lang) => common(lang).approvals,
      render: (env) => <ApprovalsPage env={env} />,
    }), hidden())

    .post('/console/approvals/:id/decide', ({ request, set, body, params }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const id = parseId(params.id, env.lang)
        const input = readDecision(body, env.lang)
        await decideApproval(ctx, env.viewer.actor, id, input)
        return { done: fill(input.decision === 'approve' ? text(env.lang).approved : text(env.lang).rejected, { id }) }
      },
    }), { params: IdParams, body: DecideForm, ...hidden() })

    .post('/console/approvals/bulk', ({ request, set, body }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const t = text(env.lang)
        const input = readDecision(body, env.lang)
        const raw = body.ids === undefined ? [] : Array.isArray(body.ids) ? body.ids : [body.ids]
        const ids = [...new Set(raw.map((id) => parseId(id, env.lang)))]
        if (ids.length === 0) throw new BadRequest(t.noneSelected)
        if (ids.length > 200) throw new BadRequest(t.tooMany)
        // one decision per booking, each in its own transaction (as the API decides them): one
        // that is no longer pending does not undo the others
        const errors: string[] = []
        for (const id of ids) {
          try {
            await decideApproval(ctx, env.viewer.actor, id, input)
          } catch (error) {
            if (!(error instanceof HttpError)) throw error
            errors.push(`#${id}: ${refusal(ctx, error, env.lang)}`)
          }
        }
        const done = ids.length - errors.length
        if (errors.length) throw new HttpError(409, fill(t.partly, { done, all: ids.length, errors: errors.join('; ') }))
        return { done: fill(input.decision === 'approve' ? t.approvedN : t.rejectedN, { n: done }) }
      },
    }), { body: BulkForm, ...hidden() })
