import { defineConfig } from 'drizzle-kit'

// Only `drizzle-kit generate` uses this file: it diffs src/db/schema.ts against drizzle/meta and
// writes SQL. It never connects to a database; the app applies drizzle/ itself at start.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
})
