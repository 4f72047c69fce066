/**
 * The worker thread a timetable import plans in (plan.ts, started by import.ts): one file, one
 * worker. Messages: `plan` (the PlanInput) answered with the span and the rows' keys; `assign` (the
 * holders and the series of earlier imports, as often as asked) answered with the totals and, to
 * write, the writable rows; `report` (the series written, by line, and whether the import was kept)
 * answered with the report as JSON. A refusal (HttpError) comes back as `refused` with its status,
 * message and extra fields.
 */
import { HttpError } from '../../../lib/errors'
import { lowerThisThreadPriority } from '../../../lib/thread-priority'
import { TimetablePlanner, type ExistingSeries, type PlanInput } from './plan'
import type { RoomHolders } from './series'

declare const self: Worker

// A plan is seconds of CPU for a big file; the threads that answer bookings come first.
lowerThisThreadPriority()

export type PlanRequest =
  | { kind: 'plan'; input: PlanInput }
  | { kind: 'assign'; holders: Map<number, RoomHolders>; existing: Map<string, ExistingSeries>; writable: boolean }
  | { kind: 'report'; seriesIds: [number, number][]; written: boolean }

let planner: TimetablePlanner | undefined

self.onmessage = (event: MessageEvent<PlanRequest>) => {
  try {
    const request = event.data
    if (request.kind === 'plan') {
      planner = new TimetablePlanner(request.input)
      self.postMessage({ kind: 'planned', span: planner.span(), keys: planner.keys() })
    } else if (request.kind === 'assign') {
      const assigned = planner!.assign(request.holders, request.existing, request.writable)
      const buffers = assigned.rows.flatMap((row) => [row.lessons.buffer, row.actions.buffer, row.existingIds.buffer] as ArrayBuffer[])
      self.postMessage({ kind: 'assigned', ...assigned }, buffers)
    } else {
      self.postMessage({ kind: 'report', json: planner!.reportJson(request.seriesIds, request.written) })
    }
  } catch (error) {
    if (error instanceof HttpError) self.postMessage({ kind: 'refused', status: error.status, msg: error.message, extra: error.extra })
    else self.postMessage({ kind: 'failed', msg: error instanceof Error ? `${error.name}: ${error.message}` : String(error) })
  }
}
