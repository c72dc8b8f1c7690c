import { sql, type Kysely, type Transaction } from 'kysely';
import type { Application, Database, NewApplication, NewAuditEvent, AuditEvent } from '../schema';

export type Executor = Kysely<Database> | Transaction<Database>;

/** Inserts the application once; a retry finds it there and changes nothing. */
export async function insertApplication(db: Executor, row: NewApplication): Promise<boolean> {
  const result = await db
    .insertInto('applications')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function findApplication(db: Executor, id: string): Promise<Application | undefined> {
  return db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Moves the row forward only: a late retry of an older transition never rolls the state back. */
export async function advanceApplication(
  db: Executor,
  id: string,
  change: { seq: number; state: string; implementingBody: string | null; facts: unknown },
): Promise<void> {
  await db
    .updateTable('applications')
    .set({
      state: change.state,
      last_seq: change.seq,
      implementing_body: change.implementingBody,
      facts: JSON.stringify(change.facts),
      updated_at: sql<string>`now()`,
    })
    .where('id', '=', id)
    .where('last_seq', '<', change.seq)
    .execute();
}

/** Appends one audit row; (application, seq) makes a retry a no-op. Returns whether the row is new. */
export async function appendAudit(db: Executor, row: NewAuditEvent): Promise<boolean> {
  const result = await db
    .insertInto('audit_events')
    .values(row)
    .onConflict((oc) => oc.columns(['application_id', 'seq']).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function auditTrail(db: Executor, applicationId: string): Promise<AuditEvent[]> {
  return db.selectFrom('audit_events').selectAll().where('application_id', '=', applicationId).orderBy('seq').execute();
}
