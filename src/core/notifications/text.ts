/**
 * What a notice says, in Russian and English, with times in the rooms' zone: one title (the
 * e-mail's subject, the in-app heading) and a few lines (the body). The same words in the app, in
 * the e-mail's plain text and in its HTML.
 */
import type { Lang } from '../../lib/i18n'
import { clockTime } from '../../lib/time'
import type { NoticeKind } from './kinds'

export interface NoticeText {
  title: string
  lines: string[]
}

type Data = Record<string, unknown>
const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null)

/** "Mon 7 Dec, 10:00–11:30" / "пн, 7 дек., 10:00–11:30" in the zone. */
function spanText(startIso: string, endIso: string, timeZone: string, lang: Lang): string {
  const start = new Date(startIso), end = new Date(endIso)
  const day = new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short' }).format(start)
  return `${day}, ${clockTime(start, timeZone)}–${clockTime(end, timeZone)}`
}

/** "7 Dec 2026, 10:00" in the zone. */
function instantText(iso: string, timeZone: string, lang: Lang): string {
  const at = new Date(iso)
  const day = new Intl.DateTimeFormat(lang === 'ru' ? 'ru-RU' : 'en-GB', { timeZone, day: 'numeric', month: 'long', year: 'numeric' }).format(at)
  return `${day}, ${clockTime(at, timeZone)}`
}

export function noticeText(kind: NoticeKind, data: Data, lang: Lang, timeZone: string): NoticeText {
  const ru = lang === 'ru'
  const room = str(data.room_name) ?? '?'
  const when = str(data.start_time) && str(data.end_time) ? spanText(data.start_time as string, data.end_time as string, timeZone, lang) : ''
  const booking = ru ? `Аудитория ${room}, ${when}` : `Room ${room}, ${when}`
  const by = str(data.by)
  const title = str(data.title)
  switch (kind) {
    case 'booking_confirmed':
      return ru
        ? { title: `Бронь подтверждена: ${room}`, lines: [booking, ...(by ? [`Забронировал(а) для вас: ${by}`] : [])] }
        : { title: `Booking confirmed: ${room}`, lines: [booking, ...(by ? [`Booked for you by ${by}`] : [])] }
    case 'checkin_reminder': {
      const deadline = str(data.release_at)
      const until = deadline ? clockTime(new Date(deadline), timeZone) : null
      return ru
        ? { title: `Отметьтесь в аудитории ${room}`, lines: [booking, `Отметка открыта: отсканируйте QR-код на двери.${until ? ` Если не отметиться до ${until}, бронь снимется.` : ''}`] }
        : { title: `Check in to room ${room}`, lines: [booking, `Check-in is open: scan the QR code on the door.${until ? ` Without a check-in by ${until} the booking is released.` : ''}`] }
    }
    case 'released_no_show':
      return ru
        ? { title: `Бронь снята: вы не отметились (${room})`, lines: [booking, 'Бронь снята, потому что вы не отметились вовремя; аудитория свободна для других.'] }
        : { title: `Booking released: no check-in (${room})`, lines: [booking, 'Your booking was released because you did not check in in time; the room is free for others.'] }
    case 'bumped': {
      const lesson = str(data.lesson)
      return ru
        ? { title: `Бронь отменена ради занятия: ${room}`, lines: [booking, `Бронь отменил(а) ${by ?? 'преподаватель'} ради занятия${lesson ? ` «${lesson}»` : ''}.`] }
        : { title: `Booking cancelled for a lesson: ${room}`, lines: [booking, `Cancelled by ${by ?? 'a teacher'} for ${lesson ? `the lesson "${lesson}"` : 'a lesson'}.`] }
    }
    case 'approval_requested': {
      const booker = str(data.booker) ?? '?'
      return ru
        ? { title: `Бронь ждёт решения: ${room}`, lines: [booking, `Кто: ${booker}`, 'Одобрите или отклоните её в консоли: /console/approvals'] }
        : { title: `Booking awaits approval: ${room}`, lines: [booking, `By ${booker}`, 'Approve or reject it in the console: /console/approvals'] }
    }
    case 'approval_decided': {
      const approved = data.decision === 'approve'
      const reason = str(data.reason)
      return ru
        ? { title: approved ? `Бронь одобрена: ${room}` : `Бронь отклонена: ${room}`, lines: [booking, ...(reason ? [`Причина: ${reason}`] : []), ...(approved ? [] : ['Время свободно для других.'])] }
        : { title: approved ? `Booking approved: ${room}` : `Booking rejected: ${room}`, lines: [booking, ...(reason ? [`Reason: ${reason}`] : []), ...(approved ? [] : ['The slot is free for others.'])] }
    }
    case 'closure_cancelled': {
      const reason = str(data.reason)
      return ru
        ? { title: `Бронь отменена: аудитория закрыта (${room})`, lines: [booking, `Аудитория закрыта${reason ? `: ${reason}` : ''}.`] }
        : { title: `Booking cancelled: room closed (${room})`, lines: [booking, `The room is closed${reason ? `: ${reason}` : ''}.`] }
    }
    case 'series_changed': {
      const name = title ?? (ru ? 'без названия' : 'untitled')
      const where = str(data.room_name)
      return ru
        ? { title: `Изменена серия занятий «${name}»`, lines: [`${where ? `Аудитория ${where}. ` : ''}${data.cancelled ? 'Часть занятий отменена.' : 'Серия изменена.'}${by ? ` Изменил(а): ${by}.` : ''}`] }
        : { title: `Series changed: "${name}"`, lines: [`${where ? `Room ${where}. ` : ''}${data.cancelled ? 'Some of its lessons were cancelled.' : 'The series was changed.'}${by ? ` Changed by ${by}.` : ''}`] }
    }
    case 'suspended': {
      const until = str(data.until)
      return ru
        ? { title: 'Бронирование приостановлено', lines: [`Из-за неявок вы не можете бронировать аудитории${until ? ` до ${instantText(until, timeZone, lang)}` : ''}.`] }
        : { title: 'Booking suspended', lines: [`Because of no-shows you cannot book rooms${until ? ` until ${instantText(until, timeZone, lang)}` : ''}.`] }
    }
    case 'suspension_lifted':
      return ru
        ? { title: 'Бронирование снова доступно', lines: [`Администратор снял ограничение${by ? ` (${by})` : ''}; вы снова можете бронировать.`] }
        : { title: 'You can book again', lines: [`An administrator lifted your suspension${by ? ` (${by})` : ''}; you can book rooms again.`] }
    case 'teacher_verified':
      return ru
        ? { title: 'Аккаунт преподавателя подтверждён', lines: ['Теперь вы можете бронировать как преподаватель и вести занятия.'] }
        : { title: 'Teacher account verified', lines: ['You can now book as a teacher and hold lessons.'] }
    case 'waitlist_booked':
      return ru
        ? { title: `Место из листа ожидания забронировано: ${room}`, lines: [booking, 'Время освободилось, и бронь оформлена на вас.'] }
        : { title: `Booked from the waitlist: ${room}`, lines: [booking, 'The slot you waited for freed up and is now booked for you.'] }
  }
}
