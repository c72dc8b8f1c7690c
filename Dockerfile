# syntax=docker/dockerfile:1
# One image for the worker and the API; docker-compose.yml chooses the command.
# Node 20.20.2 rather than 20.18: package.json's engines ask for >=20.19, the first 20.x with require() of ES
# modules (fastify's `cookie` dependency is ESM-only). It is also the version the tests run on.

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.build.json

FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# config/env.ts resolves the project root from dist/, so call definitions and the comuni list sit beside it.
COPY config ./config
COPY data ./data
# A new named volume copies the owner of the directory it is mounted on: this lets the node user write documents.
RUN mkdir -p /var/lib/innosocial/documents && chown node:node /var/lib/innosocial/documents
USER node
EXPOSE 3000
CMD ["node", "dist/worker.js"]
