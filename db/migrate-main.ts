import { z } from 'zod';
import { EnvSchema } from '../config/env';
import { connectDb, describeTarget } from './connect';
import { migrateToLatest } from './migrate';
import { importDocumentFiles } from '../documents/import';

/*
 * The one-shot migration job (`node dist/db/migrate-main.js`): it runs as the role that owns the schema, while the
 * worker and the API run with data rights only. It reads just the one variable it needs, taken from EnvSchema so a
 * rename there breaks here too: the production checks (ID_SECRET, payload keys, PUBLIC_URL) guard secrets this job
 * is deliberately not given.
 */
// A server's schema: the embedded PGlite is migrated by the one process that opens it.
const MigrateEnv = z.object({
  DATABASE_URL: EnvSchema.shape.DATABASE_URL.unwrap(),
  /** Upgrading from the first generation: the folder its documents were filed in, imported once into PostgreSQL. */
  IMPORT_DOCUMENTS_DIR: z.string().min(1).optional(),
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
    if (parsed.data.IMPORT_DOCUMENTS_DIR) {
      const r = await importDocumentFiles(db, parsed.data.IMPORT_DOCUMENTS_DIR);
      console.log(`migrate: ${r.imported} document(s) imported from ${parsed.data.IMPORT_DOCUMENTS_DIR}`);
      for (const file of r.damaged) console.error(`migrate: ${file} does not hash to its name: not imported`);
      for (const file of r.ignored) console.error(`migrate: ${file} is not a stored document: ignored`);
      if (r.damaged.length > 0) process.exitCode = 1;
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(`migrate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
