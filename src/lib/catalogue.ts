/**
 * Every message a person reads from the API, English as the code throws it (and the API document
 * lists it) -> Russian (ICU MessageFormat). Variable parts are named in both: `{name}` is text,
 * `{name, number}` a number (plural forms: `{n, plural, one {# час} few {# часа} many {# часов}
 * other {# часа}}`), `{name, duration}` minutes written "1 h 30 min", `{name, instant}` a UTC
 * instant (shown in the rooms' zone). The mechanism is in i18n.ts; test/i18n.test.ts checks that
 * every documented message has an entry here and that every entry renders. In the Russian, an
 * apostrophe quotes (ICU): write «» for quotation marks.
 *
 * A value the English text does not carry may be added by the throw site (HttpError params):
 * `{until}` of the booking window, `{lesson}` of a taken slot.
 */
export const CATALOGUE: Record<string, string> = {
  // ---- generic answers (plugins/errors.ts, server.ts) ----
  'not found': 'не найдено',
  'malformed request body': 'тело запроса не разобрать',
  'invalid cookie': 'неверный cookie',
  'request body too large': 'тело запроса слишком большое',
  'bad request': 'неверный запрос',
  'database unavailable': 'база данных недоступна, повторите через секунду',
  'internal server error': 'внутренняя ошибка сервера',
  'request timed out': 'запрос не успел выполниться',
  'the request conflicted with a concurrent change; try again': 'запрос столкнулся с одновременным изменением; повторите',
  'invalid value: the request holds a character or date that cannot be stored (e.g. a NUL byte or a year out of range)':
    'недопустимое значение: в запросе символ или дата, которые нельзя сохранить (например, нулевой байт или год вне диапазона)',
  'invalid request at {path}: {detail}': 'неверный запрос, поле {path}: {detail}',
  'invalid request: {detail}': 'неверный запрос: {detail}',
  'insufficient permissions': 'недостаточно прав',

  // ---- what the auth routes answer on success ----
  'login successful': 'вход выполнен',
  'logout successful': 'выход выполнен',
  'token refreshed': 'вход обновлён',
  'user created': 'пользователь создан',
  'password changed': 'пароль изменён',

  // ---- accounts and tokens (core/identity/messages.ts) ----
  'name and password are required': 'нужны имя и пароль',
  'invalid credentials': 'неверное имя или пароль',
  'role not allowed for self-signup': 'эту роль нельзя выбрать при регистрации',
  'role must be student or teacher': 'роль: student или teacher',
  'role must be student, teacher or admin': 'роль: student, teacher или admin',
  'user not found': 'пользователь не найден',
  'user already exists': 'пользователь уже существует',
  'current password is incorrect': 'текущий пароль неверен',
  'cannot change the role of the last admin': 'нельзя сменить роль последнего администратора',
  'teacher accounts are made by an admin here: sign up as a student': 'учётные записи преподавателей здесь создаёт администратор: зарегистрируйтесь как студент',
  'missing authorization': 'нужно войти',
  'token has expired': 'срок действия входа истёк: войдите снова',
  'token has been revoked': 'вход отозван: войдите снова',
  'token has already been refreshed': 'вход уже обновлён: войдите снова',
  'token invalid': 'недействительный токен',
  'user no longer exists': 'пользователь больше не существует',
  'Missing CSRF token': 'нет CSRF-токена',
  'CSRF double submit tokens do not match': 'CSRF-токены не совпадают',
  'name is required': 'нужно имя',
  'name must not contain control characters': 'имя не должно содержать управляющих символов',

  // ---- time input (lib/time.ts) ----
  'Invalid datetime format. Use ISO 8601.': 'Неверный формат даты и времени. Используйте ISO 8601.',
  'datetime value is required': 'нужны дата и время',

  // ---- bookings (core/bookings/messages.ts) ----
  'Invalid time range: start must be before end': 'Неверный интервал: начало должно быть раньше конца',
  'Cannot create reservation in the past': 'Нельзя бронировать в прошлом',
  'room is not available for booking': 'эту аудиторию нельзя забронировать',
  'room is temporarily unavailable': 'аудитория временно недоступна',
  'Reservation conflicts with existing booking':
    '{holder, select, none {Время уже занято другой бронью} other {{lesson, select, none {Время занято: {holder}, {from}–{to}} other {Время занято: занятие «{lesson}» ({holder}), {from}–{to}}}}}',
  'Reservation starts before allowed time': '{from, select, none {Бронь начинается раньше разрешённого времени} other {Бронь начинается раньше разрешённого времени: аудиторию можно бронировать с {from}}}',
  'Reservation ends after allowed time': '{until, select, none {Бронь заканчивается позже разрешённого времени} other {Бронь заканчивается позже разрешённого времени: аудиторию можно бронировать до {until}}}',
  'reservation not found': 'бронь не найдена',
  'Only active reservations can be changed': 'Изменить можно только действующую бронь',
  'Finished reservations cannot be cancelled': 'Завершённую бронь нельзя отменить',
  'only teachers and admins can bump bookings': 'вытеснять брони могут только преподаватели и администраторы',
  'Reservation ends too far ahead: it must end within {days, number} days from now':
    'Бронь заканчивается слишком далеко: она должна закончиться в ближайшие {days, plural, one {# день} few {# дня} many {# дней} other {# дня}}',
  'Reservation ends too far ahead: it must end within {days, number} day from now':
    'Бронь заканчивается слишком далеко: она должна закончиться в ближайшие {days, plural, one {# день} few {# дня} many {# дней} other {# дня}}',
  'Reservation is too long: at most {hours, number} hours': 'Бронь слишком длинная: не больше {hours, plural, one {# часа} few {# часов} many {# часов} other {# часа}}',
  'Reservation is too long: at most {hours, number} hour': 'Бронь слишком длинная: не больше {hours, plural, one {# часа} few {# часов} many {# часов} other {# часа}}',
  'room not found': 'аудитория не найдена',
  'room already exists': 'аудитория уже существует',

  // ---- calendar feeds (core/calendar/messages.ts) ----
  'calendar feed not found': 'календарь не найден',

  // ---- fair use ----
  'weekly limit reached: {used, number} of {max, number} hours used':
    'недельный лимит исчерпан: использовано {used} из {max, plural, one {# часа} few {# часов} many {# часов} other {# часа}}',
  'weekly limit reached: {used, number} of {max, number} hours used, this booking needs {adding, number}':
    'недельный лимит исчерпан: использовано {used} из {max, plural, one {# часа} few {# часов} many {# часов} other {# часа}}, а эта бронь требует ещё {adding, plural, one {# час} few {# часа} many {# часов} other {# часа}}',
  'booking too long: {minutes, duration}, the limit is {max, duration} per booking': 'бронь слишком длинная: {minutes}, можно не больше {max} за раз',
  'too short notice: bookings must start at least {min, duration} from now': 'слишком поздно: бронь должна начинаться не раньше чем через {min}',
  'too far ahead: bookings may start at most {days, number} days from now':
    'слишком далеко: бронь может начинаться не позже чем через {days, plural, one {# день} few {# дня} many {# дней} other {# дня}}',
  'too far ahead: bookings may start at most {days, number} day from now':
    'слишком далеко: бронь может начинаться не позже чем через {days, plural, one {# день} few {# дня} many {# дней} other {# дня}}',
  'active booking limit reached: {used, number} of {max, number} bookings':
    'достигнут предел действующих броней: {used} из {max}',
  'active booking limit reached: {used, number} of {max, number} bookings, this series would add {adding, number}':
    'достигнут предел действующих броней: {used} из {max}, а эта серия добавила бы ещё {adding}',
  'bookings start and end on a {step, number}-minute grid': 'бронь начинается и заканчивается по сетке в {step, plural, one {# минуту} few {# минуты} many {# минут} other {# минуты}}',
  'booking suspended until {until, instant}: {strikes, number} no-shows in {days, number} days':
    'бронирование приостановлено до {until}: {strikes, plural, one {# неявка} few {# неявки} many {# неявок} other {# неявки}} за {days, plural, one {# день} few {# дня} many {# дней} other {# дня}}',
  "bookings of this room need an admin's approval: book it ahead": 'брони этой аудитории утверждает администратор: забронируйте заранее',

  // ---- closures ----
  'room is closed: {reason}': '{until, select, none {аудитория закрыта: {reason}} other {аудитория закрыта до {until}: {reason}}}',
  // ---- the waitlist (core/bookings/waitlist/messages.ts) ----
  'the slot is free: book it instead of waiting': 'это время свободно: забронируйте его, ждать не нужно',
  'you are already waiting for an overlapping slot in this room': 'вы уже ждёте пересекающееся время в этой аудитории',
  'you already have a booking in this room at this time': 'у вас уже есть бронь в этой аудитории на это время',
  'waitlist limit reached: at most {max, number} slots waited for at a time': 'достигнут предел очереди: ждать можно не больше {max, plural, one {# слота} few {# слотов} many {# слотов} other {# слота}} одновременно',
  'waitlist entry not found': 'запись в очереди не найдена',
  // ---- input checks (lib/) ----
  'rate limit exceeded: {limit}': 'слишком много запросов: {limit}',
  'password must be at least {min, number} characters': 'пароль должен быть не короче {min, plural, one {# символа} few {# символов} many {# символов} other {# символа}}',
  'invalid {field} {given}: expected {allowed}': 'недопустимое значение {field} {given}: ожидается {allowed}',
  "invalid {field} '{given}': expected {allowed}": 'недопустимое значение {field} «{given}»: ожидается {allowed}',
  '{field} must be true or false': '{field}: нужно true или false',
  '{field} must be a non-empty list of ids (whole numbers), at most {max, number}': '{field}: нужен непустой список id (целых чисел), не больше {max}',
  'check_in_proof must be one of {allowed}': 'check_in_proof: одно из {allowed}',
  '{field} must be a whole number of minutes from {min, number} to 1440': '{field}: целое число минут от {min} до 1440',

  // ---- series (core/bookings/messages.ts SERIES_MSG) ----
  'series not found': 'серия занятий не найдена',
  'rrule is required, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10': 'нужно правило повторения rrule, например FREQ=WEEKLY;BYDAY=MO;COUNT=10',
  'rrule: unknown part {part}: allowed are FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST':
    'rrule: неизвестная часть {part}: допустимы FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST',
  'rrule: FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY': 'rrule: FREQ должен быть DAILY, WEEKLY, MONTHLY или YEARLY',
  'rrule: it never ends: give COUNT, UNTIL or until_term': 'rrule: правило не кончается: укажите COUNT, UNTIL или until_term',
  'rrule: give COUNT or UNTIL, not both, and neither with until_term': 'rrule: укажите COUNT или UNTIL, не оба, и ни один вместе с until_term',
  'rrule: {character} cannot appear in a rule: it is one line of NAME=VALUE parts separated by semicolons':
    'rrule: {character} не может быть в правиле: это одна строка частей ИМЯ=ЗНАЧЕНИЕ через точку с запятой',
  'rrule: {part} is not a part NAME=VALUE': 'rrule: {part} не часть вида ИМЯ=ЗНАЧЕНИЕ',
  'rrule: part {part} appears twice': 'rrule: часть {part} указана дважды',
  'rrule: {part} must be {expected}': 'rrule: {part} должна быть {expected}',
  'rrule: {part} cannot be used with {other}': 'rrule: {part} нельзя использовать вместе с {other}',
  'rrule: BYSETPOS needs BYDAY, BYMONTHDAY or BYMONTH to pick from': 'rrule: для BYSETPOS нужен BYDAY, BYMONTHDAY или BYMONTH',
  'rrule: more than {max, number} occurrences: a series holds at most {max2, number}':
    'rrule: больше {max} занятий: в серии может быть не больше {max2, plural, one {# занятия} few {# занятий} many {# занятий} other {# занятия}}',
  'rrule: no occurrence: the rule ends before its first one': 'rrule: ни одного занятия: правило кончается раньше первого',
  'rrule: {detail}': 'ошибка в rrule: {detail}',
  'the series conflicts with existing bookings or closures: nothing was created; send skip_conflicts: true to create the rest':
    'серия пересекается с бронями или закрытиями: ничего не создано; отправьте skip_conflicts: true, чтобы создать остальные занятия',
  'only the owner of the series or an admin can change it': 'изменить серию может только её владелец или администратор',
  'until can only move earlier: create a new series for more occurrences': 'until можно только сдвинуть раньше: для новых занятий создайте новую серию',
  'term not found': 'семестр не найден',
  'only admins create series for someone else: leave out user_id': 'создавать серии для других может только администратор: уберите user_id',

  // ---- check-in and walk-up (CHECK_IN_MSG) ----
  'minutes must be one of {allowed}': 'minutes: одно из {allowed}',
  'room cannot be booked at this time of day': 'аудиторию нельзя бронировать в это время суток',
  'k is required: scan the QR code on the room door': 'нужен параметр k: отсканируйте QR-код на двери аудитории',
  'k is required: scan the code on the door display': 'нужен параметр k: отсканируйте код на экране у двери',
  'this QR code is not valid for this room: scan the code on the room door': 'этот QR-код не подходит к этой аудитории: отсканируйте код на её двери',
  'this code is not valid for this room: scan the code on the door display': 'этот код не подходит к этой аудитории: отсканируйте код на экране у двери',
  'this QR code has been replaced: scan the current code on the room door': 'этот QR-код заменён: отсканируйте действующий код на двери',
  'this code from the door display has expired: scan the code on the display again': 'код с экрана у двери устарел: отсканируйте его снова',
  'this room checks in with the door display: scan the code on the display, not the printed poster':
    'в этой аудитории отметка идёт через экран у двери: отсканируйте код на экране, а не на плакате',
  'only the person who booked can check in': 'отметиться может только тот, кто бронировал',
  'only the person who booked can check out': 'завершить бронь может только тот, кто бронировал',
  'reservation is cancelled': 'бронь отменена',
  'reservation was released: it was not checked in in time': 'бронь снята: отметки не было вовремя',
  'reservation has already ended': 'бронь уже закончилась',
  'check-in is not open yet: it opens {minutes, number} minutes before the start, at {at, instant}':
    'отметка ещё не открыта: она открывается за {minutes, plural, one {# минуту} few {# минуты} many {# минут} other {# минуты}} до начала, в {at}',
  'check-in has closed at {at, instant}': 'отметка закрылась в {at}',
  'reservation has not started yet: cancel it instead': 'бронь ещё не началась: отмените её',
  'room is occupied now': 'аудитория сейчас занята',
  'room is free for less than {minutes, number} minutes': 'аудитория свободна меньше {minutes, plural, one {# минуты} few {# минут} many {# минут} other {# минуты}}',

  // ---- approvals ----
  'booking is not awaiting approval': 'бронь не ждёт утверждения',
  'booking has started without approval: it was released': 'бронь началась без утверждения: она снята',
  "booking awaits an admin's approval: check-in opens once it is approved": 'бронь ждёт утверждения администратором: отметка откроется после него',

  // ---- admin ----
  'status must be active, finished or cancelled': 'status: active, finished или cancelled',
  'start_time and end_time must be sent together': 'start_time и end_time отправляются вместе',
  'nothing to update: send start_time and end_time, user_id and/or status': 'нечего менять: отправьте start_time и end_time, user_id и/или status',

  // ---- closures and terms (CLOSURE_MSG) ----
  'closure not found': 'закрытие не найдено',
  'give room_ids (a list of room ids) or all_rooms: true, not both': 'укажите room_ids (список id аудиторий) или all_rooms: true, но не оба',
  'room not found: {ids}': 'аудитория не найдена: {ids}',
  'reason is required, at most 300 characters': 'нужна причина, не длиннее 300 символов',
  'not an iCalendar file: {detail}': 'это не файл iCalendar: {detail}',
  'term already exists': 'семестр уже существует',
  '{field} must be a date YYYY-MM-DD': '{field}: дата в формате ГГГГ-ММ-ДД',
  'starts_on must not be after ends_on': 'starts_on не может быть позже ends_on',

  // ---- timetable import (IMPORT_MSG) ----
  'the header must name the columns room,teacher,weekday,start,end,from,until (title optional) or аудитория,преподаватель,день,начало,конец,с,по (название optional), separated by semicolons, commas or tabs':
    'в заголовке должны быть столбцы аудитория,преподаватель,день,начало,конец,с,по (название по желанию) или room,teacher,weekday,start,end,from,until (title по желанию) через точку с запятой, запятую или табуляцию',
  '{field} must be a date YYYY-MM-DD or DD.MM.YYYY': '{field}: дата в формате ДД.ММ.ГГГГ или ГГГГ-ММ-ДД',
  'not a readable CSV file: {detail}': 'файл CSV не читается: {detail}',
  'nothing was imported: see the rows with errors or conflicts; send skip_conflicts=1 to leave the conflicting lessons out':
    'ничего не импортировано: см. строки с ошибками и конфликтами; отправьте skip_conflicts=1, чтобы пропустить конфликтующие занятия',
  'at most {max, number} rows per import': 'не больше {max} строк за один импорт',
  // a row's errors and conflicts inside the report
  'user not found: {name}': 'пользователь не найден: {name}',
  '{name} is not a teacher': '{name} не преподаватель',
  "{name} is not a teacher yet: their teacher account awaits an admin's approval": '{name} ещё не преподаватель: учётная запись ждёт подтверждения администратором',
  'title longer than {max, number} characters': 'название длиннее {max, plural, one {# символа} few {# символов} many {# символов} other {# символа}}',
  'overlaps the lesson of line {line, number} of this file': 'пересекается с занятием из строки {line} этого файла',
  'weekday {value}: use 1-7, mon..sun or пн..вс': 'день недели {value}: укажите 1-7, пн..вс или mon..sun',
  '{field} must be a time of day HH:MM': '{field}: время в формате ЧЧ:ММ',
  'no lesson between from and until': 'между «с» и «по» нет ни одного занятия',
  'conflict': 'пересечение',

  // ---- settings ----
  'app_timezone must be an IANA time zone such as Europe/Moscow, or null for APP_TIMEZONE': 'app_timezone: часовой пояс IANA, например Europe/Moscow, или null, чтобы вернуть APP_TIMEZONE',

  // ---- policies ----
  'room_type and room_id: give at most one of them': 'room_type и room_id: укажите не больше одного',
  'a policy needs at least one limit, or requires_approval: true': 'правилу нужен хотя бы один лимит или requires_approval: true',
  'policy not found': 'правило не найдено',

  // ---- webhooks (core/webhooks/messages.ts) ----
  'webhook endpoint not found': 'адрес вебхука не найден',
  'webhook delivery not found': 'отправка вебхука не найдена',
  'url must be an absolute http or https URL': 'url: полный адрес http или https',
  'unknown webhook event {event}: use a change kind such as reservation.created, or a group such as reservation.*':
    'неизвестное событие вебхука {event}: укажите вид изменения, например reservation.created, или группу, например reservation.*',
  'the webhook endpoint is disabled: enable it to send a test': 'адрес вебхука выключен: включите его, чтобы отправить проверку',
  'only a failed or waiting delivery can be retried': 'повторить можно только неудавшуюся или ожидающую отправку',

  // ---- notices, their preferences and e-mail addresses (issue 28) ----
  'invalid e-mail address': 'неверный адрес электронной почты',
  'e-mail is not configured on this server: its administrator sets SMTP_URL': 'отправка почты на этом сервере не настроена: администратору нужно задать SMTP_URL',
  'this confirmation link is invalid or has expired': 'ссылка для подтверждения неверна или устарела',
  'unknown notice kind': 'неизвестный вид уведомления',
  'unknown channel: in_app or email': 'неизвестный канал: in_app или email',
  'nothing to update: send preferences and/or lang': 'нечего менять: отправьте preferences и/или lang',
  'send ids (the notices to mark read) or all: true': 'отправьте ids (какие уведомления отметить прочитанными) или all: true',
  'only a failed e-mail notice can be sent again': 'повторно отправить можно только недоставленное письмо',
  'nothing to update: send name, role, teacher_pending and/or email': 'нечего менять: отправьте name, role, teacher_pending и/или email',
}
