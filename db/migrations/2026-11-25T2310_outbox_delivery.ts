import { sql, type Kysely } from 'kysely';

/**
 * Delivery bookkeeping of the notification outbox: how often a message was tried, why the last try failed,
 * the Message-ID it went out with, and `failed_at` for a message that can never be sent as it is (a template
 * that does not render, a recipient the server refuses for good), so it stops being retried and blocks nothing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('notification_outbox')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('message_id', 'text')
    .addColumn('failed_at', 'timestamptz')
    .execute();
  await db.schema
    .alterTable('notification_outbox')
    .addCheckConstraint('notification_outbox_sent_or_failed', sql`sent_at is null or failed_at is null`)
    .execute();
  // What the dispatcher claims: pending rows, least-tried first.
  await db.schema
    .createIndex('notification_outbox_pending')
    .on('notification_outbox')
    .columns(['attempts', 'id'])
    .where(sql<boolean>`sent_at is null and failed_at is null`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('notification_outbox_pending').execute();
  await db.schema.alterTable('notification_outbox').dropConstraint('notification_outbox_sent_or_failed').execute();
  await db.schema
    .alterTable('notification_outbox')
    .dropColumn('failed_at')
    .dropColumn('message_id')
    .dropColumn('last_error')
    .dropColumn('attempts')
    .execute();
}
