# syntax=docker/dockerfile:1
# One image for the worker, the API, the migration job and the operators' CLI; docker-compose.yml picks the command.
#
# Node 24 LTS: 24.21.0 (released 2026-09-10) is the newest 24.x that `npm view node@24 version` lists on 2026-11-26.
# Development and CI run Node 20 (>= 20.19, package.json's engines), so the code keeps to what both support; moving
# this tag is the production Node upgrade, and running `npm test` on that version should come with it.

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Compiled once here, and the workflow code bundled once too (WORKFLOW_BUNDLE below), not at every worker start.
RUN npx tsc -p tsconfig.build.json \
  && node dist/scripts/workflow-bundle.js dist/workflow-bundle.js

FROM node:24.21.0-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; then npm, npx, corepack and yarn go too: nothing in the container installs anything.
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force \
  && rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
    /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* /root/.npm
COPY --from=build /app/dist ./dist
COPY bin ./bin
# config/env.ts finds the project root from dist/: the calls' rules and the comuni list sit beside it.
COPY config/calls ./config/calls
COPY data ./data
# `docker compose run --rm api innosocial ...`: the operators' CLI on PATH, whatever mode bin/ was checked out with.
RUN printf '#!/bin/sh\nexec node /app/bin/innosocial.js "$@"\n' >/usr/local/bin/innosocial \
  && chmod 0755 /usr/local/bin/innosocial
# The worker answers on its metrics port (WORKER_METRICS_BIND), the API on /healthz, which is 200 only while
# PostgreSQL and Temporal answer it. A slim image has no curl: Node's fetch does it.
COPY <<'JS' /app/healthcheck.js
const bind = process.env.WORKER_METRICS_BIND;
const url = bind
  ? `http://127.0.0.1:${bind.split(':').pop()}/metrics`
  : `http://127.0.0.1:${process.env.API_PORT || 3000}/healthz`;
fetch(url, { signal: AbortSignal.timeout(4000) }).then(
  (r) => process.exit(r.ok ? 0 : 1),
  () => process.exit(1),
);
JS
ENV WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
USER node
# 3000: the API; 9464: the worker's Prometheus metrics.
EXPOSE 3000 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/healthcheck.js"]
CMD ["node", "dist/worker.js"]
