/**
 * /console/term (admin): setting up a term.
 *   GET  /console/term                      the upload forms (timetable CSV, holidays ICS) and the terms
 *   POST /console/term/timetable/preview    a CSV (multipart): the dry run of POST /api/admin/timetable/import,
 *                                           shown as a table, with the file carried forward to commit it
 *   POST /console/term/timetable/commit     the carried file imported for real (optionally skipping conflicts);
 *                                           back to /console/term with the totals, or the refusal's report
 *   POST /console/term/holidays/preview     an ICS (multipart): the dry run of POST /api/admin/closures/import
 *                                           (?dry_run=1) as a table: each holiday, what importing it would do,
 *                                           the active bookings and lessons inside it; the file carried forward
 *   POST /console/term/holidays             the carried ICS imported for real, showing what it imported
 *   POST /console/term/terms                a term: POST /api/admin/terms
 *
 * The preview carries the file's bytes forward in a hidden field (base64url, which a form sends as
 * it is), so the file is limited to what then fits in the server's body limit (1 MiB).
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../../context'
import { importTimetable } from '../../../core/bookings/timetable/import'
import { importClosures, type ClosureImport } from '../../../core/bookings/timetable/closure-writes'
import { createTerm } from '../../../core/bookings/timetable/terms'
import { bookingHolders, recentTerms } from '../../../core/console/term'
import { BadRequest, HttpError } from '../../../lib/errors'
import { translate } from '../../../lib/i18n'
import { perMinute } from '../../../plugins/rate-limit'
import { routeRules } from '../../../plugins/route-rules'
import { formatInstant, span } from '../format'
import { action, consoleLanguage, hidden, page, refusal, type PageEnv, type SetLike } from '../kit'
import { common, fill, words } from '../text'
import { CSRF_FIELD, CsrfField } from '../forms'

/** The largest file the preview can carry forward: its base64 (4/3) and the form stay within the 1 MiB body limit. */
const MAX_UPLOAD_BYTES = 700 * 1024
const MAX_KB = MAX_UPLOAD_BYTES / 1024
/** Items listed per row and kind (conflicts, closures) before "and N more". */
const LISTED = 8

