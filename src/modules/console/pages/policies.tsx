/**
 * /console/policies (admin): the booking policies (fair use, issue 16) by role, each rule in words,
 * with a link to what it would have refused last week; edit, create, delete, and the recommended set.
 *   GET  /console/policies                  the list (no replay: it reads only the rules and the rooms), the new-rule form
 *   GET  /console/policies/:id/replay       what the rule would have refused last week (reads the week's bookings)
 *   POST /console/policies/create           a new rule (createPolicy)
 *   POST /console/policies/:id/update       change a rule (updatePolicy: every field of the form)
 *   POST /console/policies/:id/delete       remove a rule (deletePolicy)
 *   POST /console/policies/recommended      add the recommended set (applyRecommendedPolicies)
 *   POST /console/policies/preview          a draft (the form's fields, `id` when editing): the page
 *                                           with what the draft would have refused last week, nothing saved
 * The writes are the API's (src/core/bookings/fair-use/policies.ts); the replay is src/core/console/policies.ts.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../../context'
import {
  applyRecommendedPolicies, createPolicy, deletePolicy, updatePolicy, type LimitField, type PolicyInput,
} from '../../../core/bookings/fair-use/policies'
import {
  replayLastWeek, roomChoices, storedPolicies, storedPolicy, type Replay, type ReplayLimit, type RoomType, type RuleDraft, type StoredPolicy,
} from '../../../core/console/policies'
import { ROOM_TYPES } from '../../../core/bookings/model'
import { BadRequest } from '../../../lib/errors'
import { translate, type Lang } from '../../../lib/i18n'
import { routeRules } from '../../../plugins/route-rules'
import { formatInstant, span } from '../format'
import { action, hidden, page, type PageEnv, type SetLike } from '../kit'
import { common, fill, words } from '../text'
import { CSRF_FIELD, CsrfField, CsrfOnly } from '../forms'

const text = words({
  en: {
    lead: 'Fair-use rules for the bookings of students and teachers. Every rule that binds a booking must hold, so the strictest wins; administrators are exempt.',
    recommended: 'Apply the recommended set', recommendedWhat: 'Students: 4 hours per booking, 14 days ahead, 3 bookings at once, 10 hours a week. Teachers: 8 hours per booking, 180 days ahead. Rules already there are kept; applying it twice adds nothing.',
    recommendedDone: 'Recommended rules added: {n}.', recommendedNone: 'The recommended rules are all there already.',
    role_student: 'Students', role_teacher: 'Teachers', noRules: 'No rules for {role}: their bookings are limited only by the rooms.',
    everywhere: 'in every room', inType: 'in {type} rooms', inRoom: 'in room {room}', roomGone: 'room #{id}',
    type_public: 'public', type_admin: 'administrative', type_service: 'service',
    maxDuration: 'each booking at most {d}', maxWeekly: 'at most {d} a week', maxAdvance: 'at most {n} days ahead', maxActive: 'at most {n} bookings not yet over at once',
    minNotice: 'booked at least {d} before it starts', grid: 'starts and ends on a {n}-minute grid', approval: "needs an administrator's approval", noLimit: 'no limit',
    hour: 'hour', hours: 'hours', minute: 'minute', minutes: 'minutes', hm: '{h} h {m} min',
    replayTitle: 'Last week ({from}–{to})', replayNone: 'It would have refused none of the {m} bookings it binds.',
    replayFigure: 'It would have refused {n} of the {m} bookings it binds.', wouldWait: '{n} would have waited for approval.',
    notEstimated: 'Not estimated: {what} (it depends on bookings of other weeks).',
    replayHow: 'Each booking the owner made last week, checked against this rule alone at the moment it was made.',
    limit_max_duration_min: 'too long', limit_max_advance_days: 'too far ahead', limit_min_notice_min: 'too short notice', limit_slot_granularity_min: 'off the grid',
    limit_max_minutes_per_week: 'over the weekly hours', limit_max_active: 'too many at once', limit_requires_approval: 'walk-up in a room needing approval',
    who: 'Who', room: 'Room', when: 'When', why: 'Why',
    edit: 'Edit this rule', newRule: 'New rule', role: 'Whose bookings', scope: 'Where', scopeAll: 'Every room', scopeTypes: 'Rooms of a type', scopeRooms: 'One room',
    fDuration: 'Longest booking (minutes)', fNotice: 'Least notice (minutes)', fAdvance: 'At most days ahead', fActive: 'Bookings not yet over at once',
    fWeekly: 'Hours a week at most', fGrid: 'Grid of start and end (minutes)', fApproval: "Bookings wait for an administrator's approval", fNote: 'Note',
    empty: 'Empty: no limit.', preview: 'See what it would have refused last week', deleteRule: 'Delete rule', confirmDelete: 'Delete this rule?',
    draftTitle: 'Draft, not saved', draftOf: 'Draft of rule #{id}, not saved', created: 'Rule added.', updated: 'Rule saved.', deleted: 'Rule deleted.',
    badNumber: '{field}: a whole number from {min} to {max}, or empty', badHours: '{field}: a number of hours from 0 to 168, or empty', badRole: 'Whose bookings: students or teachers',
    badScope: 'Where: choose every room, a type of room or one room', badId: 'No such rule',
    note: 'Note: {note}', ruleNo: 'Rule #{id}',
    replayLink: 'What would it have refused last week?', replayPageTitle: 'Rule #{id}: last week', backToRules: 'All rules', editThere: 'Edit it in the list of rules',
    noSuchRule: 'There is no rule with this number.',
  },
  ru: {
    lead: 'Правила честного использования для бронирований студентов и преподавателей. Бронирование должно соответствовать всем правилам, которые к нему относятся, поэтому действует самое строгое; на администраторов правила не распространяются.',
    recommended: 'Применить рекомендуемый набор', recommendedWhat: 'Студенты: до 4 часов за раз, не дальше чем на 14 дней вперёд, до 3 бронирований одновременно, до 10 часов в неделю. Преподаватели: до 8 часов за раз, не дальше чем на 180 дней вперёд. Имеющиеся правила сохраняются; повторное применение ничего не добавляет.',
    recommendedDone: 'Добавлено рекомендуемых правил: {n}.', recommendedNone: 'Все рекомендуемые правила уже есть.',
    role_student: 'Студенты', role_teacher: 'Преподаватели', noRules: 'Правил нет ({role}): их бронирования ограничены только настройками аудиторий.',
    everywhere: 'во всех аудиториях', inType: 'в аудиториях типа «{type}»', inRoom: 'в аудитории {room}', roomGone: 'аудитория №{id}',
    type_public: 'общие', type_admin: 'административные', type_service: 'служебные',
    maxDuration: 'одно бронирование не дольше {d}', maxWeekly: 'не больше {d} в неделю', maxAdvance: 'не дальше чем на {n} дн. вперёд', maxActive: 'не больше {n} предстоящих бронирований одновременно',
    minNotice: 'бронировать не позже чем за {d} до начала', grid: 'начало и конец кратны {n} мин.', approval: 'нужно одобрение администратора', noLimit: 'без ограничений',
    hour: 'час', hours: 'часов', minute: 'минута', minutes: 'минут', hm: '{h} ч {m} мин',
    replayTitle: 'Прошлая неделя ({from}–{to})', replayNone: 'Оно не отклонило бы ни одного из {m} бронирований, к которым относится.',
    replayFigure: 'Оно отклонило бы {n} из {m} бронирований, к которым относится.', wouldWait: 'Ждали бы одобрения: {n}.',
    notEstimated: 'Не оценивается: {what} (зависит от бронирований других недель).',
    replayHow: 'Каждое бронирование, сделанное владельцем на прошлой неделе, проверено только этим правилом на момент, когда оно было сделано.',
    limit_max_duration_min: 'слишком долго', limit_max_advance_days: 'слишком далеко вперёд', limit_min_notice_min: 'слишком поздно', limit_slot_granularity_min: 'не по сетке',
    limit_max_minutes_per_week: 'сверх часов в неделю', limit_max_active: 'слишком много одновременно', limit_requires_approval: 'у двери в аудитории, где нужно одобрение',
    who: 'Кто', room: 'Аудитория', when: 'Когда', why: 'Почему',
    edit: 'Изменить правило', newRule: 'Новое правило', role: 'Чьи бронирования', scope: 'Где', scopeAll: 'Все аудитории', scopeTypes: 'Аудитории типа', scopeRooms: 'Одна аудитория',
    fDuration: 'Самое долгое бронирование (минут)', fNotice: 'Не позже чем за (минут)', fAdvance: 'Не дальше чем на (дней вперёд)', fActive: 'Предстоящих бронирований одновременно',
    fWeekly: 'Часов в неделю, не больше', fGrid: 'Сетка начала и конца (минут)', fApproval: 'Бронирования ждут одобрения администратора', fNote: 'Примечание',
    empty: 'Пусто: без ограничения.', preview: 'Что оно отклонило бы на прошлой неделе', deleteRule: 'Удалить правило', confirmDelete: 'Удалить это правило?',
    draftTitle: 'Черновик, не сохранён', draftOf: 'Черновик правила №{id}, не сохранён', created: 'Правило добавлено.', updated: 'Правило сохранено.', deleted: 'Правило удалено.',
    badNumber: '{field}: целое число от {min} до {max} или пусто', badHours: '{field}: число часов от 0 до 168 или пусто', badRole: 'Чьи бронирования: студенты или преподаватели',
    badScope: 'Где: выберите все аудитории, тип аудиторий или одну аудиторию', badId: 'Такого правила нет',
    note: 'Примечание: {note}', ruleNo: 'Правило №{id}',
    replayLink: 'Что оно отклонило бы на прошлой неделе?', replayPageTitle: 'Правило №{id}: прошлая неделя', backToRules: 'Все правила', editThere: 'Изменить его в списке правил',
    noSuchRule: 'Правила с таким номером нет.',
  },
})
type Words = ReturnType<typeof text>

// ---- rules in words ----

function plural(lang: Lang, n: number, forms: { one: string; few: string; many: string; other: string }): string {
  const rule = new Intl.PluralRules(lang === 'ru' ? 'ru-RU' : 'en-GB').select(n)
  return rule === 'one' ? forms.one : rule === 'few' ? forms.few : rule === 'many' ? forms.many : forms.other
}

/** "4 hours", "90 minutes", "1 h 30 min" (and in Russian, with its plurals). */
function durationWords(minutes: number, lang: Lang): string {
  const t = text(lang)
  const hourForms = lang === 'ru' ? { one: 'час', few: 'часа', many: 'часов', other: 'часа' } : { one: t.hour, few: t.hours, many: t.hours, other: t.hours }
  const minuteForms = lang === 'ru' ? { one: 'минута', few: 'минуты', many: 'минут', other: 'минуты' } : { one: t.minute, few: t.minutes, many: t.minutes, other: t.minutes }
  if (minutes >= 60 && minutes % 60 === 0) return `${minutes / 60} ${plural(lang, minutes / 60, hourForms)}`
  if (minutes < 60) return `${minutes} ${plural(lang, minutes, minuteForms)}`
  return fill(t.hm, { h: Math.floor(minutes / 60), m: minutes % 60 })
}

