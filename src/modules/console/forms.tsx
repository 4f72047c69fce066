/**
 * What every console form shares: the hidden field carrying the session's CSRF value (kit.tsx's
 * `action` checks it), its schema, a checkbox's value read as a boolean, and the page-of-pages pager.
 */
import { t } from 'elysia'

/** The session's CSRF value, as every form posts it. */
export function CsrfField(props: { csrf: string }) {
  return <input type="hidden" name="csrf_token" value={props.csrf} />
}

/** The form field that carries it, for a body schema: `t.Object({ ...CSRF_FIELD, ... })`. */
export const CSRF_FIELD = { csrf_token: t.Optional(t.String({ maxLength: 200 })) }

/** A form that posts nothing but its CSRF value (a button). */
export const CsrfOnly = t.Object(CSRF_FIELD)

/** A ticked checkbox (or a "1"/"true" query value). */
export const checked = (raw: string | undefined) => raw === '1' || raw === 'true' || raw === 'on'

/** "Previous · Page 2 of 5 · Next" under a list; nothing when it fits on one page. */
export function Pager(props: { page: number; pages: number; label: string; link: (page: number) => string; prev: string; next: string }) {
  if (props.pages <= 1) return ''
  return (
    <nav class="pager" aria-label={props.label}>
      {props.page > 1 ? <a href={props.link(props.page - 1)} rel="prev" safe>{props.prev}</a> : ''}
      <span safe>{props.label}</span>
      {props.page < props.pages ? <a href={props.link(props.page + 1)} rel="next" safe>{props.next}</a> : ''}
    </nav>
  )
}
