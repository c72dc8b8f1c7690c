import { sql, type Kysely } from 'kysely';

/**
 * The funded project's register (rendicontazione): its own row, snapshot and append-only audit trail, the reports,
 * verifications and observations it receives, and the recovery it may order. Money repaid returns to the call's
 * budget through a new kind of ledger movement, `repay`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('application_id', 'text', (c) => c.primaryKey().references('applications.id'))
    .addColumn('call_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('snapshot', 'jsonb', (c) => c.notNull())
    .addColumn('deadline_kind', 'text')
    .addColumn('deadline_starts_on', 'date')
    .addColumn('deadline_due_on', 'date')
    .addColumn('deadline_at', 'timestamptz')
    .addColumn('outcome', 'text')
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('projects_state').on('projects').columns(['state', 'call_id']).execute();

  await db.schema
    .createTable('project_events')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('application_id', 'text', (c) => c.notNull().references('projects.application_id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('payload_digest', 'text', (c) => c.notNull())
    .addColumn('summary', 'jsonb')
    .addColumn('outcome', 'jsonb')
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('project_events_transition_once', ['application_id', 'seq'])
    .execute();
  // Append-only like the application's trail (the same refusal, from the foundation migration).
  await sql`
    create trigger project_events_no_update_delete before update or delete or truncate on project_events
    for each statement execute function audit_events_append_only()`.execute(db);

  await db.schema
    .createTable('project_reports')
    .addColumn('application_id', 'text', (c) => c.notNull().references('projects.application_id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('interim', 'final')`))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('content', 'jsonb', (c) => c.notNull())
    .addColumn('submitted_by', 'text', (c) => c.notNull())
    .addColumn('submitted_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_reports_pk', ['application_id', 'kind', 'number'])
    .execute();

  await db.schema
    .createTable('project_records')
    .addColumn('application_id', 'text', (c) => c.notNull().references('projects.application_id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('verification', 'observations')`))
    .addColumn('content', 'jsonb', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_records_pk', ['application_id', 'seq', 'kind'])
    .execute();

  await db.schema
    .createTable('recovery_orders')
    .addColumn('application_id', 'text', (c) => c.primaryKey().references('projects.application_id'))
    .addColumn('call_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('reduction', 'revocation', 'withdrawal')`))
    .addColumn('amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('repaid_cents', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('reasons', 'jsonb', (c) => c.notNull())
    .addColumn('ordered_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint('recovery_orders_repaid_within', sql`repaid_cents >= 0 and repaid_cents <= amount_cents`)
    .execute();

  await sql`alter table budget_ledger drop constraint budget_ledger_signed_by_kind`.execute(db);
  await sql`
    alter table budget_ledger add constraint budget_ledger_signed_by_kind check (
      (kind = 'reserve' and amount_cents > 0) or (kind = 'release' and amount_cents < 0) or
      (kind = 'adjust' and amount_cents <> 0) or (kind = 'repay' and amount_cents < 0))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('budget_ledger').where('kind', '=', 'repay').execute();
  await sql`alter table budget_ledger drop constraint budget_ledger_signed_by_kind`.execute(db);
  await sql`
    alter table budget_ledger add constraint budget_ledger_signed_by_kind check (
      (kind = 'reserve' and amount_cents > 0) or (kind = 'release' and amount_cents < 0) or
      (kind = 'adjust' and amount_cents <> 0))`.execute(db);
  for (const table of ['recovery_orders', 'project_records', 'project_reports', 'project_events', 'projects']) {
    await db.schema.dropTable(table).execute();
  }
}
