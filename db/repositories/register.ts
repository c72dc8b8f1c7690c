import { sql } from 'kysely';
import { supportOf } from '../../domain/pre-project';
import type { ApplicationContext, ApplicationState } from '../../machines/application.machine';
import type { Deadline } from '../../machines/deadlines';
import type { NewApplication, StoredSnapshot } from '../schema';
import type { Executor } from './applications';

/** The unique constraint that keeps one application per company and call, whatever Temporal still remembers. */
export const ONE_PER_COMPANY_AND_CALL = 'applications_one_per_company_and_call';

/** Inserts a new application; false when the company already applied to the call (the constraint said so). */
export async function insertApplication(db: Executor, row: NewApplication): Promise<boolean> {
  const result = await db
    .insertInto('applications')
    .values(row)
    .onConflict((oc) => oc.constraint(ONE_PER_COMPANY_AND_CALL).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/** The row a step works on, locked until its transaction ends: steps of one application never interleave. */
export async function lockForStep(db: Executor, applicationId: string) {
  return db
    .selectFrom('applications')
    .select(['id', 'call_id', 'rules_version', 'last_seq', 'snapshot', 'deadline_kind', 'deadline_at', 'state'])
    .where('id', '=', applicationId)
    .forUpdate()
    .executeTakeFirst();
}

export const deadlineOfRow = (row: { deadline_kind: string | null; deadline_at: Date | null }): Deadline | null =>
  row.deadline_kind && row.deadline_at
    ? { kind: row.deadline_kind as Deadline['kind'], dueAt: row.deadline_at.toISOString() }
    : null;

/** One recorded transition: a line of an application's audit trail, or of its project's (project_events). */
export interface TransitionRow {
  applicationId: string;
  seq: number;
  eventType: string;
  from: string | null;
  to: string;
  actor: string;
  role: string;
  payloadDigest: string;
  occurredAt: string;
  summary: Record<string, unknown> | null;
  outcome?: unknown;
}

/** The columns both trails share. */
export const transitionColumns = (row: TransitionRow) => ({
  application_id: row.applicationId,
  seq: row.seq,
  event_type: row.eventType,
  from_state: row.from,
  to_state: row.to,
  actor: row.actor,
  role: row.role,
  payload_digest: row.payloadDigest,
  occurred_at: row.occurredAt,
  summary: row.summary === null ? null : JSON.stringify(row.summary),
  outcome: row.outcome === undefined ? null : JSON.stringify(row.outcome),
});

/** One line of the audit trail; (application, seq) makes it once only. Returns whether it is new. */
export async function appendAudit(db: Executor, row: TransitionRow): Promise<boolean> {
  const result = await db
    .insertInto('audit_events')
    .values(transitionColumns(row))
    .onConflict((oc) => oc.columns(['application_id', 'seq']).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/** What the step recorded under this seq answered, for its retry. */
export async function recordedOutcome(db: Executor, applicationId: string, seq: number): Promise<unknown> {
  const row = await db
    .selectFrom('audit_events')
    .select('outcome')
    .where('application_id', '=', applicationId)
    .where('seq', '=', seq)
    .executeTakeFirst();
  return row?.outcome ?? null;
}

/** The register's columns for a snapshot: what lists filter and sort on, always in step with the snapshot. */
export function registerColumns(
  state: ApplicationState,
  c: ApplicationContext,
  deadline: Deadline | null,
  final: boolean,
) {
  return {
    state,
    implementing_body: c.implementingBody,
    themes: c.themes,
    size_class: c.sizeClass,
    eligibility: c.eligibility,
    requested_cents: c.preProject ? supportOf(c.preProject, c.rules).totalCents : null,
    admitted_cents: c.admittedCents,
    funded_cents: c.fundedCents,
    deadline_kind: deadline?.kind ?? null,
    deadline_at: deadline?.dueAt ?? null,
    closed_at: final ? sql<string>`coalesce(closed_at, now())` : null,
  };
}

/** Moves the register forward to `seq`; never back (a late duplicate finds a newer row and changes nothing). */
export async function advanceRegister(
  db: Executor,
  applicationId: string,
  change: {
    seq: number;
    snapshot: StoredSnapshot;
    columns: ReturnType<typeof registerColumns>;
    generation?: number;
  },
): Promise<void> {
  await db
    .updateTable('applications')
    .set({
      ...change.columns,
      last_seq: change.seq,
      snapshot: JSON.stringify(change.snapshot),
      ...(change.generation ? { generation: change.generation } : {}),
      updated_at: sql<string>`now()`,
    } as never)
    .where('id', '=', applicationId)
    .where('last_seq', '<=', change.seq)
    .execute();
}
