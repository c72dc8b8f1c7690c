import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { ApplicationService } from '../../client/applications';
import { buildApi } from '../../client/api/server';
import { loadConfig, type Config } from '../../config/env';
import { createUser } from '../../db/repositories/users';
import { permissionProblem } from '../../machines/permissions';
import {
  ID_SECRET,
  Driver,
  WorkerProcess,
  between,
  census,
  chaosCall,
  cliPath,
  expectedStateMessages,
  makePlans,
  openChaosDb,
  outcomes,
  pool,
  requireDist,
  sessionSchedule,
  sleep,
  workerEnvironment,
  type ChaosCall,
} from '../support/chaos-harness';
import { projectRoot } from '../support/fixtures';

/*
 * Chaos, part one (issue "time and failure"): the real worker (`node dist/worker.js`) is SIGKILLed every few seconds
 * and restarted while 50 applications go through their whole lifecycle, and then the commission and an operator
 * decide the same application at the same moment from two doors (CLI and HTTP). Dev-server and PostgreSQL restarts
 * are in restarts.test.ts, so that jest can run the two files side by side.
 *
 * The worker is a separate process, so it needs a database two processes can share: PostgreSQL. The embedded PGlite
 * lives inside one process (an in-memory or file-locked WebAssembly instance) and cannot be opened by the worker
 * child and by the test at once; without DATABASE_URL these parts are skipped.
 */

const databaseUrl = process.env.DATABASE_URL;
const APPLICATIONS = 50;
const CONCURRENCY = 10;
const MIN_KILLS = 5;
const MAX_KILLS = 7;

if (!databaseUrl) {
  test('chaos: skipped without PostgreSQL (DATABASE_URL unset)', () => {
    console.warn(
      'chaos.test.ts: DATABASE_URL is unset, so the worker-crash and conflicting-decision chaos tests are skipped: the worker runs as a child process and PGlite cannot be shared between processes. .ci/run sets DATABASE_URL.',
    );
    // What can be checked without servers: the expectations the census uses are sane.
    const schedule = sessionSchedule();
    const [plan] = makePlans('chaos-sanity', 1, schedule);
    expect(expectedStateMessages(plan!)).toBeGreaterThan(2);
  });
}

