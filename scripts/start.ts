import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildApi } from '../client/api/server';
import { TOKEN_FILE } from '../client/cli/http';
import { connectClient } from '../client/service/temporal';
import { loadConfig } from '../config/env';
import { describeTarget, type Db } from '../db/connect';
import { openDatabase } from '../db/open';
import { countUsers, createUser } from '../db/repositories/users';
import { startMailSink } from '../notifications/sink';
import { keyRingFor } from '../security/keyring';
import { createLogger, installTemporalRuntime } from '../observability/logger';
import { connectWorker, createWorker, startMailDelivery } from '../worker';
import { startDevServer } from './dev-server';
import { cachedWorkflowBundle } from './workflow-bundle';

/** Closed applications stay this long in Temporal's own UI; the register in PostgreSQL keeps them all for ever. */
const RETENTION_DAYS = 30;

/**
 * `npm start`: the whole system on the embedded defaults, in one terminal. The Temporal dev server keeps its
 * history in .data/temporal.sqlite and PGlite its tables in .data/pglite, so a second start finds everything.
 */
async function main() {
  const say = (msg: string) => console.log(`[innosocial] ${msg}`);
  const base = loadConfig();
  const dataDir = path.join(base.projectRoot, '.data');
  // Personal data, keys and tokens live here: readable by their owner only.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  // A local SMTP sink stands in for the mail server: every message lands as an .eml file (`innosocial mail sink`).
  const sink = base.SMTP_URL ? null : await startMailSink({ dir: base.MAIL_SINK_DIR, port: 0 });
  const [host, portText] = base.TEMPORAL_ADDRESS.split(':');
  const temporalPort = Number(portText ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? temporalPort + 1000);
  const uiOrigin = `http://127.0.0.1:${uiPort}`;
  const config = loadConfig({
    ...process.env,
    ...(sink ? { SMTP_URL: sink.url } : {}),
    TEMPORAL_UI_ORIGIN: process.env.TEMPORAL_UI_ORIGIN ?? uiOrigin,
  });
  // Warnings and errors only: the worker's start-up chatter would bury the addresses printed below.
  installTemporalRuntime(createLogger('warn', 'worker'), config.WORKER_METRICS_BIND);
  const ring = keyRingFor(config);

  // The dev server, the database and the workflow bundle do not depend on one another: start them together.
  say('starting the Temporal dev server, opening the database...');
  const [server, db, bundle] = await Promise.all([
    startDevServer({
      port: temporalPort,
      uiPort,
      dbFile: path.join(dataDir, 'temporal.sqlite'),
      uiCodecEndpoint: `${config.publicUrl}/codec`,
      retentionDays: RETENTION_DAYS,
    }),
    openDatabase(config),
    cachedWorkflowBundle(path.join(dataDir, 'bundles'), say),
  ]);
  if (host !== '127.0.0.1' && host !== 'localhost')
    say(`note: dev server binds 127.0.0.1, TEMPORAL_ADDRESS says ${host}`);
  const tokenNote = await ensureOperatorToken(db);
  say('starting the worker and the API...');
  const connection = await connectWorker(config);
  const worker = await createWorker({ config, db, ring, connection, workflowBundle: { codePath: bundle } });
  const { client, close: closeClient } = await connectClient(config, ring);
  const api = buildApi({ config, client, db, ring });
  const apiUrl = await api.listen({ host: config.API_HOST, port: config.API_PORT });

  const mail = startMailDelivery(config, db);
  const running = worker.run();
  console.log(`
InnoSocialMetro is running
  Temporal UI   ${server.uiUrl} (payloads decoded through ${config.publicUrl}/codec for signed-in staff)
  Temporal      ${server.address} (namespace ${config.TEMPORAL_NAMESPACE}, task queue ${config.TEMPORAL_TASK_QUEUE}, retention ${RETENTION_DAYS} days)
  HTTP API      ${apiUrl}   (reference: ${apiUrl}/docs, OpenAPI: ${apiUrl}/openapi.json, health: ${apiUrl}/healthz)
  Database      ${describeTarget({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR })}
  Mail          ${sink ? `local sink ${sink.url}, messages in ${sink.dir} (npx innosocial mail sink)` : config.SMTP_URL}
  CLI           npx innosocial --help
  Operator      ${tokenNote}

Ctrl-C stops everything.`);

  let stopping: Promise<void> | null = null;
  const stop = (reason: string) => (stopping ??= shutDown(reason));
  const shutDown = async (reason: string) => {
    say(`${reason}: stopping`);
    try {
      await api.close();
      // The Temporal runtime also listens for SIGINT/SIGTERM and may have begun draining the worker already.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await mail?.stop();
      await sink?.stop();
      await connection.close();
      await closeClient();
      await db.destroy();
    } finally {
      await server.stop();
    }
    say('stopped');
    process.exit(0);
  };
  // `on`, not `once`: a second Ctrl-C while stopping must not kill the process before the dev server is down.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
  // The Temporal runtime drains the worker on the same signals, so `running` may settle first: either way the
  // orderly shutdown above runs to its end before the process exits.
  await running.catch((err: unknown) => say(`worker stopped: ${err instanceof Error ? err.message : String(err)}`));
  await stop('worker ended');
}

/**
 * The first start creates an operator and keeps its token in .data/operator.token (readable by this user only):
 * the CLI uses it, and it is how the first people get their own tokens.
 */
async function ensureOperatorToken(db: Db): Promise<string> {
  if ((await countUsers(db)) > 0) {
    return existsSync(TOKEN_FILE)
      ? `token in ${TOKEN_FILE}`
      : 'users exist; ask an operator for a token (innosocial users add)';
  }
  const { token } = await createUser(db, { name: 'first operator (created by npm start)', role: 'operator' });
  writeFileSync(TOKEN_FILE, `${token}\n`, { mode: 0o600 });
  return `token created in ${TOKEN_FILE}`;
}

main().catch((err) => {
  console.error(`[innosocial] cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