/** Russian wants the genitive after "не дольше" / "больше": "4 часов", "90 минут". */
function durationAfterComparison(minutes: number, lang: Lang): string {
  if (lang !== 'ru') return durationWords(minutes, lang)
  if (minutes >= 60 && minutes % 60 === 0) return `${minutes / 60} ${minutes / 60 === 1 ? 'часа' : 'часов'}`
  if (minutes < 60) return `${minutes} ${minutes === 1 ? 'минуты' : 'минут'}`
  return fill(text(lang).hm, { h: Math.floor(minutes / 60), m: minutes % 60 })
}

/** The rule's limits, each as a person reads it. */
function limitsInWords(rule: RuleDraft, lang: Lang): string[] {
  const t = text(lang)
  const out: string[] = []
  if (rule.maxMinutesPerWeek !== null) out.push(fill(t.maxWeekly, { d: durationAfterComparison(rule.maxMinutesPerWeek, lang) }))
  if (rule.maxDurationMin !== null) out.push(fill(t.maxDuration, { d: durationAfterComparison(rule.maxDurationMin, lang) }))
  if (rule.maxActive !== null) out.push(fill(t.maxActive, { n: rule.maxActive }))
  if (rule.maxAdvanceDays !== null) out.push(fill(t.maxAdvance, { n: rule.maxAdvanceDays }))
  if (rule.minNoticeMin !== null) out.push(fill(t.minNotice, { d: durationWords(rule.minNoticeMin, lang) }))
  if (rule.slotGranularityMin !== null) out.push(fill(t.grid, { n: rule.slotGranularityMin }))
  if (rule.requiresApproval) out.push(t.approval)
  return out.length ? out : [t.noLimit]
}

