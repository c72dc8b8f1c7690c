import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationService } from '../../client/applications';
import { loadConfig, type Config } from '../../config/env';
import type { Db } from '../../db/connect';
import { createWorker } from '../../worker';
import { e2eBackend, openTestDb } from './database';

let runtimeInstalled = false;

export interface TestSystem {
  config: Config;
  db: Db;
  client: Client;
  service: ApplicationService;
  worker: Worker;
  stop(): Promise<void>;
}

/**
 * The real thing for one test file: the shared dev server, a worker on its own task queue with the real
 * activities, the real database, and the same ApplicationService the CLI and the API use.
 */
export async function startTestSystem(options: { clockOffsetDays?: number } = {}): Promise<TestSystem> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  const bundle = process.env.TEST_WORKFLOW_BUNDLE;
  if (!address || !bundle) throw new Error('the jest global setup did not run (TEST_TEMPORAL_ADDRESS unset)');
  const config = loadConfig({
    ...process.env,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    DOCUMENTS_DIR: mkdtempSync(path.join(tmpdir(), 'innosocial-docs-')),
  });
  const db = await openTestDb(e2eBackend);
  const nativeConnection = await NativeConnection.connect({ address });
  // Accompaniment spans weeks: the activities' clock runs ahead so sessions dated after the assignment are past.
  const offset = (options.clockOffsetDays ?? 0) * 86_400_000;
  const worker = await createWorker({ config, db, connection: nativeConnection, workflowBundle: { codePath: bundle }, now: () => new Date(Date.now() + offset) });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    config,
    db,
    client,
    service: new ApplicationService(client, config),
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
      await db.destroy();
    },
  };
}