const text = words({
  en: {
    timetable: 'Timetable', holidays: 'Holidays', terms: 'Terms',
    timetableLead: 'A CSV file with one weekly lesson per line, as a spreadsheet saves it (UTF-8, Windows-1251 or UTF-16; cells separated by ";", "," or tabs). Nothing is written before you commit the checked file.',
    columns: 'Columns (any order): room, teacher, weekday, start, end, from, until, title, or аудитория, преподаватель, день, начало, конец, с, по, название. Weekday 1-7, mon..sun or пн..вс; times HH:MM; dates YYYY-MM-DD or DD.MM.YYYY.',
    csvFile: 'Timetable file (CSV, at most {kb} KB)', check: 'Check the file',
    holidaysLead: 'An iCalendar file (.ics), e.g. the national holidays: each event closes every room for its time. Importing the same file again changes nothing; an updated file updates the closures it made.',
    icsFile: 'Holidays file (ICS, at most {kb} KB)', importHolidays: 'Import the holidays',
    holidaysPreviewTitle: 'Holidays check',
    holidaysPreviewLead: 'File {file}: {n} events. This is what importing it would do; nothing has been written yet. Bookings and lessons inside a holiday are not cancelled: the count shows what it affects.',
    hName: 'Name', hFrom: 'From', hTo: 'To', hBookings: 'Bookings inside', hLessons: 'Lessons inside',
    hCreate: 'would create', hUpdate: 'would update', hUnchanged: 'unchanged',
    holidaysToCreate: 'holidays to create', holidaysToUpdate: 'holidays to update', holidaysUnchanged: 'holidays unchanged',
    bookingsInside: 'bookings inside', lessonsInside: 'lessons inside',
    holidaysNothing: 'Every holiday of this file is already there as it says: importing it changes nothing.',
    commitHolidays: 'Commit: import the holidays',
    termName: 'Name', startsOn: 'First day', endsOn: 'Last day', addTerm: 'Add the term', noTerms: 'No terms yet.',
    termsLead: 'A term is a named span of dates: a series of lessons may run until its end.',
    termAdded: 'Term "{name}" added.',
    previewTitle: 'Timetable check', writtenTitle: 'Timetable not imported',
    previewLead: 'File {file}: read as {encoding}, cells separated by {delimiter}. This is what importing it would do; nothing has been written yet.',
    tab: 'tab',
    rows: 'lines', series: 'series', occurrences: 'lessons from now on', wouldCreate: 'lessons to create', wouldUpdate: 'lessons to change',
    wouldCancel: 'lessons to cancel', unchanged: 'lessons unchanged', skippedPast: 'lessons before now (left out)',
    skippedClosures: 'lessons in closures (left out)', conflicts: 'conflicts', errors: 'errors',
    line: 'Line', room: 'Room', teacher: 'Teacher', lesson: 'Weekday and time', dates: 'From – until', result: 'Result', details: 'Details',
    rCreate: 'would create {n}', rUpdate: 'would change {n}', rCancel: 'would cancel {n}', rUnchanged: 'unchanged {n}', rNone: 'no lessons',
    rError: 'error', rClosed: '{n} in closures', rPast: '{n} before now', rConflicts: '{n} conflicts',
    withBooking: 'overlaps booking #{id} of {who}', withLesson: 'overlaps lesson #{id} of {who}', withRow: 'overlaps the lesson of line {line}', closed: 'left out:',
    more: 'and {n} more',
    hasErrors: 'The file has errors (see the lines marked "error"): correct them and check the file again. Nothing can be imported until then.',
    hasConflicts: 'Some lessons overlap a booking or a lesson of an earlier line. Tick "skip conflicts" to import the rest without them; otherwise nothing is imported.',
    commitTitle: 'Import it', skipConflicts: 'Skip conflicts: leave the overlapping lessons out', commit: 'Import the timetable',
    again: 'Check another file',
    imported: 'Timetable imported: {series} series; {created} lessons created, {updated} changed, {cancelled} cancelled, {unchanged} unchanged; {closed} left out in closures, {conflicts} conflicts left out.',
    importedCalendar: 'The timetable is imported. See its lessons in the calendar:', openCalendar: 'Open the calendar',
    holidaysDone: 'Holidays imported: {created} new, {updated} changed, {unchanged} already there.',
    holidaysTitle: 'Holidays imported', holidayReason: 'Reason', holidayWhen: 'When', allClosures: 'All closures',
    noFile: 'Choose a file to upload.', tooBig: 'The file is too large: at most {kb} KB.', lost: 'The checked file did not come back: check it again.',
    emptyIcs: 'The file has no events.',
  },
  ru: {
    timetable: 'Расписание', holidays: 'Праздники', terms: 'Семестры',
    timetableLead: 'Файл CSV, одно еженедельное занятие в строке, как его сохраняет табличный редактор (UTF-8, Windows-1251 или UTF-16; разделитель «;», «,» или табуляция). Ничего не записывается, пока вы не подтвердите проверенный файл.',
    columns: 'Столбцы (в любом порядке): аудитория, преподаватель, день, начало, конец, с, по, название, или room, teacher, weekday, start, end, from, until, title. День 1-7, пн..вс или mon..sun; время ЧЧ:ММ; даты ДД.ММ.ГГГГ или ГГГГ-ММ-ДД.',
    csvFile: 'Файл расписания (CSV, не больше {kb} КБ)', check: 'Проверить файл',
    holidaysLead: 'Файл iCalendar (.ics), например государственные праздники: каждое событие закрывает все аудитории на своё время. Повторная загрузка того же файла ничего не меняет; изменённый файл обновляет созданные им закрытия.',
    icsFile: 'Файл праздников (ICS, не больше {kb} КБ)', importHolidays: 'Загрузить праздники',
    holidaysPreviewTitle: 'Проверка праздников',
    holidaysPreviewLead: 'Файл {file}: событий — {n}. Вот что сделает загрузка; пока ничего не записано. Бронирования и занятия внутри праздника не отменяются: число показывает, что он затронет.',
    hName: 'Название', hFrom: 'С', hTo: 'По', hBookings: 'Бронирований внутри', hLessons: 'Занятий внутри',
    hCreate: 'будет создан', hUpdate: 'будет изменён', hUnchanged: 'без изменений',
    holidaysToCreate: 'праздников будет создано', holidaysToUpdate: 'праздников будет изменено', holidaysUnchanged: 'праздников без изменений',
    bookingsInside: 'бронирований внутри', lessonsInside: 'занятий внутри',
    holidaysNothing: 'Все праздники этого файла уже есть в таком виде: загрузка ничего не изменит.',
    commitHolidays: 'Подтвердить: загрузить праздники',
    termName: 'Название', startsOn: 'Первый день', endsOn: 'Последний день', addTerm: 'Добавить семестр', noTerms: 'Семестров пока нет.',
    termsLead: 'Семестр — именованный период: серия занятий может длиться до его конца.',
    termAdded: 'Семестр «{name}» добавлен.',
    previewTitle: 'Проверка расписания', writtenTitle: 'Расписание не загружено',
    previewLead: 'Файл {file}: прочитан как {encoding}, разделитель {delimiter}. Вот что сделает загрузка; пока ничего не записано.',
    tab: 'табуляция',
    rows: 'строк', series: 'серий', occurrences: 'занятий с сегодняшнего дня', wouldCreate: 'занятий будет создано', wouldUpdate: 'занятий будет изменено',
    wouldCancel: 'занятий будет отменено', unchanged: 'занятий без изменений', skippedPast: 'занятий в прошлом (пропущены)',
    skippedClosures: 'занятий в дни закрытия (пропущены)', conflicts: 'конфликтов', errors: 'ошибок',
    line: 'Строка', room: 'Аудитория', teacher: 'Преподаватель', lesson: 'День и время', dates: 'С – по', result: 'Результат', details: 'Подробности',
    rCreate: 'создать {n}', rUpdate: 'изменить {n}', rCancel: 'отменить {n}', rUnchanged: 'без изменений {n}', rNone: 'нет занятий',
    rError: 'ошибка', rClosed: '{n} в дни закрытия', rPast: '{n} в прошлом', rConflicts: 'конфликтов: {n}',
    withBooking: 'пересекается с бронированием №{id} ({who})', withLesson: 'пересекается с занятием №{id} ({who})', withRow: 'пересекается с занятием строки {line}', closed: 'пропущено:',
    more: 'и ещё {n}',
    hasErrors: 'В файле есть ошибки (строки с отметкой «ошибка»): исправьте их и проверьте файл снова. До тех пор загрузить его нельзя.',
    hasConflicts: 'Некоторые занятия пересекаются с бронированиями или с занятиями предыдущих строк. Отметьте «пропустить конфликты», чтобы загрузить остальное без них; иначе ничего не будет загружено.',
    commitTitle: 'Загрузка', skipConflicts: 'Пропустить конфликты: не создавать пересекающиеся занятия', commit: 'Загрузить расписание',
    again: 'Проверить другой файл',
    imported: 'Расписание загружено: серий — {series}; занятий создано — {created}, изменено — {updated}, отменено — {cancelled}, без изменений — {unchanged}; пропущено в дни закрытия — {closed}, пропущено конфликтов — {conflicts}.',
    importedCalendar: 'Расписание загружено. Занятия видны в календаре:', openCalendar: 'Открыть календарь',
    holidaysDone: 'Праздники загружены: новых — {created}, изменено — {updated}, уже были — {unchanged}.',
    holidaysTitle: 'Праздники загружены', holidayReason: 'Причина', holidayWhen: 'Когда', allClosures: 'Все закрытия',
    noFile: 'Выберите файл для загрузки.', tooBig: 'Файл слишком большой: не больше {kb} КБ.', lost: 'Проверенный файл не вернулся: проверьте его снова.',
    emptyIcs: 'В файле нет событий.',
  },
})

