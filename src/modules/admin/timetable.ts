/**
 * The academic calendar and timetables (issue 15), admin only: closures (and their import from an
 * iCalendar file), terms, and importing a term's timetable from CSV. Thin handlers over the
 * booking core (closure-writes.ts, terms.ts, timetable-import.ts).
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { createClosure, deleteClosure, importClosures, updateClosure } from '../../core/bookings/timetable/closure-writes'
import { BOOKING_MSG, CLOSURE_MSG, IMPORT_MSG, ROOM_MSG } from '../../core/bookings/messages'
import { CLOSURE_KINDS, Closure, Timestamp } from '../../core/bookings/model'
import { createTerm, listTerms } from '../../core/bookings/timetable/terms'
import { importTimetable } from '../../core/bookings/timetable/import'
import { FILE_ENCODINGS } from '../../core/bookings/timetable/encoding'
import { Id, IdList } from '../../lib/input'
import { instantFields } from '../../lib/instant-input'
import { DateOnly, Int } from '../../lib/wire-types'
import { NAME_MSG } from '../../lib/names'
import { localParts, TIME_MSG } from '../../lib/time'
import { addVary } from '../../lib/http-cache'
import { requestLanguage, translate, type Lang, type TranslateOptions } from '../../lib/i18n'
import { authGuard } from '../../plugins/auth'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'

const tags = ['Admin']
const closureTags = ['Closures']

/** An import report in `lang`: every `msg` and every row's `errors`, through the catalogue (lib/i18n.ts). */
function translateReport(value: unknown, lang: Lang, options: TranslateOptions): unknown {
  const say = (message: string) => translate(message, lang, options)
  const walk = (node: unknown, key?: string): unknown => {
    if (typeof node === 'string') return key === 'msg' || key === 'errors' ? say(node) : node
    if (Array.isArray(node)) return node.map((item) => walk(item, key))
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, k)]))
    return node
  }
  return walk(value)
}
const Kind = (description: string) => t.UnionEnum(CLOSURE_KINDS, { description, default: undefined, error: `kind must be one of ${CLOSURE_KINDS.join(', ')}` })
const closureTimes = instantFields()
/** A change's instants: each may be sent alone. */
const changedTimes = instantFields()

const ClosureBody = t.Object({
  room_ids: t.Optional(IdList('room_ids', { description: 'the rooms it closes (or all_rooms: true)' })),
  all_rooms: t.Optional(t.Boolean({ description: 'close every room' })),
  start_time: closureTimes.required('start_time', { description: 'start', examples: ['2026-12-31T21:00:00Z'] }),
  end_time: closureTimes.required('end_time', { description: 'end', examples: ['2027-01-08T21:00:00Z'] }),
  kind: Kind('holiday, maintenance, exam or other'),
  reason: t.Optional(t.String({ maxLength: 300, description: 'shown to whoever tries to book: "room is closed: <reason>"' })),
  cancel_affected: t.Optional(t.Boolean({ description: 'cancel the active bookings inside it (audited with the reason); default false: they are only listed' })),
}, { examples: [{ all_rooms: true, start_time: '2026-12-31T21:00:00Z', end_time: '2027-01-08T21:00:00Z', kind: 'holiday', reason: 'New Year holidays' }] })

const UpdateClosureBody = t.Object({
  start_time: changedTimes.optional('start_time', { description: 'new start', examples: ['2026-12-31T21:00:00Z'] }),
  end_time: changedTimes.optional('end_time', { description: 'new end', examples: ['2027-01-08T21:00:00Z'] }),
  kind: t.Optional(Kind('a new kind')),
  reason: t.Optional(t.String({ maxLength: 300 })),
}, { examples: [{ reason: 'Heating repair' }] })

