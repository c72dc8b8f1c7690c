import type { Config } from '../config/env';
import { connectDb, type Db } from './connect';
import { migrateToLatest } from './migrate';

/**
 * The database a process works on, brought up to the latest schema unless a migration job owns that
 * (MIGRATE_ON_START=false: production runs the app with DML rights only).
 */
export async function openDatabase(config: Config): Promise<Db> {
  const db = await connectDb({ databaseUrl: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR });
  if (config.MIGRATE_ON_START) await migrateToLatest(db);
  return db;
}
