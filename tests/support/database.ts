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