const ClosureReply = t.Object({ closure: Closure, affected: t.Array(Int(), { description: 'active bookings inside the closure (cancelled with cancel_affected)' }) })
const Params = t.Object({ id: Id('closure id') })
const ImportedEvent = t.Object({
  uid: t.String(), reason: t.String(), start_time: Timestamp, end_time: Timestamp,
  action: t.UnionEnum(['create', 'update', 'unchanged'], { description: 'what the import does (a dry run: would do) with its closure, found by UID' }),
  closure_id: t.Nullable(Int({ description: 'its closure; null for one a dry run would create' })),
  bookings: Int({ minimum: 0, description: 'active bookings (not lessons) inside it that have not ended' }),
  lessons: Int({ minimum: 0, description: 'active lessons (occurrences of a series) inside it that have not ended' }),
}, { title: 'ImportedHoliday' })
const ClosureImportReply = t.Object({
  created: Int({ minimum: 0, description: 'closures created (a dry run: it would create)' }),
  updated: Int({ minimum: 0, description: 'closures updated (a dry run: it would update)' }),
  unchanged: Int({ minimum: 0 }),
  closures: t.Array(Closure, { description: 'the closures it wrote or left; a dry run: the stored closures the file names, as they are now' }),
  dry_run: t.Boolean(),
  events: t.Array(ImportedEvent, { description: 'every event of the file, in order' }),
}, { title: 'ClosureImport' })
const CLOSURE_400 = [TIME_MSG.invalid, TIME_MSG.required, BOOKING_MSG.badRange, CLOSURE_MSG.roomsRequired, CLOSURE_MSG.reasonRequired]

const TermBody = t.Object({
  name: t.Optional(t.String({ maxLength: 200 })),
  starts_on: t.Optional(t.String({ maxLength: 10, description: 'first day, YYYY-MM-DD' })),
  ends_on: t.Optional(t.String({ maxLength: 10, description: 'last day, YYYY-MM-DD' })),
}, { examples: [{ name: 'Autumn 2026', starts_on: '2026-09-01', ends_on: '2026-12-27' }] })
const Term = t.Object({
  id: Int(), name: t.String(), starts_on: DateOnly({ description: 'first day' }), ends_on: DateOnly({ description: 'last day' }), created_at: Timestamp,
}, { title: 'Term' })

const ImportConflict = t.Object({
  start_time: Timestamp, end_time: Timestamp,
  kind: t.UnionEnum(['booking', 'row'], { description: 'what the lesson overlaps: a booking of its room, or a lesson of an earlier row of this file (a closure is no conflict: skipped_closures)' }),
  id: t.Nullable(Int({ description: 'the booking; null for a row of the file' })),
  line: t.Optional(Int({ description: 'kind row: the line of the file it overlaps' })),
  msg: t.String(),
})
const SkippedClosure = t.Object({
  start_time: Timestamp, end_time: Timestamp, closure_id: Int(), msg: t.String({ description: 'room is closed: <reason>' }),
}, { description: 'a lesson left out because its room is closed then (a holiday): not a conflict' })
const count = (description: string) => Int({ minimum: 0, description })
/** What an import did (written) or would do (a dry run): the same counts under other names. */
const done = (written: boolean): Record<string, ReturnType<typeof count>> => written
  ? {
    created: count('lessons created'), updated: count("lessons of the row's series changed (teacher, title, end)"),
    cancelled: count("lessons of the row's series cancelled: the file no longer has them"),
  }
  : {
    would_create: count('lessons the import would create'), would_update: count("lessons of the row's series it would change (teacher, title, end)"),
    would_cancel: count("lessons of the row's series it would cancel: the file no longer has them"),
  }
