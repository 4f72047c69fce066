// Preloaded by bunfig.toml before every test file: database-backed tests start PGlite or create
// a PostgreSQL database, and the end-to-end ones start real processes, so 5 s is too tight.
import { setDefaultTimeout } from 'bun:test'

setDefaultTimeout(30_000)
