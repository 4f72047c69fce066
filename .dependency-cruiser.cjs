/**
 * The import rules of src/ (docs/architecture.md says why). `bun run check:deps` runs them; CI
 * fails on any violation.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'A cycle means two files cannot be understood (or changed) apart.', from: { path: '^src' }, to: { circular: true } },
    { name: 'no-orphans', severity: 'error', comment: 'A file nothing imports is dead code, or an entry point that should be listed here.', from: { orphan: true, path: '^src', pathNot: ['^src/index\\.ts$', '^src/modules/console/assets/'] }, to: {} },
    { name: 'lib-is-a-leaf', severity: 'error', comment: 'src/lib holds helpers with no knowledge of the app: it imports only itself (and types of config).', from: { path: '^src/lib/' }, to: { path: '^src/', pathNot: ['^src/lib/', '^src/config\\.ts$'] } },
    { name: 'db-knows-no-http', severity: 'error', comment: 'src/db is storage: schema, clients, migrations, seed; no routes, plugins or feature modules.', from: { path: '^src/db/' }, to: { path: '^src/(modules|plugins)/' } },
    { name: 'db-knows-no-core', severity: 'error', comment: 'src/db is below the core: storage only.', from: { path: '^src/db/' }, to: { path: '^src/core/' } },
    { name: 'route-modules-stay-apart', severity: 'error', comment: 'A route module (src/modules/<name>) imports the core, lib/, plugins/ and its own files: never another route module, so each can be read and changed alone.', from: { path: '^src/modules/([^/]+)/' }, to: { path: '^src/modules/', pathNot: '^src/modules/$1/' } },
    { name: 'route-modules-reach-the-core-only', severity: 'error', comment: 'Every read and write of stored data goes through src/core (the one writer, with its locks, checks and change record): a route module never imports src/db, not even a type.', from: { path: '^src/modules/' }, to: { path: '^src/db/' } },
    { name: 'core-knows-no-http', severity: 'error', comment: 'The core (src/core) has no routes and no HTTP: it imports no route module, plugin, app wiring or Elysia. Its model.ts files may use Elysia\'s `t` (TypeBox) to declare the schemas that are the types.', from: { path: '^src/core/', pathNot: '^src/core/[^/]+/model\\.ts$' }, to: { path: ['^src/modules/', '^src/plugins/', '^src/(app|server|index)\\.ts$', '(^|/)node_modules/(elysia|@elysiajs)/'] } },
    { name: 'core-models-know-no-http', severity: 'error', comment: 'A core model.ts declares schemas only.', from: { path: '^src/core/[^/]+/model\\.ts$' }, to: { path: ['^src/modules/', '^src/plugins/', '^src/(app|server|index)\\.ts$', '(^|/)node_modules/@elysiajs/'] } },
    { name: 'plugins-know-no-routes', severity: 'error', comment: 'Cross-cutting plugins serve every route module and import none of them.', from: { path: '^src/plugins/' }, to: { path: '^src/modules/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