type RoomChoice = { id: number; name: string; type: RoomType }

function scopeWords(rule: Pick<RuleDraft, 'roomId' | 'roomType'>, rooms: Map<number, RoomChoice>, t: Words): string {
  if (rule.roomId !== null) return fill(t.inRoom, { room: rooms.get(rule.roomId)?.name ?? fill(t.roomGone, { id: rule.roomId }) })
  if (rule.roomType !== null) return fill(t.inType, { type: t[`type_${rule.roomType}`] })
  return t.everywhere
}

/** "Students, in every room: at most 10 hours a week; each booking at most 4 hours" */
export function ruleSentence(rule: RuleDraft, rooms: Map<number, RoomChoice>, lang: Lang): string {
  const t = text(lang)
  const who = rule.role === 'teacher' ? t.role_teacher : t.role_student
  return `${who}, ${scopeWords(rule, rooms, t)}: ${limitsInWords(rule, lang).join('; ')}`
}

// ---- the form ----

const NUMBER_FIELDS = [
  { name: 'max_duration_min', label: 'fDuration', min: 1, max: 366 * 1440 },
  { name: 'min_notice_min', label: 'fNotice', min: 0, max: 366 * 1440 },
  { name: 'max_advance_days', label: 'fAdvance', min: 1, max: 3660 },
  { name: 'max_active', label: 'fActive', min: 0, max: 10_000 },
  { name: 'slot_granularity_min', label: 'fGrid', min: 1, max: 1440 },
] as const satisfies readonly { name: LimitField; label: keyof Words; min: number; max: number }[]

