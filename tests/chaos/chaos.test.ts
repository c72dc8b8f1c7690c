import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { buildApi } from '../../client/api/server';
import type { ApplicationService } from '../../client/service/applications';
import { applicationView } from '../../client/service/register';
import type { Config } from '../../config/env';
import type { Db } from '../../db/connect';
import { createUser } from '../../db/repositories/users';
import {
  Driver,
  WorkerProcess,
  between,
  census,
  chaosCall,
  chaosClient,
  chaosConfig,
  cliPath,
  expectedStateMessages,
  killedMidStep,
  makePlans,
  migrated,
  outcomes,
  pool,
  requireDist,
  sessionSchedule,
  sleep,
  workerEnvironment,
  type ChaosCall,
} from '../support/chaos-harness';
import { projectRoot } from '../support/fixtures';
import { testKeyRing } from '../support/keys';

/*
 * Chaos, part one (issue "time and failure"): the real worker is SIGKILLed every few seconds and restarted while 50
 * applications go through their whole lifecycle (each step one local activity, one transaction), and then the
 * commission and an operator decide the same application at the same moment from two doors (CLI and HTTP, both
 * through the API). Dev-server and PostgreSQL restarts are in restarts.test.ts, so that jest can run the two files
 * side by side.
 *
 * The worker is a separate process, so it needs a database two processes can share: PostgreSQL. The embedded PGlite
 * lives inside one process and cannot be opened by the worker child and by the test at once; without DATABASE_URL
 * these parts are skipped.
 */

const databaseUrl = process.env.DATABASE_URL;
const APPLICATIONS = 50;
const CONCURRENCY = 10;
const MIN_KILLS = 5;
const MAX_KILLS = 7;

if (!databaseUrl) {
  test('chaos: skipped without PostgreSQL (DATABASE_URL unset)', () => {
    console.warn(
      'chaos.test.ts: DATABASE_URL is unset, so the worker-crash and conflicting-decision chaos tests are skipped: ' +
        'the worker runs as a child process and PGlite cannot be shared between processes. .ci/run sets DATABASE_URL.',
    );
    // What can be checked without servers: the expectations the census uses are sane.
    const [plan] = makePlans('chaos-sanity', 1, sessionSchedule());
    expect(expectedStateMessages(plan!)).toBeGreaterThan(2);
  });
}

