import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import Long from 'long';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { resolveTemporalBinary } from './temporal-binary';

export interface DevServer {
  address: string;
  uiUrl: string | null;
  binary: string;
  /** The server's process id (the benchmark reads its CPU time from /proc). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port?: number;
  uiPort?: number | null;
  /** SQLite file for a server whose history survives restarts; in memory when absent. */
  dbFile?: string;
  namespace?: string;
  /** The Temporal UI asks this endpoint to decrypt payloads (the API's /codec), sending the staff's cookie. */
  uiCodecEndpoint?: string;
  /** How long closed workflows stay in Temporal (the dev server's default is one day); the register keeps them all. */
  retentionDays?: number;
  log?: (line: string) => void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const saTypeName: Record<string, string> = {
  KEYWORD: 'Keyword',
  KEYWORD_LIST: 'KeywordList',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
};

/**
 * Starts `temporal server start-dev` with our search attributes registered and waits until it answers.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const binary = resolveTemporalBinary('temporal');
  if (!binary) {
    throw new Error(
      'no Temporal CLI found: run `npm start` or `npm test` once to install it into .tools/, or set TEMPORAL_CLI_PATH',
    );
  }
  const port = options.port ?? (await freePort());
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    options.namespace ?? 'default',
    '--log-level',
    'warn',
  ];
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.uiPort === null || options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1');
  if (options.uiCodecEndpoint && options.uiPort) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  for (const key of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${saTypeName[key.type]}`);

  const child: ChildProcess = spawn(binary.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    options.log?.(chunk.toString());
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // However this process ends (an uncaught error, process.exit), it must not leave the server holding the ports.
  const orphanGuard = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.once('exit', orphanGuard);
  void exited.then(() => process.removeListener('exit', orphanGuard));

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await Promise.race([
      exited.then((code) => ({ exited: code })),
      new Promise((r) => setTimeout(r, 250)).then(() => null),
    ]);
    if (state) throw new Error(`temporal dev server exited with ${state.exited}:\n${output}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1s' });
      await connection.workflowService.getSystemInfo({});
      if (options.retentionDays) {
        await connection.workflowService.updateNamespace({
          namespace: options.namespace ?? 'default',
          config: { workflowExecutionRetentionTtl: { seconds: Long.fromNumber(options.retentionDays * 86_400) } },
        });
      }
      await connection.close();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`temporal dev server did not answer on ${address} within 60 s:\n${output}`);
      }
    }
  }
  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : null,
    binary: binary.path,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
