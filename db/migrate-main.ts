import { z } from 'zod';
import { EnvSchema } from '../config/env';
import { connectDb, describeTarget } from './connect';
import { migrateToLatest } from './migrate';

/*
 * The one-shot migration job (`node dist/db/migrate-main.js`): it runs as the role that owns the schema, while the
 * worker and the API run with data rights only. It reads just the one variable it needs, taken from EnvSchema so a
 * rename there breaks here too: the production checks (ID_SECRET, payload keys, PUBLIC_URL) guard secrets this job
 * is deliberately not given.
 */
// A server's schema: the embedded PGlite is migrated by the one process that opens it.
const MigrateEnv = z.object({
  DATABASE_URL: EnvSchema.shape.DATABASE_URL.unwrap(),
});

async function main() {
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is required: the PostgreSQL server to migrate');
  const cleaned = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== ''));
  const parsed = MigrateEnv.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid environment: ${lines.join('; ')}`);
  }
  const target = { databaseUrl: parsed.data.DATABASE_URL, pgliteDir: '' };
  const db = await connectDb(target);
  try {
    const applied = await migrateToLatest(db);
    console.log(
      `migrate: ${describeTarget(target)}: ${applied.length ? `applied ${applied.join(', ')}` : 'already up to date'}`,
    );
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(`migrate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