(databaseUrl ? describe : describe.skip)('chaos: the worker crashes', () => {
  let call: ChaosCall;
  let config: Config;
  let db: Db;
  let connection: Connection;
  let client: Client;
  let service: ApplicationService;
  let worker: WorkerProcess;
  let driver: Driver;

  beforeAll(async () => {
    const address = process.env.TEST_TEMPORAL_ADDRESS;
    if (!address) throw new Error('the jest global setup did not run (TEST_TEMPORAL_ADDRESS unset)');
    call = chaosCall();
    config = chaosConfig(call, address);
    db = await migrated(databaseUrl!);
    ({ connection, client, service } = await chaosClient(config, db));
    const logFile = path.join(projectRoot, '.data', 'test', `chaos-worker-${call.callId}.log`);
    worker = new WorkerProcess(workerEnvironment({ config, databaseUrl: databaseUrl!, call }), logFile);
    await worker.start();
    driver = new Driver({ client, service, db, config, thinkMs: [200, 700] });
  });

  afterAll(async () => {
    driver?.abort();
    await worker?.stop();
    await connection?.close();
    await db?.destroy();
    if (call) rmSync(call.callsDir, { recursive: true, force: true });
  });

  const title = `${APPLICATIONS} applications reach their final state while the worker is SIGKILLed and restarted`;
  test(`${title}, and nothing happens twice`, async () => {
    const started = Date.now();
    const plans = makePlans(call.callId, APPLICATIONS, sessionSchedule());

    let driving = true;
    const drive = pool(plans, CONCURRENCY, (plan) => driver.run(plan)).finally(() => {
      driving = false;
    });
    // The chaos: every 3-5 s of service, a SIGKILL (workflow tasks and their local activities in flight are lost),
    // then a restart.
    let killsWhileDriving = 0;
    while (driving && killsWhileDriving < MAX_KILLS) {
      const until = Date.now() + between(3_000, 5_000);
      while (driving && Date.now() < until) await sleep(100);
      if (!driving) break;
      await worker.kill();
      killsWhileDriving += 1;
      await worker.start();
    }
    const failures = await drive;
    const drivenIn = Date.now() - started;
    const wrongOutcomes = failures.length ? [] : await outcomes(driver, db, plans);
    const { problems, counts } = await census(db, plans, call);
    const landed = await killedMidStep(client, db, plans);

    const s = driver.stats;
    console.log(
      `chaos: ${killsWhileDriving} worker SIGKILLs (${worker.starts} starts), ${plans.length} applications, ` +
        `driven in ${(drivenIn / 1000).toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `${s.calls} calls, ${s.retries} retried, ${s.closedRetries} last commands answered by the closed workflow; ` +
        `rows: ${counts.audit} audit, ${counts.outbox} outbox, ${counts.sessions} sessions, ` +
        `${counts.documents} documents, ${counts.ledger} ledger; ${problems.length} problems\n` +
        `  ${landed.lostTasks} workflow tasks lost with a killed worker; ${landed.stepsAdopted.length} steps ` +
        `committed by a killed worker and adopted by the next: ${landed.stepsAdopted.join(', ')}\n` +
        `  retried because: ${JSON.stringify(s.retryReasons)}\n  worker log: ${worker.logFile}`,
    );
    expect(failures).toEqual([]);
    expect(worker.crashes.map((c) => WorkerProcess.crashReason(c))).toEqual([]);
    // If the applications ran out before the kills did, the run proved less than it claims: slow the driver down.
    expect(killsWhileDriving).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(wrongOutcomes).toEqual([]);
    expect(problems).toEqual([]);
  }, 240_000);

  test('a withdrawal from the CLI and a rejection over HTTP at the same moment: exactly one transition', async () => {
    requireDist();
    const plans = makePlans(call.callId, 5, sessionSchedule(), ['rejected']);
    expect(await pool(plans, 5, (plan) => driver.run(plan, { stopBefore: 'decide' }))).toEqual([]);
    for (const plan of plans) expect((await applicationView(db, plan.applicationId)).state).toBe('commission');

    const api = buildApi({ config, client, db, ring: testKeyRing() });
    const baseUrl = await api.listen({ host: '127.0.0.1', port: 0 });
    // Two doors, two people: an operator records the company's withdrawal with the CLI, the chair of the
    // commission records the rejection over HTTP.
    const operator = await createUser(db, { name: 'Olga Chaos', role: 'operator' });
    const chair = await createUser(db, { name: 'Chiara Chaos', role: 'commission', chair: true });
    const env = { ...process.env, INNOSOCIAL_API_URL: baseUrl, INNOSOCIAL_TOKEN: operator.token };
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stderr: string; ms: number }>((resolve) => {
        const t = Date.now();
        execFile(process.execPath, [cliPath, ...args], { env }, (err, _stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, stderr, ms: Date.now() - t }),
        );
      });
    const acceptedUpdates = async (id: string) =>
      ((await client.workflow.getHandle(id).fetchHistory()).events ?? []).filter(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
      ).length;
    const reject = async (id: string) => {
      const response = await fetch(`${baseUrl}/applications/${id}/decision`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${chair.token}` },
        body: JSON.stringify({ decision: 'reject', motivation: 'rejected in session' }),
      });
      return { status: response.status, body: (await response.json()) as { state?: string; detail?: string } };
    };

    try {
      // The CLI needs a node start-up and a request before its command leaves; the HTTP request is fired at several
      // offsets around that delay, so that at least some of the pairs really meet at the workflow.
      const calibration = await cli('show', plans[0]!.applicationId);
      expect(calibration).toMatchObject({ code: 0 });
      const outcomesSeen: string[] = [];
      for (const [i, plan] of plans.entries()) {
        const id = plan.applicationId;
        const offset = calibration.ms * (0.55 + i * 0.15);
        const acceptedBefore = await acceptedUpdates(id);
        const [viaCli, viaHttp] = await Promise.all([
          cli('withdraw', id, '--reason', 'withdrawn at the desk'),
          sleep(offset).then(() => reject(id)),
        ]);
        const cliWon = viaCli.code === 0;
        const httpWon = viaHttp.status === 200;
        if (cliWon === httpWon) {
          throw new Error(
            `${id}: expected exactly one decision to succeed, got CLI exit ${viaCli.code} (${viaCli.stderr.trim()}) ` +
              `and HTTP ${viaHttp.status} ${JSON.stringify(viaHttp.body).slice(0, 300)}`,
          );
        }
        if (cliWon) expect(viaHttp).toMatchObject({ status: 409 });
        else expect(viaCli).toMatchObject({ code: 4, stderr: expect.stringMatching(/not possible|final state/) });
        const winner = cliWon
          ? { event_type: 'WITHDRAW', state: 'withdrawn', actor: operator.user.id }
          : { event_type: 'REJECT', state: 'rejected', actor: chair.user.id };

        const trail = await db
          .selectFrom('audit_events')
          .select(['seq', 'event_type', 'from_state', 'to_state', 'actor'])
          .where('application_id', '=', id)
          .orderBy('seq')
          .execute();
        expect(trail.map((r) => r.seq)).toEqual(trail.map((_, n) => n));
        expect(trail.filter((r) => r.from_state === 'commission')).toEqual([
          {
            seq: trail.length - 1,
            event_type: winner.event_type,
            from_state: 'commission',
            to_state: winner.state,
            actor: winner.actor,
          },
        ]);
        const view = await applicationView(db, id);
        expect({ state: view.state, seq: view.seq }).toEqual({ state: winner.state, seq: trail.length - 1 });
        expect((await driver.outcome(id)).state).toBe(winner.state);
        // Whether both commands got past the validator (both accepted: the handlers' lock decided) or not.
        const accepted = (await acceptedUpdates(id)) - acceptedBefore;
        outcomesSeen.push(
          `${cliWon ? 'CLI' : 'HTTP'} won at +${Math.round(offset)} ms` +
            (accepted > 1 ? ' (both accepted, the loser refused in the handler)' : ''),
        );
      }
      console.log(
        `chaos: conflicting decisions, WITHDRAW from the CLI (start-up ${calibration.ms} ms) against REJECT over ` +
          `HTTP: ${outcomesSeen.join('; ')}`,
      );
    } finally {
      await api.close();
    }
  }, 120_000);
});
