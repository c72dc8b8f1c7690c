import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../config/env';
import { openDatabase } from '../db/open';
import { createLogger, installTemporalRuntime } from '../observability/logger';
import { dataConverter } from '../security/data-converter';
import { keyRingFor } from '../security/keyring';
import { createWorker } from '../worker';
import { createBaselineActivities } from './baseline/activities';

/*
 * One worker in a process of its own, so that its CPU time and memory are its own: the benchmark starts it with
 * the configuration in the environment and asks it for figures over IPC.
 */

export type WorkerKind = 'project' | 'baseline';
export type ToWorker = { type: 'stats' } | { type: 'stop' };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'stats'; rssBytes: number; heapBytes: number; cpuMs: number }
  | { type: 'failed'; message: string };

const send = (message: FromWorker) => process.send?.(message);

async function main() {
  const kind = process.argv[2] as WorkerKind;
  const bundle = process.env.BENCH_BUNDLE;
  if ((kind !== 'project' && kind !== 'baseline') || !bundle) throw new Error('usage: worker-process project|baseline');
  const config = loadConfig();
  installTemporalRuntime(createLogger('warn', 'worker'));
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const ring = keyRingFor(config);
  const clockOffset = Number(process.env.BENCH_CLOCK_OFFSET_DAYS ?? 0) * 86_400_000;
  const db = kind === 'project' ? await openDatabase(config) : null;
  const worker =
    kind === 'project'
      ? await createWorker({
          config,
          db: db!,
          ring,
          connection,
          workflowBundle: { codePath: bundle },
          // Sessions are logged on the days after the assignment: the activities' clock stands a week ahead.
          now: () => new Date(Date.now() + clockOffset),
        })
      : await Worker.create({
          connection,
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          activities: createBaselineActivities(),
          workflowBundle: { codePath: bundle },
          dataConverter: dataConverter(ring),
          ...(config.WORKER_MAX_CACHED_WORKFLOWS ? { maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS } : {}),
        });
  const running = worker.run();
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stats') {
      // Collected first, so that RSS counts what the cached workflows hold, not garbage waiting for a collection.
      (globalThis as { gc?: () => void }).gc?.();
      const cpu = process.cpuUsage();
      send({
        type: 'stats',
        rssBytes: process.memoryUsage().rss,
        heapBytes: process.memoryUsage().heapUsed,
        cpuMs: (cpu.user + cpu.system) / 1000,
      });
    } else if (message.type === 'stop') {
      worker.shutdown();
    }
  });
  // The benchmark that started this worker is gone (it failed, or was stopped): nobody will ask it to stop.
  process.on('disconnect', () => worker.shutdown());
  send({ type: 'ready' });
  await running;
  await connection.close();
  await db?.destroy();
  process.exit(0);
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
