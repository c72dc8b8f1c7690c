import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { ApplicationService } from '../../client/service/applications';
import { applicationView } from '../../client/service/register';
import { territoryLoader } from '../../config/comuni';
import { dataConverter } from '../../security/data-converter';
import { TEST_KEY_ENV, testKeyRing } from './keys';
import { loadConfig, type Config } from '../../config/env';
import type { CallRules } from '../../domain/rules';
import type { Db } from '../../db/connect';
import { resolveTemporalBinary } from '../../scripts/temporal-binary';
import { createWorker } from '../../worker';
import { projectWorkflowId } from '../../workflows/messages';
import { ALL_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { temporal } from '@temporalio/proto';

const INDEXED_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};
import { e2eBackend, openTestDb } from './database';
import { recordHistories } from './histories';
import { applicationForm, preProject, rules2023, type PreProjectOverrides } from './fixtures';
import { assign, confirmedSession, decide, registered, send } from './journeys';
import { PEOPLE } from './people';
import { fundedProject } from './project-journeys';
import { romeToday } from '../../domain/rome';

export interface TimeSkippingSystem {
  env: TestWorkflowEnvironment;
  /** A client with the payload codec, as the API's (the environment's own knows no keys). */
  client: Client;
  config: Config;
  db: Db;
  service: ApplicationService;
  view(applicationId: string): ReturnType<typeof applicationView>;
  callId: string;
  form: typeof applicationForm;
  worker: Worker;
  /**
   * Sets the activities' clock to the test server's time plus `aheadDays` (the server's time runs ahead of the
   * machine's as timers are skipped) and returns the server's calendar date plus one day, for sessions to log.
   */
  syncClock(aheadDays: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Temporal's time-skipping test server (from PyPI, in .tools) with the real worker and database: timers of months
 * pass in milliseconds, so deadlines and reminders are tested at the moment they fire.
 */
export async function startTimeSkippingSystem(
  rules: Partial<CallRules> = {},
  options: { clockOffsetDays?: number } = {},
): Promise<TimeSkippingSystem> {
  const binary = resolveTemporalBinary('temporal-test-server');
  const env = await TestWorkflowEnvironment.createTimeSkipping(
    binary ? { server: { executable: { type: 'existing-path', path: binary.path } } } : {},
  );
  // The test server knows no custom search attributes until told, as a fresh cluster would not.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(ALL_SEARCH_ATTRIBUTES.map((k) => [k.name, INDEXED_TYPE[k.type]!])),
  });
  const callId = `ts-${randomUUID().slice(0, 8)}`;
  const callsDir = mkdtempSync(path.join(tmpdir(), 'innosocial-calls-'));
  writeFileSync(path.join(callsDir, `${callId}.v1.json`), JSON.stringify({ ...rules2023, ...rules, callId }));
  const config = loadConfig({
    ...process.env,
    CALLS_DIR: callsDir,
    APP_ENV: 'test',
    LOG_LEVEL: 'warn',
    ...TEST_KEY_ENV,
    TEMPORAL_TASK_QUEUE: `ts-${randomUUID()}`,
    OPERATOR_EMAILS: 'operatore@finpiemonte.example.org',
    COMMISSION_EMAILS: 'commissione@cittametropolitana.example.org',
  });
  const db = await openTestDb(e2eBackend);
  let offset = (options.clockOffsetDays ?? 0) * 86_400_000;
  const ring = testKeyRing();
  const worker = await createWorker({
    config,
    db,
    ring,
    connection: env.nativeConnection,
    workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
    now: () => new Date(Date.now() + offset),
  });
  const running = worker.run();
  // The environment's own client knows no codec: this one encrypts as the API's does.
  const client = new Client({ connection: env.connection, dataConverter: dataConverter(ring) });
  return {
    env,
    client,
    config,
    db,
    service: new ApplicationService({ config, client, db, territory: territoryLoader(config.projectRoot) }),
    view: (id: string) => applicationView(db, id),
    callId,
    form: (overrides = {}) => applicationForm({ callId, ...overrides }),
    worker,
    async syncClock(aheadDays) {
      const serverNow = await env.currentTimeMs();
      offset = serverNow - Date.now() + aheadDays * 86_400_000;
      return new Date(serverNow + 86_400_000).toISOString().slice(0, 10);
    },
    async stop() {
      // Every call this system knows is in its calls folder (tests may add one); a project is its own workflow.
      const calls = [...new Set(readdirSync(callsDir).map((f) => f.split('.')[0]!))];
      const started = await db.selectFrom('applications').select('id').where('call_id', 'in', calls).execute();
      const projects = await db.selectFrom('projects').select('application_id').where('call_id', 'in', calls).execute();
      await recordHistories(client, {
        workflowIds: [...started.map((r) => r.id), ...projects.map((r) => projectWorkflowId(r.application_id))],
      });
      worker.shutdown();
      await running;
      await db.destroy();
      await env.teardown();
    },
  };
}

const DAY = 86_400_000;

/** Skips the test server's time to `daysBefore` the instant `dueAt` (negative: after it). */
export async function skipToBefore(sys: Pick<TimeSkippingSystem, 'env'>, dueAt: string, daysBefore: number) {
  await sys.env.sleep(Math.max(1, Date.parse(dueAt) - daysBefore * DAY - (await sys.env.currentTimeMs())));
}

type Journeying = Pick<TimeSkippingSystem, 'service' | 'db' | 'form' | 'view' | 'config' | 'env' | 'syncClock'>;

/** The test server's calendar day in Rome: its clock runs ahead of the machine's as tests skip time. */
export const serverToday = async (sys: Pick<TimeSkippingSystem, 'env'>) =>
  romeToday(new Date(await sys.env.currentTimeMs()));

/**
 * Assigned on the test server's day. The activities' clock then stands a month after the server's: sessions on the
 * server's next days are past.
 */
export async function inAccompanimentNow(sys: Journeying, body = 'ashoka-italia'): Promise<string> {
  await sys.syncClock(30);
  const id = await registered(sys);
  await assign(sys, id, body, await serverToday(sys));
  return id;
}

/** Through eight confirmed hours on the server's next day to the commission, with `plan` as its pre-project. */
export async function inCommissionNow(sys: Journeying, plan: PreProjectOverrides = {}): Promise<string> {
  const id = await inAccompanimentNow(sys);
  const day = await sys.syncClock(30);
  await confirmedSession(sys, id, day, '09:00', '17:00');
  await send(sys, id, { type: 'COMPLETE_ACCOMPANIMENT' });
  await send(sys, id, { type: 'SUBMIT_PRE_PROJECT', preProject: preProject(plan) }, PEOPLE.consultant);
  await send(sys, id, { type: 'FORWARD_TO_COMMISSION' });
  return id;
}

/** Admitted by the chair, through the journey above. */
export async function admittedNow(sys: Journeying, plan: PreProjectOverrides = {}): Promise<string> {
  const id = await inCommissionNow(sys, plan);
  await decide(sys, id, 'APPROVE', 'solid social impact plan');
  return id;
}

/**
 * An application admitted with `plan` and funded on the test server's day, its project's workflow started: the
 * realisation period runs on the server's calendar, which tests skip through. `sys` may be another call's view.
 */
export async function fundedProjectNow(
  sys: Journeying & { client: Client },
  plan: PreProjectOverrides = {},
): Promise<string> {
  const disbursedOn = await serverToday(sys);
  return fundedProject(sys, { disbursedOn, plan, admit: (_same, full) => admittedNow(sys, full) });
}
