import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { Kysely, PostgresDialect, type NotNull } from 'kysely';
import pg from 'pg';
import type { ApplicationService } from '../../client/applications';
import { UserError } from '../../client/errors';
import { applicationIdFor } from '../../client/ids';
import type { Db } from '../../db/connect';
import { migrateToLatest } from '../../db/migrate';
import type { Database } from '../../db/schema';
import type { ApplicationForm } from '../../domain/application';
import type { ApplicationState } from '../../machines/application.machine';
import type { ApplicationCommand } from '../../machines/events';
import type { ApplicationOutcome } from '../../workflows/application.workflow';
import type { ApplicationView, CommandMeta } from '../../workflows/messages';
import { recipientsOfState, type Interested } from '../../notifications/recipients';
import { applicationForm, pdfBase64, preProject, projectRoot, rules2023, session } from './fixtures';
import { confirmationCode } from './system';

/*
 * The chaos suites' harness: the real worker as a child process that can be SIGKILLed and restarted, a driver that
 * walks applications through their lifecycle retrying transient failures with the SAME update id, and a census of
 * everything with a side effect in the database, to prove that no retry did anything twice.
 */

/** The worker the chaos tests kill: worker.ts's createWorker, run from source with tsx and a shifted activity clock. */
export const chaosWorker = path.join(projectRoot, 'tests', 'support', 'chaos-worker.ts');
/** Sessions are logged for tomorrow; the worker's activities live this far ahead, so they have already happened. */
export const CLOCK_OFFSET_DAYS = 30;
export const cliPath = path.join(projectRoot, 'bin', 'innosocial.js');

