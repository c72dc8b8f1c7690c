import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { ApplicationService } from '../../client/service/applications';
import { applicationView } from '../../client/service/register';
import { territoryLoader } from '../../config/comuni';
import { loadConfig, type Config } from '../../config/env';
import type { Db } from '../../db/connect';
import type { ApplicationForm } from '../../domain/application';
import type { CallRules } from '../../domain/rules';
import { dataConverter } from '../../security/data-converter';
import type { KeyRing } from '../../security/keyring';
import { createWorker } from '../../worker';
import { e2eBackend, openPrivateTestDb, openTestDb } from './database';
import { applicationForm, rules2023 } from './fixtures';
import { recordHistories } from './histories';
import { TEST_KEY_ENV, testKeyRing } from './keys';

let runtimeInstalled = false;

export interface TestSystem {
  config: Config;
  /** A call of its own (the 2023 rules under a fresh id), so budgets and ids never meet other test files'. */
  callId: string;
  form(overrides?: Parameters<typeof applicationForm>[0]): ApplicationForm;
  db: Db;
  ring: KeyRing;
  client: Client;
  service: ApplicationService;
  /** The application as the register holds it (what `show` and the API read). */
  view(applicationId: string): ReturnType<typeof applicationView>;
  worker: Worker;
  /**
   * A deploy: the worker stops and another starts on the same task queue, it and the client (and so the service)
   * with `ring`; the database, the call and the configuration stay.
   */
  restart(ring: KeyRing): Promise<void>;
  stop(): Promise<void>;
}

/** A config for one test file: its own call, task queue and keys; the shared dev server. */
export function testConfig(address: string, env: Record<string, string> = {}, rules: Partial<CallRules> = {}) {
  const callId = `test-${randomUUID().slice(0, 8)}`;
  const callsDir = mkdtempSync(path.join(tmpdir(), 'innosocial-calls-'));
  writeFileSync(path.join(callsDir, `${callId}.v1.json`), JSON.stringify({ ...rules2023, ...rules, callId }));
  const config = loadConfig({
    ...process.env,
    APP_ENV: 'test',
    LOG_LEVEL: 'warn',
    ...TEST_KEY_ENV,
    CALLS_DIR: callsDir,
    ...env,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: env.TEMPORAL_TASK_QUEUE ?? `test-${randomUUID()}`,
  });
  return { config, callId };
}

/**
 * The real thing for one test file: the shared dev server, a worker on its own task queue with the real
 * activities, the real database, the payload codec, and the same ApplicationService the API uses.
 */
export async function startTestSystem(
  options: {
    clockOffsetDays?: number;
    budgetCents?: number;
    env?: Record<string, string>;
    rules?: Partial<CallRules>;
    /** The payload keys of the worker and the client; the tests' fixed ring unless given. */
    ring?: KeyRing;
    /** Another Temporal server than the shared one (one with the Web UI, say). */
    temporalAddress?: string;
    /** A database no other test file writes to: for suites that count whole tables. */
    privateDatabase?: boolean;
  } = {},
): Promise<TestSystem> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const address = options.temporalAddress ?? process.env.TEST_TEMPORAL_ADDRESS;
  const bundle = process.env.TEST_WORKFLOW_BUNDLE;
  if (!address || !bundle) throw new Error('the jest global setup did not run (TEST_TEMPORAL_ADDRESS unset)');
  const rules = {
    ...options.rules,
    ...(options.budgetCents !== undefined ? { budgetCents: options.budgetCents } : {}),
  };
  const { config, callId } = testConfig(address, options.env, rules);
  const { db, close: closeDb } = options.privateDatabase
    ? await openPrivateTestDb()
    : await openTestDb(e2eBackend).then((db) => ({ db, close: () => db.destroy() }));
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  // Accompaniment spans weeks: the activities' clock runs ahead so sessions dated after the assignment are past.
  const offset = (options.clockOffsetDays ?? 0) * 86_400_000;
  const now = () => new Date(Date.now() + offset);
  /** A worker, the client and the service, all with one key ring. */
  async function withKeys(ring: KeyRing) {
    const worker = await createWorker({
      config,
      db,
      ring,
      connection: nativeConnection,
      workflowBundle: { codePath: bundle! },
      now,
    });
    const client = new Client({ connection, dataConverter: dataConverter(ring) });
    const service = new ApplicationService({ config, client, db, territory: territoryLoader(config.projectRoot) });
    return { ring, worker, running: worker.run(), client, service };
  }
  let current = await withKeys(options.ring ?? testKeyRing());
  const system: TestSystem = {
    config,
    callId,
    form: (overrides = {}) => applicationForm({ callId, ...overrides }),
    db,
    ring: current.ring,
    client: current.client,
    service: current.service,
    view: (id) => applicationView(db, id),
    worker: current.worker,
    async restart(ring) {
      current.worker.shutdown();
      await current.running;
      current = await withKeys(ring);
      Object.assign(system, { ring, worker: current.worker, client: current.client, service: current.service });
    },
    async stop() {
      await recordHistories(current.client, { taskQueue: config.TEMPORAL_TASK_QUEUE });
      current.worker.shutdown();
      await current.running;
      await connection.close();
      await nativeConnection.close();
      await closeDb();
    },
  };
  return system;
}

/** The code the company received for a session: read from the outbox message that carries it (before it is sent). */
export async function confirmationCode(db: Db, applicationId: string, date: string, start: string): Promise<string> {
  return (await confirmationMail(db, applicationId, date, start)).code;
}

/** The latest confirmation mail of a session: its code and its personal link. */
export async function confirmationMail(db: Db, applicationId: string, date: string, start: string) {
  const rows = await db
    .selectFrom('notification_outbox')
    .select('payload')
    .where('application_id', '=', applicationId)
    .where('template', '=', 'session.confirmation')
    .orderBy('id', 'desc')
    .execute();
  const match = rows
    .map(
      (r) =>
        (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as {
          date: string;
          start: string;
          code: string;
          link: string;
        },
    )
    .find((p) => p.date === date && p.start === start);
  if (!match) throw new Error(`no confirmation code was sent for ${applicationId} ${date} ${start}`);
  return match;
}
