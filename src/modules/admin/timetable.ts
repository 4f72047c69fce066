/**
 * The academic calendar and timetables (issue 15), admin only: closures (and their import from an
 * iCalendar file), terms, and importing a term's timetable from CSV. Thin handlers over the
 * booking core (closure-writes.ts, terms.ts, timetable-import.ts).
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { createClosure, deleteClosure, importClosures, updateClosure } from '../../core/bookings/timetable/closure-writes'
import { BOOKING_MSG, CLOSURE_MSG, IMPORT_MSG, ROOM_MSG } from '../../core/bookings/messages'
import { CLOSURE_KINDS, Closure } from '../../core/bookings/model'
import { createTerm, listTerms } from '../../core/bookings/timetable/terms'
import { importTimetable } from '../../core/bookings/timetable/import'
import { Id, IdList } from '../../lib/input'
import { NAME_MSG } from '../../lib/names'
import { TIME_MSG } from '../../lib/time'
import { authGuard } from '../../plugins/auth'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'

const tags = ['Admin']
const Kind = (description: string) => t.UnionEnum(CLOSURE_KINDS, { description, default: undefined, error: `kind must be one of ${CLOSURE_KINDS.join(', ')}` })
const when = (description: string) => t.Optional(t.Unknown({ description: `${description}, ISO 8601`, examples: ['2026-12-31T21:00:00Z'] }))

const ClosureBody = t.Object({
  room_ids: t.Optional(IdList('room_ids', { description: 'the rooms it closes (or all_rooms: true)' })),
  all_rooms: t.Optional(t.Boolean({ description: 'close every room' })),
  start_time: when('start'),
  end_time: when('end'),
  kind: Kind('holiday, maintenance, exam or other'),
  reason: t.Optional(t.String({ maxLength: 300, description: 'shown to whoever tries to book: "room is closed: <reason>"' })),
  cancel_affected: t.Optional(t.Boolean({ description: 'cancel the active bookings inside it (audited with the reason); default false: they are only listed' })),
}, { examples: [{ all_rooms: true, start_time: '2026-12-31T21:00:00Z', end_time: '2027-01-08T21:00:00Z', kind: 'holiday', reason: 'New Year holidays' }] })

const UpdateClosureBody = t.Object({
  start_time: when('new start'),
  end_time: when('new end'),
  kind: t.Optional(Kind('a new kind')),
  reason: t.Optional(t.String({ maxLength: 300 })),
}, { examples: [{ reason: 'Heating repair' }] })

const ClosureReply = t.Object({ closure: Closure, affected: t.Array(t.Integer(), { description: 'active bookings inside the closure (cancelled with cancel_affected)' }) })
const Params = t.Object({ id: Id('closure id') })
const CLOSURE_400 = [TIME_MSG.invalid, TIME_MSG.required, BOOKING_MSG.badRange, CLOSURE_MSG.roomsRequired, CLOSURE_MSG.reasonRequired]

const TermBody = t.Object({
  name: t.Optional(t.String({ maxLength: 200 })),
  starts_on: t.Optional(t.String({ maxLength: 10, description: 'first day, YYYY-MM-DD' })),
  ends_on: t.Optional(t.String({ maxLength: 10, description: 'last day, YYYY-MM-DD' })),
}, { examples: [{ name: 'Autumn 2026', starts_on: '2026-09-01', ends_on: '2026-12-27' }] })
const Term = t.Object({ id: t.Integer(), name: t.String(), starts_on: t.String(), ends_on: t.String(), created_at: t.String() }, { title: 'Term' })

const ImportRow = t.Object({
  line: t.Integer(), room: t.String(), teacher: t.String(), weekday: t.String(), start: t.String(), end: t.String(), from: t.String(), until: t.String(),
  title: t.Nullable(t.String()), rrule: t.Nullable(t.String()), series_id: t.Nullable(t.Integer({ description: 'null in a dry run or a failed import' })),
  occurrences: t.Integer(), created: t.Integer(),
  conflicts: t.Array(t.Object({
    start_time: t.String(), end_time: t.String(),
    kind: t.UnionEnum(['booking', 'closure', 'row'], { description: 'what the lesson overlaps: a booking or closure of its room, or a lesson of an earlier row of this file' }),
    id: t.Nullable(t.Integer({ description: 'the booking or closure; null for a row of the file' })),
    line: t.Optional(t.Integer({ description: 'kind row: the line of the file it overlaps' })),
    msg: t.String(),
  })),
  errors: t.Array(t.String()),
})
const ImportReport = t.Object({
  dry_run: t.Boolean(), skip_conflicts: t.Boolean(),
  totals: t.Object({ rows: t.Integer(), series: t.Integer(), occurrences: t.Integer(), created: t.Integer(), conflicts: t.Integer(), errors: t.Integer() }),
  rows: t.Array(ImportRow),
}, { title: 'TimetableImportReport' })
const flag = (description: string) => t.Optional(t.String({ description, examples: ['1'] }))
const on = (value: string | undefined) => value === '1' || value === 'true'

const CSV_EXAMPLE = 'room,teacher,weekday,start,end,from,until,title\nB101,teacher,mon,10:00,11:30,2027-02-01,2027-05-30,Linear algebra\nB102,teacher,ср,12:00,13:30,2027-02-01,2027-05-30,Physics'
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
      detail: { tags, summary: 'Close rooms for a period (holiday, maintenance, exam): no booking may overlap it; lists (or cancels) the bookings inside' },
    })
    .patch('/closures/:id', ({ params, body, user }) => updateClosure(ctx, user, params.id, body), {
      auth: 'admin',
      params: Params,
      body: UpdateClosureBody,
      response: { 200: ClosureReply },
      limit: perMinute('admin.closures.write', 30),
      errors: { 400: CLOSURE_400, 404: [CLOSURE_MSG.notFound] },
      detail: { tags, summary: "Change a closure's times, kind or reason (bookings are not touched; those inside are listed)" },
    })
    .delete('/closures/:id', ({ params, user }) => deleteClosure(ctx, user, params.id), {
      auth: 'admin',
      params: Params,
      response: { 200: t.Object({ status: t.Literal('deleted') }) },
      limit: perMinute('admin.closures.write', 30),
      errors: { 404: [CLOSURE_MSG.notFound] },
      detail: { tags, summary: 'Remove a closure' },
    })
    .post('/closures/import', async ({ body, user, set }) => {
      const result = await importClosures(ctx, user, text(body))
      set.status = result.created ? 201 : 200
      return result
    }, {
      auth: 'admin',
      parse: 'text',
      body: t.String({ maxLength: 2_000_000, description: 'an iCalendar file (text/calendar), e.g. a national holiday calendar' }),
      response: {
        200: t.Object({ created: t.Integer(), updated: t.Integer(), unchanged: t.Integer(), closures: t.Array(Closure) }),
        201: t.Object({ created: t.Integer(), updated: t.Integer(), unchanged: t.Integer(), closures: t.Array(Closure) }),
      },
      limit: perMinute('admin.closures.import', 10),
      errors: { 400: [CLOSURE_MSG.badCalendar('<what>')] },
      detail: {
        tags,
        summary: 'Import closures from an iCalendar file: one all-rooms holiday per event, idempotent by UID (201 when it created some)',
        'x-request-body': textBody('text/calendar', 'an iCalendar file, e.g. a national holiday calendar; all-day dates are local to APP_TIMEZONE', ICS_EXAMPLE),
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
    .post('/timetable/import', async ({ body, query, user, set }) => {
      const dryRun = on(query.dry_run)
      // The report comes serialized from the import's worker thread (a megabyte for 5,000 rows):
      // answered as it is, not parsed and serialized again here.
      const report = await importTimetable(ctx, user, text(body), { dryRun, skipConflicts: on(query.skip_conflicts) })
      return new Response(report, { status: dryRun ? 200 : 201, headers: { ...(set.headers as Record<string, string>), 'content-type': 'application/json;charset=utf-8' } })
    }, {
      auth: 'admin',
      parse: 'text',
      body: t.String({ maxLength: 5_000_000, description: 'CSV (UTF-8, comma or semicolon): room,teacher,weekday,start,end,from,until,title' }),
      query: t.Object({
        dry_run: flag('1: check everything and report, keep nothing'),
        skip_conflicts: flag('1: leave conflicting lessons out (default: any conflict keeps the whole file out)'),
      }),
      response: { 200: ImportReport, 201: ImportReport },
      limit: perMinute('admin.timetable.import', 10),
      errors: { 400: [IMPORT_MSG.header, IMPORT_MSG.badCsv('<what>'), IMPORT_MSG.failed], 404: [ROOM_MSG.notFound], 409: [IMPORT_MSG.failed] },
      detail: {
        tags,
        summary: "Import a term's timetable: one weekly series per CSV row (all or nothing unless skip_conflicts=1)",
        'x-request-body': textBody('text/csv', 'CSV (UTF-8, comma or semicolon): room,teacher,weekday,start,end,from,until,title', CSV_EXAMPLE),
        description: 'Columns `room,teacher,weekday,start,end,from,until,title`; weekday 1-7, mon..sun or пн..вс; start/end HH:MM local (APP_TIMEZONE); from/until YYYY-MM-DD. The answer reports each row: its rule, occurrences, conflicts and errors with line numbers. A failed import answers 400 (errors) or 409 (conflicts) with `{msg, report}`.',
      },
    })