const rowOf = (written: boolean) => t.Object({
  line: Int({ minimum: 1, description: 'its line in the file' }), room: t.String(), teacher: t.String(), weekday: t.String(),
  // The cells as the file has them, so a row with an error still shows what it said.
  start: t.String({ description: 'the cell as written: HH:MM local (APP_TIMEZONE)' }),
  end: t.String({ description: 'the cell as written: HH:MM local (APP_TIMEZONE)' }),
  from: t.String({ description: 'the cell as written: YYYY-MM-DD or DD.MM.YYYY' }),
  until: t.String({ description: 'the cell as written: YYYY-MM-DD or DD.MM.YYYY' }),
  title: t.Nullable(t.String()), rrule: t.Nullable(t.String({ description: 'the rule of its lessons from now on' })),
  series_id: t.Nullable(Int({ description: "the row's series: made by this import, or by an earlier import of the same row (its slot: room, day, start, from), which this one updates; null when there is none" })),
  occurrences: count('its lessons from now on'), ...done(written),
  unchanged: count("lessons its series has already as the file says (or left out on purpose: cancelled or moved on their own)"),
  skipped_past: count('its lessons before now, not imported: the term has begun'),
  skipped_closures: t.Array(SkippedClosure),
  conflicts: t.Array(ImportConflict),
  errors: t.Array(t.String()),
})
const reportOf = (written: boolean, title: string) => t.Object({
  dry_run: t.Boolean(), skip_conflicts: t.Boolean(),
  encoding: t.UnionEnum(FILE_ENCODINGS, { description: 'the encoding the file was read in' }),
  delimiter: t.String({ description: 'the delimiter the header uses: ";", "," or a tab' }),
  totals: t.Object({
    rows: Int({ minimum: 0 }), series: Int({ minimum: 0 }), occurrences: Int({ minimum: 0 }), ...done(written), unchanged: Int({ minimum: 0 }),
    skipped_past: Int({ minimum: 0 }), skipped_closures: Int({ minimum: 0 }), conflicts: Int({ minimum: 0 }), errors: Int({ minimum: 0 }),
  }),
  rows: t.Array(rowOf(written)),
}, { title })
const ImportReport = reportOf(true, 'TimetableImportReport')
const DryRunReport = reportOf(false, 'TimetableImportDryRun')
const flag = (description: string, example?: string) => t.Optional(t.String({ description, ...(example ? { examples: [example] } : {}) }))
const on = (value: string | undefined) => value === '1' || value === 'true'

/** The example's term: 16 weeks, each weekday 16 times. */
const TERM_DAYS = 16 * 7

/**
 * The import's example as Russian Excel saves a college's timetable: Russian headers, `;`, dates
 * DD.MM.YYYY, a term from a week after the app started. Its rooms (B102, A200) are not the series
 * and reserve examples' (B101), and it runs dry (dry_run=1), so trying it out books nothing.
 */
function csvExample(now: Date, timeZone: string): string {
  const day = (days: number) => {
    const p = localParts(new Date(now.getTime() + days * 24 * 3600_000), timeZone)
    return `${String(p.day).padStart(2, '0')}.${String(p.month).padStart(2, '0')}.${p.year}`
  }
  return ['день;начало;конец;аудитория;преподаватель;название;с;по',
    `пн;10:00;11:30;B102;teacher;Линейная алгебра;${day(7)};${day(7 + TERM_DAYS - 1)}`,
    `ср;12:00;13:30;A200;teacher;Физика;${day(7)};${day(7 + TERM_DAYS - 1)}`].join('\n')
}
const ICS_EXAMPLE = 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//college//holidays//EN\r\nBEGIN:VEVENT\r\nUID:new-year-2027@college\r\nDTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270109\r\nSUMMARY:New Year holidays\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'
/** The document's request body of a text route (x-request-body, read by openapi-enrich.ts): its real content type, with an example to try. */
const textBody = (type: string, description: string, example: string) => ({
  required: true, description, content: { [type]: { schema: { type: 'string' as const, description }, example } },
})

/** A text body (CSV, iCalendar), whatever its exact content type says. */
const text = (body: unknown) => (typeof body === 'string' ? body : '')

