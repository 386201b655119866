# The billing worker (and every other `billing` command) as an image; used by docker-compose.yml.
# Two stages: the first compiles the TypeScript sources (tsconfig.build.json, into dist/) with the
# development dependencies; the image itself holds the production dependencies, dist/, the SQL
# migrations and bin/billing.js, which runs dist/.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
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
RUN node scripts/build.js --force

FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, from the lockfile, so that source changes reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY --from=build /app/dist ./dist
COPY db/migrations ./db/migrations
COPY bin ./bin

# The data folder (config: BILLING_DATA_DIR, default /app/.data) must be writable by the app user.
RUN mkdir -p /app/.data && chown node:node /app/.data

ENV NODE_ENV=production
USER node

CMD ["node", "bin/billing.js", "worker"]
