/**
 * How deeply JSON text nests, found without parsing it: one pass over the bytes, no recursion,
 * no allocation, stopping as soon as the limit is passed. Brackets inside strings do not count
 * (a string ends at an unescaped `"`; `\"` and `\\` are escapes). Works on any bytes: on text that
 * is not JSON it still only counts brackets outside strings, so a body JSON.parse would nest
 * deeply is always caught, and a body it would refuse costs nothing more than a scan.
 * UTF-8 is safe to scan byte by byte: the bytes of a multi-byte character are all >= 0x80 and
 * never equal `"`, `\`, `[`, `]`, `{` or `}`.
 */

/**
 * The deepest JSON body the API reads: an object or array nested this many levels, counting the
 * outermost. Its real bodies nest two (an object holding a list of ids); 32 leaves room for any
 * client's envelope while keeping every recursive walk of a body (validation, error messages,
 * logging) far from the stack limit. docs/decisions/010-request-body-depth.md
 */
export const MAX_JSON_DEPTH = 32

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d

/** True when the text opens more than `limit` arrays/objects inside each other. */
export function exceedsJsonDepth(bytes: Uint8Array, limit: number = MAX_JSON_DEPTH): boolean {
  let depth = 0
  let inString = false
  const length = bytes.length
  for (let i = 0; i < length; i++) {
    const c = bytes[i]!
    if (inString) {
      if (c === BACKSLASH) i++ // the escaped character, whatever it is, cannot end the string
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) {
      inString = true
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      // Never below zero: stray closers (invalid JSON anyway) must not buy room for openers.
      if (depth > 0) depth--
    }
  }
  return false
}

const encoder = new TextEncoder()

/** exceedsJsonDepth for a string (a form field that a parser may read as JSON). */
export function stringExceedsJsonDepth(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  return exceedsJsonDepth(encoder.encode(text), limit)
}
