# The billing worker (and every other `billing` command) as an image; used by docker-compose.yml.
# Two stages: the first compiles the TypeScript sources (tsconfig.build.json, into dist/) with the
# development dependencies; the image itself holds only the production dependencies (no
# TypeScript, tsx, embedded PostgreSQL or mail inbox: those are development dependencies), dist/,
# the SQL migrations and bin/billing.js, which runs dist/. Node 24 LTS, the version CI runs the
# suite's second run on (scripts/tools.json).

FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: compiling needs only TypeScript (embedded PostgreSQL's and esbuild's are not used here).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.js scripts/tools.json ./scripts/
COPY billing ./billing
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY client ./client
COPY config ./config
COPY stack ./stack
COPY db ./db
COPY codec ./codec
COPY telemetry ./telemetry
COPY documents ./documents
COPY console ./console
RUN node scripts/build.js --force
# The workflow bundle, prebuilt for a worker with payload encryption (compose's workers have codec
# keys): each replica loads it (BILLING_WORKFLOW_BUNDLE) instead of spending seconds of CPU on
# webpack at every start. Its manifest dist/workflow-bundle.js.json must match the worker's options.
COPY bin ./bin
RUN node bin/billing.js worker --build-bundle dist/workflow-bundle.js --encrypted

FROM node:24.22.3-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, from the lockfile, so that source changes reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY --from=build /app/dist ./dist
COPY db/migrations ./db/migrations
# The console's templates and stylesheet, read from the sources as the migrations are.
COPY console/views ./console/views
COPY console/public ./console/public
COPY bin ./bin

# The data folder (config: BILLING_DATA_DIR, default /app/.data) must be writable by the app user:
# the worker keeps its liveness file there.
RUN mkdir -p /app/.data && chown node:node /app/.data

# The image's own unprivileged user (uid 1000), never root.
USER node

# Healthy while `billing worker` runs: it touches .data/worker.alive every 10 s while its state is
# RUNNING (workers/liveness.ts). The one-shot `billing db migrate` turns the check off in compose.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const age = Date.now() - require('node:fs').statSync('/app/.data/worker.alive').mtimeMs; process.exit(age < 45000 ? 0 : 1)"]

CMD ["node", "bin/billing.js", "worker"]
