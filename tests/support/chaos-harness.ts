import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { NotNull } from 'kysely';
import { canonicalJson } from '../../activities/digest';
import { UserError } from '../../client/errors';
import { ApplicationService } from '../../client/service/applications';
import { applicationIdFor } from '../../client/service/ids';
import { applicationView } from '../../client/service/register';
import { ensureConsultant } from '../../client/service/registry';
import { territoryLoader } from '../../config/comuni';
import { loadConfig, type Config } from '../../config/env';
import { connectDb, type Db } from '../../db/connect';
import { migrateToLatest } from '../../db/migrate';
import { storeUpload } from '../../documents/store';
import type { ApplicationForm } from '../../domain/application';
import { romeToday } from '../../domain/rome';
import type { ApplicationState } from '../../machines/application.machine';
import type { ApplicationCommand } from '../../machines/events';
import { recipientsOfState, type Interested } from '../../notifications/recipients';
import { dataConverter } from '../../security/data-converter';
import type { ApplicationOutcome } from '../../workflows/application.workflow';
import { viewQuery, type CommandMeta, type StepResult } from '../../workflows/messages';
import { applicationForm, pdfBytes, preProject, projectRoot, rules2023, session } from './fixtures';
import { TEST_KEY_ENV, testKeyRing } from './keys';
import { PEOPLE } from './people';
import { confirmationCode } from './system';

/*
 * The chaos suites' harness: the real worker as a child process that can be SIGKILLed and restarted, a driver that
 * walks applications through their lifecycle through the same service the API uses, retrying transient failures
 * with the SAME update id, and a census of everything with a side effect in the database, held against each
 * application's plan and against its workflow, to prove that no retry did anything twice.
 */

/** The worker the chaos tests kill: worker.ts's own composition, run from source with tsx and a shifted clock. */
export const chaosWorker = path.join(projectRoot, 'tests', 'support', 'chaos-worker.ts');
/** Sessions are logged for tomorrow; the worker's activities live this far ahead, so they have already happened. */
export const CLOCK_OFFSET_DAYS = 30;
export const cliPath = path.join(projectRoot, 'bin', 'innosocial.js');

/** The CLI runs compiled (bin/innosocial.js loads dist/client/cli/main.js). */
export function requireDist(): void {
  const file = path.join(projectRoot, 'dist', 'client', 'cli', 'main.js');
  if (!existsSync(file))
    throw new Error(
      `${path.relative(projectRoot, file)} is missing: the CLI runs compiled; run the suite with \`npm test\`, which ` +
        'builds dist/ first (or `npx tsc -p tsconfig.build.json`)',
    );
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const between = (min: number, max: number) => min + Math.random() * (max - min);

// ---------------------------------------------------------------------------------------------------------------
// Database

/** A migrated database on PostgreSQL; db/connect.ts's pool rides out a restarting server (the query fails, not us). */
export async function migrated(url: string): Promise<Db> {
  const db = await connectDb({ databaseUrl: url, pgliteDir: 'memory://' });
  await dbRetry(() => migrateToLatest(db), 'migrating');
  return db;
}

/**
 * A TCP proxy in front of PostgreSQL, for the worker. Armed with `holdAfterCommit()`, it lets the next COMMIT
 * through and holds PostgreSQL's answer: the step is committed and visible, and the worker has not heard of it.
 * Killing the worker then is a crash in the narrowest gap (after the commit, before the workflow task reports),
 * reached on purpose whatever the machine's load. Unarmed, it only forwards.
 */
export async function commitHoldingProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  let armed: (() => void) | null = null;
  // A simple-protocol Query ('Q', int32 length, text, NUL) whose text is COMMIT: how pg ends a Kysely transaction.
  const isCommit = (chunk: Buffer) =>
    chunk[0] === 0x51 && /^commit;?$/i.test(chunk.toString('utf8', 5, chunk.length - 1).trim());
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    let held: (() => void) | null = null;
    let holding = false;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk) => {
      if (armed && isCommit(chunk)) [held, armed, holding] = [armed, null, true];
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!holding) return void client.write(chunk);
      held?.();
      held = null;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    /** Resolves once a COMMIT went through and PostgreSQL's answer to it is held back from the worker. */
    holdAfterCommit: () =>
      new Promise<void>((resolve) => {
        armed = resolve;
      }),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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
}

