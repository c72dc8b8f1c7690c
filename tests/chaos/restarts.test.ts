import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ApplicationService } from '../../client/applications';
import { loadConfig } from '../../config/env';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server';
import {
  ID_SECRET,
  Driver,
  WorkerProcess,
  census,
  chaosCall,
  makePlans,
  migrated,
  outcomes,
  pool,
  requireDist,
  sessionSchedule,
  sleep,
  startOwnPostgres,
  workerEnvironment,
  type ChaosCall,
  type OwnPostgres,
  type Plan,
} from '../support/chaos-harness';
import { projectRoot } from '../support/fixtures';

/*
 * Chaos, part two: the Temporal dev server (file-backed) and PostgreSQL are each restarted while applications are
 * in flight; every application must still reach its final state, with nothing done twice. The worker is the real
 * `node dist/worker.js`, as in chaos.test.ts, so PostgreSQL is required (PGlite cannot be shared between the worker
 * process and the test); without DATABASE_URL these tests are skipped.
 */

const databaseUrl = process.env.DATABASE_URL;
const pgBin = process.env.PG_BIN;
const APPLICATIONS = 10;

if (!databaseUrl) {
  test('restarts: skipped without PostgreSQL (DATABASE_URL unset)', () => {
    console.warn(
      'restarts.test.ts: DATABASE_URL is unset, so the dev-server and PostgreSQL restart chaos tests are skipped: the worker runs as a child process and PGlite cannot be shared between processes. .ci/run sets DATABASE_URL.',
    );
    expect(sessionSchedule().slots).toHaveLength(2);
  });
}

interface Rig {
  call: ChaosCall;
  connection: Connection;
  client: Client;
  driver: Driver;
  worker: WorkerProcess;
  close(): Promise<void>;
}

/** A call, a worker child (restarted by its supervisor if it dies) and a driver, against one server and database. */
async function rig(temporalAddress: string, dbUrl: string, db: Parameters<typeof census>[0]): Promise<Rig> {
  const call = chaosCall();
  const taskQueue = `chaos-${randomUUID()}`;
  const config = loadConfig({
    ...process.env,
    CALLS_DIR: call.callsDir,
    DOCUMENTS_DIR: call.documentsDir,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    ID_SECRET,
  });
  const logFile = path.join(projectRoot, '.data', 'test', `chaos-worker-${call.callId}.log`);
  const worker = new WorkerProcess(
    workerEnvironment({ temporalAddress, taskQueue, databaseUrl: dbUrl, call }),
    logFile,
    { restartOnExit: true },
  );
  await worker.start();
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection });
  const driver = new Driver({ client, service: new ApplicationService(client, config), db, thinkMs: [100, 400] });
  return {
    call,
    connection,
    client,
    driver,
    worker,
    async close() {
      driver.abort();
      await worker.stop();
      await connection.close();
      for (const dir of [call.callsDir, call.documentsDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Drives the plans and, once `fraction` of all their steps are done, runs `chaos` while they are in flight. */
async function driveThrough(driver: Driver, plans: Plan[], fraction: number, chaos: () => Promise<void>) {
  const total = plans.reduce((n, p) => n + Driver.stepCount(p), 0);
  let driving = true;
  const drive = pool(plans, plans.length, (plan) => driver.run(plan)).finally(() => {
    driving = false;
  });
  while (driving && driver.stats.stepsDone < total * fraction) await sleep(50);
  const at = driver.stats.stepsDone;
  const hit = driving;
  if (hit) await chaos();
  const failures = await drive;
  return { failures, at: `${at} of ${total} steps`, hit };
}

(databaseUrl ? describe : describe.skip)('chaos: servers restart', () => {
  beforeAll(() => requireDist());

  test(`the Temporal dev server (file-backed) restarts on the same port and file with ${APPLICATIONS} applications in flight`, async () => {
    const started = Date.now();
    const dir = mkdtempSync(path.join(tmpdir(), 'innosocial-chaos-temporal-'));
    const dbFile = path.join(dir, 'temporal.sqlite');
    const port = await freePort();
    let server: DevServer = await startDevServer({ port, dbFile });
    const dbHandle = await migrated(databaseUrl!);
    const r = await rig(server.address, databaseUrl!, dbHandle.db);
    try {
      const plans = makePlans(r.call.callId, APPLICATIONS, sessionSchedule());
      let downFor = 0;
      const { failures, at, hit } = await driveThrough(r.driver, plans, 0.5, async () => {
        const t = Date.now();
        await server.stop();
        await sleep(2_000);
        server = await startDevServer({ port, dbFile });
        downFor = Date.now() - t;
      });
      const wrongOutcomes = failures.length ? [] : await outcomes(r.driver, plans);
      const { problems, counts } = await census(dbHandle.db, plans, r.call);
      console.log(
        `chaos: dev server restarted at ${at} (down ${(downFor / 1000).toFixed(1)} s), ${plans.length} applications finished in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
          `${r.driver.stats.retries} calls retried, worker exits ${r.worker.crashes.length}; ${counts.audit} audit rows, ${counts.outbox} outbox rows; ${problems.length} problems` +
          `\n  retried because: ${JSON.stringify(r.driver.stats.retryReasons)}`,
      );
      expect(hit).toBe(true);
      expect(failures).toEqual([]);
      expect(wrongOutcomes).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await r.close();
      await server.stop();
      await dbHandle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  /*
   * Not the shared PostgreSQL of the run (PG_CTL_DATA): other test files use it at the same time from the other jest
   * worker, and restarting it under them would fail their queries (and, see below, kill their processes). The test
   * starts a PostgreSQL of its own with the same binaries (PG_BIN) and restarts that one.
   */
  (pgBin ? test : test.skip)(
    `PostgreSQL restarts with ${APPLICATIONS} applications in flight`,
    async () => {
      const started = Date.now();
      let pg: OwnPostgres | null = null;
      try {
        pg = startOwnPostgres(pgBin!, await freePort());
      } catch (err) {
        throw new Error(`cannot start a PostgreSQL of the test's own with ${pgBin}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const dbHandle = await migrated(pg.url);
      const r = await rig(process.env.TEST_TEMPORAL_ADDRESS!, pg.url, dbHandle.db);
      try {
        const plans = makePlans(r.call.callId, APPLICATIONS, sessionSchedule());
        let restartMs = 0;
        const { failures, at, hit } = await driveThrough(r.driver, plans, 0.4, async () => {
          const t = Date.now();
          pg!.restart();
          restartMs = Date.now() - t;
        });
        const wrongOutcomes = failures.length ? [] : await outcomes(r.driver, plans);
        const { problems, counts } = await census(dbHandle.db, plans, r.call);
        const crashes = r.worker.crashes.map((c) => WorkerProcess.crashReason(c));
        console.log(
          `chaos: PostgreSQL restarted at ${at} (pg_ctl restart took ${restartMs} ms), ${plans.length} applications finished in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
            `${r.driver.stats.retries} calls retried; ${counts.audit} audit rows, ${counts.outbox} outbox rows; ${problems.length} problems` +
            `\n  retried because: ${JSON.stringify(r.driver.stats.retryReasons)}`,
        );
        // The worker rides the restart out: the pool drops its dead connections and activities retry.
        expect(crashes).toEqual([]);
        expect(hit).toBe(true);
        expect(failures).toEqual([]);
        expect(wrongOutcomes).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await r.close();
        await dbHandle.close();
        pg.stop();
      }
    },
    240_000,
  );
});
