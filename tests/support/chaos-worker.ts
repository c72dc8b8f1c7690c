import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../config/env';
import { createWorker, openDatabase } from '../../worker';

/*
 * The real worker, composed by worker.ts's own createWorker, with one test-only difference: its activities' clock
 * runs CHAOS_CLOCK_OFFSET_DAYS ahead, so sessions dated after the assignment have already taken place whatever the
 * hour the suite runs at. Started by tests/support/chaos-harness.ts as a child process (and SIGKILLed by it).
 */
async function main() {
  const config = loadConfig();
  const offset = Number(process.env.CHAOS_CLOCK_OFFSET_DAYS ?? '0') * 86_400_000;
  const db = await openDatabase(config);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await createWorker({ config, db, connection, now: () => new Date(Date.now() + offset) });
  console.log(`chaos worker: task queue ${config.TEMPORAL_TASK_QUEUE}, clock +${offset / 86_400_000} days`);
  await worker.run();
  await connection.close();
  await db.destroy();
}

main().catch((err) => {
  console.error(`chaos worker: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