export function chaosCall(budgetCents = 100_000_000_000): ChaosCall {
  // Application ids must match the API's pattern: lower-case call id, a dot, 20 hex digits.
  const callId = `chaos-${randomUUID().slice(0, 8)}`;
  const callsDir = mkdtempSync(path.join(tmpdir(), 'innosocial-chaos-calls-'));
  writeFileSync(path.join(callsDir, `${callId}.v1.json`), JSON.stringify({ ...rules2023, callId, budgetCents }));
  return { callId, callsDir };
}

export const ID_SECRET = 'chaos-suite-id-secret-0123456789';
export const OPERATORS = ['ops.one@metro.example.org', 'ops.two@metro.example.org'];
export const COMMISSION = ['commission@metro.example.org'];

/** The configuration the test side (service, API) and the worker share: one call, one task queue, the test keys. */
export function chaosConfig(call: ChaosCall, temporalAddress: string, taskQueue = `chaos-${randomUUID()}`): Config {
  return loadConfig({ ...process.env, ...chaosEnv(call, temporalAddress, taskQueue) });
}

function chaosEnv(call: ChaosCall, temporalAddress: string, taskQueue: string): Record<string, string> {
  return {
    APP_ENV: 'test',
    LOG_LEVEL: 'warn',
    ...TEST_KEY_ENV,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    CALLS_DIR: call.callsDir,
    ID_SECRET,
    OPERATOR_EMAILS: OPERATORS.join(','),
    COMMISSION_EMAILS: COMMISSION.join(','),
  };
}

/** The client side of a chaos test: a Temporal client with the payload codec, and the service the API uses. */
export async function chaosClient(config: Config, db: Db) {
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection, dataConverter: dataConverter(testKeyRing()) });
  const service = new ApplicationService({ config, client, db, territory: territoryLoader(config.projectRoot) });
  return { connection, client, service };
}

// ---------------------------------------------------------------------------------------------------------------
// The real worker as a child process

export interface WorkerEnv {
  config: Config;
  databaseUrl: string;
  call: ChaosCall;
}

export function workerEnvironment(w: WorkerEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...chaosEnv(w.call, w.config.TEMPORAL_ADDRESS, w.config.TEMPORAL_TASK_QUEUE),
    DATABASE_URL: w.databaseUrl,
    // The bundle the jest global setup built: a restart takes seconds, not a bundling.
    ...(process.env.TEST_WORKFLOW_BUNDLE ? { WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE } : {}),
    CHAOS_CLOCK_OFFSET_DAYS: String(CLOCK_OFFSET_DAYS),
  };
  // No mail delivery: the outbox is what is counted, and a dispatcher would only add noise.
  delete env.SMTP_URL;
  return env;
}

/**
 * Supervises one worker process (chaos-worker.ts). `kill()` is a SIGKILL (no shutdown, no drain: workflow tasks and
 * the local activities running inside them are simply lost). With `restartOnExit`, an exit nobody asked for (a
 * crash) is counted and the worker started again, as a process supervisor would.
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
            `the worker exited (${signal ?? code}) before it was ready; see ${this.logFile}:\n` +
              this.tail.slice(-3000),
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
// When sessions take place

export interface SessionSchedule {
  date: string;
  slots: [{ start: string; end: string }, { start: string; end: string }];
}

export function romeNow(now = new Date()) {
  return { date: romeToday(now) };
}

/**
 * Two 4 h sessions tomorrow (Europe/Rome): after any assignment made today, and long past for the worker, whose
 * clock runs CLOCK_OFFSET_DAYS ahead; so they count whatever the hour the suite runs at.
 */
