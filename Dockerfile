# QRBOOK production image.
# Bun runs the TypeScript sources directly: a `bun build --compile` binary cannot load PGlite's
# WebAssembly extensions (btree_gist), and src/db/migrate.ts reads drizzle/ from disk at start.
# test/docker-image.test.ts executes this file's own steps (WORKDIR, ENV, COPY, RUN, USER, CMD,
# HEALTHCHECK) in a temp root, as an unprivileged user, with the deployment guide's variables.
FROM oven/bun:1.4.5

WORKDIR /app
ENV NODE_ENV=production \
    PORT=8080
# JavaScriptCore sizes its heap's growth from the machine's RAM, not the container's: on a large
# host it lets ~200 MB of garbage pile up between collections. Sized for a small container it
# collects sooner: the 5-minute mixed soak ran at 180-245 MB RSS instead of 290-480 MB
# (docs/performance.md, Memory, 2026-12-06). Raise it with the container's memory if you like.
# (BUN_JSC_smallHeapGrowthFactor=1.25 as well lowers the soak to 150-220 MB but costs a third of
# the bookings per second under load: measured, and left to the operator.)
ENV BUN_JSC_forceRAMSize=402653184

# Production dependencies only, exactly as locked, with the patches bun.lock names applied
# (patches/: a fix to postgres.js that upstream has not released, see patches/README.md).
COPY package.json bun.lock ./
COPY patches ./patches
RUN bun install --production --frozen-lockfile && rm -rf /root/.bun/install/cache

# The application (tsconfig.json: Bun compiles the console's JSX by its settings), its migrations (applied at every start, before listening) and the operator's
# scripts (`bun run set-password admin`, which the production warning about default passwords advises).
COPY tsconfig.json ./
COPY src ./src
COPY drizzle ./drizzle
COPY scripts ./scripts

# The process runs as the image's unprivileged `bun` user; it may write only the embedded
# database directory (when DATABASE_URL=pglite://...) and the QR image cache: the default
# STATIC_QR_PATH (./static/qr) and the deployment guide's /app/app/static/qr.
RUN mkdir -p /app/data /app/static/qr /app/app/static/qr && chown -R bun:bun /app/data /app/static /app/app
USER bun

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD ["bun", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["bun", "src/index.ts"]
