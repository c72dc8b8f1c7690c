import { PGlite, types } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from './pglite-dialect';
import type { Database } from './schema';

export type Db = Kysely<Database>;

export interface DbTarget {
  /** A PostgreSQL URL; when absent the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; `memory://` for a throwaway database. */
  pgliteDir: string;
}

// DATE and TIME stay strings: a calendar date has no time zone, and a JS Date would invent one.
const DATE_OID = 1082;
const TIME_OID = 1083;

export function describeTarget(target: DbTarget): string {
  if (!target.databaseUrl) return `PGlite (embedded) at ${target.pgliteDir}`;
  const url = new URL(target.databaseUrl);
  return `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
}

export async function connectDb(target: DbTarget): Promise<Db> {
  if (target.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: target.databaseUrl,
      max: 10,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === DATE_OID || oid === TIME_OID
            ? (v: string) => v
            : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // A connection dropped by a restarting server emits 'error' (on the pool when idle, on the client while in use);
    // unheard, either would kill the process. The query in flight fails and its activity retries; the next one
    // opens a fresh connection.
    const lost = (err: Error) => console.warn(`database: connection lost (${err.message}); reconnecting on next use`);
    pool.on('error', lost);
    pool.on('connect', (client) => client.on('error', lost));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  const pglite = await PGlite.create(target.pgliteDir, {
    parsers: { [DATE_OID]: (v: string) => v, [TIME_OID]: (v: string) => v, [types.INT8]: (v: string) => v },
  });
  return new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
}