const field = t.Optional(t.String({ maxLength: 40 }))
const PolicyForm = t.Object({
  ...CSRF_FIELD,
  id: field, role: field, scope: field,
  max_duration_min: field, min_notice_min: field, max_advance_days: field, max_active: field, weekly_hours: field, slot_granularity_min: field,
  requires_approval: field, note: t.Optional(t.String({ maxLength: 200 })),
})
type PolicyFormBody = typeof PolicyForm.static
const IdParams = t.Object({ id: t.String({ maxLength: 12 }) })

/** The form's values as strings (what it shows). */
type FormValues = { role: string; scope: string; weekly_hours: string; requires_approval: boolean; note: string } & Record<(typeof NUMBER_FIELDS)[number]['name'], string>

function formValuesOf(rule: StoredPolicy | null): FormValues {
  const s = (v: number | null) => (v === null ? '' : String(v))
  return {
    role: rule?.role ?? 'student',
    scope: rule?.roomId != null ? `room:${rule.roomId}` : rule?.roomType != null ? `type:${rule.roomType}` : 'all',
    max_duration_min: s(rule?.maxDurationMin ?? null), min_notice_min: s(rule?.minNoticeMin ?? null), max_advance_days: s(rule?.maxAdvanceDays ?? null),
    max_active: s(rule?.maxActive ?? null), slot_granularity_min: s(rule?.slotGranularityMin ?? null),
    weekly_hours: rule?.maxMinutesPerWeek != null ? String(Math.round((rule.maxMinutesPerWeek / 60) * 100) / 100) : '',
    requires_approval: rule?.requiresApproval ?? false, note: rule?.note ?? '',
  }
}

