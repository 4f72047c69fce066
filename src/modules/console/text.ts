/**
 * The console's own words (the parts every page shares: navigation, buttons, notices), in English
 * and Russian. A page keeps the words only it uses beside it, in the same shape (`words({en, ru})`).
 * Messages from the core (refusals, import errors) come from the API's catalogue (lib/i18n.ts).
 */
import type { Lang } from '../../lib/i18n'

/** A page's dictionary: the Russian must name every English key (checked by the type). */
export function words<T extends Record<string, string>>(table: { en: T; ru: { [K in keyof T]: string } }): (lang: Lang) => T {
  return (lang) => (lang === 'ru' ? (table.ru as T) : table.en)
}

/** `{name}` placeholders filled in (the values are escaped where the text is placed). */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole))
}

export const common = words({
  en: {
    product: 'QRBOOK console',
    overview: 'Overview', term: 'Term', calendar: 'Calendar', closures: 'Closures', policies: 'Policies', approvals: 'Approvals',
    users: 'Users', rooms: 'Rooms', audit: 'Audit log', reports: 'Reports', lessons: 'My lessons',
    logout: 'Log out', loggedInAs: 'Signed in as {name} ({role})', language: 'Language',
    save: 'Save', cancel: 'Cancel', apply: 'Apply', search: 'Search', filter: 'Filter', create: 'Create', delete: 'Delete', edit: 'Edit',
    yes: 'yes', no: 'no', none: 'Nothing here yet.', actions: 'Actions', done: 'Done.', timesIn: 'Times: {zone}',
    forbiddenTitle: 'Not for students', forbidden: 'The console is for teachers and administrators. Bookings are made in the QRBOOK app.',
    openApp: 'Open QRBOOK', notFoundTitle: 'Page not found', notFound: 'There is no console page at this address.',
    menu: 'Menu', skip: 'Skip to content',
    role_admin: 'administrator', role_teacher: 'teacher', role_student: 'student',
  },
  ru: {
    product: 'Консоль QRBOOK',
    overview: 'Обзор', term: 'Семестр', calendar: 'Календарь', closures: 'Закрытия', policies: 'Правила', approvals: 'Заявки',
    users: 'Пользователи', rooms: 'Аудитории', audit: 'Журнал', reports: 'Отчёты', lessons: 'Мои занятия',
    logout: 'Выйти', loggedInAs: 'Вы вошли как {name} ({role})', language: 'Язык',
    save: 'Сохранить', cancel: 'Отмена', apply: 'Применить', search: 'Найти', filter: 'Показать', create: 'Создать', delete: 'Удалить', edit: 'Изменить',
    yes: 'да', no: 'нет', none: 'Пока ничего нет.', actions: 'Действия', done: 'Готово.', timesIn: 'Время: {zone}',
    forbiddenTitle: 'Не для студентов', forbidden: 'Консоль предназначена для преподавателей и администраторов. Бронировать аудитории можно в приложении QRBOOK.',
    openApp: 'Открыть QRBOOK', notFoundTitle: 'Страница не найдена', notFound: 'По этому адресу в консоли ничего нет.',
    menu: 'Меню', skip: 'К содержимому',
    role_admin: 'администратор', role_teacher: 'преподаватель', role_student: 'студент',
  },
})
