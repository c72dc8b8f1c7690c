import { sql, type Kysely } from 'kysely';

/**
 * The outbox carries messages about a person as well as about an application (a sign-in link has no
 * application), and the recipient's name for the To header. Confirmation codes already sent leave the stored
 * payloads: from now on the dispatcher removes each template's secret fields when it marks a message sent.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('notification_outbox')
    .alterColumn('application_id', (c) => c.dropNotNull())
    .execute();
  await db.schema.alterTable('notification_outbox').addColumn('recipient_name', 'text').execute();
  // Written out, not read from the template table: a migration must do the same thing whenever it runs.
  await sql`
    update notification_outbox set payload = payload - 'code' - 'link'
    where sent_at is not null and template = 'session.confirmation'
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notification_outbox').dropColumn('recipient_name').execute();
  // Rows about no application cannot stay once the column requires one.
  await db.deleteFrom('notification_outbox').where('application_id', 'is', null).execute();
  await db.schema
    .alterTable('notification_outbox')
    .alterColumn('application_id', (c) => c.setNotNull())
    .execute();
}
