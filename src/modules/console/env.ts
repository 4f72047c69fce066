/** What a console page is rendered for (kit.tsx builds it; layout.tsx and the pages read it). */
import type { Ctx } from '../../context'
import type { Actor } from '../../core/identity/actors'
import type { Lang } from '../../lib/i18n'

export interface Viewer { actor: Actor; csrf: string }

/** What a page's renderer gets: who asks, in which language, the rooms' zone, now (the injected clock). */
export interface PageEnv {
  ctx: Ctx
  request: Request
  url: URL
  lang: Lang
  viewer: Viewer
  timeZone: string
  now: Date
  /** the error from a form post this page answers directly (e.g. an upload), translated */
  error?: string
}

export interface Flash { kind: 'done' | 'error'; text: string }

