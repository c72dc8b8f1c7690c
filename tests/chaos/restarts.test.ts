import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import type { ApplicationService } from '../../client/service/applications';
import { applicationView } from '../../client/service/register';
import { ensureConsultant } from '../../client/service/registry';
import { UserError } from '../../client/errors';
import type { Db } from '../../db/connect';
import { romeToday } from '../../domain/rome';
import type { ApplicationCommand } from '../../machines/events';
import type { CommandMeta, StepResult } from '../../workflows/messages';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server';
import {
  Driver,
  WorkerProcess,
  census,
  killedMidStep,
  commitHoldingProxy,
  registerDisagrees,
  chaosCall,
  chaosClient,
  chaosConfig,
  makePlans,
  migrated,
  outcomes,
  pool,
  sessionSchedule,
  sleep,
  startOwnPostgres,
  workerEnvironment,
  type ChaosCall,
  type OwnPostgres,
  type Plan,
} from '../support/chaos-harness';
import { projectRoot, session } from '../support/fixtures';
import { PEOPLE } from '../support/people';

/*
 * Chaos, part two: the Temporal dev server (file-backed) and PostgreSQL are each restarted while applications are
 * in flight; every application must still reach its final state, with nothing done twice. The worker is a child
 * process composed as worker.ts composes it, as in chaos.test.ts, so PostgreSQL is required (PGlite cannot be
 * shared between the worker process and the test); without DATABASE_URL these tests are skipped.
 */

const databaseUrl = process.env.DATABASE_URL;
const pgBin = process.env.PG_BIN;
const APPLICATIONS = 10;

if (!databaseUrl) {
  test('restarts: skipped without PostgreSQL (DATABASE_URL unset)', () => {
    console.warn(
      'restarts.test.ts: DATABASE_URL is unset, so the dev-server and PostgreSQL restart chaos tests are skipped: ' +
        'the worker runs as a child process and PGlite cannot be shared between processes. .ci/run sets DATABASE_URL.',
    );
    expect(sessionSchedule().slots).toHaveLength(2);
  });
}

interface Rig {
  call: ChaosCall;
  connection: Connection;
  client: Client;
  service: ApplicationService;
  driver: Driver;
  worker: WorkerProcess;
  close(): Promise<void>;
}

