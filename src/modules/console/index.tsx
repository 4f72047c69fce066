/**
 * The console (issue 27, decision 033): a web UI for administrators and teachers, served by the
 * backend at /console (root only, not under /api), on the API's own session cookies and core calls.
 * Each page module owns its paths; the assets are two files read once at start.
 */
import { readdirSync } from 'node:fs'
import { Elysia, t } from 'elysia'
import type { Context } from 'elysia'
import type { Ctx } from '../../context'
import { routeRules } from '../../plugins/route-rules'
import { NotFound } from '../../lib/errors'
import { hidden, page, type SetLike } from './kit'
import { common } from './text'
import { loginPages } from './pages/login'
import { overviewPages } from './pages/overview'
import { termPages } from './pages/term'
import { closurePages } from './pages/closures'
import { calendarPages } from './pages/calendar'
import { lessonPages } from './pages/lessons'
import { policyPages } from './pages/policies'
import { approvalPages } from './pages/approvals'
import { userPages } from './pages/users'
import { roomPages } from './pages/rooms'
import { auditPages } from './pages/audit'
import { reportPages } from './pages/reports'

/**
 * The two assets, each the concatenation of its kind's files in ./assets: console.css (or .js)
 * first, then each page's own file (calendar.css, reports.css, ...) in name order. Read once.
 */
const ASSET_TYPES: Record<string, string> = { 'console.css': 'text/css; charset=utf-8', 'console.js': 'text/javascript; charset=utf-8' }
const assetText = new Map<string, Promise<string>>()
async function readAsset(name: string): Promise<string> {
  const extension = name.slice(name.lastIndexOf('.'))
  const dir = new URL('./assets/', import.meta.url).pathname
  const files = readdirSync(dir).filter((f) => f.endsWith(extension) && f !== name).sort()
  const parts = await Promise.all([name, ...files].map((f) => Bun.file(`${dir}${f}`).text()))
  return parts.join('\n')
}
function asset(name: string): Promise<string> {
  let text = assetText.get(name)
  if (!text) assetText.set(name, (text = readAsset(name)))
  return text
}

/** Any other /console path: sign-in first (as every page), then 404 within the frame. */
const notFound = (ctx: Ctx) => ({ request, set }: Pick<Context, 'request' | 'set'>) =>
  page(ctx, request, set as SetLike, {
    role: 'teacher', active: 'overview', status: 404, title: (lang) => common(lang).notFoundTitle,
    render: (env) => (
      <>
        <p safe>{common(env.lang).notFound}</p>
        <p><a href="/console" safe>{common(env.lang).overview}</a></p>
      </>
    ),
  })

export const consoleRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(routeRules(ctx))
    .get('/console/assets/:name', async ({ params, set }) => {
      // own keys only: "constructor" or "__proto__" is no asset
      const type = Object.hasOwn(ASSET_TYPES, params.name) ? ASSET_TYPES[params.name] : undefined
      if (!type) throw new NotFound('not found')
      set.headers['content-type'] = type
      set.headers['cache-control'] = 'public, max-age=3600'
      return asset(params.name)
    }, { params: t.Object({ name: t.String({ maxLength: 40 }) }), ...hidden() })
    .use(loginPages(ctx))
    .use(overviewPages(ctx))
    .use(termPages(ctx))
    .use(closurePages(ctx))
    .use(calendarPages(ctx))
    .use(lessonPages(ctx))
    .use(policyPages(ctx))
    .use(approvalPages(ctx))
    .use(userPages(ctx))
    .use(roomPages(ctx))
    .use(auditPages(ctx))
    .use(reportPages(ctx))
    .get('/console/*', notFound(ctx), hidden())
