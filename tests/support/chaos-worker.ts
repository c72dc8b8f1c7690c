import { loadConfig } from '../../config/env';
import { openDatabase } from '../../db/open';
import { keyRingFor } from '../../security/keyring';
import { connectWorker, createWorker } from '../../worker';

/*
 * The real worker, composed as worker.ts composes it (connection, key ring from the environment, createWorker),
 * with one test-only difference: its activities' clock runs CHAOS_CLOCK_OFFSET_DAYS ahead, so sessions dated after
 * the assignment have already taken place whatever the hour the suite runs at. Started by
 * tests/support/chaos-harness.ts as a child process (and SIGKILLed by it).
 */
async function main() {
  const config = loadConfig();
  const offset = Number(process.env.CHAOS_CLOCK_OFFSET_DAYS ?? '0') * 86_400_000;
  const db = await openDatabase(config);
  const connection = await connectWorker(config);
  const worker = await createWorker({
    config,
    db,
    ring: keyRingFor(config),
    connection,
    now: () => new Date(Date.now() + offset),
  });
  console.log(`chaos worker: task queue ${config.TEMPORAL_TASK_QUEUE}, clock +${offset / 86_400_000} days`);
  try {
    await worker.run();
  } finally {
    await connection.close();
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(`chaos worker: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
