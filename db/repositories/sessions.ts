import type { LoggedSession } from '../../domain/hours';
import type { NewAccompanimentSession } from '../schema';
import type { Executor } from './applications';

/**
 * Stores a session once: the same company cannot start two sessions at the same moment, so that is the key.
 * Says whether this call created it, so side effects that go with creation happen once.
 */
export async function insertSession(
  db: Executor,
  row: NewAccompanimentSession,
): Promise<{ id: string; created: boolean }> {
  const inserted = await db
    .insertInto('accompaniment_sessions')
    .values(row)
    .onConflict((oc) => oc.columns(['application_id', 'session_date', 'starts_at']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { id: inserted.id, created: true };
  const stored = await findSession(db, row.application_id, row.session_date, row.starts_at);
  return { id: stored!.id, created: false };
}

export async function findSession(db: Executor, applicationId: string, date: string, start: string) {
  return db
    .selectFrom('accompaniment_sessions')
    .selectAll()
    .where('application_id', '=', applicationId)
    .where('session_date', '=', date)
    .where('starts_at', '=', start)
    .executeTakeFirst();
}

const toLogged = (r: {
  id: string;
  application_id: string;
  consultant: string;
  session_date: string;
  starts_at: string;
  ends_at: string;
  confirmed_at: Date | null;
  disputed_at: Date | null;
}): LoggedSession => ({
  id: r.id,
  applicationId: r.application_id,
  consultant: r.consultant,
  date: r.session_date,
  start: r.starts_at,
  end: r.ends_at,
  confirmed: r.confirmed_at !== null,
  disputed: r.disputed_at !== null,
});

export async function sessionsOf(db: Executor, applicationId: string): Promise<LoggedSession[]> {
  const rows = await db
    .selectFrom('accompaniment_sessions')
    .selectAll()
    .where('application_id', '=', applicationId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toLogged);
}

/** The other applications' sessions of these consultants on these days: only they can clash. */
export async function consultantSessionsElsewhere(
  db: Executor,
  applicationId: string,
  consultants: string[],
  dates: string[],
): Promise<LoggedSession[]> {
  if (consultants.length === 0 || dates.length === 0) return [];
  const rows = await db
    .selectFrom('accompaniment_sessions')
    .selectAll()
    .where('application_id', '!=', applicationId)
    .where('consultant', 'in', consultants)
    .where('session_date', 'in', dates)
    .execute();
  return rows.map(toLogged);
}
