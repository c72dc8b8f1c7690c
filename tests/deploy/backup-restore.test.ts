import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../../scripts/dev-server';

/*
 * deploy/backup.sh and deploy/restore.sh against a real PostgreSQL, with the roles of the production stack:
 * deploy/postgres-init/10-roles.sh creates them, the migration job's entry point (db/migrate-main.ts) migrates as the
 * owner, the application's role writes rows, backup.sh dumps as the read-only role, the database is dropped, and
 * restore.sh brings back every row, every grant and every document (documents are rows: document_blobs).
 *
 * Creating roles and dropping databases needs a superuser, which the CI database (DATABASE_URL) rightly does not
 * give, so the test starts a PostgreSQL of its own from the same binaries (PG_BIN, exported by .ci/run; or
 * .tools/postgresql, which npm test fills from PyPI when no PostgreSQL is installed; or
 * /usr/lib/postgresql/<version>/bin), with password authentication over TCP as in the compose stack.
 */

const root = path.resolve(__dirname, '..', '..');
const script = (name: string) => path.join(root, 'deploy', name);
const TOOLS = ['initdb', 'pg_ctl', 'psql', 'pg_dump', 'pg_restore'];

function findPgBin(): string | null {
  // PG_BIN may name the embedded server's binaries only (the global setup's), which have no client tools.
  const candidates = [
    process.env.PG_BIN ?? '',
    path.join(root, '.tools', 'postgresql', 'pgserver', 'pginstall', 'bin'),
  ];
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  }
  const onPath = spawnSync('sh', ['-c', 'command -v pg_dump'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) candidates.push(path.dirname(onPath));
  return candidates.find((dir) => dir && TOOLS.every((tool) => existsSync(path.join(dir, tool)))) ?? null;
}

const pgBin = findPgBin();

const PASSWORDS = {
  POSTGRES: `super-${randomUUID()}`,
  TEMPORAL_DB_PASSWORD: `temporal-${randomUUID()}`,
  INNOSOCIAL_OWNER_DB_PASSWORD: `owner-${randomUUID()}`,
  INNOSOCIAL_APP_DB_PASSWORD: `app-${randomUUID()}`,
  // Characters a careless quoting would trip over.
  INNOSOCIAL_BACKUP_DB_PASSWORD: `back'up "$x" ${randomUUID()}`,
};

interface Server {
  port: number;
  dir: string;
  stop(): void;
}

