import { sql, type Kysely } from 'kysely';

/**
 * The call budget ledger. The database itself refuses over-commitment (CHECK on call_budgets), FIFO order comes from
 * an identity column, and every movement of committed money is an append-only ledger row with an idempotency key.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('call_budgets')
    .addColumn('call_id', 'text', (c) => c.primaryKey())
    .addColumn('total_cents', 'bigint', (c) => c.notNull())
    .addColumn('committed_cents', 'bigint', (c) => c.notNull().defaultTo(0))
    .addCheckConstraint('call_budgets_total_not_negative', sql`total_cents >= 0`)
    // The last line of defence: no code path, not even a raw UPDATE, can commit more than the call's budget.
    .addCheckConstraint(
      'call_budgets_committed_within_total',
      sql`committed_cents >= 0 and committed_cents <= total_cents`,
    )
    .execute();

  await db.schema
    .createTable('budget_reservations')
    .addColumn('application_id', 'text', (c) => c.primaryKey().references('applications.id'))
    .addColumn('call_id', 'text', (c) => c.notNull().references('call_budgets.call_id'))
    .addColumn('amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    // FIFO: the order in which requests reached the (locked) call row.
    .addColumn('queue_position', 'bigint', (c) => c.notNull().generatedAlwaysAsIdentity())
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('reserved_at', 'timestamptz')
    .addColumn('released_at', 'timestamptz')
    // Why the reservation was released (withdrawn, lapsed, rejected...): kept for the audit of the budget.
    .addColumn('release_reason', 'text')
    // Idempotency key of the release / adjustment / budget change whose freed money promoted this entry from the
    // waiting list: a retried release reports the same promotions.
    .addColumn('promoted_by', 'text')
    .addCheckConstraint('budget_reservations_positive_amount', sql`amount_cents > 0`)
    .addCheckConstraint('budget_reservations_status', sql`status in ('reserved', 'waiting', 'released', 'consumed')`)
    .addUniqueConstraint('budget_reservations_queue_position', ['queue_position'])
    .execute();
  await db.schema
    .createIndex('budget_reservations_waiting')
    .on('budget_reservations')
    .columns(['call_id', 'queue_position'])
    .where(sql.ref('status'), '=', 'waiting')
    .execute();
  await db.schema
    .createIndex('budget_reservations_by_call')
    .on('budget_reservations')
    .columns(['call_id', 'status'])
    .execute();

  await db.schema
    .createTable('budget_ledger')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('call_id', 'text', (c) => c.notNull().references('call_budgets.call_id'))
    .addColumn('application_id', 'text', (c) => c.notNull().references('budget_reservations.application_id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Signed movements of committed money: reserving adds, releasing subtracts, an adjustment moves it either way.
    .addCheckConstraint(
      'budget_ledger_signed_by_kind',
      sql`(kind = 'reserve' and amount_cents > 0) or (kind = 'release' and amount_cents < 0) or (kind = 'adjust' and amount_cents <> 0)`,
    )
    .execute();
  await db.schema.createIndex('budget_ledger_by_call').on('budget_ledger').column('call_id').execute();

  await sql`
    create function budget_ledger_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'budget_ledger is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
    end $$`.execute(db);
  await sql`
    create trigger budget_ledger_no_update_delete before update or delete or truncate on budget_ledger
    for each statement execute function budget_ledger_append_only()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['budget_ledger', 'budget_reservations', 'call_budgets']) {
    await db.schema.dropTable(table).execute();
  }
  await sql`drop function if exists budget_ledger_append_only()`.execute(db);
}