type Words = ReturnType<typeof text>

/** The import report (src/modules/admin/timetable.ts, ImportReport / DryRunReport): counts named by whether it was written. */
interface ReportRow {
  line: number
  room: string
  teacher: string
  weekday: string
  start: string
  end: string
  from: string
  until: string
  title: string | null
  series_id: number | null
  occurrences: number
  would_create?: number
  would_update?: number
  would_cancel?: number
  created?: number
  updated?: number
  cancelled?: number
  unchanged: number
  skipped_past: number
  skipped_closures: { start_time: string; end_time: string; closure_id: number; msg: string }[]
  conflicts: { start_time: string; end_time: string; kind: 'booking' | 'row'; id: number | null; line?: number; msg: string }[]
  errors: string[]
}
interface Report {
  dry_run: boolean
  encoding: string
  delimiter: string
  totals: Record<string, number>
  rows: ReportRow[]
}

const n = (value: number | undefined) => value ?? 0
const created = (r: { would_create?: number; created?: number }) => n(r.would_create ?? r.created)
const updated = (r: { would_update?: number; updated?: number }) => n(r.would_update ?? r.updated)
const cancelled = (r: { would_cancel?: number; cancelled?: number }) => n(r.would_cancel ?? r.cancelled)

/** Every `msg` and `errors` string of a report in the viewer's language (as the API's translateReport). */
function translated(report: Report, env: PageEnv): Report {
  const say = (message: string) => translate(message, env.lang, { timeZone: env.timeZone, now: env.now })
  return {
    ...report,
    rows: report.rows.map((row) => ({
      ...row,
      errors: row.errors.map(say),
      skipped_closures: row.skipped_closures.map((c) => ({ ...c, msg: say(c.msg) })),
      conflicts: row.conflicts.map((c) => ({ ...c, msg: say(c.msg) })),
    })),
  }
}

