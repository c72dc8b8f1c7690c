import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { connectDb, type Db } from '../../db/connect';
import { migrateToLatest } from '../../db/migrate';

export type Backend = 'pglite' | 'postgres';

/** PGlite always; the real PostgreSQL too whenever DATABASE_URL names one (CI always does). */
export const backends: Backend[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

/** A migrated database: a throwaway in-memory PGlite, or the shared PostgreSQL (tests use unique ids there). */
export async function openTestDb(backend: Backend): Promise<Db> {
  const db = await connectDb(
    backend === 'postgres'
      ? { databaseUrl: process.env.DATABASE_URL, pgliteDir: 'memory://' }
      : { pgliteDir: 'memory://' },
  );
  await migrateToLatest(db);
  return db;
}

/** The database the end-to-end tests' worker uses: the real server when there is one. */
export const e2eBackend: Backend = process.env.DATABASE_URL ? 'postgres' : 'pglite';

/**
 * A database of its own on the shared server, for a suite that counts whole tables (the access matrix: a refusal
 * must change nothing, while other files write to the shared database meanwhile). Without the right to create one
 * (a developer's own DATABASE_URL), an in-memory PGlite: just as private. `close()` destroys and drops it.
 */
export async function openPrivateTestDb(): Promise<{ db: Db; close: () => Promise<void> }> {
  const shared = process.env.DATABASE_URL;
  const name = `innosocial_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: shared });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  const created = shared
    ? await admin(`create database ${name}`).then(
        () => true,
        (err: { code?: string }) => {
          if (err.code !== '42501') throw err; // only "permission denied" falls back
          return false;
        },
      )
    : false;
  if (!created) {
    const db = await openTestDb('pglite');
    return { db, close: () => db.destroy() };
  }
  const url = new URL(shared!);
  url.pathname = `/${name}`;
  const db = await connectDb({ databaseUrl: url.toString(), pgliteDir: 'memory://' });
  await migrateToLatest(db);
  return {
    db,
    close: async () => {
      await db.destroy();
      await admin(`drop database ${name} with (force)`);
    },
  };
}
