import { sql } from 'kysely';
import type { ProjectDeadline } from '../../machines/project.deadlines';
import type { StoredProjectSnapshot } from '../schema';
import type { Executor } from './applications';
import { transitionColumns, type TransitionRow } from './register';

/** The project's register row, created once (a retried funding step finds it there and changes nothing). */
export async function openProjectRow(
  db: Executor,
  row: { applicationId: string; callId: string; snapshot: StoredProjectSnapshot; deadline: ProjectDeadline | null },
): Promise<boolean> {
  const result = await db
    .insertInto('projects')
    .values({
      application_id: row.applicationId,
      call_id: row.callId,
      state: row.snapshot.value,
      last_seq: 0,
      snapshot: JSON.stringify(row.snapshot),
      deadline_kind: row.deadline?.kind ?? null,
      deadline_starts_on: row.deadline?.startsOn ?? null,
      deadline_due_on: row.deadline?.dueOn ?? null,
      deadline_at: row.deadline?.dueAt ?? null,
    })
    .onConflict((oc) => oc.column('application_id').doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function lockProject(db: Executor, applicationId: string) {
  return db
    .selectFrom('projects')
    .selectAll()
    .where('application_id', '=', applicationId)
    .forUpdate()
    .executeTakeFirst();
}

export const projectDeadlineOfRow = (row: {
  deadline_kind: string | null;
  deadline_starts_on: string | null;
  deadline_due_on: string | null;
  deadline_at: Date | null;
}): ProjectDeadline | null =>
  row.deadline_kind && row.deadline_starts_on && row.deadline_due_on && row.deadline_at
    ? {
        kind: row.deadline_kind as ProjectDeadline['kind'],
        startsOn: row.deadline_starts_on,
        dueOn: row.deadline_due_on,
        dueAt: row.deadline_at.toISOString(),
      }
    : null;

export async function appendProjectEvent(db: Executor, row: TransitionRow): Promise<void> {
  await db.insertInto('project_events').values(transitionColumns(row)).execute();
}

export async function recordedProjectOutcome(db: Executor, applicationId: string, seq: number): Promise<unknown> {
  const row = await db
    .selectFrom('project_events')
    .select('outcome')
    .where('application_id', '=', applicationId)
    .where('seq', '=', seq)
    .executeTakeFirst();
  return row?.outcome ?? null;
}

export async function advanceProject(
  db: Executor,
  applicationId: string,
  change: { seq: number; snapshot: StoredProjectSnapshot; deadline: ProjectDeadline | null; final: boolean },
): Promise<void> {
  await db
    .updateTable('projects')
    .set({
      state: change.snapshot.value,
      last_seq: change.seq,
      snapshot: JSON.stringify(change.snapshot),
      outcome: change.snapshot.context.outcome,
      deadline_kind: change.deadline?.kind ?? null,
      deadline_starts_on: change.deadline?.startsOn ?? null,
      deadline_due_on: change.deadline?.dueOn ?? null,
      deadline_at: change.deadline?.dueAt ?? null,
      updated_at: sql<string>`now()`,
      ...(change.final ? { closed_at: sql<string>`coalesce(closed_at, now())` } : {}),
    })
    .where('application_id', '=', applicationId)
    .where('last_seq', '<', change.seq)
    .execute();
}
