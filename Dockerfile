# syntax=docker/dockerfile:1
# The sync service as a container image: built in one stage (TypeScript compiled by `npm run build`),
# run from a second stage that holds only production dependencies and the compiled JavaScript, as the
# unprivileged `node` user, with a health check on /health. See docs/go-live.md.

# ---- build: dev dependencies, compile ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the devDependencies' install scripts (the `node` binary package, the Salesforce
# CLI) are not needed to compile; tsc runs on the image's own Node 24.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY sync-service/src ./sync-service/src
RUN npx --no-install tsc -p tsconfig.build.json \
 && cp -R sync-service/src/console/static sync-service/dist/console/static

# ---- production dependencies only ----
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    SYNC_DB_PATH=/data/sync.db
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --chown=root:root package.json ./
COPY --from=build --chown=root:root /app/sync-service/dist ./sync-service/dist
# What the service reads at start: the signed data map, journey rules and the Cliniko field catalogue
# (config/), and the package's object definitions the data map is checked against (force-app/).
COPY --chown=root:root config ./config
COPY --chown=root:root force-app/main/default/objects ./force-app/main/default/objects
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
# Node is PID 1's child-free main process: it handles SIGTERM itself (finishes the run in progress).
# The heap flags and the allocator's settings are npm start's (package.json; docs/benchmarks.md says
# why): a test keeps them equal. GLIBC_TUNABLES: two malloc arenas, and buffers of 128 KB and more
# mapped and unmapped on their own, so that freed memory goes back to the system.
ENV GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072
CMD ["node", "--max-old-space-size=1024", "--max-semi-space-size=8", "sync-service/dist/server.js"]
