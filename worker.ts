import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { territoryLoader } from './config/comuni';
import { loadConfig, type Config } from './config/env';
import { connectDb, describeTarget, type Db } from './db/connect';
import { migrateToLatest } from './db/migrate';
import { startDispatcher, type Dispatcher } from './notifications/dispatcher';
import { createMailer } from './notifications/mailer';

export interface WorkerDeps {
  config: Config;
  db: Db;
  connection: NativeConnection;
  /** Tests pass a prebuilt bundle; otherwise the workflows are bundled from source at start-up. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
  /** The activities' clock; tests move it forward to stand weeks after an assignment. */
  now?: () => Date;
}

/** The composition root: configuration, database and Temporal connection in, a ready worker out. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const { config, db } = deps;
  const activities = createActivities({
    db,
    territory: territoryLoader(config.projectRoot),
    documentsDir: config.DOCUMENTS_DIR,
    documentMaxBytes: config.DOCUMENT_MAX_BYTES,
    recipients: { operators: config.OPERATOR_EMAILS, commission: config.COMMISSION_EMAILS },
    ...(deps.now ? { now: deps.now } : {}),
  });
  return Worker.create({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: deps.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    activities,
    ...(deps.workflowBundle
      ? { workflowBundle: deps.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
  });
}

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

export async function openDatabase(config: Config): Promise<Db> {
  const db = await connectDb({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  await migrateToLatest(db);
  return db;
}

async function main() {
  const config = loadConfig();
  const db = await openDatabase(config);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await createWorker({ config, db, connection });
  const mail = startMailDelivery(config, db);
  console.log(
    `worker: task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}; database ${describeTarget({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR })}`,
  );
  try {
    await worker.run();
  } finally {
    await mail?.stop();
    await connection.close();
    await db.destroy();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