(databaseUrl ? describe : describe.skip)('chaos: the worker crashes', () => {
  let call: ChaosCall;
  let config: Config;
  let connection: Connection;
  let client: Client;
  let service: ApplicationService;
  let dbHandle: ReturnType<typeof openChaosDb>;
  let worker: WorkerProcess;
  let driver: Driver;

  beforeAll(async () => {
    requireDist();
    const address = process.env.TEST_TEMPORAL_ADDRESS;
    if (!address) throw new Error('the jest global setup did not run (TEST_TEMPORAL_ADDRESS unset)');
    call = chaosCall();
    const taskQueue = `chaos-${randomUUID()}`;
    config = loadConfig({
      ...process.env,
      CALLS_DIR: call.callsDir,
      DOCUMENTS_DIR: call.documentsDir,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      ID_SECRET,
    });
    dbHandle = openChaosDb(databaseUrl!);
    connection = await Connection.connect({ address });
    client = new Client({ connection });
    service = new ApplicationService(client, config);
    const logFile = path.join(projectRoot, '.data', 'test', `chaos-worker-${call.callId}.log`);
    worker = new WorkerProcess(
      workerEnvironment({ temporalAddress: address, taskQueue, databaseUrl: databaseUrl!, call }),
      logFile,
    );
    await worker.start();
    driver = new Driver({ client, service, db: dbHandle.db, thinkMs: [200, 700] });
  });

  afterAll(async () => {
    driver?.abort();
    await worker?.stop();
    await connection?.close();
    await dbHandle?.close();
    for (const dir of [call?.callsDir, call?.documentsDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(`${APPLICATIONS} applications reach their final state while the worker is SIGKILLed and restarted, and nothing happens twice`, async () => {
    const started = Date.now();
    const schedule = sessionSchedule();
    const plans = makePlans(call.callId, APPLICATIONS, schedule);

    let driving = true;
    const drive = pool(plans, CONCURRENCY, (plan) => driver.run(plan)).finally(() => {
      driving = false;
    });
    // The chaos: every 3-5 s of service, a SIGKILL (activities and workflow tasks in flight are lost), then a restart.
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
    const wrongOutcomes = failures.length ? [] : await outcomes(driver, plans);
    const { problems, counts } = await census(dbHandle.db, plans, call);

    const s = driver.stats;
    console.log(
      `chaos: ${killsWhileDriving} worker SIGKILLs (${worker.starts} starts), ${plans.length} applications, ` +
        `driven in ${(drivenIn / 1000).toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s; ${s.calls} calls, ${s.retries} retried, ` +
        `${s.closedRetries} last commands answered by the closed workflow; rows: ${counts.audit} audit, ${counts.outbox} outbox, ${counts.sessions} sessions, ` +
        `${counts.documents} documents, ${counts.ledger} ledger; ${problems.length} problems\n  retried because: ${JSON.stringify(s.retryReasons)}\n  worker log: ${worker.logFile}`,
    );
    expect(failures).toEqual([]);
    expect(worker.crashes.map((c) => WorkerProcess.crashReason(c))).toEqual([]);
    // If the applications ran out before the kills did, the run proved less than it claims: slow the driver down.
    expect(killsWhileDriving).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(wrongOutcomes).toEqual([]);
    expect(problems).toEqual([]);
  }, 240_000);

  test('a decision from the CLI and a rejection over HTTP at the same moment: exactly one transition', async () => {
    const schedule = sessionSchedule();
    const plans = makePlans(call.callId, 5, schedule, ['rejected']);
    expect(await pool(plans, 5, (plan) => driver.run(plan, { stopBefore: 'decide' }))).toEqual([]);
    for (const plan of plans) expect((await service.view(plan.applicationId)).state).toBe('commission');

    const api: FastifyInstance = buildApi({ config, client, db: dbHandle.db });
    const baseUrl = await api.listen({ host: '127.0.0.1', port: 0 });
    const dir = mkdtempSync(path.join(tmpdir(), 'innosocial-chaos-cli-'));
    // The CLI speaks as an operator. Since access control (issue #4) only the commission approves, so the CLI's
    // conflicting decision is the one an operator may take in commission: withdrawing the application. Should the
    // CLI's role be allowed to approve again, it approves.
    const cliDecision = permissionProblem('operator', 'op.cli', { type: 'APPROVE' }) === null ? 'APPROVE' : 'WITHDRAW';
    const cliWins =
      cliDecision === 'APPROVE' ? { event: 'APPROVE', state: 'admitted' } : { event: 'WITHDRAW', state: 'withdrawn' };
    const data = path.join(dir, 'decision.json');
    writeFileSync(
      data,
      JSON.stringify(
        cliDecision === 'APPROVE' ? { motivation: 'approved at the desk' } : { reason: 'withdrawn at the desk' },
      ),
    );
    // The chair of the commission records decisions over HTTP with a bearer token.
    const { token } = await createUser(dbHandle.db, { name: 'Chiara Chaos', role: 'commission', chair: true });
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
      CALLS_DIR: config.CALLS_DIR,
      ID_SECRET,
      INNOSOCIAL_ACTOR: 'op.cli',
    };
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
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ decision: 'reject', motivation: 'rejected in session' }),
      });
      return { status: response.status, body: (await response.json()) as { state?: string; detail?: string } };
    };

    try {
      // The CLI needs a node start-up and a connection before its Update leaves; the HTTP request is fired at
      // several offsets around that delay, so that at least some of the pairs really meet at the workflow.
      const calibration = await cli('show', plans[0]!.applicationId);
      expect(calibration.code).toBe(0);
      const outcomesSeen: string[] = [];
      for (const [i, plan] of plans.entries()) {
        const id = plan.applicationId;
        const offset = calibration.ms * (0.85 + i * 0.075);
        const acceptedBefore = await acceptedUpdates(id);
        const [viaCli, viaHttp] = await Promise.all([
          cli('send', id, cliDecision, '--data', data),
          sleep(offset).then(() => reject(id)),
        ]);
        const cliWon = viaCli.code === 0;
        const httpWon = viaHttp.status === 200;
        if (cliWon === httpWon) {
          throw new Error(
            `${id}: expected exactly one decision to succeed, got CLI exit ${viaCli.code} (${viaCli.stderr.trim()}) and HTTP ${viaHttp.status} ${JSON.stringify(viaHttp.body).slice(0, 300)}`,
          );
        }
        if (cliWon) expect(viaHttp).toMatchObject({ status: 409 });
        else expect(viaCli).toMatchObject({ code: 4, stderr: expect.stringMatching(/not possible|final state/) });

        const decisions = await dbHandle.db
          .selectFrom('audit_events')
          .select(['event_type', 'from_state', 'to_state'])
          .where('application_id', '=', id)
          .where('from_state', '=', 'commission')
          .execute();
        expect(decisions).toEqual([
          {
            event_type: cliWon ? cliWins.event : 'REJECT',
            from_state: 'commission',
            to_state: cliWon ? cliWins.state : 'rejected',
          },
        ]);
        expect((await service.view(id)).state).toBe(cliWon ? cliWins.state : 'rejected');
        // Whether both commands got past the validator (both accepted: the handlers' lock decided) or not.
        const accepted = (await acceptedUpdates(id)) - acceptedBefore;
        outcomesSeen.push(
          `${cliWon ? 'CLI' : 'HTTP'} won at +${Math.round(offset)} ms${accepted > 1 ? ' (both accepted, the loser refused in the handler)' : ''}`,
        );
        if (cliWon && cliWins.state === 'admitted')
          await service.send(
            id,
            { type: 'WITHDRAW', reason: 'closing the test application' },
            { actor: 'op', role: 'operator' },
          );
      }
      console.log(
        `chaos: conflicting decisions, ${cliDecision} from the CLI (start-up ${calibration.ms} ms) against REJECT over HTTP: ${outcomesSeen.join('; ')}`,
      );
    } finally {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
