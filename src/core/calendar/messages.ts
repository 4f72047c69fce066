/** What the calendar routes answer with (issue 28); their Russian is in src/lib/catalogue.ts. */
export const CALENDAR_MSG = {
  /** an unknown, rotated or revoked personal feed token */
  feedNotFound: 'calendar feed not found',
} as const