export function requireDist(): void {
  for (const file of [path.join(projectRoot, 'dist', 'client', 'cli.js')]) {
    if (!existsSync(file))
      throw new Error(
        `${path.relative(projectRoot, file)} is missing: the chaos tests run the compiled worker and CLI; run them with \`npm test\`, which builds dist/ first (or \`npx tsc -p tsconfig.build.json\`)`,
      );
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const between = (min: number, max: number) => min + Math.random() * (max - min);

// ---------------------------------------------------------------------------------------------------------------
// Database

/**
 * A Kysely on PostgreSQL whose pool survives the server going away. db/connect.ts's pool has no 'error' listener,
 * so a restart of PostgreSQL kills any process holding an idle connection (see the PostgreSQL restart test); the
 * test process must not die with it. Same type parsers as db/connect.ts: DATE and TIME stay strings.
 */
export function openChaosDb(databaseUrl: string): { db: Db; errors: () => number; close: () => Promise<void> } {
  let errors = 0;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 5,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 1082 || oid === 1083
          ? (v: string) => v
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', () => {
    errors += 1;
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, errors: () => errors, close: () => db.destroy() };
}

/** Retries a database read while the server restarts. */
export async function dbRetry<T>(work: () => Promise<T>, what: string, budgetMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (Date.now() - started > budgetMs) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await sleep(500);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A call of the suite's own: the 2023 rules under a fresh id, with a budget no admission can exhaust.

export interface ChaosCall {
  callId: string;
  callsDir: string;
  documentsDir: string;
}

export function chaosCall(budgetCents = 100_000_000_000): ChaosCall {
  // Application ids must match the API's pattern: lower-case call id, a dot, 20 hex digits.
  const callId = `chaos-${randomUUID().slice(0, 8)}`;
  const callsDir = mkdtempSync(path.join(tmpdir(), 'innosocial-chaos-calls-'));
  writeFileSync(path.join(callsDir, `${callId}.v1.json`), JSON.stringify({ ...rules2023, callId, budgetCents }));
  return { callId, callsDir, documentsDir: mkdtempSync(path.join(tmpdir(), 'innosocial-chaos-docs-')) };
}

export const ID_SECRET = 'chaos-suite-id-secret-0123456789';
export const OPERATORS = ['ops.one@metro.example.org', 'ops.two@metro.example.org'];
export const COMMISSION = ['commission@metro.example.org'];

// ---------------------------------------------------------------------------------------------------------------
// The real worker, `node dist/worker.js`, as a child process

export interface WorkerEnv {
  temporalAddress: string;
  taskQueue: string;
  databaseUrl: string;
  call: ChaosCall;
}

export function workerEnvironment(w: WorkerEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: w.databaseUrl,
    TEMPORAL_ADDRESS: w.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: w.taskQueue,
    DOCUMENTS_DIR: w.call.documentsDir,
    CALLS_DIR: w.call.callsDir,
    ID_SECRET,
    CHAOS_CLOCK_OFFSET_DAYS: String(CLOCK_OFFSET_DAYS),
    OPERATOR_EMAILS: OPERATORS.join(','),
    COMMISSION_EMAILS: COMMISSION.join(','),
  };
  // No mail delivery: the outbox is what is counted, and a dispatcher would only add noise.
  delete env.SMTP_URL;
  return env;
}

/**
 * Supervises one `node dist/worker.js`. `kill()` is a SIGKILL (no shutdown, no drain: activities and workflow
 * tasks in flight are simply lost). With `restartOnExit`, an exit nobody asked for (a crash) is counted and the
 * worker started again, as a process supervisor would.
 */
export class WorkerProcess {
  starts = 0;
  kills = 0;
  /** Exits nobody asked for, with their exit code or signal and the last lines the worker wrote. */
  readonly crashes: { at: number; code: number | null; signal: NodeJS.Signals | null; tail: string }[] = [];
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private ready: Promise<void> = Promise.resolve();
  private expectingExit = false;
  private stopped = false;
  private tail = '';

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
    private readonly options: { restartOnExit?: boolean } = {},
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the worker and resolves once it polls (it printed its start-up line). */
  async start(timeoutMs = 60_000): Promise<void> {
    this.spawnChild();
    await this.whenReady(timeoutMs);
  }

  /** Resolves when the current child is polling; after a crash (with `restartOnExit`), when the restarted one is. */
  async whenReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = this.ready;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        ready.then(
          () => 'ready' as const,
          (err: Error) => err,
        ),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
      if (outcome === 'ready' && ready === this.ready && this.running) return;
      if (outcome instanceof Error && !this.options.restartOnExit) throw outcome;
      if (Date.now() >= deadline)
        throw new Error(
          `the worker did not start within ${timeoutMs} ms; see ${this.logFile}:\n${this.tail.slice(-3000)}`,
        );
      await sleep(200);
    }
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.expectingExit = true;
    this.kills += 1;
    this.log(`--- chaos: SIGKILL pid ${this.child?.pid}`);
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** Stops for good: SIGTERM (the worker drains), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.running) return;
    this.expectingExit = true;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private log(line: string) {
    appendFileSync(this.logFile, `${new Date().toISOString()} ${line}\n`);
  }

  /** What a crash said: the unhandled error's first line, or the exit status. */
  static crashReason(crash: { code: number | null; signal: NodeJS.Signals | null; tail: string }): string {
    const unhandled = /Unhandled '(\w+)' event[\s\S]*?\n(\w*(?:Error|error)[^\n]*)/.exec(crash.tail);
    if (unhandled) return `unhandled '${unhandled[1]}' event: ${unhandled[2]}`;
    const error = /^\w*(?:Error|error): [^\n]+/m.exec(crash.tail);
    return `${error ? `${error[0]}, ` : ''}exit ${crash.signal ?? crash.code}`;
  }

  private spawnChild() {
    this.expectingExit = false;
    this.tail = '';
    this.starts += 1;
    // `--require tsx/cjs` compiles in this very process: a SIGKILL kills the worker itself, not a launcher.
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', chaosWorker], {
      cwd: projectRoot,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.log(`--- chaos: started pid ${child.pid} (start #${this.starts})`);
    let settle: { resolve: () => void; reject: (e: Error) => void } | null = null;
    this.ready = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Nobody may be waiting on an earlier child's readiness; keep the rejection from going unhandled.
    this.ready.catch(() => undefined);
    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString();
      this.tail = (this.tail + text).slice(-64_000);
      appendFileSync(this.logFile, text);
      if (/^chaos worker: task queue /m.test(this.tail)) settle?.resolve();
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.log(`--- chaos: pid ${child.pid} exited (${signal ?? code})`);
        settle?.reject(
          new Error(
            `the worker exited (${signal ?? code}) before it was ready; see ${this.logFile}:\n${this.tail.slice(-3000)}`,
          ),
        );
        const unexpected = !this.expectingExit && !this.stopped;
        if (unexpected) {
          this.crashes.push({ at: Date.now(), code, signal, tail: this.tail.slice(-64_000) });
          if (this.options.restartOnExit) setTimeout(() => !this.stopped && !this.running && this.spawnChild(), 500);
        }
        resolve();
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// When sessions can be dated

export interface SessionSchedule {
  date: string;
  slots: [{ start: string; end: string }, { start: string; end: string }];
  reason: string;
}

export function romeNow(now = new Date()) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: 'Europe/Rome',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

/**
 * The worker runs on the real clock (`node dist/worker.js` takes no clock offset, and we add no environment variable
 * for one), and a session only counts when it took place after the assignment and not in the future: so the
 * sessions are today's 00:00-04:00 and 04:00-08:00, Europe/Rome, which have passed from 08:00 on. Before 08:05
 * (or after 23:30, when the run could cross midnight and put the assignment after the sessions' date) no 8 h of
 * today have passed: then the suite runs the lifecycle only up to the accompaniment (the sessions are logged and
 * confirmed but do not reach the minimum) and every application is withdrawn there.
 */
export function sessionSchedule(now = new Date()): SessionSchedule {
  // Tomorrow, in Rome: after any assignment made today, and in the past for the workers' shifted clock.
  const { date } = romeNow(new Date(now.getTime() + 86_400_000));
  return {
    date,
    slots: [
      { start: '09:00', end: '13:00' },
      { start: '14:00', end: '18:00' },
    ],
    reason: 'two 4 h sessions tomorrow, past for the workers',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Plans: which path each application takes and what it must leave behind

export type Path = 'funded' | 'funded_partial' | 'rejected' | 'withdrawn_commission' | 'withdrawn_admitted';
export const FULL_PATHS: Path[] = [
  'funded',
  'funded_partial',
  'rejected',
  'withdrawn_commission',
  'withdrawn_admitted',
];

const ADMITTED_CENTS = 4_000_000;
const PARTIAL_CENTS = 3_500_000;

export interface Plan {
  applicationId: string;
  path: Path;
  form: ApplicationForm;
  consultantEmail: string;
  schedule: SessionSchedule;
}

export function makePlans(callId: string, n: number, schedule: SessionSchedule, paths: Path[] = FULL_PATHS): Plan[] {
  return Array.from({ length: n }, (_, i) => {
    const form = applicationForm({ callId });
    const path: Path = paths[i % paths.length]!;
    return {
      applicationId: applicationIdFor(ID_SECRET, callId, form.company.vatNumber),
      path,
      form,
      consultantEmail: `consultant.${randomUUID().slice(0, 12)}@socialfare.example.org`,
      schedule,
    };
  });
}

export const finalStateOf: Record<Path, ApplicationState> = {
  funded: 'funded',
  funded_partial: 'funded',
  rejected: 'rejected',
  withdrawn_commission: 'withdrawn',
  withdrawn_admitted: 'withdrawn',
};

/** The states each path enters after `submitted`, in order: each one queues e-mails. */
const statesEntered: Record<Path, ApplicationState[]> = {
  funded: ['accompaniment', 'pre_project', 'commission', 'admitted', 'funded'],
  funded_partial: ['accompaniment', 'pre_project', 'commission', 'admitted', 'funded'],
  rejected: ['accompaniment', 'pre_project', 'commission', 'rejected'],
  withdrawn_commission: ['accompaniment', 'pre_project', 'commission', 'withdrawn'],
  withdrawn_admitted: ['accompaniment', 'pre_project', 'commission', 'admitted', 'withdrawn'],
};

/**
 * `application.*` outbox rows an application must have: the submission, then the recipients of each state entered.
 * (Per-session messages, `session.*`, are checked apart: each session must have the same set, once each.)
 */
export function expectedStateMessages(plan: Plan): number {
  const who: Interested = {
    company: {
      address: plan.form.company.legalRepresentative.email,
      locale: plan.form.company.legalRepresentative.locale ?? 'it',
      name: plan.form.company.legalRepresentative.name,
    },
    consultant: { address: plan.consultantEmail.toLowerCase(), name: null },
    operators: OPERATORS,
    commission: COMMISSION,
  };
  return 1 + statesEntered[plan.path].reduce((n, state) => n + recipientsOfState(state, who).length, 0);
}

/** Ledger movements (kind, cents) an application must have, and its reservation at the end. */
export function expectedLedger(path: Path): {
  movements: string[];
  reservation: string | null;
  committedCents: number;
} {
  switch (path) {
    case 'funded':
      return {
        movements: [`reserve:${ADMITTED_CENTS}`],
        reservation: `consumed:${ADMITTED_CENTS}`,
        committedCents: ADMITTED_CENTS,
      };
    case 'funded_partial':
      return {
        movements: [`reserve:${ADMITTED_CENTS}`, `adjust:${PARTIAL_CENTS - ADMITTED_CENTS}`],
        reservation: `consumed:${PARTIAL_CENTS}`,
        committedCents: PARTIAL_CENTS,
      };
    case 'withdrawn_admitted':
      return {
        movements: [`reserve:${ADMITTED_CENTS}`, `release:${-ADMITTED_CENTS}`],
        reservation: `released:${ADMITTED_CENTS}`,
        committedCents: 0,
      };
    default:
      return { movements: [], reservation: null, committedCents: 0 };
  }
}

/** How many times each command (and the system events that follow one for one) must be in the audit trail. */
export function expectedEventCounts(path: Path): Record<string, number> {
  const counts: Record<string, number> = {
    SUBMIT: 1,
    CONFIRM_ELIGIBILITY: 1,
    ASSIGN_BODY: 1,
    ATTACH_DOCUMENT: 1,
    DOCUMENT_STORED: 1,
    LOG_SESSION: 2,
    CONFIRM_SESSION: 2,
  };
  Object.assign(counts, { COMPLETE_ACCOMPANIMENT: 1, SUBMIT_PRE_PROJECT: 1, FORWARD_TO_COMMISSION: 1 });
  switch (path) {
    case 'funded':
    case 'funded_partial':
      return { ...counts, APPROVE: 1, RECORD_BUDGET: 1, RECORD_FUNDING: 1 };
    case 'rejected':
      return { ...counts, REJECT: 1 };
    case 'withdrawn_commission':
      return { ...counts, WITHDRAW: 1 };
    case 'withdrawn_admitted':
      return { ...counts, APPROVE: 1, RECORD_BUDGET: 1, WITHDRAW: 1 };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The driver

const operator: CommandMeta = { actor: 'op.chaos', role: 'operator' };
const consultant: CommandMeta = { actor: 'consultant.chaos', role: 'consultant' };
const company: CommandMeta = { actor: 'legal representative', role: 'company' };
const commission: CommandMeta = { actor: 'commission', role: 'commission' };

interface Step {
  key: string;
  meta: CommandMeta;
  event: () => Promise<ApplicationCommand>;
}

export interface DriverStats {
  calls: number;
  retries: number;
  /** Retries by what went wrong, e.g. "internal: Timed out or cancelled waiting for Workflow Update". */
  retryReasons: Record<string, number>;
  /** Last commands re-sent after the workflow had closed: answered from its result. */
  closedRetries: number;
  stepsDone: number;
}

export interface DriverOptions {
  client: Client;
  service: ApplicationService;
  db: Db;
  /** Pause between one application's steps, in ms: keeps applications in flight while the chaos happens. */
  thinkMs?: [number, number];
  /** One attempt of one call gives up after this long (a gRPC deadline), then the call is retried. */
  attemptTimeoutMs?: number;
  /** A step fails for good after retrying this long. */
  stepBudgetMs?: number;
}

const transient = (err: unknown) =>
  !(err instanceof UserError) || err.code === 'temporal_unavailable' || err.code === 'internal';
const reasonOf = (err: unknown) => {
  const text =
    err instanceof UserError
      ? `${err.code}: ${err.message}`
      : err instanceof Error
        ? `${err.name}: ${err.message}`
        : String(err);
  // A histogram key: ids and figures out, and the transport details after the first comma.
  return text
    .replace(/[0-9a-f]{20,}|\d+/g, '#')
    .split(',')[0]!
    .slice(0, 90);
};

export class Driver {
  readonly stats: DriverStats = { calls: 0, retries: 0, retryReasons: {}, closedRetries: 0, stepsDone: 0 };
  private readonly thinkMs: [number, number];
  private readonly attemptTimeoutMs: number;
  private readonly stepBudgetMs: number;
  private aborted = false;

  constructor(private readonly o: DriverOptions) {
    this.thinkMs = o.thinkMs ?? [0, 0];
    this.attemptTimeoutMs = o.attemptTimeoutMs ?? 15_000;
    this.stepBudgetMs = o.stepBudgetMs ?? 200_000;
  }

  /** Steps in a plan, counting apply and the wait for eligibility. */
  static stepCount(plan: Plan): number {
    return 2 + Driver.steps(plan, async () => '000000').length;
  }

  static steps(plan: Plan, code: (date: string, start: string) => Promise<string>): Step[] {
    const { date, slots } = plan.schedule;
    const [s1, s2] = slots;
    const steps: Step[] = [
      {
        key: 'assign',
        meta: operator,
        event: async () => ({
          type: 'ASSIGN_BODY',
          implementingBody: 'socialfare',
          consultant: { name: 'Consulente Chaos', email: plan.consultantEmail },
        }),
      },
      {
        key: 'attach',
        meta: consultant,
        event: async () => ({
          type: 'ATTACH_DOCUMENT',
          document: { kind: 'pre_project', filename: 'pre-progetto.pdf', contentBase64: pdfBase64(plan.applicationId) },
        }),
      },
      {
        key: 'log-1',
        meta: consultant,
        event: async () => ({ type: 'LOG_SESSION', session: session(date, s1.start, s1.end, 'impact map') }),
      },
      {
        key: 'log-2',
        meta: consultant,
        event: async () => ({ type: 'LOG_SESSION', session: session(date, s2.start, s2.end, 'indicators') }),
      },
      {
        key: 'confirm-1',
        meta: company,
        event: async () => ({ type: 'CONFIRM_SESSION', date, start: s1.start, code: await code(date, s1.start) }),
      },
      {
        key: 'confirm-2',
        meta: company,
        event: async () => ({ type: 'CONFIRM_SESSION', date, start: s2.start, code: await code(date, s2.start) }),
      },
    ];
    steps.push(
      { key: 'complete', meta: operator, event: async () => ({ type: 'COMPLETE_ACCOMPANIMENT' }) },
      {
        key: 'pre-project',
        meta: consultant,
        event: async () => ({ type: 'SUBMIT_PRE_PROJECT', preProject: preProject() }),
      },
      { key: 'forward', meta: operator, event: async () => ({ type: 'FORWARD_TO_COMMISSION' }) },
    );
    const today = romeNow().date;
    const approve: Step = {
      key: 'decide',
      meta: commission,
      event: async () => ({ type: 'APPROVE', motivation: 'measurable impact' }),
    };
    switch (plan.path) {
      case 'funded':
        return [
          ...steps,
          approve,
          {
            key: 'fund',
            meta: operator,
            event: async () => ({ type: 'RECORD_FUNDING', amountCents: ADMITTED_CENTS, disbursedOn: today }),
          },
        ];
      case 'funded_partial':
        return [
          ...steps,
          approve,
          {
            key: 'fund',
            meta: operator,
            event: async () => ({ type: 'RECORD_FUNDING', amountCents: PARTIAL_CENTS, disbursedOn: today }),
          },
        ];
      case 'rejected':
        return [
          ...steps,
          {
            key: 'decide',
            meta: commission,
            event: async () => ({ type: 'REJECT', motivation: 'impact not measurable' }),
          },
        ];
      case 'withdrawn_commission':
        return [
          ...steps,
          {
            key: 'withdraw',
            meta: operator,
            event: async () => ({ type: 'WITHDRAW', reason: 'the company renounces' }),
          },
        ];
      case 'withdrawn_admitted':
        return [
          ...steps,
          approve,
          {
            key: 'withdraw',
            meta: operator,
            event: async () => ({ type: 'WITHDRAW', reason: 'the company renounces' }),
          },
        ];
    }
  }

  /**
   * Drives one application to its final state, or to just before `stopBefore` (a step key). Every call that
   * fails for a reason that is not an answer (Temporal unreachable, a timeout, a lost worker) is retried with the
   * same update id, `<application>:<step>`, so a command that did land counts once.
   */
  async run(plan: Plan, options: { stopBefore?: string } = {}): Promise<void> {
    const id = plan.applicationId;
    await this.apply(plan);
    this.stats.stepsDone += 1;
    await this.untilEligible(id);
    this.stats.stepsDone += 1;
    const code = (date: string, start: string) =>
      dbRetry(() => confirmationCode(this.o.db, id, date, start), `confirmation code of ${id} ${start}`);
    const steps = Driver.steps(plan, code);
    for (const [i, step] of steps.entries()) {
      if (step.key === options.stopBefore) return;
      await sleep(between(...this.thinkMs));
      await this.send(plan, step, i === steps.length - 1);
      this.stats.stepsDone += 1;
    }
  }

  /** Makes every call still retrying give up: a test that timed out must not leave drivers running behind it. */
  abort(): void {
    this.aborted = true;
  }

  private async attempt<T>(
    what: string,
    work: () => Promise<T>,
    answer: (err: unknown, attempt: number) => T | undefined = () => undefined,
  ): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (this.aborted) throw new Error(`${what}: the driver was stopped`);
      this.stats.calls += 1;
      try {
        return await this.o.client.withDeadline(Date.now() + this.attemptTimeoutMs, work);
      } catch (err) {
        const answered = answer(err, attempt);
        if (answered !== undefined) return answered;
        if (!transient(err) || Date.now() - started > this.stepBudgetMs) {
          throw new Error(
            `${what} failed after ${attempt + 1} attempt(s) in ${Date.now() - started} ms: ${reasonOf(err)}`,
            { cause: err },
          );
        }
        this.stats.retries += 1;
        const reason = reasonOf(err);
        this.stats.retryReasons[reason] = (this.stats.retryReasons[reason] ?? 0) + 1;
        await sleep(Math.min(2_000, 200 * 2 ** Math.min(attempt, 4)));
      }
    }
  }

  private async apply(plan: Plan): Promise<void> {
    await this.attempt(
      `${plan.applicationId} apply`,
      async () => {
        await this.o.service.apply(plan.form, operator);
        return true;
      },
      // A retry finds the workflow the lost attempt started: the id is derived, so that is this application.
      (err, attempt) => (attempt > 0 && err instanceof UserError && err.code === 'already_applied' ? true : undefined),
    );
  }

  private async untilEligible(id: string): Promise<void> {
    const started = Date.now();
    for (;;) {
      const view = await this.attempt(`${id} view`, () => this.o.service.view(id));
      if (view.facts.eligibility === 'eligible') return;
      if (view.facts.eligibility === 'ineligible')
        throw new Error(`${id} was found ineligible: ${view.facts.ineligibilityReasons.join('; ')}`);
      if (Date.now() - started > this.stepBudgetMs)
        throw new Error(`${id}: eligibility still pending after ${this.stepBudgetMs} ms`);
      await sleep(100);
    }
  }

  private async send(plan: Plan, step: Step, last: boolean): Promise<ApplicationView | null> {
    const id = plan.applicationId;
    const event = await step.event();
    const updateId = `${id}:${step.key}`;
    let closed = false;
    const view = await this.attempt(
      `${id} ${step.key} (${event.type})`,
      () => this.o.service.send(id, event, step.meta, { updateId }),
      (err, attempt) => {
        // The last command landed, the workflow closed, and its answer was lost with the worker: the workflow is
        // final now and says so. The result is checked against the plan at the end.
        if (
          last &&
          attempt > 0 &&
          err instanceof UserError &&
          err.code === 'event_refused' &&
          /a final state/.test(err.message)
        ) {
          closed = true;
          return null;
        }
        return undefined;
      },
    );
    if (closed) this.stats.closedRetries += 1;
    return view;
  }

  /** The workflow's own result: long-polls the history, so it needs no worker once the workflow closed. */
  async outcome(id: string): Promise<ApplicationOutcome> {
    return this.attempt(
      `${id} result`,
      () => this.o.client.workflow.getHandle(id).result() as Promise<ApplicationOutcome>,
    );
  }
}

/** Runs `work` over `items`, at most `limit` at a time; collects failures instead of stopping at the first. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item).catch((err: unknown) => {
        failures.push(err instanceof Error ? err.message : String(err));
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return failures;
}

// ---------------------------------------------------------------------------------------------------------------
// The census: what the database holds for each application, against what its path must leave

export interface Census {
  problems: string[];
  counts: { audit: number; outbox: number; sessions: number; documents: number; preProjects: number; ledger: number };
}

const byApp = <R extends { application_id: string }>(rows: R[]) => {
  const map = new Map<string, R[]>();
  for (const r of rows) map.set(r.application_id, [...(map.get(r.application_id) ?? []), r]);
  return map;
};

export async function census(db: Db, plans: readonly Plan[], call: ChaosCall): Promise<Census> {
  const ids = plans.map((p) => p.applicationId);
  const problems: string[] = [];
  const [audit, outbox, sessions, documents, preProjects, ledger, reservations, applications, budget] =
    await Promise.all([
      db
        .selectFrom('audit_events')
        .select(['application_id', 'seq', 'event_type', 'to_state'])
        .where('application_id', 'in', ids)
        .orderBy('application_id')
        .orderBy('seq')
        .execute(),
      db
        .selectFrom('notification_outbox')
        .select(['application_id', 'idempotency_key', 'template', 'recipient', 'payload'])
        .where('application_id', 'in', ids)
        .$narrowType<{ application_id: NotNull }>()
        .execute(),
      db
        .selectFrom('accompaniment_sessions')
        .select(['application_id', 'session_date', 'starts_at', 'confirmed_at'])
        .where('application_id', 'in', ids)
        .execute(),
      db.selectFrom('documents').select(['application_id', 'sha256']).where('application_id', 'in', ids).execute(),
      db.selectFrom('pre_projects').select(['application_id', 'version']).where('application_id', 'in', ids).execute(),
      db
        .selectFrom('budget_ledger')
        .select(['application_id', 'kind', 'amount_cents', 'idempotency_key'])
        .where('application_id', 'in', ids)
        .orderBy('id')
        .execute(),
      db
        .selectFrom('budget_reservations')
        .select(['application_id', 'status', 'amount_cents'])
        .where('application_id', 'in', ids)
        .execute(),
      db
        .selectFrom('applications')
        .select(['id as application_id', 'state', 'last_seq'])
        .where('id', 'in', ids)
        .execute(),
      db
        .selectFrom('call_budgets')
        .select(['total_cents', 'committed_cents'])
        .where('call_id', '=', call.callId)
        .executeTakeFirst(),
    ]);
  const auditBy = byApp(audit);
  const outboxBy = byApp(outbox);
  const sessionsBy = byApp(sessions);
  const documentsBy = byApp(documents);
  const preProjectsBy = byApp(preProjects);
  const ledgerBy = byApp(ledger);
  const reservationBy = new Map(reservations.map((r) => [r.application_id, r]));
  const applicationBy = new Map(applications.map((r) => [r.application_id, r]));

  const duplicated = (keys: string[]) => [...new Set(keys.filter((k, i) => keys.indexOf(k) !== i))];
  const sequences = new Map<Path, { id: string; events: string }>();
  let sessionMessages: string | undefined;
  for (const plan of plans) {
    const id = plan.applicationId;
    const say = (what: string) => problems.push(`${id} (${plan.path}): ${what}`);
    const final = finalStateOf[plan.path];

    const trail = auditBy.get(id) ?? [];
    const seqs = trail.map((r) => r.seq);
    if (seqs.join(',') !== trail.map((_, i) => i).join(','))
      say(`audit seqs are not exactly 0..${trail.length - 1}: ${seqs.join(',')}`);
    const counts: Record<string, number> = {};
    for (const r of trail)
      if (r.event_type !== 'RECORD_VERIFIED_HOURS') counts[r.event_type] = (counts[r.event_type] ?? 0) + 1;
    const want = expectedEventCounts(plan.path);
    if (JSON.stringify(Object.entries(counts).sort()) !== JSON.stringify(Object.entries(want).sort())) {
      say(`audit events ${JSON.stringify(counts)}, expected ${JSON.stringify(want)}`);
    }
    if (trail.at(-1)?.to_state !== final) say(`last audit row is in ${trail.at(-1)?.to_state}, expected ${final}`);
    // Applications on the same path must have recorded the very same sequence of events.
    const events = trail.map((r) => r.event_type).join(' ');
    const first = sequences.get(plan.path);
    if (!first) sequences.set(plan.path, { id, events });
    else if (first.events !== events)
      say(`audit sequence differs from ${first.id} on the same path:\n    ${events}\n    ${first.events}`);

    const app = applicationBy.get(id);
    if (!app) say('no applications row');
    else if (app.state !== final || app.last_seq !== trail.length - 1)
      say(`applications row says ${app.state} at seq ${app.last_seq}, expected ${final} at ${trail.length - 1}`);

    const mail = outboxBy.get(id) ?? [];
    const keys = mail.map((m) => m.idempotency_key);
    if (duplicated(keys).length) say(`outbox idempotency keys repeated: ${duplicated(keys).join(', ')}`);
    const meaning = mail.map((m) => {
      const payload = (typeof m.payload === 'string' ? JSON.parse(m.payload) : m.payload) as {
        start?: string;
        to?: string;
      };
      return `${m.template}|${m.recipient}|${payload.start ?? ''}`;
    });
    if (duplicated(meaning).length) say(`the same e-mail is queued twice: ${duplicated(meaning).join(', ')}`);
    const stateMessages = meaning.filter((m) => m.startsWith('application.'));
    if (stateMessages.length !== expectedStateMessages(plan)) {
      say(
        `${stateMessages.length} application.* outbox rows, expected ${expectedStateMessages(plan)}: ${stateMessages.sort().join(', ')}`,
      );
    }
    // Per session: the same messages for both sessions, and the same as every other application's sessions.
    const perSession = plan.schedule.slots.map(({ start }) =>
      meaning
        .filter((m) => m.startsWith('session.') && m.endsWith(`|${start}`))
        .map((m) => m.split('|')[0])
        .sort()
        .join(','),
    );
    sessionMessages ??= perSession[0]!;
    if (perSession.some((set) => set !== sessionMessages || set === ''))
      say(`session messages per session [${perSession.join('] [')}], expected [${sessionMessages}] each`);
    const others = meaning.filter((m) => !m.startsWith('application.') && !m.startsWith('session.'));
    if (others.length) say(`unexpected outbox rows: ${others.join(', ')}`);

    const own = sessionsBy.get(id) ?? [];
    if (own.length !== 2 || own.some((s) => s.confirmed_at === null))
      say(`${own.length} sessions (${own.filter((s) => s.confirmed_at).length} confirmed), expected 2 confirmed`);
    if ((documentsBy.get(id) ?? []).length !== 1)
      say(`${(documentsBy.get(id) ?? []).length} documents rows, expected 1`);
    const versions = (preProjectsBy.get(id) ?? []).length;
    if (versions !== 1) say(`${versions} pre-project versions stored`);

    const expected = expectedLedger(plan.path);
    const movements = (ledgerBy.get(id) ?? []).map((l) => `${l.kind}:${l.amount_cents}`);
    if (movements.join(' ') !== expected.movements.join(' '))
      say(`ledger movements [${movements.join(' ')}], expected [${expected.movements.join(' ')}]`);
    const r = reservationBy.get(id);
    const reservation = r ? `${r.status}:${r.amount_cents}` : null;
    if (reservation !== expected.reservation) say(`reservation ${reservation}, expected ${expected.reservation}`);
  }

  // Across the whole call: the ledger's keys are unique and its movements add up to what is committed.
  const ledgerKeys = ledger.map((l) => l.idempotency_key);
  if (duplicated(ledgerKeys).length)
    problems.push(`ledger idempotency keys repeated: ${duplicated(ledgerKeys).join(', ')}`);
  const committed = plans.reduce((sum, p) => sum + expectedLedger(p.path).committedCents, 0);
  const balance = ledger.reduce((sum, l) => sum + Number(l.amount_cents), 0);
  const budgetCommitted = budget ? Number(budget.committed_cents) : 0;
  if (balance !== committed || budgetCommitted !== committed)
    problems.push(
      `call ${call.callId}: ledger balance ${balance}, committed ${budgetCommitted}, expected ${committed}`,
    );

  // Document bytes: one blob per application (each uploaded its own PDF), and no other file but crash leftovers.
  const blobs = existsSync(call.documentsDir)
    ? readdirSync(call.documentsDir).flatMap((d) =>
        readdirSync(path.join(call.documentsDir, d)).filter((f) => !f.endsWith('.tmp')),
      )
    : [];
  const digests = new Set(documents.map((d) => d.sha256));
  if (![...digests].every((d) => blobs.includes(d)))
    problems.push(`document blobs missing: ${[...digests].filter((d) => !blobs.includes(d)).join(', ')}`);

  return {
    problems,
    counts: {
      audit: audit.length,
      outbox: outbox.length,
      sessions: sessions.length,
      documents: documents.length,
      preProjects: preProjects.length,
      ledger: ledger.length,
    },
  };
}

/** Checks every workflow's own result against its plan. */
export async function outcomes(driver: Driver, plans: readonly Plan[]): Promise<string[]> {
  const problems: string[] = [];
  await pool(plans, 10, async (plan) => {
    const result = await driver.outcome(plan.applicationId);
    const fundedCents = plan.path === 'funded' ? ADMITTED_CENTS : plan.path === 'funded_partial' ? PARTIAL_CENTS : null;
    if (result.state !== finalStateOf[plan.path] || result.fundedCents !== fundedCents) {
      problems.push(
        `${plan.applicationId} (${plan.path}): workflow ended ${result.state} with fundedCents ${result.fundedCents}, expected ${finalStateOf[plan.path]} with ${fundedCents}`,
      );
    }
  }).then((failures) => problems.push(...failures));
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// A throwaway PostgreSQL cluster of the test's own, to restart at will

export interface OwnPostgres {
  url: string;
  dataDir: string;
  restart(): void;
  stop(): void;
}

/**
 * initdb + pg_ctl start with the binaries in `pgBin`, on a free port, sockets in the data directory. As root
 * (CI) the commands run as the `postgres` user, which owns the data directory.
 */
export function startOwnPostgres(pgBin: string, port: number): OwnPostgres {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'innosocial-chaos-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dataDir, uid, gid);
  }
  const run = (bin: string, args: string[]) => {
    const [cmd, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', path.join(pgBin, bin), ...args]]
      : [path.join(pgBin, bin), args];
    execFileSync(cmd as string, argv as string[], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  };
  run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  run('pg_ctl', [
    '-D',
    dataDir,
    '-o',
    `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    '-l',
    path.join(dataDir, 'server.log'),
    '-w',
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    restart: () =>
      run('pg_ctl', ['-D', dataDir, '-l', path.join(dataDir, 'server.log'), '-m', 'fast', '-w', 'restart']),
    stop: () => {
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

export async function migrated(url: string) {
  const handle = openChaosDb(url);
  await dbRetry(() => migrateToLatest(handle.db), 'migrating');
  return handle;
}