export const adminTimetableRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .post('/closures', async ({ body, user, set }) => {
      const created = await createClosure(ctx, user, body)
      set.status = 201
      return created
    }, {
      auth: 'admin',
      body: ClosureBody,
      response: { 201: ClosureReply },
      limit: perMinute('admin.closures.write', 30),
      errors: { 400: CLOSURE_400, 404: [CLOSURE_MSG.roomsNotFound('<ids>')] },
      detail: { tags: closureTags, summary: 'Close rooms for a period (holiday, maintenance, exam): no booking may overlap it; lists (or cancels) the bookings inside' },
    })
    .patch('/closures/:id', ({ params, body, user }) => updateClosure(ctx, user, params.id, body), {
      auth: 'admin',
      params: Params,
      body: UpdateClosureBody,
      response: { 200: ClosureReply },
      limit: perMinute('admin.closures.write', 30),
      errors: { 400: CLOSURE_400, 404: [CLOSURE_MSG.notFound] },
      detail: { tags: closureTags, summary: "Change a closure's times, kind or reason (bookings are not touched; those inside are listed)" },
    })
    .delete('/closures/:id', ({ params, user }) => deleteClosure(ctx, user, params.id), {
      auth: 'admin',
      params: Params,
      response: { 200: t.Object({ status: t.Literal('deleted') }) },
      limit: perMinute('admin.closures.write', 30),
      errors: { 404: [CLOSURE_MSG.notFound] },
      detail: { tags: closureTags, summary: 'Remove a closure' },
    })
    .post('/closures/import', async ({ body, query, user, set }) => {
      const dryRun = on(query.dry_run)
      const result = await importClosures(ctx, user, text(body), { dryRun })
      set.status = result.created && !dryRun ? 201 : 200
      return result
    }, {
      auth: 'admin',
      parse: 'text',
      body: t.String({ maxLength: 2_000_000, description: 'an iCalendar file (text/calendar), e.g. a national holiday calendar' }),
      query: t.Object({
        dry_run: flag('1: read and check the file and report what importing it would do (created/updated count what it would create and update), writing nothing (200)', '1'),
      }),
      response: { 200: ClosureImportReply, 201: ClosureImportReply },
      limit: perMinute('admin.closures.import', 10),
      errors: { 400: [CLOSURE_MSG.badCalendar('<what>')] },
      detail: {
        tags: closureTags,
        summary: 'Import closures from an iCalendar file: one all-rooms holiday per event, idempotent by UID (201 when it created some; dry_run=1 previews it)',
        'x-request-body': textBody('text/calendar', 'an iCalendar file, e.g. a national holiday calendar; all-day dates are local to APP_TIMEZONE', ICS_EXAMPLE),
        description: 'Each event (VEVENT) becomes an all-rooms `holiday` closure, found again by its UID: the same file twice changes nothing (`unchanged`), '
          + 'an event whose times or summary changed updates its closure (`updated`). One event that cannot be read refuses the whole file (400). '
          + '`events` lists every event in file order with what the import does with it (`action`: create, update or unchanged) and how many active bookings and lessons '
          + 'that have not ended fall inside it (they are not cancelled: see them with GET /api/admin/closures or cancel them by hand). '
          + 'With `dry_run=1` the file is read, checked and classified the same way and nothing is written (no closure, no change record; always 200): '
          + '`created` and `updated` then count what the import would create and update, `closures` lists the stored closures the file names as they are now, '
          + 'and `closure_id` is null for an event it would create.',
      },
    })
    .post('/terms', async ({ body, user, set }) => {
      const created = await createTerm(ctx, user, body)
      set.status = 201
      return created
    }, {
      auth: 'admin',
      body: TermBody,
      response: { 201: t.Object({ term: Term }) },
      limit: perMinute('admin.terms.write', 20),
      errors: { 400: [NAME_MSG.required, CLOSURE_MSG.badDate('starts_on'), CLOSURE_MSG.badDateOrder], 409: [CLOSURE_MSG.termExists] },
      detail: { tags, summary: 'Add an academic term: a series may run until its end (until_term)' },
    })
    .get('/terms', () => listTerms(ctx), {
      auth: 'admin',
      response: { 200: t.Object({ terms: t.Array(Term) }) },
      detail: { tags, summary: 'The academic terms, by start' },
    })
    .post('/timetable/import', async ({ body, query, user, set, request }) => {
      const dryRun = on(query.dry_run)
      // The report comes serialized from the import's worker thread (a megabyte for 5,000 rows):
      // answered as it is, not parsed and serialized again here, unless it is read in Russian.
      const serialized = await importTimetable(ctx, user, new Uint8Array(body), { dryRun, skipConflicts: on(query.skip_conflicts) })
      const lang = requestLanguage(request)
      const report = lang === 'en' ? serialized : JSON.stringify(translateReport(JSON.parse(serialized), lang, { timeZone: ctx.config.appTimezone, now: ctx.clock.now() }))
      set.headers.vary = addVary(set.headers.vary as string | undefined, 'Accept-Language')
      return new Response(report, { status: dryRun ? 200 : 201, headers: { ...(set.headers as Record<string, string>), 'content-type': 'application/json;charset=utf-8' } })
    }, {
      auth: 'admin',
      // The bytes as sent: the file's encoding is found from them (UTF-8 text would garble Windows-1251).
      parse: 'arrayBuffer',
      body: t.ArrayBuffer(),
      query: t.Object({
        dry_run: flag('1: check everything and report what it would do (would_create...), keep nothing', '1'),
        skip_conflicts: flag('1: leave the lessons that overlap a booking or an earlier row out (default: any such conflict keeps the whole file out; lessons in closures are left out either way)'),
      }),
      response: { 200: DryRunReport, 201: ImportReport },
      limit: perMinute('admin.timetable.import', 10),
      errors: {
        400: [IMPORT_MSG.headerNames, IMPORT_MSG.badCsv('<what>'), IMPORT_MSG.tooManyRows(5000), IMPORT_MSG.failed],
        404: [ROOM_MSG.notFound],
        409: [IMPORT_MSG.failed],
      },
      detail: {
        tags,
        summary: "Import a term's timetable: one weekly series per CSV row; importing it again updates them (all or nothing unless skip_conflicts=1)",
        'x-request-body': textBody('text/csv', 'CSV as a spreadsheet saves it: UTF-8, Windows-1251 or UTF-16 (with its byte order mark); cells separated by ";", "," or tabs', csvExample(ctx.clock.now(), ctx.config.appTimezone)),
        description: 'Columns `room,teacher,weekday,start,end,from,until,title` or in Russian `аудитория,преподаватель,день,начало,конец,с,по,название` (any order, any case); '
          + 'weekday 1-7, mon..sun or пн..вс; start/end HH:MM local (APP_TIMEZONE); from/until YYYY-MM-DD or DD.MM.YYYY. '
          + 'The file may be UTF-8 (with or without a byte order mark), Windows-1251 (Russian Excel\'s CSV) or UTF-16 with a byte order mark (Excel\'s Unicode text); the report says which it read (`encoding`). '
          + 'A term that has begun is imported from now on: the lessons before are counted in `skipped_past`. Lessons in a closure (a holiday) are left out and listed in `skipped_closures`; '
          + 'a lesson that overlaps a booking or an earlier row of the file is a conflict. Importing the file again finds the series of each row by its slot (room, day, start, from) and updates it '
          + '(teacher, title, end, until): the same file twice creates nothing new. The answer reports each row with line numbers; a dry run says what it would do (`would_create`, `would_update`, `would_cancel`), '
          + 'an import what it did (`created`, `updated`, `cancelled`). A failed import answers 400 (errors) or 409 (conflicts) with `{msg, report}`, the report in the dry run\'s words: nothing was written.',
      },
    })