function formValuesFromBody(body: PolicyFormBody): FormValues {
  return {
    role: body.role ?? '', scope: body.scope ?? '', max_duration_min: body.max_duration_min ?? '', min_notice_min: body.min_notice_min ?? '',
    max_advance_days: body.max_advance_days ?? '', max_active: body.max_active ?? '', slot_granularity_min: body.slot_granularity_min ?? '',
    weekly_hours: body.weekly_hours ?? '', requires_approval: Boolean(body.requires_approval), note: body.note ?? '',
  }
}

/** The form read into a rule (PolicyInput for the core, RuleDraft for the replay), or a BadRequest naming the field. */
function readForm(body: PolicyFormBody, lang: Lang): { input: PolicyInput & { role: 'student' | 'teacher' }; draft: RuleDraft } {
  const t = text(lang)
  if (body.role !== 'student' && body.role !== 'teacher') throw new BadRequest(t.badRole)
  const scope = body.scope ?? 'all'
  let roomType: RoomType | null = null
  let roomId: number | null = null
  if (scope.startsWith('type:') && (ROOM_TYPES as readonly string[]).includes(scope.slice(5))) roomType = scope.slice(5) as RoomType
  else if (/^room:[1-9]\d{0,9}$/.test(scope) && Number(scope.slice(5)) <= 2147483647) roomId = Number(scope.slice(5))
  else if (scope !== 'all') throw new BadRequest(t.badScope)
  const numbers = {} as Record<(typeof NUMBER_FIELDS)[number]['name'], number | null>
  for (const f of NUMBER_FIELDS) {
    const raw = (body[f.name] ?? '').trim()
    if (raw === '') { numbers[f.name] = null; continue }
    const n = Number(raw)
    if (!/^\d+$/.test(raw) || n < f.min || n > f.max) throw new BadRequest(fill(t.badNumber, { field: t[f.label], min: f.min, max: f.max }))
    numbers[f.name] = n
  }
  const hoursRaw = (body.weekly_hours ?? '').trim().replace(',', '.')
  let weekly: number | null = null
  if (hoursRaw !== '') {
    const hours = Number(hoursRaw)
    if (!/^\d+(\.\d+)?$/.test(hoursRaw) || hours > 168) throw new BadRequest(fill(t.badHours, { field: t.fWeekly }))
    weekly = Math.round(hours * 60)
  }
  const requiresApproval = Boolean(body.requires_approval)
  const note = (body.note ?? '').trim() || null
  return {
    input: { role: body.role, room_type: roomType, room_id: roomId, ...numbers, max_minutes_per_week: weekly, requires_approval: requiresApproval, note },
    draft: {
      role: body.role, roomType, roomId, maxDurationMin: numbers.max_duration_min, minNoticeMin: numbers.min_notice_min, maxAdvanceDays: numbers.max_advance_days,
      maxActive: numbers.max_active, maxMinutesPerWeek: weekly, slotGranularityMin: numbers.slot_granularity_min, requiresApproval,
    },
  }
}

function parseId(raw: string | undefined, lang: Lang): number {
  const id = ruleId(raw ?? '')
  if (id === undefined) throw new BadRequest(text(lang).badId)
  return id
}

/** A rule's number in a path or a form, or undefined. */
function ruleId(raw: string): number | undefined {
  return /^[1-9]\d{0,9}$/.test(raw) && Number(raw) <= 2147483647 ? Number(raw) : undefined
}

