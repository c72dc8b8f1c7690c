import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { pinnedRules } from './config/calls';
import { territoryLoader } from './config/comuni';
import { loadConfig, type Config } from './config/env';
import { describeTarget, type Db } from './db/connect';
import { openDatabase } from './db/open';
import { startDispatcher, type Dispatcher } from './notifications/dispatcher';
import { createMailer } from './notifications/mailer';
import { dataConverter, FAILURE_CONVERTER_PATH } from './security/data-converter';
import { keyRingFor, type KeyRing } from './security/keyring';
import { sessionLinks } from './security/links';
import { temporalTls } from './security/tls';
import { createLogger, installTemporalRuntime } from './observability/logger';
import { startTracing, type Tracing } from './observability/tracing';

export interface WorkerDeps {
  config: Config;
  db: Db;
  ring: KeyRing;
  connection: NativeConnection;
  /** Tests pass a prebuilt bundle; otherwise WORKFLOW_BUNDLE, else the workflows are bundled at start-up. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
  /** The activities' clock; tests move it forward to stand weeks after an assignment. */
  now?: () => Date;
  /** OpenTelemetry's plugin when tracing is on (then the workflows are bundled with its interceptors). */
  tracing?: Tracing | null;
}

/** The composition root: configuration, database, keys and Temporal connection in, a ready worker out. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const { config, db } = deps;
  const activities = createActivities({
    db,
    rules: pinnedRules(config.CALLS_DIR),
    territory: territoryLoader(config.projectRoot),
    recipients: { operators: config.OPERATOR_EMAILS, commission: config.COMMISSION_EMAILS },
    publicUrl: config.publicUrl,
    links: sessionLinks(config.ID_SECRET),
    ...(deps.now ? { now: deps.now } : {}),
  });
  // A prebuilt bundle has no tracing interceptors: with tracing on, the workflows are bundled here with them.
  const prebuilt = deps.tracing ? undefined : config.WORKFLOW_BUNDLE;
  const bundle = deps.workflowBundle ?? (prebuilt ? { codePath: prebuilt } : undefined);
  return Worker.create({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: deps.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    activities,
    dataConverter: dataConverter(deps.ring),
    ...(deps.tracing ? { plugins: [deps.tracing.plugin] } : {}),
    ...(bundle ? { workflowBundle: bundle } : { workflowsPath: require.resolve('./workflows') }),
    ...(config.WORKER_MAX_CACHED_WORKFLOWS ? { maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS } : {}),
    ...(config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS
      ? { maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS }
      : {}),
    ...(config.WORKER_MAX_CONCURRENT_ACTIVITIES
      ? { maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES }
      : {}),
    ...(config.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES
      ? { maxConcurrentLocalActivityExecutions: config.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES }
      : {}),
  });
}

/** A connection to Temporal for the worker: TLS and mutual TLS when configured. */
export async function connectWorker(config: Config): Promise<NativeConnection> {
  const tls = temporalTls(config);
  return NativeConnection.connect({ address: config.TEMPORAL_ADDRESS, ...(tls ? { tls } : {}) });
}

/** What the bundler needs beside the workflows: the failure converter that encrypts failure messages. */
export const BUNDLE_OPTIONS = { failureConverterPath: FAILURE_CONVERTER_PATH };

/**
 * Delivers the notification outbox over SMTP while the worker runs; null when no SMTP_URL is configured
 * (messages then wait in the outbox, and are sent once one is).
 */
export function startMailDelivery(config: Config, db: Db): Dispatcher | null {
  if (!config.SMTP_URL) return null;
  const mailer = createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM });
  return startDispatcher(db, mailer, {
    intervalMs: 2_000,
    onReport: (r) =>
      r.failed.length > 0 &&
      console.warn(`mail: ${r.sent} sent, ${r.failed.length} failed: ${r.failed.map((f) => f.error).join('; ')}`),
    onError: (err) => console.warn(`mail: delivery paused: ${err instanceof Error ? err.message : String(err)}`),
  });
}

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  installTemporalRuntime(logger, config.WORKER_METRICS_BIND);
  const tracing = startTracing('innosocialmetro-worker');
  const db = await openDatabase(config);
  const connection = await connectWorker(config);
  const worker = await createWorker({ config, db, ring: keyRingFor(config), connection, tracing });
  const mail = startMailDelivery(config, db);
  const target = describeTarget({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  logger.info(
    { taskQueue: config.TEMPORAL_TASK_QUEUE, temporal: config.TEMPORAL_ADDRESS, database: target },
    'worker started',
  );
  try {
    await worker.run();
  } finally {
    await mail?.stop();
    await connection.close();
    await db.destroy();
    await tracing?.shutdown();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