function startServer(bin: string, port: number): Server {
  const dir = mkdtempSync(path.join(tmpdir(), 'innosocial-backup-pg-'));
  const asRoot = process.getuid?.() === 0;
  writeFileSync(path.join(dir, 'pwfile'), `${PASSWORDS.POSTGRES}\n`);
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
    chownSync(dir, id('-u'), id('-g'));
    chownSync(path.join(dir, 'pwfile'), id('-u'), id('-g'));
  }
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]]
      : [path.join(bin, tool), args];
    execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  };
  const data = path.join(dir, 'data');
  run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    `--pwfile=${path.join(dir, 'pwfile')}`,
    '--no-sync',
  ]);
  run('pg_ctl', [
    '-D',
    data,
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    '-l',
    path.join(dir, 'server.log'),
    '-w',
    'start',
  ]);
  return {
    port,
    dir,
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

if (!pgBin) {
  test('backup and restore need the PostgreSQL tools', () => {
    throw new Error(
      `no directory with ${TOOLS.join(', ')}: PG_BIN, /usr/lib/postgresql/*/bin, beside pg_dump on PATH, or ` +
        '.tools/postgresql (npm test installs them there from PyPI; run it once, or set PG_BIN).',
    );
  });
} else {
  describe('backup.sh and restore.sh, with the roles of the production stack', () => {
    let server: Server;
    let work: string;
    const backupsDir = () => path.join(work, 'backups');

    const connect = async (user: string, password: string, database = 'innosocial') => {
      const client = new pg.Client({ host: '127.0.0.1', port: server.port, user, password, database });
      await client.connect();
      return client;
    };
    const as = async <T>(user: string, password: string, fn: (c: pg.Client) => Promise<T>, database?: string) => {
      const client = await connect(user, password, database);
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    };
    const asApp = <T>(fn: (c: pg.Client) => Promise<T>) =>
      as('innosocial_app', PASSWORDS.INNOSOCIAL_APP_DB_PASSWORD, fn);
    const asSuper = <T>(fn: (c: pg.Client) => Promise<T>, db = 'postgres') =>
      as('postgres', PASSWORDS.POSTGRES, fn, db);

    /** Runs a script as the compose services do: libpq's variables, the password from the environment. */
    const sh = (file: string, args: string[], env: Record<string, string>): SpawnSyncReturns<string> =>
      spawnSync('bash', [file, ...args], {
        encoding: 'utf8',
        timeout: 120_000,
        env: {
          PATH: `${pgBin}:${process.env.PATH}`,
          HOME: work,
          PGHOST: '127.0.0.1',
          PGPORT: String(server.port),
          ...env,
        },
      });
    const ok = (r: SpawnSyncReturns<string>) => {
      if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
      return r;
    };
    const backup = () =>
      ok(
        sh(script('backup.sh'), [], {
          PGUSER: 'innosocial_backup',
          PGPASSWORD: PASSWORDS.INNOSOCIAL_BACKUP_DB_PASSWORD,
          PGDATABASE: 'innosocial',
          BACKUP_DIR: backupsDir(),
          BACKUP_KEEP: '2',
        }),
      ).stdout.trim();
    const restore = (args: string[]) =>
      sh(script('restore.sh'), args, { PGUSER: 'postgres', PGPASSWORD: PASSWORDS.POSTGRES });
    /** The migration job, exactly as compose runs it: the owner in the URL, the password in PGPASSWORD. */
    const migrateJob = (user: string, password: string) =>
      ok(
        spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'db', 'migrate-main.ts')], {
          encoding: 'utf8',
          timeout: 120_000,
          env: {
            PATH: process.env.PATH,
            DATABASE_URL: `postgres://${user}@127.0.0.1:${server.port}/innosocial`,
            PGPASSWORD: password,
          },
        }),
      ).stdout;

    /** Every table of the application, every row, in a stable order: what a restore must give back. */
    const snapshot = () =>
      asApp(async (c) => {
        const { rows: tables } = await c.query<{ name: string }>(
          "select table_name as name from information_schema.tables where table_schema = 'public' order by 1",
        );
        const out: Record<string, unknown> = {};
        for (const { name } of tables) {
          const { rows } = await c.query(
            `select coalesce(json_agg(t order by t::text), '[]') as rows from "${name}" t`,
          );
          out[name] = rows[0].rows;
        }
        return out;
      });

    beforeAll(async () => {
      server = startServer(pgBin, await freePort());
      work = mkdtempSync(path.join(tmpdir(), 'innosocial-backup-'));
      ok(
        sh(script('postgres-init/10-roles.sh'), [], {
          POSTGRES_USER: 'postgres',
          POSTGRES_DB: 'postgres',
          PGPASSWORD: PASSWORDS.POSTGRES,
          TEMPORAL_DB_PASSWORD: PASSWORDS.TEMPORAL_DB_PASSWORD,
          INNOSOCIAL_OWNER_DB_PASSWORD: PASSWORDS.INNOSOCIAL_OWNER_DB_PASSWORD,
          INNOSOCIAL_APP_DB_PASSWORD: PASSWORDS.INNOSOCIAL_APP_DB_PASSWORD,
          INNOSOCIAL_BACKUP_DB_PASSWORD: PASSWORDS.INNOSOCIAL_BACKUP_DB_PASSWORD,
        }),
      );
      expect(migrateJob('innosocial_owner', PASSWORDS.INNOSOCIAL_OWNER_DB_PASSWORD)).toMatch(/applied/);
    }, 180_000);

    afterAll(() => {
      server?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    test('roles: the application writes rows, not the schema; backups only read; none reaches Temporal', async () => {
      // Idempotent: running it again (as a password rotation would) changes nothing else.
      const again = sh(script('postgres-init/10-roles.sh'), [], {
        PGPASSWORD: PASSWORDS.POSTGRES,
        ...Object.fromEntries(Object.entries(PASSWORDS).filter(([k]) => k !== 'POSTGRES')),
      });
      expect(again.status).toBe(0);
      await asApp(async (c) => {
        await expect(c.query('create table intruder (x int)')).rejects.toThrow(/permission denied/);
        await expect(c.query('drop table applications')).rejects.toThrow(/must be owner/);
        expect((await c.query('select count(*)::int as n from applications')).rows[0].n).toBe(0);
      });
      await as('innosocial_backup', PASSWORDS.INNOSOCIAL_BACKUP_DB_PASSWORD, async (c) => {
        await expect(
          c.query("insert into users (name, role, token_hash) values ('x', 'operator', 'x')"),
        ).rejects.toThrow(/permission denied/);
      });
      for (const db of ['temporal', 'temporal_visibility']) {
        await expect(connect('innosocial_app', PASSWORDS.INNOSOCIAL_APP_DB_PASSWORD, db)).rejects.toThrow(
          /permission denied for database/,
        );
      }
      await expect(connect('temporal', PASSWORDS.TEMPORAL_DB_PASSWORD, 'innosocial')).rejects.toThrow(
        /permission denied for database/,
      );
      await expect(connect('innosocial_app', 'a wrong password')).rejects.toThrow(/password authentication failed/);
      // At start-up the application still runs the migrator, which finds nothing to do: its role is enough for that.
      expect(migrateJob('innosocial_app', PASSWORDS.INNOSOCIAL_APP_DB_PASSWORD)).toMatch(/already up to date/);
    });

    test('every row, grant and document comes back after the database is dropped and restored', async () => {
      const documents = ['statuto.pdf', 'visura.pdf'].map((filename, i) => {
        const bytes = Buffer.from(`%PDF-1.7 ${filename} ${randomUUID()} ${'x'.repeat(1000 * (i + 1))}`);
        return { filename, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
      });
      await asApp(async (c) => {
        for (const [id, vat] of [
          ['app-backup-1', '01234567890'],
          ['app-backup-2', '09876543210'],
        ]) {
          await c.query(
            `insert into applications (id, call_id, rules_version, vat_number, legal_name, representative_email,
               form, state) values ($1, 'innosocialmetro-2023', 1, $2, 'Rossi & Figli s.r.l. — Torino',
               'legale@rossi.example', $3, 'submitted')`,
            [id, vat, JSON.stringify({ themes: ['employment'], turnover: 1_500_000, note: 'àèìòù “quoted”' })],
          );
          await c.query(
            `insert into audit_events (application_id, seq, event_type, to_state, actor, role, payload_digest,
               occurred_at) values ($1, 1, 'SUBMIT', 'submitted', 'operator:ops', 'operator', $2, now())`,
            [id, 'a'.repeat(64)],
          );
        }
        for (const d of documents) {
          await c.query('insert into document_blobs (sha256, content, size_bytes) values ($1, $2, $3)', [
            d.sha256,
            d.bytes,
            d.bytes.length,
          ]);
          await c.query(
            `insert into documents (application_id, kind, sha256, filename, media_type, size_bytes)
             values ('app-backup-1', 'attachment', $1, $2, 'application/pdf', $3)`,
            [d.sha256, d.filename, d.bytes.length],
          );
        }
        await c.query(
          `insert into notification_outbox (idempotency_key, application_id, recipient, template, locale, payload)
           values ('backup-test-1', 'app-backup-1', 'legale@rossi.example', 'submitted', 'it', '{}')`,
        );
        await c.query("insert into users (name, role, token_hash) values ('Operatrice', 'operator', $1)", [
          createHash('sha256').update(randomUUID()).digest('hex'),
        ]);
      });
      const before = await snapshot();
      expect((before.applications as unknown[]).length).toBe(2);
      expect((before.documents as unknown[]).length).toBe(2);

      // Three backups, two kept, each readable by its owner only.
      const dumps = [backup(), backup(), backup()];
      const kept = readdirSync(backupsDir()).sort();
      expect(kept).toEqual(dumps.slice(1).map((d) => path.basename(d)));
      for (const file of kept) expect(statSync(path.join(backupsDir(), file)).mode & 0o077).toBe(0);
      const dump = dumps[2]!;
      expect(path.basename(dump)).toMatch(/^innosocial-\d{8}T\d{6}Z\.dump$/);

      // Without --yes nothing is touched.
      const refused = restore([dump]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toMatch(/will be DROPPED/);
      expect(refused.stderr).toMatch(/--yes/);
      expect(await snapshot()).toEqual(before);

      // The disaster: the database is gone, and the documents with it.
      await asSuper((c) => c.query('drop database innosocial with (force)'));

      const restored = restore(['--yes', dump]);
      expect([restored.status, restored.stderr]).toEqual([0, expect.stringMatching(/database innosocial restored/)]);

      expect(await snapshot()).toEqual(before);
      await asApp(async (c) => {
        for (const d of documents) {
          const { rows } = await c.query('select content from document_blobs where sha256 = $1', [d.sha256]);
          expect(createHash('sha256').update(rows[0].content).digest('hex')).toBe(d.sha256);
        }
      });
      // The owner, the grants and the default privileges came back with it: the stack runs on as before.
      await asApp(async (c) => {
        await c.query(
          `insert into audit_events (application_id, seq, event_type, to_state, actor, role, payload_digest,
             occurred_at) values ('app-backup-1', 2, 'ASSIGN', 'accompaniment', 'operator:ops', 'operator', $1, now())`,
          ['b'.repeat(64)],
        );
        await expect(c.query('delete from audit_events')).rejects.toThrow(/append-only/);
        await expect(c.query('create table intruder (x int)')).rejects.toThrow(/permission denied/);
      });
      expect(migrateJob('innosocial_owner', PASSWORDS.INNOSOCIAL_OWNER_DB_PASSWORD)).toMatch(/already up to date/);
      await as('innosocial_owner', PASSWORDS.INNOSOCIAL_OWNER_DB_PASSWORD, (c) =>
        c.query('create table later_migration (x int); insert into later_migration values (1)'),
      );
      await asApp(async (c) => {
        expect((await c.query('select x from later_migration')).rows).toEqual([{ x: 1 }]);
      });
      await expect(connect('temporal', PASSWORDS.TEMPORAL_DB_PASSWORD, 'innosocial')).rejects.toThrow(
        /permission denied for database/,
      );
    });

    test('--into restores a copy beside the live database, which only its owner may open', async () => {
      const dump = backup();
      const live = await snapshot();
      const r = restore(['--yes', '--into', 'innosocial_check', dump]);
      expect([r.status, r.stderr]).toEqual([0, expect.stringMatching(/database innosocial_check restored/)]);
      const copy = await as(
        'innosocial_owner',
        PASSWORDS.INNOSOCIAL_OWNER_DB_PASSWORD,
        async (c) => (await c.query('select count(*)::int as n from applications')).rows[0].n,
        'innosocial_check',
      );
      expect(copy).toBe((live.applications as unknown[]).length);
      await expect(connect('innosocial_app', PASSWORDS.INNOSOCIAL_APP_DB_PASSWORD, 'innosocial_check')).rejects.toThrow(
        /permission denied for database/,
      );
      expect(await snapshot()).toEqual(live);
    });

    test('a file that is not a dump is refused before anything is dropped', async () => {
      const bogus = path.join(work, 'not-a-dump.dump');
      writeFileSync(bogus, 'hello');
      const live = await snapshot();
      const r = restore(['--yes', bogus]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/not a readable pg_dump archive/);
      expect(await snapshot()).toEqual(live);
    });
  });
}