function PolicyFields(props: { env: PageEnv; values: FormValues; rooms: RoomChoice[]; prefix: string; fixedRole: boolean }) {
  const { env, values, rooms, prefix } = props
  const t = text(env.lang)
  const id = (name: string) => `${prefix}-${name}`
  const selected = (value: string) => values.scope === value
  return (
    <>
      <div class="policy-grid">
        {props.fixedRole ? (
          <p class="fixed-role"><span class="muted" safe>{t.role}</span>
            <strong safe>{values.role === 'teacher' ? t.role_teacher : t.role_student}</strong>
            <input type="hidden" name="role" value={values.role} />
          </p>
        ) : (
          <label for={id('role')}>{t.role as 'safe'}
            <select id={id('role')} name="role">
              <option value="student" selected={values.role === 'student'} safe>{t.role_student}</option>
              <option value="teacher" selected={values.role === 'teacher'} safe>{t.role_teacher}</option>
            </select>
          </label>
        )}
        <label for={id('scope')}>{t.scope as 'safe'}
          <select id={id('scope')} name="scope">
            <option value="all" selected={selected('all')} safe>{t.scopeAll}</option>
            <optgroup label={t.scopeTypes}>
              {ROOM_TYPES.map((type) => <option value={`type:${type}`} selected={selected(`type:${type}`)} safe>{t[`type_${type}`]}</option>)}
            </optgroup>
            <optgroup label={t.scopeRooms}>
              {rooms.map((r) => <option value={`room:${r.id}`} selected={selected(`room:${r.id}`)} safe>{r.name}</option>)}
            </optgroup>
          </select>
        </label>
        <label for={id('weekly_hours')}>{t.fWeekly as 'safe'}
          <input id={id('weekly_hours')} name="weekly_hours" inputmode="decimal" pattern="\d+([.,]\d+)?" maxlength="8" value={values.weekly_hours} />
        </label>
        {NUMBER_FIELDS.map((f) => (
          <label for={id(f.name)}>{t[f.label] as 'safe'}
            <input id={id(f.name)} name={f.name} type="number" min={String(f.min)} max={String(f.max)} step="1" value={values[f.name]} />
          </label>
        ))}
        <label for={id('note')}>{t.fNote as 'safe'}
          <input id={id('note')} name="note" maxlength="200" value={values.note} />
        </label>
      </div>
      <label class="check" for={id('requires_approval')}>
        <input id={id('requires_approval')} type="checkbox" name="requires_approval" value="1" checked={values.requires_approval} />
        {t.fApproval as 'safe'}
      </label>
      <p class="muted small" safe>{t.empty}</p>
    </>
  )
}

function RuleForm(props: { env: PageEnv; values: FormValues; rooms: RoomChoice[]; id?: number; prefix: string }) {
  const { env, id } = props
  const t = text(env.lang)
  return (
    <form method="post" action={id ? `/console/policies/${id}/update` : '/console/policies/create'} class="stack">
      <CsrfField csrf={env.viewer.csrf} />
      {id ? <input type="hidden" name="id" value={String(id)} /> : ''}
      <PolicyFields env={env} values={props.values} rooms={props.rooms} prefix={props.prefix} fixedRole={id !== undefined} />
      <div class="row">
        <button type="submit" class="primary" safe>{id ? common(env.lang).save : common(env.lang).create}</button>
        <button type="submit" formaction="/console/policies/preview" safe>{t.preview}</button>
      </div>
    </form>
  )
}

// ---- the replay ----

function ReplayView(props: { env: PageEnv; replay: Replay }) {
  const { env, replay } = props
  const t = text(env.lang)
  const lastDay = new Date(replay.week.end.getTime() - 1)
  const title = fill(t.replayTitle, { from: formatInstant(replay.week.start, env, 'date'), to: formatInstant(lastDay, env, 'date') })
  const parts = (Object.entries(replay.byLimit) as [ReplayLimit, number][]).map(([limit, n]) => `${t[`limit_${limit}`]}: ${n}`)
  return (
    <section class="replay" aria-label={title}>
      <p class="replay-title"><strong safe>{title}</strong></p>
      <p class="replay-figure" data-refused={String(replay.refused)} data-considered={String(replay.considered)}>
        <strong safe>{replay.refused === 0 ? fill(t.replayNone, { m: replay.considered }) : fill(t.replayFigure, { n: replay.refused, m: replay.considered })}</strong>
        {parts.length ? <span class="muted" safe>{` (${parts.join(', ')})`}</span> : ''}
      </p>
      {replay.wouldWait !== null ? <p safe>{fill(t.wouldWait, { n: replay.wouldWait })}</p> : ''}
      {replay.notEstimated.length
        ? <p class="muted not-estimated" safe>{fill(t.notEstimated, { what: replay.notEstimated.map((l) => t[`limit_${l}`]).join(', ') })}</p> : ''}
      {replay.examples.length ? (
        <div class="table-wrap"><table>
          <thead><tr><th scope="col" safe>{t.who}</th><th scope="col" safe>{t.room}</th><th scope="col" safe>{t.when}</th><th scope="col" safe>{t.why}</th></tr></thead>
          <tbody>
            {replay.examples.map((e) => (
              <tr>
                <td safe>{e.userName}</td>
                <td safe>{e.roomName}</td>
                <td><time datetime={e.start.toISOString()} safe>{span(e.start, e.end, env)}</time></td>
                <td safe>{translate(e.message, env.lang, { timeZone: env.timeZone, now: env.now })}</td>
              </tr>
            ))}
          </tbody>
        </table></div>
      ) : ''}
      <p class="muted small" safe>{t.replayHow}</p>
    </section>
  )
}

