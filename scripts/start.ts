import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tokenFile } from '../client/api-client';
import type { Db } from '../db/connect';
import { countUsers, createUser } from '../db/repositories/users';
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { buildApi } from '../client/api/server';
import { connectClient } from '../client/temporal';
import { loadConfig, type Config } from '../config/env';
import { describeTarget } from '../db/connect';
import { startMailSink } from '../notifications/sink';
import { createWorker, openDatabase, startMailDelivery } from '../worker';
import { startDevServer } from './dev-server';

/**
 * `npm start`: the whole system on the embedded defaults, in one terminal. The Temporal dev server keeps its
 * history in .data/temporal.sqlite and PGlite its tables in .data/pglite, so a second start finds everything.
 */
async function main() {
  const base = loadConfig();
  // A local SMTP sink stands in for the mail server: every message lands as an .eml file (`innosocial mail`).
  const sink = base.SMTP_URL ? null : await startMailSink({ dir: base.MAIL_SINK_DIR, port: 0 });
  const config = sink ? loadConfig({ ...process.env, SMTP_URL: sink.url }) : base;
  // Warnings and errors only: the worker's start-up chatter would bury the addresses printed below.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dataDir = path.join(config.projectRoot, '.data');
  mkdirSync(dataDir, { recursive: true });
  const [host, portText] = config.TEMPORAL_ADDRESS.split(':');
  const temporalPort = Number(portText ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? temporalPort + 1000);

  console.log('[innosocial] starting Temporal dev server...');
  const server = await startDevServer({ port: temporalPort, uiPort, dbFile: path.join(dataDir, 'temporal.sqlite') });
  if (host !== '127.0.0.1' && host !== 'localhost')
    console.warn(`[innosocial] note: dev server binds 127.0.0.1, TEMPORAL_ADDRESS says ${host}`);

  const db = await openDatabase(config);
  const tokenNote = await ensureOperatorToken(config, db);
  const connection = await NativeConnection.connect({ address: server.address });
  const worker = await createWorker({ config, db, connection });
  const { client, close: closeClient } = await connectClient(config);
  const api = buildApi({ config, client, db });
  const apiUrl = await api.listen({ host: config.API_HOST, port: config.API_PORT });

  const mail = startMailDelivery(config, db);
  const running = worker.run();
  console.log(`
InnoSocialMetro is running
  Temporal UI   ${server.uiUrl}
  Temporal      ${server.address} (namespace ${config.TEMPORAL_NAMESPACE}, task queue ${config.TEMPORAL_TASK_QUEUE})
  HTTP API      ${apiUrl}
  OpenAPI       ${apiUrl}/openapi.json
  Health        ${apiUrl}/healthz
  Database      ${describeTarget({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR })}
  Mail          ${sink ? `local sink ${sink.url}, messages in ${sink.dir} (npx innosocial mail)` : config.SMTP_URL}
  CLI           npx innosocial --help
  Operator      ${tokenNote}

Ctrl-C stops everything.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[innosocial] ${signal}: stopping`);
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
    console.log('[innosocial] stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await running;
}

/**
 * The first start creates an operator and keeps its token in .data/operator.token (readable by this user only):
 * the CLI uses it for users and budget, and it is how the first people get their own tokens.
 */
async function ensureOperatorToken(config: Config, db: Db): Promise<string> {
  const file = tokenFile(config);
  if ((await countUsers(db)) > 0)
    return existsSync(file) ? `token in ${file}` : 'users exist; ask an operator for a token (innosocial users add)';
  const { token } = await createUser(db, { name: 'first operator (created by npm start)', role: 'operator' });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return `token created in ${file}`;
}

main().catch((err) => {
  console.error(`[innosocial] cannot start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
