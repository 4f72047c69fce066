/**
 * The import rules of src/ (docs/architecture.md says why). `bun run check:deps` runs them; CI
 * fails on any violation.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'A cycle means two files cannot be understood (or changed) apart.', from: { path: '^src' }, to: { circular: true } },
    { name: 'no-orphans', severity: 'error', comment: 'A file nothing imports is dead code, or an entry point that should be listed here.', from: { orphan: true, path: '^src', pathNot: '^src/index\\.ts$' }, to: {} },
    { name: 'lib-is-a-leaf', severity: 'error', comment: 'src/lib holds helpers with no knowledge of the app: it imports only itself (and types of config).', from: { path: '^src/lib/' }, to: { path: '^src/', pathNot: ['^src/lib/', '^src/config\\.ts$'] } },
    { name: 'db-knows-no-http', severity: 'error', comment: 'src/db is storage: schema, clients, migrations, seed; no routes, plugins or feature modules.', from: { path: '^src/db/' }, to: { path: '^src/(modules|plugins)/' } },
    { name: 'no-cross-module-internals', severity: 'error', comment: "A feature module uses another only through that module's index.ts, and the booking core (src/modules/bookings) freely.", from: { path: '^src/modules/([^/]+)/' }, to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$', '^src/modules/bookings/'] } },
    { name: 'core-knows-no-http', severity: 'error', comment: 'The booking core has no routes and no HTTP: it imports no route module, plugin or Elysia.', from: { path: '^src/modules/bookings/' }, to: { path: ['^src/plugins/', '^src/modules/(?!bookings/)', '(^|/)node_modules/(elysia|@elysiajs)/'] } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