// ---- the page ----

interface Draft { id?: number; values: FormValues; replay: Replay; rule: RuleDraft }

async function PoliciesPage(props: { env: PageEnv; draft?: Draft }) {
  const { env, draft } = props
  const t = text(env.lang)
  const [policies, rooms] = await Promise.all([storedPolicies(env.ctx), roomChoices(env.ctx)])
  const roomMap = new Map(rooms.map((r) => [r.id, r]))
  const byRole = (['student', 'teacher'] as const).map((role) => ({ role, rules: policies.filter((p) => p.role === role) }))
  return (
    <>
      <p class="muted" safe>{t.lead}</p>
      {draft ? (
        <section class="card draft" aria-labelledby="draft-title">
          <h2 id="draft-title" safe>{draft.id ? fill(t.draftOf, { id: draft.id }) : t.draftTitle}</h2>
          <p class="rule-words" safe>{ruleSentence(draft.rule, roomMap, env.lang)}</p>
          <ReplayView env={env} replay={draft.replay} />
          <RuleForm env={env} values={draft.values} rooms={rooms} id={draft.id} prefix="draft" />
        </section>
      ) : ''}
      <div class="card">
        <form method="post" action="/console/policies/recommended" class="row">
          <CsrfField csrf={env.viewer.csrf} />
          <button type="submit" class="primary" safe>{t.recommended}</button>
        </form>
        <p class="muted small" safe>{t.recommendedWhat}</p>
      </div>
      {byRole.map(({ role, rules }) => (
        <section aria-labelledby={`role-${role}`}>
          <h2 id={`role-${role}`} safe>{t[`role_${role}`]}</h2>
          {rules.length === 0 ? <p class="muted" safe>{fill(t.noRules, { role: t[`role_${role}`].toLowerCase() })}</p> : ''}
          {rules.map((p) => (
            <article class="card policy" id={`policy-${p.id}`} aria-labelledby={`policy-${p.id}-title`}>
              <h3 id={`policy-${p.id}-title`}>
                <span class="muted" safe>{fill(t.ruleNo, { id: p.id })}</span>{' '}
                <span class="rule-words" safe>{ruleSentence(p, roomMap, env.lang)}</span>
              </h3>
              {p.note ? <p class="muted" safe>{fill(t.note, { note: p.note })}</p> : ''}
              <p class="replay-link"><a href={`/console/policies/${p.id}/replay`} safe>{t.replayLink}</a></p>
              <details class="edit">
                <summary safe>{t.edit}</summary>
                <RuleForm env={env} values={formValuesOf(p)} rooms={rooms} id={p.id} prefix={`p${p.id}`} />
                <form method="post" action={`/console/policies/${p.id}/delete`} data-confirm={t.confirmDelete} class="delete-rule">
                  <CsrfField csrf={env.viewer.csrf} />
                  <button type="submit" class="danger" safe>{t.deleteRule}</button>
                </form>
              </details>
            </article>
          ))}
        </section>
      ))}
      <section class="card" aria-labelledby="new-rule">
        <h2 id="new-rule" safe>{t.newRule}</h2>
        <RuleForm env={env} values={formValuesOf(null)} rooms={rooms} prefix="new" />
      </section>
    </>
  )
}

