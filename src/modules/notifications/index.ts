/**
 * Notices (issue 28): a user's in-app list and its unread count, marking read, preferences per
 * kind and channel, their e-mail address (confirmed by a link), the unsubscribe link of every
 * e-mail, and for admins the e-mail that could not be delivered. The notices themselves are made
 * by the core's notifier from the change record; no route here sends anything.
 */
import { Elysia, t } from 'elysia'
import type { Ctx } from '../../context'
import { EMAIL_MSG, removeEmail, requestEmail, verifyEmail } from '../../core/notifications/addresses'
import { INBOX_MSG, listNotices, markRead } from '../../core/notifications/inbox'
import { isNoticeKind } from '../../core/notifications/kinds'
import { unsubscribeToken } from '../../core/notifications/mail'
import { listFailedMail, OUTBOX_MSG, retryMail } from '../../core/notifications/outbox'
import { PREFERENCE_MSG, readPreferences, unsubscribe, updatePreferences } from '../../core/notifications/preferences'
import { esc } from '../../lib/html'
import { requestLanguage, type Lang } from '../../lib/i18n'
import { Id } from '../../lib/input'
import { NotFound } from '../../lib/errors'
import { sameSecret } from '../../lib/same-secret'
import { authGuard } from '../../plugins/auth'
import { perMinute } from '../../plugins/rate-limit'
import { routeRules } from '../../plugins/route-rules'
import { FailedMailList, MarkReadBody, NoticeList, NoticeListQuery, PreferencesBody, PreferencesReply, UnreadReply, UnsubscribeQuery } from './model'

const tags = ['Notifications']
const HTML = { 'text/html': { schema: { type: 'string' as const } } }

/** A small page for a link followed from an e-mail, in the reader's language, with a way on to the app. */
function page(ctx: Ctx, lang: Lang, title: string, body: string, status = 200): Response {
  const onward = ctx.config.frontendBaseUrl
    ? `<p><a href="${esc(ctx.config.frontendBaseUrl)}/">${lang === 'ru' ? 'Открыть QRBOOK' : 'Open QRBOOK'}</a></p>`
    : ''
  const html = `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<title>${esc(title)}</title></head><body style="font-family:system-ui,sans-serif;font-size:1.05rem;line-height:1.45;max-width:36rem;margin:2rem auto;padding:0 1rem">`
    + `<h1 style="font-size:1.35rem">${esc(title)}</h1>${body}${onward}</body></html>`
  return new Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8' } })
}

const BUTTON = 'font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff'

const UNSUB_TEXT = {
  en: { title: 'Stop these e-mails', ask: 'Stop e-mails of this kind? In-app notices stay on; you can change this in your preferences.', button: 'Stop them', done: 'Done: no more e-mails of this kind.' },
  ru: { title: 'Отписка от писем', ask: 'Больше не присылать письма этого вида? Уведомления в приложении останутся; это можно изменить в настройках.', button: 'Отписаться', done: 'Готово: письма этого вида больше не придут.' },
}

