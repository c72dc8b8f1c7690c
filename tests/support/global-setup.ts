import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDevServer, type DevServer } from '../../scripts/dev-server';
import { connectDb } from '../../db/connect';
import { migrateToLatest } from '../../db/migrate';
import { buildWorkflowBundle } from '../../scripts/workflow-bundle';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';

declare global {
  var __devServer: DevServer | undefined;
  var __embeddedPostgres: EmbeddedPostgres | undefined;
}

/**
 * Once per `npm test`: a real Temporal dev server (in memory, no UI), the workflow bundle built once for every
 * worker, and the PostgreSQL schema migrated when DATABASE_URL points at a server.
 */
export default async function globalSetup() {
  const root = path.resolve(__dirname, '..', '..');
  const dir = path.join(root, '.data', 'test');
  mkdirSync(dir, { recursive: true });
  const [server, bundle] = await Promise.all([startDevServer(), buildWorkflowBundle()]);
  globalThis.__devServer = server;
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle);
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  // No PostgreSQL given (a fresh clone on a laptop): one from the npm registry, so no suite is skipped.
  if (!process.env.DATABASE_URL) {
    const pg = (globalThis.__embeddedPostgres = await startEmbeddedPostgres());
    process.env.DATABASE_URL = pg.url;
    process.env.PG_BIN ??= pg.binDir;
    process.env.PG_CTL_DATA ??= pg.dataDir;
  }
  if (process.env.DATABASE_URL) {
    const db = await connectDb({ databaseUrl: process.env.DATABASE_URL, pgliteDir: 'memory://' });
    await migrateToLatest(db);
    await db.destroy();
  }
}