/** GET /console/policies/:id/replay: the rule in words and what it would have refused last week. */
async function ReplayPage(props: { env: PageEnv; rule: StoredPolicy | undefined }) {
  const { env, rule } = props
  const t = text(env.lang)
  if (!rule) return <><p safe>{t.noSuchRule}</p><p><a href={BACK} safe>{t.backToRules}</a></p></>
  const [replay, rooms] = await Promise.all([replayLastWeek(env.ctx, rule), roomChoices(env.ctx)])
  return (
    <>
      <article class="card policy" id={`policy-${rule.id}`} aria-labelledby={`policy-${rule.id}-title`}>
        <h2 id={`policy-${rule.id}-title`} class="rule-title">
          <span class="muted" safe>{fill(t.ruleNo, { id: rule.id })}</span>{' '}
          <span class="rule-words" safe>{ruleSentence(rule, new Map(rooms.map((r) => [r.id, r])), env.lang)}</span>
        </h2>
        {rule.note ? <p class="muted" safe>{fill(t.note, { note: rule.note })}</p> : ''}
        <ReplayView env={env} replay={replay} />
      </article>
      <p class="row"><a href={BACK} safe>{t.backToRules}</a><a href={`${BACK}#policy-${rule.id}`} safe>{t.editThere}</a></p>
    </>
  )
}

const title = (lang: Lang) => common(lang).policies
const BACK = '/console/policies'

export const policyPages = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/policies', ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'policies', title, render: (env) => <PoliciesPage env={env} />,
    }), hidden())

    .get('/console/policies/:id/replay', async ({ request, set, params }) => {
      const id = ruleId(params.id)
      // the rule (one row by its key) is read first: the page's status depends on it
      const rule = id === undefined ? undefined : await storedPolicy(ctx, id)
      return page(ctx, request, set, {
        role: 'admin', active: 'policies', status: rule ? 200 : 404,
        title: (lang) => (rule ? fill(text(lang).replayPageTitle, { id: rule.id }) : common(lang).notFoundTitle),
        render: (env) => <ReplayPage env={env} rule={rule} />,
      })
    }, { params: IdParams, ...hidden() })

    .post('/console/policies/create', ({ request, set, body }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const { input } = readForm(body, env.lang)
        const { policy } = await createPolicy(ctx, env.viewer.actor, input)
        return { done: text(env.lang).created, back: `${BACK}#policy-${policy.id}` }
      },
    }), { body: PolicyForm, ...hidden() })

    .post('/console/policies/:id/update', ({ request, set, body, params }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const id = parseId(params.id, env.lang)
        // a rule's role stays (as PATCH /admin/policies/:id has no role): a rule for another role is a new rule
        const { input: { role: _role, ...input } } = readForm(body, env.lang)
        await updatePolicy(ctx, env.viewer.actor, id, input)
        return { done: text(env.lang).updated, back: `${BACK}#policy-${id}` }
      },
    }), { params: IdParams, body: PolicyForm, ...hidden() })

    .post('/console/policies/:id/delete', ({ request, set, body, params }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        await deletePolicy(ctx, env.viewer.actor, parseId(params.id, env.lang))
        return { done: text(env.lang).deleted }
      },
    }), { params: IdParams, body: CsrfOnly, ...hidden() })

    .post('/console/policies/recommended', ({ request, set, body }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const { added } = await applyRecommendedPolicies(ctx, env.viewer.actor)
        const t = text(env.lang)
        return { done: added.length ? fill(t.recommendedDone, { n: added.length }) : t.recommendedNone }
      },
    }), { body: CsrfOnly, ...hidden() })

    .post('/console/policies/preview', ({ request, set, body }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const id = body.id ? parseId(body.id, env.lang) : undefined
        const { draft: rule } = readForm(body, env.lang)
        const draft: Draft = { id, rule, values: formValuesFromBody(body), replay: await replayLastWeek(ctx, rule) }
        return { html: await page(ctx, request, set as SetLike, { role: 'admin', active: 'policies', title, render: (e) => <PoliciesPage env={e} draft={draft} /> }) }
      },
    }), { body: PolicyForm, ...hidden() })