/** A call, a worker child (restarted by its supervisor if it dies) and a driver, against one server and database. */
async function rig(temporalAddress: string, dbUrl: string, db: Db): Promise<Rig> {
  const call = chaosCall();
  const config = chaosConfig(call, temporalAddress);
  const logFile = path.join(projectRoot, '.data', 'test', `chaos-worker-${call.callId}.log`);
  const worker = new WorkerProcess(workerEnvironment({ config, databaseUrl: dbUrl, call }), logFile, {
    restartOnExit: true,
  });
  await worker.start();
  const { connection, client, service } = await chaosClient(config, db);
  const driver = new Driver({ client, service, db, config, thinkMs: [100, 400] });
  return {
    call,
    connection,
    client,
    service,
    driver,
    worker,
    async close() {
      driver.abort();
      await worker.stop();
      await connection.close();
      rmSync(call.callsDir, { recursive: true, force: true });
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
  const title = 'the Temporal dev server (file-backed) restarts on the same port and file';
  test(`${title} with ${APPLICATIONS} applications in flight`, async () => {
    const started = Date.now();
    const dir = mkdtempSync(path.join(tmpdir(), 'innosocial-chaos-temporal-'));
    const dbFile = path.join(dir, 'temporal.sqlite');
    const port = await freePort();
    let server: DevServer = await startDevServer({ port, dbFile });
    const db = await migrated(databaseUrl!);
    const r = await rig(server.address, databaseUrl!, db);
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
      const wrongOutcomes = failures.length ? [] : await outcomes(r.driver, db, plans);
      const { problems, counts } = await census(db, plans, r.call);
      console.log(
        `chaos: dev server restarted at ${at} (down ${(downFor / 1000).toFixed(1)} s), ${plans.length} ` +
          `applications finished in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
          `${r.driver.stats.retries} calls retried, worker exits ${r.worker.crashes.length}; ` +
          `${counts.audit} audit rows, ${counts.outbox} outbox rows; ${problems.length} problems` +
          `\n  retried because: ${JSON.stringify(r.driver.stats.retryReasons)}`,
      );
      expect(hit).toBe(true);
      expect(failures).toEqual([]);
      expect(wrongOutcomes).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await r.close();
      await server.stop();
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  /*
   * Not the shared PostgreSQL of the run (PG_CTL_DATA): other test files use it at the same time from the other jest
   * worker, and restarting it under them would fail their queries. The test starts a PostgreSQL of its own with the
   * same binaries (PG_BIN) and restarts that one.
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
      const db = await migrated(pg.url);
      const r = await rig(process.env.TEST_TEMPORAL_ADDRESS!, pg.url, db);
      try {
        const plans = makePlans(r.call.callId, APPLICATIONS, sessionSchedule());
        let restartMs = 0;
        const { failures, at, hit } = await driveThrough(r.driver, plans, 0.4, async () => {
          const t = Date.now();
          pg!.restart();
          restartMs = Date.now() - t;
        });
        const wrongOutcomes = failures.length ? [] : await outcomes(r.driver, db, plans);
        const { problems, counts } = await census(db, plans, r.call);
        const crashes = r.worker.crashes.map((c) => WorkerProcess.crashReason(c));
        console.log(
          `chaos: PostgreSQL restarted at ${at} (pg_ctl restart took ${restartMs} ms), ${plans.length} ` +
            `applications finished in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
            `${r.driver.stats.retries} calls retried; ${counts.audit} audit rows, ${counts.outbox} outbox rows; ` +
            `${problems.length} problems` +
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
        await db.destroy();
        pg.stop();
      }
    },
    240_000,
  );

  /*
   * The narrowest gap a crash can hit: a step's transaction has committed, and its workflow task has not yet told
   * Temporal. The worker reaches PostgreSQL through a proxy that holds back the answer to its COMMIT, so it is killed
   * right there, on purpose; the server times the task out and gives it to the next worker, which runs the step
   * again, finds it under its seq and adopts what the killed worker committed. Twice: the workflow's own first step
   * (eligibility), while an operator who read the register (ahead of the workflow until then) assigns a consultant;
   * and an Update (a session logged), whose sender must get the first commit's answer, while another session arrives
   * as a signal and must neither be lost nor take the first one's step.
   */
  (pgBin ? test : test.skip)(
    "a worker killed between a step's commit and its task's completion: the next one adopts the step, once",
    async () => {
      const pg = startOwnPostgres(pgBin!, await freePort());
      const db = await migrated(pg.url);
      const proxy = await commitHoldingProxy({ host: '127.0.0.1', port: Number(new URL(pg.url).port) });
      const proxied = Object.assign(new URL(pg.url), { port: String(proxy.port) }).toString();
      const r = await rig(process.env.TEST_TEMPORAL_ADDRESS!, proxied, db);
      try {
        const [plan] = makePlans(r.call.callId, 1, sessionSchedule());
        const id = plan!.applicationId;
        const caughtUp: string[] = [];
        /** Sends until answered: "catching up", and an Update's wait cut by a lost task, are no refusals. */
        const answer = async (event: ApplicationCommand, meta: CommandMeta, key: string): Promise<StepResult> => {
          for (const started = Date.now(); ; await sleep(500)) {
            try {
              return (await r.service.send(id, event, meta, { updateId: `${id}:${key}` }))!;
            } catch (err) {
              const transient =
                err instanceof UserError &&
                (err.code === 'temporal_unavailable' || /unexpected workflow task failure/.test(err.message));
              if (!transient || Date.now() - started > 90_000) throw err;
              caughtUp.push(`${key}: ${err.code}: ${err.message}`);
            }
          }
        };
        /** Starts `work` and kills the worker once the step at `seq` committed; `work`'s answer may still come. */
        const killAfterCommit = async <T>(seq: number, work: () => Promise<T>) => {
          const held = proxy.holdAfterCommit();
          const answered = work();
          // Awaited later, after the kill and the restart; handled now, so a refusal is not reported as unhandled.
          answered.catch(() => undefined);
          await held;
          await r.worker.kill();
          const row = await db.selectFrom('applications').select('last_seq').where('id', '=', id).executeTakeFirst();
          expect(row?.last_seq).toBeGreaterThanOrEqual(seq);
          return { answered };
        };

        // 1. The workflow's first step; the register is ahead of the workflow until the next worker adopts it.
        const applying = await killAfterCommit(1, () => r.service.apply(plan!.form, PEOPLE.operator));
        expect(await applying.answered).toMatchObject({ applicationId: id, eligible: true });
        const view = await applicationView(db, id);
        expect({ seq: view.seq, eligibility: view.facts?.eligibility }).toEqual({ seq: 1, eligibility: 'eligible' });
        expect(view.allowedCommands).toContain('ASSIGN_BODY');
        const consultantId = await ensureConsultant(db, 'socialfare', plan!.consultant);
        const assign = { implementingBody: 'socialfare', consultantId, effectiveOn: romeToday(new Date()) };
        const assigning = answer({ type: 'ASSIGN_BODY', ...assign }, PEOPLE.operator, 'assign');
        await r.worker.start();
        expect(await assigning).toMatchObject({ state: 'accompaniment', seq: 2 });

        // 2. An Update's step: its sender waits through the kill and hears what the killed worker committed. The
        // other session arrives meanwhile as a signal, which the next worker handles before the redelivered Update:
        // the seq it reaches is taken, and it must not be answered with the first session's step.
        const { date, slots } = plan!.schedule;
        const logSession = (slot: (typeof slots)[number]) =>
          ({ type: 'LOG_SESSION', session: session(date, slot.start, slot.end) }) as const;
        const logging = await killAfterCommit(3, () => answer(logSession(slots[0]), PEOPLE.consultant, 'log-1'));
        await r.service.send(id, logSession(slots[1]), PEOPLE.consultant, { mode: 'signal' });
        await r.worker.start();
        const logged = await logging.answered;
        // Its answer is the outcome the killed worker stored with the step (seq 3 and the verification it triggered).
        const stored = await db
          .selectFrom('audit_events')
          .select(['event_type', 'outcome'])
          .where('application_id', '=', id)
          .where('seq', '=', 3)
          .executeTakeFirstOrThrow();
        expect(stored.event_type).toBe('LOG_SESSION');
        expect(logged).toMatchObject({ state: 'accompaniment', seq: (stored.outcome as StepResult).seq });
        let signalled = await r.driver.workflowView(id);
        for (const until = Date.now() + 30_000; signalled.context.sessionsLogged < 2 && Date.now() < until;) {
          if (signalled.refusedSignals.length) break;
          await sleep(200);
          signalled = await r.driver.workflowView(id);
        }
        // Refused (the workflow was catching up) is an answer its sender can act on: it sends again.
        const refused = signalled.refusedSignals.map((x) => `${x.type}: ${x.reason}`);
        if (refused.length) await answer(logSession(slots[1]), PEOPLE.consultant, 'log-2');

        const landed = await killedMidStep(r.client, db, [plan!]);
        const trail = await db
          .selectFrom('audit_events')
          .select(['seq', 'event_type'])
          .where('application_id', '=', id)
          .orderBy('seq')
          .execute();
        const mail = await db
          .selectFrom('notification_outbox')
          .select(['template', 'recipient'])
          .where('application_id', '=', id)
          .execute();
        console.log(
          `chaos: worker killed after the commits of seq 1 and 3: ${landed.lostTasks} tasks lost, steps ` +
            `adopted: ${landed.stepsAdopted.join(', ')}; answers waited out: ${JSON.stringify(caughtUp)}; ` +
            `signals refused: ${JSON.stringify(refused)}; trail ` +
            trail.map((t) => `${t.seq} ${t.event_type}`).join(', '),
        );
        // Both kills landed before the task was reported, and the next worker adopted both commits.
        expect(landed.stepsAdopted).toEqual([`${id}#1 CONFIRM_ELIGIBILITY`, `${id}#3 LOG_SESSION`]);
        expect(trail.map((t) => t.seq)).toEqual(trail.map((_, i) => i));
        expect(trail.filter((t) => t.event_type !== 'RECORD_VERIFIED_HOURS').map((t) => t.event_type)).toEqual([
          'SUBMIT',
          'CONFIRM_ELIGIBILITY',
          'ASSIGN_BODY',
          'LOG_SESSION',
          'LOG_SESSION',
        ]);
        const sessions = await db
          .selectFrom('accompaniment_sessions')
          .select('starts_at')
          .where('application_id', '=', id)
          .orderBy('starts_at')
          .execute();
        expect(sessions.map((x) => x.starts_at.slice(0, 5))).toEqual(slots.map((x) => x.start));
        expect((await r.driver.workflowView(id)).context.sessionsLogged).toBe(2);
        expect(mail.map((m) => m.template).sort()).toEqual([
          'application.accompaniment',
          'application.accompaniment',
          'application.submitted',
          'session.confirmation',
          'session.confirmation',
        ]);
        expect(await registerDisagrees(r.driver, db, id)).toEqual([]);
      } finally {
        await r.close();
        await proxy.close();
        await db.destroy();
        pg.stop();
      }
    },
    180_000,
  );
});