export function sessionSchedule(now = new Date()): SessionSchedule {
  return {
    date: romeToday(new Date(now.getTime() + 86_400_000)),
    slots: [
      { start: '09:00', end: '13:00' },
      { start: '14:00', end: '18:00' },
    ],
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
const BODY = 'socialfare';

export interface Plan {
  applicationId: string;
  path: Path;
  form: ApplicationForm;
  /** Each application its own consultant: the same person is never in two sessions at once. */
  consultant: { name: string; email: string };
  schedule: SessionSchedule;
}

export function makePlans(callId: string, n: number, schedule: SessionSchedule, paths: Path[] = FULL_PATHS): Plan[] {
  return Array.from({ length: n }, (_, i) => {
    const form = applicationForm({ callId });
    const tag = randomUUID().slice(0, 12);
    return {
      applicationId: applicationIdFor(ID_SECRET, callId, form.company.vatNumber),
      path: paths[i % paths.length]!,
      form,
      consultant: { name: `Consulente ${tag}`, email: `consultant.${tag}@socialfare.example.org` },
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

const fundedCentsOf = (path: Path) =>
  path === 'funded' ? ADMITTED_CENTS : path === 'funded_partial' ? PARTIAL_CENTS : null;
const admittedCentsOf = (path: Path) =>
  path === 'rejected' || path === 'withdrawn_commission' ? null : ADMITTED_CENTS;

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
    consultant: { address: plan.consultant.email, name: plan.consultant.name },
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
    LOG_SESSION: 2,
    CONFIRM_SESSION: 2,
    COMPLETE_ACCOMPANIMENT: 1,
    SUBMIT_PRE_PROJECT: 1,
    FORWARD_TO_COMMISSION: 1,
  };
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

interface Step {
  key: string;
  meta: CommandMeta;
  /** Built again on every attempt: what it stores first (consultant, upload) is stored once whatever the retries. */
  event: () => Promise<ApplicationCommand>;
}

/** What the API does before some commands: registers the consultant, stores the upload; and the company's code. */
interface Preparations {
  consultantId(): Promise<string>;
  document(): Promise<Extract<ApplicationCommand, { type: 'ATTACH_DOCUMENT' }>['document']>;
  code(date: string, start: string): Promise<string>;
}

export interface DriverStats {
  calls: number;
  retries: number;
  /** Retries by what went wrong, e.g. "internal: Timed out or cancelled waiting for Workflow Update". */
  retryReasons: Record<string, number>;
  /** Last commands re-sent after the workflow had closed: answered from the register. */
  closedRetries: number;
  stepsDone: number;
}

export interface DriverOptions {
  client: Client;
  service: ApplicationService;
  db: Db;
  config: Config;
  /** Pause between one application's steps, in ms: keeps applications in flight while the chaos happens. */
  thinkMs?: [number, number];
  /** One attempt of one call gives up after this long (a gRPC deadline), then the call is retried. */
  attemptTimeoutMs?: number;
  /** A step fails for good after retrying this long. */
  stepBudgetMs?: number;
}

const TRANSIENT_CODES: readonly string[] = ['temporal_unavailable', 'database_unavailable', 'internal'];
const transient = (err: unknown) => !(err instanceof UserError) || TRANSIENT_CODES.includes(err.code);
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
    const none = () => Promise.reject(new Error('not prepared'));
    return 2 + Driver.steps(plan, { consultantId: none, document: none, code: none }).length;
  }

  static steps(plan: Plan, prepare: Preparations): Step[] {
    const { date, slots } = plan.schedule;
    const [s1, s2] = slots;
    const { operator, consultant, company, chair } = PEOPLE;
    const steps: Step[] = [
      {
        key: 'assign',
        meta: operator,
        event: async () => ({
          type: 'ASSIGN_BODY',
          implementingBody: BODY,
          consultantId: await prepare.consultantId(),
          effectiveOn: romeToday(new Date()),
        }),
      },
      {
        key: 'attach',
        meta: consultant,
        event: async () => ({ type: 'ATTACH_DOCUMENT', document: await prepare.document() }),
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
        event: async () => ({
          type: 'CONFIRM_SESSION',
          date,
          start: s1.start,
          code: await prepare.code(date, s1.start),
        }),
      },
      {
        key: 'confirm-2',
        meta: company,
        event: async () => ({
          type: 'CONFIRM_SESSION',
          date,
          start: s2.start,
          code: await prepare.code(date, s2.start),
        }),
      },
      { key: 'complete', meta: operator, event: async () => ({ type: 'COMPLETE_ACCOMPANIMENT' }) },
      {
        key: 'pre-project',
        meta: consultant,
        event: async () => ({ type: 'SUBMIT_PRE_PROJECT', preProject: preProject() }),
      },
      { key: 'forward', meta: operator, event: async () => ({ type: 'FORWARD_TO_COMMISSION' }) },
    ];
    const decide = (type: 'APPROVE' | 'REJECT', motivation: string): Step => ({
      key: 'decide',
      meta: chair,
      event: async () => ({ type, motivation, chair: chair.actor }),
    });
    const fund = (amountCents: number): Step => ({
      key: 'fund',
      meta: operator,
      event: async () => ({ type: 'RECORD_FUNDING', amountCents, disbursedOn: romeToday(new Date()) }),
    });
    const withdraw: Step = {
      key: 'withdraw',
      meta: operator,
      event: async () => ({ type: 'WITHDRAW', reason: 'the company renounces' }),
    };
    switch (plan.path) {
      case 'funded':
        return [...steps, decide('APPROVE', 'measurable impact'), fund(ADMITTED_CENTS)];
      case 'funded_partial':
        return [...steps, decide('APPROVE', 'measurable impact'), fund(PARTIAL_CENTS)];
      case 'rejected':
        return [...steps, decide('REJECT', 'impact not measurable')];
      case 'withdrawn_commission':
        return [...steps, withdraw];
      case 'withdrawn_admitted':
        return [...steps, decide('APPROVE', 'measurable impact'), withdraw];
    }
  }

  /**
   * Drives one application to its final state, or to just before `stopBefore` (a step key). Every call that
   * fails for a reason that is not an answer (Temporal or PostgreSQL unreachable, a timeout, a lost worker) is
   * retried with the same update id, `<application>:<step>`, so a command that did land counts once.
   */
  async run(plan: Plan, options: { stopBefore?: string } = {}): Promise<void> {
    const id = plan.applicationId;
    await this.apply(plan);
    this.stats.stepsDone += 1;
    await this.untilEligible(id);
    this.stats.stepsDone += 1;
    const { db, config } = this.o;
    const steps = Driver.steps(plan, {
      consultantId: () => ensureConsultant(db, BODY, plan.consultant),
      document: () =>
        storeUpload(db, {
          applicationId: id,
          kind: 'pre_project',
          filename: 'pre-progetto.pdf',
          // Bytes of its own: one blob per application.
          bytes: pdfBytes(id),
          uploadedBy: PEOPLE.consultant.actor,
          maxBytes: config.DOCUMENT_MAX_BYTES,
        }),
      code: (date, start) => confirmationCode(db, id, date, start),
    });
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
        await this.o.service.apply(plan.form, PEOPLE.operator);
        return true;
      },
      // A retry finds the row the lost attempt committed (and starts its workflow again if it must).
      (err, attempt) => (attempt > 0 && err instanceof UserError && err.code === 'already_applied' ? true : undefined),
    );
  }

  private async untilEligible(id: string): Promise<void> {
    const started = Date.now();
    for (;;) {
      const view = await this.attempt(`${id} view`, () => applicationView(this.o.db, id));
      if (view.facts?.eligibility === 'eligible') return;
      if (view.facts?.eligibility === 'ineligible')
        throw new Error(`${id} was found ineligible: ${view.facts.ineligibilityReasons.join('; ')}`);
      if (Date.now() - started > this.stepBudgetMs)
        throw new Error(`${id}: eligibility still pending after ${this.stepBudgetMs} ms`);
      await sleep(100);
    }
  }

  private async send(plan: Plan, step: Step, last: boolean): Promise<StepResult | null> {
    const id = plan.applicationId;
    const updateId = `${id}:${step.key}`;
    let closed = false;
    const result = await this.attempt(
      `${id} ${step.key}`,
      async () => this.o.service.send(id, await step.event(), step.meta, { updateId }),
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
    return result;
  }

  /** The workflow's own result: long-polls the history, so it needs no worker once the workflow closed. */
  async outcome(id: string): Promise<ApplicationOutcome> {
    return this.attempt(
      `${id} result`,
      () => this.o.client.workflow.getHandle(id).result() as Promise<ApplicationOutcome>,
    );
  }

  /** The workflow's own state (its `view` query: a worker replays the closed history to answer). */
  async workflowView(id: string) {
    return this.attempt(`${id} view query`, () => this.o.client.workflow.getHandle(id).query(viewQuery));
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
      db
        .selectFrom('documents')
        .leftJoin('document_blobs', 'document_blobs.sha256', 'documents.sha256')
        .select(['documents.application_id', 'documents.attached_seq', 'document_blobs.size_bytes as blob_bytes'])
        .where('documents.application_id', 'in', ids)
        .execute(),
      db
        .selectFrom('pre_projects')
        .select(['application_id', 'version', 'forwarded_at'])
        .where('application_id', 'in', ids)
        .execute(),
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
        .select(['id as application_id', 'state', 'last_seq', 'closed_at'])
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
    // Applications on the same path must have recorded the very same sequence of events (verified hours included).
    const events = trail.map((r) => r.event_type).join(' ');
    const first = sequences.get(plan.path);
    if (!first) sequences.set(plan.path, { id, events });
    else if (first.events !== events)
      say(`audit sequence differs from ${first.id} on the same path:\n    ${events}\n    ${first.events}`);

    const app = applicationBy.get(id);
    if (!app) say('no applications row');
    else if (app.state !== final || app.last_seq !== trail.length - 1 || app.closed_at === null)
      say(
        `register row says ${app.state} at seq ${app.last_seq} (closed ${app.closed_at !== null}), ` +
          `expected ${final} at ${trail.length - 1}, closed`,
      );

    const mail = outboxBy.get(id) ?? [];
    const keys = mail.map((m) => m.idempotency_key);
    if (duplicated(keys).length) say(`outbox idempotency keys repeated: ${duplicated(keys).join(', ')}`);
    const meaning = mail.map((m) => {
      const payload = (typeof m.payload === 'string' ? JSON.parse(m.payload) : m.payload) as { start?: string };
      return `${m.template}|${m.recipient}|${payload.start ?? ''}`;
    });
    if (duplicated(meaning).length) say(`the same e-mail is queued twice: ${duplicated(meaning).join(', ')}`);
    const stateMessages = meaning.filter((m) => m.startsWith('application.'));
    if (stateMessages.length !== expectedStateMessages(plan)) {
      say(
        `${stateMessages.length} application.* outbox rows, expected ${expectedStateMessages(plan)}: ` +
          stateMessages.sort().join(', '),
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
    // A funded application opens its project: the company and the consultant are told once each, nobody else.
    const started = meaning.filter((m) => m.startsWith('project.started|')).map((m) => m.split('|')[1]!);
    const funded = final === 'funded';
    if (
      started.length !== (funded ? 2 : 0) ||
      (funded && !started.includes(plan.form.company.legalRepresentative.email))
    )
      say(
        `project.started sent to [${started.join(', ')}], expected ${funded ? 'the company and the consultant' : 'no one'}`,
      );
    const others = meaning.filter(
      (m) => !m.startsWith('application.') && !m.startsWith('session.') && !m.startsWith('project.started|'),
    );
    if (others.length) say(`unexpected outbox rows: ${others.join(', ')}`);

    const own = sessionsBy.get(id) ?? [];
    if (own.length !== 2 || own.some((s) => s.confirmed_at === null))
      say(`${own.length} sessions (${own.filter((s) => s.confirmed_at).length} confirmed), expected 2 confirmed`);
    const docs = documentsBy.get(id) ?? [];
    if (docs.length !== 1 || docs[0]!.attached_seq === null || docs[0]!.blob_bytes === null)
      say(`documents ${JSON.stringify(docs)}, expected one, attached, its bytes stored`);
    const versions = preProjectsBy.get(id) ?? [];
    if (versions.length !== 1 || versions[0]!.forwarded_at === null)
      say(
        `${versions.length} pre-project versions stored (${versions.filter((v) => v.forwarded_at).length} forwarded)`,
      );

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

/**
 * Each workflow against its plan (its result: state, admitted and funded amounts) and against the register.
 */
export async function outcomes(driver: Driver, db: Db, plans: readonly Plan[]): Promise<string[]> {
  const problems: string[] = [];
  await pool(plans, 10, async (plan) => {
    const id = plan.applicationId;
    const result = await driver.outcome(id);
    const want = {
      state: finalStateOf[plan.path],
      admittedCents: admittedCentsOf(plan.path),
      fundedCents: fundedCentsOf(plan.path),
    };
    const got = { state: result.state, admittedCents: result.admittedCents, fundedCents: result.fundedCents };
    if (canonicalJson(got) !== canonicalJson(want))
      problems.push(`${id} (${plan.path}): workflow ended ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    problems.push(...(await registerDisagrees(driver, db, id)).map((p) => `${id} (${plan.path}): ${p}`));
  }).then((failures) => problems.push(...failures));
  return problems;
}

/**
 * Where the register and the workflow's own state (its `view` query: seq, state, deadline, the machine's whole
 * context) differ, field by field; nothing when the register row is what the workflow holds.
 */
export async function registerDisagrees(driver: Driver, db: Db, id: string): Promise<string[]> {
  const view = await driver.workflowView(id);
  const row = await dbRetry(
    () =>
      db
        .selectFrom('applications')
        .select(['state', 'last_seq', 'snapshot', 'admitted_cents', 'funded_cents', 'deadline_kind', 'deadline_at'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow(),
    `register row of ${id}`,
  );
  const register: Record<string, unknown> = {
    state: row.state,
    seq: row.last_seq,
    deadline: row.deadline_kind && { kind: row.deadline_kind, dueAt: row.deadline_at?.toISOString() },
    admittedCents: row.admitted_cents === null ? null : Number(row.admitted_cents),
    fundedCents: row.funded_cents === null ? null : Number(row.funded_cents),
    context: row.snapshot?.context ?? null,
  };
  const workflow: Record<string, unknown> = {
    state: view.state,
    seq: view.seq,
    deadline: view.deadline,
    admittedCents: view.context.admittedCents,
    fundedCents: view.context.fundedCents,
    context: view.context,
  };
  const text = (v: unknown) => canonicalJson(v).slice(0, 300);
  return Object.keys(register)
    .filter((k) => canonicalJson(register[k]) !== canonicalJson(workflow[k]))
    .map((k) => `the register says ${k} ${text(register[k])}, the workflow ${text(workflow[k])}`);
}

/**
 * Where the kills landed: workflow tasks a killed worker had started and never completed (the server timed them
 * out), and the steps that worker committed while running them. The next worker ran each of those steps again,
 * found it recorded under its seq and adopted what the first run had committed; the census proves it counted once.
 */
export async function killedMidStep(client: Client, db: Db, plans: readonly Plan[]) {
  let lostTasks = 0;
  const stepsAdopted: string[] = [];
  const ms = (e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }) =>
    Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  await pool(plans, 5, async (plan) => {
    const id = plan.applicationId;
    const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const byId = new Map(events.map((e) => [Number(e.eventId), e]));
    const windows = events.flatMap((e) => {
      const timedOut = e.workflowTaskTimedOutEventAttributes;
      const started = timedOut && byId.get(Number(timedOut.startedEventId));
      return timedOut?.timeoutType === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE && started
        ? [[ms(started), ms(e)] as const]
        : [];
    });
    lostTasks += windows.length;
    if (!windows.length) return;
    // A step's first row keeps its outcome; its transaction began (recorded_at) inside the lost task.
    const steps = await db
      .selectFrom('audit_events')
      .select(['seq', 'event_type', 'recorded_at'])
      .where('application_id', '=', id)
      .where('outcome', 'is not', null)
      .execute();
    for (const step of steps) {
      const at = step.recorded_at.getTime();
      if (windows.some(([from, to]) => from <= at && at <= to))
        stepsAdopted.push(`${id}#${step.seq} ${step.event_type}`);
    }
  });
  return { lostTasks, stepsAdopted };
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
