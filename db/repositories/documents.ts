import type { DocumentRow, NewDocument } from '../schema';
import type { Executor } from './applications';

/** One metadata row per (application, kind, content): storing the same bytes again returns the first row. */
export async function insertDocument(db: Executor, row: NewDocument): Promise<DocumentRow> {
  await db
    .insertInto('documents')
    .values(row)
    .onConflict((oc) => oc.columns(['application_id', 'kind', 'sha256']).doNothing())
    .execute();
  return db
    .selectFrom('documents')
    .selectAll()
    .where('application_id', '=', row.application_id)
    .where('kind', '=', row.kind)
    .where('sha256', '=', row.sha256)
    .executeTakeFirstOrThrow();
}

export async function documentsOf(db: Executor, applicationId: string): Promise<DocumentRow[]> {
  return db
    .selectFrom('documents')
    .selectAll()
    .where('application_id', '=', applicationId)
    .orderBy('created_at')
    .execute();
}