/** An uploaded file from a multipart field, checked: present and within the limit. */
async function uploaded(value: unknown, t: Words): Promise<{ bytes: Uint8Array; name: string }> {
  if (!(value instanceof Blob) || value.size === 0) throw new BadRequest(t.noFile)
  if (value.size > MAX_UPLOAD_BYTES) throw new BadRequest(fill(t.tooBig, { kb: MAX_KB }))
  const name = value instanceof File && typeof value.name === 'string' ? value.name.slice(0, 200) : ''
  return { bytes: new Uint8Array(await value.arrayBuffer()), name }
}

function Tile(props: { n: number; label: string; kind?: 'attention' }) {
  return <div class={`tile${props.kind ? ` ${props.kind}` : ''}`}><strong>{props.n}</strong><span safe>{props.label}</span></div>
}

/** A list cut at LISTED items, with "and N more". */
function Listed<T>(props: { items: T[]; t: Words; render: (item: T) => JSX.Element }) {
  const shown = props.items.slice(0, LISTED)
  const rest = props.items.length - shown.length
  return (
    <>
      {shown.map((item) => props.render(item))}
      {rest > 0 ? <li class="muted" safe>{fill(props.t.more, { n: rest })}</li> : ''}
    </>
  )
}

function ResultBadges(props: { row: ReportRow; t: Words }) {
  const { row, t } = props
  const badges: JSX.Element[] = []
  if (row.errors.length) badges.push(<span class="badge bad" safe>{t.rError}</span>)
  if (created(row)) badges.push(<span class="badge ok" safe>{fill(t.rCreate, { n: created(row) })}</span>)
  if (updated(row)) badges.push(<span class="badge warn" safe>{fill(t.rUpdate, { n: updated(row) })}</span>)
  if (cancelled(row)) badges.push(<span class="badge warn" safe>{fill(t.rCancel, { n: cancelled(row) })}</span>)
  if (row.unchanged) badges.push(<span class="badge" safe>{fill(t.rUnchanged, { n: row.unchanged })}</span>)
  if (row.skipped_closures.length) badges.push(<span class="badge warn" safe>{fill(t.rClosed, { n: row.skipped_closures.length })}</span>)
  if (row.skipped_past) badges.push(<span class="badge" safe>{fill(t.rPast, { n: row.skipped_past })}</span>)
  if (row.conflicts.length) badges.push(<span class="badge bad" safe>{fill(t.rConflicts, { n: row.conflicts.length })}</span>)
  if (badges.length === 0) badges.push(<span class="badge" safe>{t.rNone}</span>)
  return <div class="import-badges">{badges as 'safe'[]}</div>
}

function RowDetails(props: { row: ReportRow; env: PageEnv; holders: Map<number, { userName: string; title: string | null; lesson: boolean }> }) {
  const { row, env } = props
  const t = text(env.lang)
  const when = (item: { start_time: string; end_time: string }) => span(new Date(item.start_time), new Date(item.end_time), env)
  if (!row.errors.length && !row.conflicts.length && !row.skipped_closures.length) return <span class="muted">—</span>
  return (
    <ul class="import-details">
      {row.errors.map((error) => <li class="error" safe>{error}</li>)}
      <Listed items={row.conflicts} t={t} render={(c) => {
        const holder = c.id !== null ? props.holders.get(c.id) : undefined
        const who = c.kind === 'row'
          ? fill(t.withRow, { line: c.line ?? '?' })
          : fill(holder?.lesson ? t.withLesson : t.withBooking, { id: c.id ?? '?', who: holder ? (holder.title ? `${holder.userName}, ${holder.title}` : holder.userName) : '—' })
        return <li class="conflict"><time datetime={c.start_time} safe>{when(c)}</time> <span safe>{who}</span></li>
      }} />
      <Listed items={row.skipped_closures} t={t} render={(c) => (
        <li class="closed"><time datetime={c.start_time} safe>{when(c)}</time> <span safe>{`${t.closed} ${c.msg}`}</span></li>
      )} />
    </ul>
  )
}

