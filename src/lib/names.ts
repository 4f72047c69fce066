/**
 * Names people choose (user and room names): what they may contain, how they are stored, and when
 * two user names count as the same.
 *
 * - Refused: control characters (C0 such as BEL, ESC, CR, LF, TAB; DEL; C1), line and paragraph
 *   separators, lone surrogates, and the bidirectional formatting characters (U+061C, U+200E/F,
 *   U+202A-U+202E such as the RIGHT-TO-LEFT OVERRIDE, U+2066-U+2069), which reorder what is shown
 *   around them.
 * - Stored NFC-normalized: a decomposed "é" (e + U+0301) and a composed one are the same name.
 * - nameKey(): the key that makes user names unique. Two names with one key look alike: the same
 *   letters in another case, in another script (Cyrillic "а" for Latin "a"), with digits for
 *   letters ("0" for "o") or with invisible characters between them.
 *
 * The confusables table is Unicode's (UTS #39 confusables.txt) as shipped by the `unhomoglyph`
 * package; it is loaded on first use (~5 MB, ~60 ms), so a process that never creates or renames a
 * user never pays for it.
 */
import { createRequire } from 'node:module'
import { BadRequest } from './errors'

/** Characters no stored name may contain (see the module comment). */
const FORBIDDEN_NAME_CHARS = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u

export const NAME_MSG = { required: 'name is required', controlChars: 'name must not contain control characters' } as const

/**
 * A name from a request: a string, free of FORBIDDEN_NAME_CHARS (anywhere, even at the ends),
 * NFC-normalized and trimmed; 400 `name is required` when empty, `name must be at most N
 * characters` when longer than `max` once normalized.
 */
export function normalizeName(raw: unknown, max: number): string {
  if (typeof raw !== 'string') throw new BadRequest(NAME_MSG.required)
  if (FORBIDDEN_NAME_CHARS.test(raw)) throw new BadRequest(NAME_MSG.controlChars)
  const name = raw.normalize('NFC').trim()
  if (!name) throw new BadRequest(NAME_MSG.required)
  if (name.length > max) throw new BadRequest(`name must be at most ${max} characters`)
  return name
}

/** Default ignorable code points: zero-width spaces and joiners, soft hyphen, variation selectors... */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu

let confusables: Map<string, string> | undefined

function prototypes(): Map<string, string> {
  if (!confusables) {
    const table = createRequire(import.meta.url)('unhomoglyph/data.json') as Record<string, string>
    confusables = new Map(Object.entries(table))
  }
  return confusables
}

/**
 * The lookalike key of a name: NFKD (compatibility forms fold: fullwidth "ＡＤＭＩＮ", 𝐛𝐨𝐥𝐝,
 * ligatures, superscripts), invisible characters dropped, case-folded (upper then lower case, so
 * that "ß" and "SS" meet), then the UTS #39 skeleton (each character replaced by its prototype in
 * confusables.txt, NFD again) and lower case once more (some prototypes are capitals: "0" becomes
 * "O"). Only for comparing: never shown, never used as a name.
 *
 * Case folding comes first, so a confusion that exists only between a capital and a different
 * small letter ("I" and "l") is not caught: one key per name cannot hold both readings.
 */
export function nameKey(name: string): string {
  const folded = name.normalize('NFKD').replace(INVISIBLE, '').toUpperCase().toLowerCase().normalize('NFKD')
  const table = prototypes()
  let skeleton = ''
  for (const char of folded) skeleton += table.get(char) ?? char
  return skeleton.normalize('NFD').toLowerCase()
}
