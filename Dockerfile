# The billing worker (and every other `billing` command) as an image; used by docker-compose.yml.
# TypeScript runs through the `tsx` runtime dependency that bin/billing.js loads: no build step.
FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, from the lockfile, so that source changes reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY billing ./billing
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY client ./client
COPY config ./config
COPY stack ./stack
COPY db ./db
COPY bin ./bin

# The data folder (config: BILLING_DATA_DIR, default /app/.data) must be writable by the app user.
RUN mkdir -p /app/.data && chown node:node /app/.data

ENV NODE_ENV=production
USER node

CMD ["node", "bin/billing.js", "worker"]