/** The dry run (or a refused import's report) as a table, totals on top, and the form to commit the file. */
async function PreviewBody(props: { env: PageEnv; report: Report; file: { bytes: Uint8Array; name: string } }) {
  const { env, file } = props
  const t = text(env.lang)
  const report = translated(props.report, env)
  const totals = report.totals
  const holders = await bookingHolders(env.ctx, report.rows.flatMap((r) => r.conflicts.flatMap((c) => (c.kind === 'booking' && c.id !== null ? [c.id] : []))))
  const delimiter = report.delimiter === '\t' ? t.tab : `"${report.delimiter}"`
  return (
    <>
      <p class="muted" safe>{fill(t.previewLead, { file: file.name || 'CSV', encoding: report.encoding, delimiter })}</p>
      <div class="tiles import-tiles">
        <Tile n={n(totals.rows)} label={t.rows} />
        <Tile n={n(totals.occurrences)} label={t.occurrences} />
        <Tile n={created(totals)} label={t.wouldCreate} />
        {updated(totals) ? <Tile n={updated(totals)} label={t.wouldUpdate} /> : ''}
        {cancelled(totals) ? <Tile n={cancelled(totals)} label={t.wouldCancel} /> : ''}
        <Tile n={n(totals.unchanged)} label={t.unchanged} />
        <Tile n={n(totals.skipped_closures)} label={t.skippedClosures} />
        {totals.skipped_past ? <Tile n={n(totals.skipped_past)} label={t.skippedPast} /> : ''}
        <Tile n={n(totals.conflicts)} label={t.conflicts} kind={totals.conflicts ? 'attention' : undefined} />
        <Tile n={n(totals.errors)} label={t.errors} kind={totals.errors ? 'attention' : undefined} />
      </div>
      <div class="table-wrap">
        <table class="import-preview">
          <thead><tr>
            <th scope="col" class="num" safe>{t.line}</th><th scope="col" safe>{t.room}</th><th scope="col" safe>{t.teacher}</th>
            <th scope="col" safe>{t.lesson}</th><th scope="col" safe>{t.dates}</th><th scope="col" safe>{t.result}</th><th scope="col" safe>{t.details}</th>
          </tr></thead>
          <tbody>
            {report.rows.map((row) => (
              <tr class={row.errors.length ? 'has-error' : row.conflicts.length ? 'has-conflict' : undefined} data-line={row.line}>
                <td class="num" data-label={t.line}>{row.line}</td>
                <td data-label={t.room} safe>{row.room}</td>
                <td data-label={t.teacher} safe>{row.teacher}</td>
                <td data-label={t.lesson}><span class="import-nowrap" safe>{`${row.weekday} ${row.start}–${row.end}`}</span>{row.title ? <><br /><span class="muted" safe>{row.title}</span></> : ''}</td>
                <td class="import-nowrap" data-label={t.dates} safe>{`${row.from} – ${row.until}`}</td>
                <td data-label={t.result}><ResultBadges row={row} t={t} /></td>
                <td data-label={t.details}><RowDetails row={row} env={env} holders={holders} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {totals.errors ? <p class="flash error" safe>{t.hasErrors}</p> : (
        <form method="post" action="/console/term/timetable/commit" class="card stack commit">
          <h2 safe>{t.commitTitle}</h2>
          {totals.conflicts ? <p class="import-warn" safe>{t.hasConflicts}</p> : ''}
          <CsrfField csrf={env.viewer.csrf} />
          <input type="hidden" name="file" value={Buffer.from(file.bytes).toString('base64url')} />
          <input type="hidden" name="file_name" value={file.name} />
          <label class="check"><input type="checkbox" name="skip_conflicts" value="1" checked={n(totals.conflicts) > 0} /><span safe>{t.skipConflicts}</span></label>
          <div class="row"><button type="submit" class="primary" safe>{t.commit}</button></div>
        </form>
      )}
      <p><a href="/console/term" safe>{t.again}</a></p>
    </>
  )
}

async function TermPage(props: { env: PageEnv }) {
  const { env } = props
  const t = text(env.lang)
  const terms = await recentTerms(env.ctx)
  const csrf = <CsrfField csrf={env.viewer.csrf} />
  return (
    <>
      {env.url.searchParams.get('imported') === '1'
        ? <p class="card"><span safe>{t.importedCalendar}</span> <a href="/console/calendar" safe>{t.openCalendar}</a></p>
        : ''}
      <div class="term-grid">
        <section class="card term-card" aria-labelledby="timetable-h">
          <h2 id="timetable-h" safe>{t.timetable}</h2>
          <p safe>{t.timetableLead}</p>
          <p class="muted fine-print" safe>{t.columns}</p>
          <form method="post" action="/console/term/timetable/preview" enctype="multipart/form-data" class="stack">
            {csrf}
            <label><span safe>{fill(t.csvFile, { kb: MAX_KB })}</span><input type="file" name="file" accept=".csv,text/csv" required /></label>
            <div class="row"><button type="submit" class="primary" safe>{t.check}</button></div>
          </form>
        </section>
        <section class="card term-card" aria-labelledby="holidays-h">
          <h2 id="holidays-h" safe>{t.holidays}</h2>
          <p safe>{t.holidaysLead}</p>
          <form method="post" action="/console/term/holidays/preview" enctype="multipart/form-data" class="stack">
            {csrf}
            <label><span safe>{fill(t.icsFile, { kb: MAX_KB })}</span><input type="file" name="file" accept=".ics,text/calendar" required /></label>
            <div class="row"><button type="submit" class="primary" safe>{t.check}</button></div>
          </form>
          <p><a href="/console/closures" safe>{t.allClosures}</a></p>
        </section>
      </div>
      <section class="card term-card" aria-labelledby="terms-h">
        <h2 id="terms-h" safe>{t.terms}</h2>
        <p class="muted" safe>{t.termsLead}</p>
        {terms.length === 0 ? <p class="muted" safe>{t.noTerms}</p> : (
          <div class="table-wrap">
            <table>
              <thead><tr><th scope="col" safe>{t.termName}</th><th scope="col" safe>{t.startsOn}</th><th scope="col" safe>{t.endsOn}</th></tr></thead>
              <tbody>
                {terms.map((term) => (
                  <tr><td safe>{term.name}</td><td><time datetime={term.startsOn} safe>{dateText(term.startsOn, env)}</time></td><td><time datetime={term.endsOn} safe>{dateText(term.endsOn, env)}</time></td></tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <form method="post" action="/console/term/terms" class="row">
          {csrf}
          <label><span safe>{t.termName}</span><input name="name" required maxlength="100" /></label>
          <label><span safe>{t.startsOn}</span><input type="date" name="starts_on" required /></label>
          <label><span safe>{t.endsOn}</span><input type="date" name="ends_on" required /></label>
          <button type="submit" class="primary" safe>{t.addTerm}</button>
        </form>
      </section>
    </>
  )
}

/** "2026-09-01" as the viewer reads a date (a calendar date: no zone). */
function dateText(date: string, env: PageEnv): string {
  const [y, m, d] = date.split('-')
  return env.lang === 'ru' ? `${d}.${m}.${y}` : `${d}/${m}/${y}`
}

function HolidaysResult(props: { env: PageEnv; closures: { reason: string; start_time: string; end_time: string }[] }) {
  const { env } = props
  const t = text(env.lang)
  return (
    <>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col" safe>{t.holidayReason}</th><th scope="col" safe>{t.holidayWhen}</th></tr></thead>
          <tbody>
            {props.closures.map((c) => (
              <tr><td safe>{c.reason}</td><td><time datetime={c.start_time} safe>{span(new Date(c.start_time), new Date(c.end_time), env)}</time></td></tr>
            ))}
          </tbody>
        </table>
      </div>
      <p><a href="/console/closures" safe>{t.allClosures}</a> · <a href="/console/term" safe>{common(env.lang).term}</a></p>
    </>
  )
}

/** The dry run of a holidays file: each event, what importing it would do, what it affects; and the form to commit it. */
function HolidaysPreview(props: { env: PageEnv; result: ClosureImport; file: { bytes: Uint8Array; name: string } }) {
  const { env, result, file } = props
  const t = text(env.lang)
  const bookings = result.events.reduce((sum, e) => sum + e.bookings, 0)
  const lessons = result.events.reduce((sum, e) => sum + e.lessons, 0)
  const action = { create: [t.hCreate, 'badge ok'], update: [t.hUpdate, 'badge warn'], unchanged: [t.hUnchanged, 'badge'] } as const
  return (
    <>
      <p class="muted" safe>{fill(t.holidaysPreviewLead, { file: file.name || 'ICS', n: result.events.length })}</p>
      <div class="tiles import-tiles">
        <Tile n={result.created} label={t.holidaysToCreate} />
        <Tile n={result.updated} label={t.holidaysToUpdate} />
        <Tile n={result.unchanged} label={t.holidaysUnchanged} />
        <Tile n={bookings} label={t.bookingsInside} kind={bookings ? 'attention' : undefined} />
        <Tile n={lessons} label={t.lessonsInside} kind={lessons ? 'attention' : undefined} />
      </div>
      <div class="table-wrap">
        <table class="import-preview holidays-preview">
          <thead><tr>
            <th scope="col" safe>{t.hName}</th><th scope="col" safe>{t.hFrom}</th><th scope="col" safe>{t.hTo}</th><th scope="col" safe>{t.result}</th>
            <th scope="col" class="num" safe>{t.hBookings}</th><th scope="col" class="num" safe>{t.hLessons}</th>
          </tr></thead>
          <tbody>
            {result.events.map((e) => (
              <tr data-uid={e.uid} data-action={e.action}>
                <td data-label={t.hName} safe>{e.reason}</td>
                <td class="import-nowrap" data-label={t.hFrom}><time datetime={e.start_time} safe>{formatInstant(new Date(e.start_time), env)}</time></td>
                <td class="import-nowrap" data-label={t.hTo}><time datetime={e.end_time} safe>{formatInstant(new Date(e.end_time), env)}</time></td>
                <td data-label={t.result}><span class={action[e.action][1]} safe>{action[e.action][0]}</span></td>
                <td class={e.bookings ? 'num holiday-affects' : 'num'} data-label={t.hBookings}>{e.bookings}</td>
                <td class={e.lessons ? 'num holiday-affects' : 'num'} data-label={t.hLessons}>{e.lessons}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {result.created || result.updated ? (
        <form method="post" action="/console/term/holidays" class="card stack commit">
          <h2 safe>{t.commitTitle}</h2>
          <CsrfField csrf={env.viewer.csrf} />
          <input type="hidden" name="file" value={Buffer.from(file.bytes).toString('base64url')} />
          <input type="hidden" name="file_name" value={file.name} />
          <div class="row"><button type="submit" class="primary" safe>{t.commitHolidays}</button></div>
        </form>
      ) : <p class="flash done" role="status" safe>{t.holidaysNothing}</p>}
      <p><a href="/console/term" safe>{t.again}</a></p>
    </>
  )
}

/** The holidays file: uploaded (multipart) or carried forward by the preview (base64url), checked. */
async function holidaysFile(body: { file?: unknown; file_name?: string }, t: Words): Promise<{ bytes: Uint8Array; name: string }> {
  if (typeof body.file !== 'string') return uploaded(body.file, t)
  if (!body.file || body.file.length > CARRIED_MAX || !/^[A-Za-z0-9_-]+$/.test(body.file)) throw new BadRequest(t.lost)
  const bytes = new Uint8Array(Buffer.from(body.file, 'base64url'))
  if (bytes.byteLength > MAX_UPLOAD_BYTES) throw new BadRequest(fill(t.tooBig, { kb: MAX_KB }))
  return { bytes, name: body.file_name ?? '' }
}

/** The longest base64url a carried file may be. */
const CARRIED_MAX = Math.ceil((MAX_UPLOAD_BYTES * 4) / 3) + 4

const UploadForm = t.Object({ ...CSRF_FIELD, file: t.Optional(t.Unknown()) })
/** A holidays file: uploaded, or carried forward from the preview (file as base64url, file_name). */
const HolidaysForm = t.Object({ ...CSRF_FIELD, file: t.Optional(t.Unknown()), file_name: t.Optional(t.String({ maxLength: 200 })) })
const CommitForm = t.Object({
  ...CSRF_FIELD,
  file: t.Optional(t.String({ maxLength: Math.ceil((MAX_UPLOAD_BYTES * 4) / 3) + 4 })),
  file_name: t.Optional(t.String({ maxLength: 200 })),
  skip_conflicts: t.Optional(t.String({ maxLength: 10 })),
})
const TermForm = t.Object({
  ...CSRF_FIELD, name: t.Optional(t.String({ maxLength: 200 })), starts_on: t.Optional(t.String({ maxLength: 20 })), ends_on: t.Optional(t.String({ maxLength: 20 })),
})

const title = (lang: 'en' | 'ru') => common(lang).term
const BACK = '/console/term'

/** The totals of a written import as the notice says them. */
function importedNotice(report: Report, t: Words): string {
  const totals = report.totals
  return fill(t.imported, {
    // the rows that have a series now (a row whose every lesson was left out makes none)
    series: report.rows.filter((row) => row.series_id !== null).length, created: created(totals), updated: updated(totals), cancelled: cancelled(totals), unchanged: n(totals.unchanged),
    closed: n(totals.skipped_closures), conflicts: n(totals.conflicts),
  })
}

export const termPages = (ctx: Ctx) => {
  /** The preview page of a report: the dry run, or a refused import's report with its refusal. */
  const previewPage = (request: Request, set: SetLike, report: Report, file: { bytes: Uint8Array; name: string }, error?: HttpError) => page(ctx, request, set, {
    role: 'admin', active: 'term', title: (lang) => (error ? text(lang).writtenTitle : text(lang).previewTitle),
    status: error?.status, error: error ? refusal(ctx, error, consoleLanguage(request)) : undefined,
    render: (env) => <PreviewBody env={env} report={report} file={file} />,
  })
  return new Elysia()
    .use(routeRules(ctx))
    .get(BACK, ({ request, set }) => page(ctx, request, set, {
      role: 'admin', active: 'term', title, render: (env) => <TermPage env={env} />,
    }), hidden())

    .post('/console/term/timetable/preview', ({ request, body, set }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const file = await uploaded(body.file, text(env.lang))
        const report = JSON.parse(await importTimetable(ctx, env.viewer.actor, file.bytes, { dryRun: true, skipConflicts: false })) as Report
        return { html: await previewPage(request, set, report, file) }
      },
    }), { body: UploadForm, limit: perMinute('admin.timetable.import', 10), ...hidden() })

    .post('/console/term/timetable/commit', ({ request, body, set }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const t = text(env.lang)
        const encoded = body.file ?? ''
        if (!encoded || !/^[A-Za-z0-9_-]+$/.test(encoded)) throw new BadRequest(t.lost)
        const file = { bytes: new Uint8Array(Buffer.from(encoded, 'base64url')), name: body.file_name ?? '' }
        if (file.bytes.byteLength > MAX_UPLOAD_BYTES) throw new BadRequest(fill(t.tooBig, { kb: MAX_KB }))
        const skipConflicts = body.skip_conflicts === '1'
        try {
          const report = JSON.parse(await importTimetable(ctx, env.viewer.actor, file.bytes, { dryRun: false, skipConflicts })) as Report
          return { done: importedNotice(report, t), back: `${BACK}?imported=1` }
        } catch (error) {
          // A refused import (errors, or conflicts not skipped) comes with its report: shown again, nothing written.
          const refused = error instanceof HttpError ? (error.extra as { report?: Report }).report : undefined
          if (!refused || !(error instanceof HttpError)) throw error
          return { html: await previewPage(request, set, refused, file, error) }
        }
      },
    }), { body: CommitForm, limit: perMinute('admin.timetable.import', 10), ...hidden() })

    .post('/console/term/holidays/preview', ({ request, body, set }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const t = text(env.lang)
        const file = await uploaded(body.file, t)
        const result = await importClosures(ctx, env.viewer.actor, new TextDecoder().decode(file.bytes), { dryRun: true })
        if (result.events.length === 0) throw new BadRequest(t.emptyIcs)
        const html = await page(ctx, request, set, {
          role: 'admin', active: 'term', title: (lang) => text(lang).holidaysPreviewTitle,
          render: (pageEnv) => <HolidaysPreview env={pageEnv} result={result} file={file} />,
        })
        return { html }
      },
    }), { body: UploadForm, limit: perMinute('admin.closures.import', 10), ...hidden() })

    .post('/console/term/holidays', ({ request, body, set }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const t = text(env.lang)
        const file = await holidaysFile(body, t)
        const result = await importClosures(ctx, env.viewer.actor, new TextDecoder().decode(file.bytes))
        if (result.closures.length === 0) throw new BadRequest(t.emptyIcs)
        const done = fill(t.holidaysDone, { created: result.created, updated: result.updated, unchanged: result.unchanged })
        const html = await page(ctx, request, set, {
          role: 'admin', active: 'term', title: (lang) => text(lang).holidaysTitle,
          render: (pageEnv) => <><p class="flash done" role="status" safe>{done}</p><HolidaysResult env={pageEnv} closures={result.closures} /></>,
        })
        return { html }
      },
    }), { body: HolidaysForm, limit: perMinute('admin.closures.import', 10), ...hidden() })

    .post('/console/term/terms', ({ request, body, set }) => action(ctx, request, set, body.csrf_token, {
      role: 'admin', back: BACK,
      act: async (env) => {
        const { term } = await createTerm(ctx, env.viewer.actor, { name: body.name, starts_on: body.starts_on, ends_on: body.ends_on })
        return { done: fill(text(env.lang).termAdded, { name: term.name }) }
      },
    }), { body: TermForm, limit: perMinute('admin.terms.write', 20), ...hidden() })
}
