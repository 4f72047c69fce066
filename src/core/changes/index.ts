/**
 * The change record: every state change writes one row, in its own transaction, that followers
 * read in commit order (docs/decisions/027-one-record-of-every-change.md).
 */
export { committedPosition, handedOff, recordChange, recordChanges, writeTransaction, type Change } from './record'
export { CHANGE_EVENTS } from './events'
