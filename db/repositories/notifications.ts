import type { NewOutboxMessage, OutboxMessage } from '../schema';
import type { Executor } from './applications';

/** Queues a message once per idempotency key; the key, enforced by a unique index, makes retries harmless. */
export async function enqueueNotification(db: Executor, message: NewOutboxMessage): Promise<void> {
  await db.insertInto('notification_outbox').values(message).onConflict((oc) => oc.column('idempotency_key').doNothing()).execute();
}

export async function outboxFor(db: Executor, applicationId: string): Promise<OutboxMessage[]> {
  return db.selectFrom('notification_outbox').selectAll().where('application_id', '=', applicationId).orderBy('id').execute();
}
