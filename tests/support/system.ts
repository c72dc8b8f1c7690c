import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { ApplicationForm } from '../../domain/application';
import { applicationForm, rules2023 } from './fixtures';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationService } from '../../client/applications';
import { loadConfig, type Config } from '../../config/env';
import type { Db } from '../../db/connect';
import { createWorker } from '../../worker';
import { e2eBackend, openTestDb } from './database';
import { recordHistories } from './histories';

let runtimeInstalled = false;

export interface TestSystem {
  config: Config;
  /** A call of its own (the 2023 rules under a fresh id), so budgets and ids never meet other test files'. */
  callId: string;
  form(overrides?: Parameters<typeof applicationForm>[0]): ApplicationForm;
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
export async function startTestSystem(
  options: { clockOffsetDays?: number; budgetCents?: number; env?: Record<string, string> } = {},
): Promise<TestSystem> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  const bundle = process.env.TEST_WORKFLOW_BUNDLE;
  if (!address || !bundle) throw new Error('the jest global setup did not run (TEST_TEMPORAL_ADDRESS unset)');
  const callId = `test-${randomUUID().slice(0, 8)}`;
  const callsDir = mkdtempSync(path.join(tmpdir(), 'innosocial-calls-'));
  writeFileSync(
    path.join(callsDir, `${callId}.v1.json`),
    JSON.stringify({ ...rules2023, callId, budgetCents: options.budgetCents ?? rules2023.budgetCents }),
  );
  const config = loadConfig({
    ...process.env,
    CALLS_DIR: callsDir,
    ...options.env,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    DOCUMENTS_DIR: mkdtempSync(path.join(tmpdir(), 'innosocial-docs-')),
  });
  const db = await openTestDb(e2eBackend);
  const nativeConnection = await NativeConnection.connect({ address });
  // Accompaniment spans weeks: the activities' clock runs ahead so sessions dated after the assignment are past.
  const offset = (options.clockOffsetDays ?? 0) * 86_400_000;
  const worker = await createWorker({
    config,
    db,
    connection: nativeConnection,
    workflowBundle: { codePath: bundle },
    now: () => new Date(Date.now() + offset),
  });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    config,
    callId,
    form: (overrides = {}) => applicationForm({ callId, ...overrides }),
    db,
    client,
    service: new ApplicationService(client, config),
    worker,
    async stop() {
      await recordHistories(client, { taskQueue: config.TEMPORAL_TASK_QUEUE });
      worker.shutdown();
      await running;
      await connection.close();
      await nativeConnection.close();
      await db.destroy();
    },
  };
}

/** The code the company received for a session: read from the outbox message that carries it. */
export async function confirmationCode(db: Db, applicationId: string, date: string, start: string): Promise<string> {
  const rows = await db
    .selectFrom('notification_outbox')
    .select('payload')
    .where('application_id', '=', applicationId)
    .where('template', '=', 'session.confirmation')
    .execute();
  const match = rows
    .map(
      (r) =>
        (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as {
          date: string;
          start: string;
          code: string;
        },
    )
    .find((p) => p.date === date && p.start === start);
  if (!match) throw new Error(`no confirmation code was sent for ${applicationId} ${date} ${start}`);
  return match.code;
}
