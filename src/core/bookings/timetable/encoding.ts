/**
 * The encoding of a timetable file, as a Russian college's spreadsheet saved it (issue 26,
 * decision 028): Excel's "CSV (разделители - запятые)" is Windows-1251 with no byte order mark,
 * "CSV UTF-8" is UTF-8 with one, "Unicode text" is UTF-16 LE with one.
 *
 * In that order of certainty: a byte order mark decides; else a file that is valid UTF-8 is UTF-8
 * (a Windows-1251 file with Cyrillic in it practically never is: its letters are the bytes
 * 0xC0-0xFF, and UTF-8 never puts two of those side by side); else an 8-bit Cyrillic encoding:
 * the ones chardet is confident of first, then Windows-1251, KOI8-R, ISO-8859-5, and of those the
 * first whose header reads as a timetable's (a Russian header decoded with the wrong table names no
 * column). chardet alone is not enough: a file with English headers and a few Cyrillic room names
 * it calls ISO-8859-1, with KOI8-R at confidence 4 and no Windows-1251 at all; a file with Russian
 * headers it names right at about 50 (measured on files like the tests'). Below MIN_CONFIDENCE its
 * Cyrillic guesses are noise, and what Russian Excel writes, Windows-1251, is read.
 */
import { analyse } from 'chardet'

/** The encodings a file is read in, by their WHATWG names (what TextDecoder takes and the report says). */
export const FILE_ENCODINGS = ['utf-8', 'utf-16le', 'utf-16be', 'windows-1251', 'koi8-r', 'iso-8859-5'] as const
export type FileEncoding = (typeof FILE_ENCODINGS)[number]

/** chardet's names of the 8-bit Cyrillic encodings, as read here. */
const CYRILLIC_8BIT: Record<string, FileEncoding> = { 'windows-1251': 'windows-1251', 'KOI8-R': 'koi8-r', 'ISO-8859-5': 'iso-8859-5' }
/** Russian Excel's first (what it writes), then the rest: tried in this order when chardet is not confident. */
const CYRILLIC_ORDER: FileEncoding[] = ['windows-1251', 'koi8-r', 'iso-8859-5']
/** chardet's confidence (0-100) from which its Cyrillic guess goes first. */
const MIN_CONFIDENCE = 20
/** The bytes chardet reads: enough to rank (the header and dozens of rows), few enough to take milliseconds. */
const SAMPLE_BYTES = 64 * 1024
/** The bytes that hold the header line, in any of these encodings (2,000 characters of UTF-16 and more). */
const HEAD_BYTES = 8 * 1024

function byteOrderMark(bytes: Uint8Array): FileEncoding | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8'
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le'
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be'
  return undefined
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    return true
  } catch {
    return false
  }
}

/** The 8-bit Cyrillic encodings in the order they are tried: those chardet is confident of, most likely first, then the rest. */
function cyrillicCandidates(bytes: Uint8Array): FileEncoding[] {
  const confident = analyse(bytes.subarray(0, SAMPLE_BYTES))
    .filter((match) => match.confidence >= MIN_CONFIDENCE && match.name in CYRILLIC_8BIT)
    .map((match) => CYRILLIC_8BIT[match.name]!)
  return [...new Set([...confident, ...CYRILLIC_ORDER])]
}

/** The text of the bytes in an encoding; TextDecoder drops a byte order mark. */
function decodeAs(bytes: Uint8Array, encoding: FileEncoding): string {
  return new TextDecoder(encoding).decode(bytes)
}

/**
 * The file's text and the encoding it was read in (see above). `readsAsTimetable` tells whether a
 * decoded header is a timetable's; when no candidate's is, the likeliest is taken (the header's
 * error then shows what was read).
 */
export function decodeFile(bytes: Uint8Array, readsAsTimetable: (text: string) => boolean): { text: string; encoding: FileEncoding } {
  const marked = byteOrderMark(bytes)
  if (marked) return { text: decodeAs(bytes, marked), encoding: marked }
  if (isUtf8(bytes)) return { text: decodeAs(bytes, 'utf-8'), encoding: 'utf-8' }
  const candidates = cyrillicCandidates(bytes)
  const head = bytes.subarray(0, HEAD_BYTES)
  const encoding = candidates.find((candidate) => readsAsTimetable(decodeAs(head, candidate))) ?? candidates[0]!
  return { text: decodeAs(bytes, encoding), encoding }
}

/**
 * Whether the file's head reads as a timetable's in any encoding it may be in, without the
 * detector: the cheap look before a worker thread is started for the file.
 */
export function mayReadAsTimetable(bytes: Uint8Array, readsAsTimetable: (text: string) => boolean): boolean {
  const head = bytes.subarray(0, HEAD_BYTES)
  const marked = byteOrderMark(head)
  const encodings: FileEncoding[] = marked ? [marked] : ['utf-8', ...CYRILLIC_ORDER]
  return encodings.some((encoding) => readsAsTimetable(decodeAs(head, encoding)))
}
