import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadComuni } from './config/comuni';
import { loadConfig, type Config } from './config/env';
import { connectDb, describeTarget, type Db } from './db/connect';
import { migrateToLatest } from './db/migrate';

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
    comuni: loadComuni(config.projectRoot),
    documentsDir: config.DOCUMENTS_DIR,
    documentMaxBytes: config.DOCUMENT_MAX_BYTES,
    ...(deps.now ? { now: deps.now } : {}),
  });
  return Worker.create({
    connection: deps.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: deps.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    activities,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
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
  console.log(`worker: task queue ${config.TEMPORAL_TASK_QUEUE} on ${config.TEMPORAL_ADDRESS}; database ${describeTarget({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR })}`);
  try {
    await worker.run();
  } finally {
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
