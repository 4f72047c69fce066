/**
 * One notice as an e-mail (issue 28): in the user's language, times in the rooms' zone, plain text
 * and HTML, an `.ics` of the booking when it is about one, and List-Unsubscribe (RFC 2369, one-click
 * per RFC 8058) that turns that kind's e-mail off. Sent over SMTP_URL with nodemailer; its timeouts
 * are shorter than the outbox's lease, so a hung server never makes a notice sent twice at once.
 */
import type { SendMailOptions, Transporter } from 'nodemailer'
import type { Config } from '../../config'
import { esc } from '../../lib/html'
import type { Lang } from '../../lib/i18n'
import type { NoticeKind } from './kinds'
import { noticeText, type NoticeText } from './text'

/** A notice kind, or the one e-mail that is not a notice: the link that verifies an address. */
export type MailKind = NoticeKind | 'email_verification'

export interface MailInput {
  notificationId: number
  userId: number
  kind: MailKind
  data: Record<string, unknown>
  to: string
  lang: Lang
  timeZone: string
  /** the booking as iCalendar, when the notice is about one */
  ics: string | null
}

/** HMAC of what an unsubscribe link may do, so that nobody can turn off another user's e-mail. */
export function unsubscribeToken(secret: string, userId: number, kind: string): string {
  return new Bun.CryptoHasher('sha256', secret).update(`unsubscribe:${userId}:${kind}`).digest('base64url')
}

function unsubscribeUrl(config: Pick<Config, 'serverExternalBase' | 'secretKey'>, userId: number, kind: string): string {
  const url = new URL('api/notifications/unsubscribe', config.serverExternalBase)
  url.search = new URLSearchParams({ u: String(userId), k: kind, t: unsubscribeToken(config.secretKey, userId, kind) }).toString()
  return url.toString()
}

function verificationText(data: Record<string, unknown>, lang: Lang): NoticeText {
  const link = String(data.link ?? '')
  return lang === 'ru'
    ? { title: 'Подтвердите адрес для уведомлений QRBOOK', lines: ['Чтобы получать уведомления QRBOOK на этот адрес, откройте ссылку (она действует 24 часа):', link, 'Если вы не просили об этом, просто проигнорируйте письмо.'] }
    : { title: 'Confirm your address for QRBOOK notices', lines: ['To receive QRBOOK notices at this address, open this link (valid for 24 hours):', link, 'If you did not ask for this, ignore this e-mail.'] }
}

function mailText(input: Pick<MailInput, 'kind' | 'data' | 'lang' | 'timeZone'>): NoticeText {
  return input.kind === 'email_verification' ? verificationText(input.data, input.lang) : noticeText(input.kind, input.data, input.lang, input.timeZone)
}

export function buildMessage(config: Pick<Config, 'mailFrom' | 'serverExternalBase' | 'secretKey'>, input: MailInput): SendMailOptions {
  const text = mailText(input)
  const host = new URL(config.serverExternalBase).hostname
  const unsubscribe = input.kind === 'email_verification' ? null : unsubscribeUrl(config, input.userId, input.kind)
  const footer = unsubscribe
    ? input.lang === 'ru' ? `Не получать такие письма: ${unsubscribe}` : `Stop these e-mails: ${unsubscribe}`
    : null
  const html = `<!doctype html><html lang="${input.lang}"><body style="font-family:sans-serif">`
    + `<h1 style="font-size:18px">${esc(text.title)}</h1>`
    + text.lines.map((line) => `<p>${/^https?:\/\//.test(line) ? `<a href="${esc(line)}">${esc(line)}</a>` : esc(line)}</p>`).join('')
    + (unsubscribe ? `<p style="color:#666;font-size:12px"><a href="${esc(unsubscribe)}">${input.lang === 'ru' ? 'Не получать такие письма' : 'Stop these e-mails'}</a></p>` : '')
    + '</body></html>'
  return {
    from: config.mailFrom,
    to: input.to,
    subject: text.title,
    text: [...text.lines, ...(footer ? ['', footer] : [])].join('\n'),
    html,
    // The same notice sent again (at least once) carries the same id: a mail client shows it once.
    messageId: `<notice-${input.notificationId}@${host}>`,
    headers: unsubscribe ? { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {},
    attachments: input.ics ? [{ filename: 'booking.ics', content: input.ics, contentType: 'text/calendar; charset=utf-8; method=PUBLISH' }] : [],
  }
}

export interface Mailer {
  send(message: SendMailOptions): Promise<void>
  close(): void
}

/** The SMTP transport (pooled: a backlog goes out over a few connections, not one per notice). */
export function createMailer(smtpUrl: string): Mailer {
  // nodemailer is loaded with the first e-mail, not at start: it holds ~20 MB of RSS, and an
  // instance without mail to send (or without SMTP_URL) never needs it (docs/performance.md, Memory).
  let transport: Promise<Transporter> | undefined
  const open = () => (transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport({
    url: smtpUrl, pool: true, maxConnections: 4, maxMessages: 1000,
    connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000,
  })))
  return {
    async send(message) {
      await (await open()).sendMail(message)
    },
    close: () => void transport?.then((t) => t.close()),
  }
}