export const notificationRoutes = (ctx: Ctx) =>
  new Elysia()
    .use(authGuard(ctx))
    .use(routeRules(ctx))
    .get('/me/notifications', async ({ user, query, request }) => listNotices(ctx, user.id, requestLanguage(request), query), {
      auth: 'student',
      query: NoticeListQuery,
      response: { 200: NoticeList },
      limit: perMinute('notifications.list', 600),
      detail: { tags, summary: 'Your notices, newest first, with the unread count', description: 'Each notice in the language of Accept-Language and the rooms\' time zone. New ones are also pushed as `notification` events `{"unread"}` on GET /api/rooms/events when the stream is opened with the session cookie.' },
    })
    .post('/me/notifications/read', ({ user, body }) => markRead(ctx, user.id, body), {
      auth: 'student',
      body: MarkReadBody,
      response: { 200: UnreadReply },
      errors: { 400: [INBOX_MSG.nothingToMark] },
      limit: perMinute('notifications.read', 120),
      detail: { tags, summary: 'Mark notices read: `ids`, or `all: true`; the unread count after' },
    })
    .get('/me/notification-preferences', ({ user }) => readPreferences(ctx, user.id), {
      auth: 'student',
      response: { 200: PreferencesReply },
      limit: perMinute('notifications.preferences', 120),
      detail: { tags, summary: 'Which notices you get in the app and by e-mail, your address and language' },
    })
    .put('/me/notification-preferences', ({ user, body }) => updatePreferences(ctx, user.id, body), {
      auth: 'student',
      body: PreferencesBody,
      response: { 200: PreferencesReply },
      limit: perMinute('notifications.preferences.update', 60),
      errors: { 400: [PREFERENCE_MSG.kind, PREFERENCE_MSG.channel, PREFERENCE_MSG.nothing] },
      detail: { tags, summary: 'Turn kinds of notice on or off per channel; set the language of your notices' },
    })
    .post('/me/email', async ({ user, body, set }) => {
      set.status = 202
      return requestEmail(ctx, user, body.email)
    }, {
      auth: 'student',
      body: t.Object({ email: t.String({ maxLength: 320 }) }, { examples: [{ email: 'ivanova@college.example' }] }),
      response: { 202: t.Object({ pending: t.String({ description: 'the address a confirmation link was sent to' }) }) },
      limit: perMinute('notifications.email', 5),
      errors: { 400: [EMAIL_MSG.invalid], 409: [EMAIL_MSG.unavailable] },
      detail: { tags, summary: 'Ask for e-mail notices at an address: a confirmation link is sent to it; it is yours once followed' },
    })
    .delete('/me/email', async ({ user }) => {
      await removeEmail(ctx, user)
      return { email: null }
    }, {
      auth: 'student',
      response: { 200: t.Object({ email: t.Null() }) },
      limit: perMinute('notifications.email', 5),
      detail: { tags, summary: 'No more e-mail: remove your address' },
    })
    .get('/me/email/verify', async ({ query, request }) => {
      const lang = requestLanguage(request)
      try {
        const { email } = await verifyEmail(ctx, query.token)
        return page(ctx, lang, lang === 'ru' ? 'Адрес подтверждён' : 'Address confirmed', `<p>${esc(lang === 'ru' ? `Уведомления будут приходить на ${email}.` : `Notices will be sent to ${email}.`)}</p>`)
      } catch (error) {
        // A browser gets a page that says what to do; any other client the API's JSON {msg}.
        if (!(error instanceof NotFound) || !request.headers.get('accept')?.includes('text/html')) throw error
        return page(ctx, lang, lang === 'ru' ? 'Ссылка не подходит' : 'This link does not work', `<p>${esc(lang === 'ru' ? 'Ссылка неверна или устарела: запросите новую в настройках уведомлений.' : 'The link is invalid or has expired: ask for a new one in your notice preferences.')}</p>`, 404)
      }
    }, {
      query: t.Object({ token: t.String({ maxLength: 200 }) }),
      limit: perMinute('notifications.verify', 30),
      errors: { 404: [EMAIL_MSG.badLink] },
      detail: { tags, summary: 'The confirmation link of an e-mail address (an HTML page; an invalid or expired link is a 404 page)', responses: { 200: { description: 'the address is confirmed', content: HTML } } },
    })
    .get('/notifications/unsubscribe', ({ query, request }) => {
      const lang = requestLanguage(request)
      const text = UNSUB_TEXT[lang]
      checkUnsubscribe(ctx, query)
      const action = `?u=${encodeURIComponent(query.u)}&k=${encodeURIComponent(query.k)}&t=${encodeURIComponent(query.t)}`
      return page(ctx, lang, text.title, `<p>${esc(text.ask)}</p><form method="post" action="${esc(action)}"><button type="submit" style="${BUTTON}">${esc(text.button)}</button></form>`)
    }, {
      query: UnsubscribeQuery,
      limit: perMinute('notifications.unsubscribe', 60),
      errors: { 404: ['not found'] },
      detail: { tags, summary: 'The unsubscribe link of an e-mail: a page that asks before it acts (link checkers follow GETs)', responses: { 200: { description: 'a page', content: HTML } } },
    })
    .post('/notifications/unsubscribe', async ({ query, request }) => {
      const lang = requestLanguage(request)
      const { userId, kind } = checkUnsubscribe(ctx, query)
      await unsubscribe(ctx, userId, kind)
      return page(ctx, lang, UNSUB_TEXT[lang].title, `<p>${esc(UNSUB_TEXT[lang].done)}</p>`)
    }, {
      query: UnsubscribeQuery,
      limit: perMinute('notifications.unsubscribe', 60),
      errors: { 404: ['not found'] },
      detail: { tags, summary: 'One-click unsubscribe (RFC 8058): that kind of notice is no longer e-mailed to that user', responses: { 200: { description: 'a page', content: HTML } } },
    })
    .get('/admin/notifications/failed', ({ query }) => listFailedMail(ctx, query), {
      auth: 'admin',
      query: t.Object({ limit: t.Optional(t.Numeric({ minimum: 1, maximum: 500 })) }),
      response: { 200: FailedMailList },
      limit: perMinute('admin.notifications.failed', 120),
      detail: { tags, summary: 'E-mail notices that could not be delivered (and the ones still retrying), newest first' },
    })
    .post('/admin/notifications/failed/:id/retry', async ({ params }) => ({ retried: await retryMail(ctx, params.id) }), {
      auth: 'admin',
      params: t.Object({ id: Id('id') }),
      response: { 200: t.Object({ retried: t.Literal(true) }) },
      limit: perMinute('admin.notifications.retry', 60),
      errors: { 404: ['not found'], 409: [OUTBOX_MSG.notFailed] },
      detail: { tags, summary: 'Send a failed e-mail notice again' },
    })

function checkUnsubscribe(ctx: Ctx, query: { u: string; k: string; t: string }) {
  const userId = Number(query.u)
  if (!Number.isSafeInteger(userId) || userId < 1 || !isNoticeKind(query.k) || !sameSecret(query.t, unsubscribeToken(ctx.config.secretKey, userId, query.k))) throw new NotFound('not found')
  return { userId, kind: query.k }
}
