import { sql, type Kysely } from 'kysely';

/**
 * PostgreSQL becomes the register people read: each step writes the machine's snapshot and the columns lists filter
 * on, in the same transaction as its audit row. Documents' bytes move in here too (one store every host shares,
 * one backup), sessions learn disputes and re-issued codes, and the audit trail keeps a readable summary of each
 * event and what a step answered, so a retried step returns what it first committed.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('applications')
    .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('snapshot', 'jsonb')
    .addColumn('comune', 'text')
    .addColumn('ateco_code', 'text')
    .addColumn('size_class', 'text')
    .addColumn('themes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('eligibility', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('requested_cents', 'bigint')
    .addColumn('admitted_cents', 'bigint')
    .addColumn('funded_cents', 'bigint')
    .addColumn('deadline_kind', 'text')
    .addColumn('deadline_at', 'timestamptz')
    .addColumn('closed_at', 'timestamptz')
    // Wrong confirmation codes over all of the application's sessions: a second limit beside each session's own.
    .addColumn('code_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`
    update applications set
      comune = form->'company'->'operatingSite'->>'comune',
      ateco_code = form->'company'->>'atecoCode',
      themes = array(select jsonb_array_elements_text(coalesce(form->'themes', '[]'::jsonb)))
  `.execute(db);

  // Every filter of `list` (and the API's) is an indexed query.
  await db.schema.createIndex('applications_state').on('applications').columns(['state', 'created_at']).execute();
  await db.schema.createIndex('applications_call_state').on('applications').columns(['call_id', 'state']).execute();
  await db.schema.createIndex('applications_body').on('applications').columns(['implementing_body', 'state']).execute();
  await db.schema.createIndex('applications_vat').on('applications').column('vat_number').execute();
  await db.schema.createIndex('applications_paging').on('applications').columns(['created_at', 'id']).execute();
  await sql`create index applications_themes on applications using gin (themes)`.execute(db);
  await db.schema
    .createIndex('applications_deadline')
    .on('applications')
    .column('deadline_at')
    .where(sql.ref('deadline_at'), 'is not', null)
    .execute();

  await db.schema.alterTable('audit_events').addColumn('summary', 'jsonb').addColumn('outcome', 'jsonb').execute();

  await db.schema
    .createTable('document_blobs')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('content', 'bytea', (c) => c.notNull())
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('document_blobs_sha256_hex', sql`sha256 ~ '^[0-9a-f]{64}$'`)
    .addCheckConstraint('document_blobs_size', sql`size_bytes = octet_length(content)`)
    .execute();
  await db.schema
    .alterTable('documents')
    .addColumn('uploaded_by', 'text')
    .addColumn('attached_at', 'timestamptz')
    .addColumn('attached_seq', 'integer')
    .execute();

  await db.schema
    .alterTable('accompaniment_sessions')
    .addColumn('consultant_id', 'uuid', (c) => c.references('consultants.id'))
    .addColumn('disputed_at', 'timestamptz')
    // Bumped with every code issued: the links and codes of earlier issues stop working.
    .addColumn('code_issue', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema
    .alterTable('accompaniment_sessions')
    .addCheckConstraint('accompaniment_sessions_one_answer', sql`confirmed_at is null or disputed_at is null`)
    .execute();

  await db.schema
    .alterTable('consultants')
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
  await db.schema.alterTable('users').addColumn('email', 'text').execute();
  await sql`create unique index users_email on users (lower(email)) where email is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists users_email`.execute(db);
  await db.schema.alterTable('users').dropColumn('email').execute();
  await db.schema.alterTable('consultants').dropColumn('active').execute();
  await db.schema.alterTable('accompaniment_sessions').dropConstraint('accompaniment_sessions_one_answer').execute();
  await db.schema
    .alterTable('accompaniment_sessions')
    .dropColumn('consultant_id')
    .dropColumn('disputed_at')
    .dropColumn('code_issue')
    .execute();
  await db.schema
    .alterTable('documents')
    .dropColumn('uploaded_by')
    .dropColumn('attached_at')
    .dropColumn('attached_seq')
    .execute();
  await db.schema.dropTable('document_blobs').execute();
  await db.schema.alterTable('audit_events').dropColumn('summary').dropColumn('outcome').execute();
  for (const index of [
    'applications_state',
    'applications_call_state',
    'applications_body',
    'applications_vat',
    'applications_paging',
    'applications_themes',
    'applications_deadline',
  ]) {
    await sql`drop index if exists ${sql.ref(index)}`.execute(db);
  }
  await db.schema
    .alterTable('applications')
    .dropColumn('generation')
    .dropColumn('snapshot')
    .dropColumn('comune')
    .dropColumn('ateco_code')
    .dropColumn('size_class')
    .dropColumn('themes')
    .dropColumn('eligibility')
    .dropColumn('requested_cents')
    .dropColumn('admitted_cents')
    .dropColumn('funded_cents')
    .dropColumn('deadline_kind')
    .dropColumn('deadline_at')
    .dropColumn('closed_at')
    .dropColumn('code_failures')
    .execute();
}
