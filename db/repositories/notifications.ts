import { sql, type RawBuilder } from 'kysely';
import type { NewOutboxMessage, OutboxMessage } from '../schema';
import type { Executor } from './applications';

/**
 * Queues a row once per idempotency key; the key, enforced by a unique index, makes retries harmless. Returns
 * whether the row is new. Unchecked: senders go through `enqueue` (notifications/outbox.ts), which validates the
 * payload against its template first.
 */
export async function enqueueNotification(db: Executor, message: NewOutboxMessage): Promise<boolean> {
  const result = await db
    .insertInto('notification_outbox')
    .values(message)
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function outboxFor(db: Executor, applicationId: string): Promise<OutboxMessage[]> {
  return db
    .selectFrom('notification_outbox')
    .selectAll()
    .where('application_id', '=', applicationId)
    .orderBy('id')
    .execute();
}

/**
 * Locks the next message to deliver: unsent, not given up, least-tried first, then oldest. `SKIP LOCKED` lets
 * concurrent dispatchers each take a different row; call it inside the transaction that records the outcome.
 */
export async function claimNextPendingNotification(
  trx: Executor,
  filter: { exceptIds?: readonly string[]; applicationIds?: readonly string[]; ids?: readonly string[] } = {},
): Promise<OutboxMessage | undefined> {
  let query = trx
    .selectFrom('notification_outbox')
    .selectAll()
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null);
  if (filter.exceptIds?.length) query = query.where('id', 'not in', [...filter.exceptIds]);
  if (filter.applicationIds)
    query = query.where('application_id', 'in', filter.applicationIds.length ? [...filter.applicationIds] : ['']);
  if (filter.ids) query = query.where('id', 'in', filter.ids.length ? [...filter.ids] : ['0']);
  return query.orderBy('attempts').orderBy('id').limit(1).forUpdate().skipLocked().executeTakeFirst();
}

/**
 * The server accepted the message: it is never sent again, and the payload fields named `secret` (a confirmation
 * code, a personal link) are removed from the stored payload in the same statement, so they do not outlive
 * their use in a backup or a database dump.
 */
export async function markNotificationSent(
  db: Executor,
  id: string,
  messageId: string,
  secret: readonly string[] = [],
): Promise<void> {
  const scrubbed = secret.reduce<RawBuilder<unknown>>(
    (payload, field) => sql`${payload} - ${field}::text`,
    sql.ref('payload'),
  );
  await db
    .updateTable('notification_outbox')
    .set((eb) => ({
      sent_at: sql<Date>`now()`,
      message_id: messageId,
      last_error: null,
      attempts: eb('attempts', '+', 1),
      ...(secret.length > 0 ? { payload: sql<string>`${scrubbed}` } : {}),
    }))
    .where('id', '=', id)
    .where('sent_at', 'is', null)
    .execute();
}

/** A transient failure: the message stays pending and the next run tries it again. */
export async function markNotificationRetry(db: Executor, id: string, error: string): Promise<void> {
  await db
    .updateTable('notification_outbox')
    .set((eb) => ({ last_error: error, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('sent_at', 'is', null)
    .execute();
}

/** The message can never go out as it is (it does not render, the server refuses it for good): stop trying. */
export async function markNotificationFailed(db: Executor, id: string, error: string): Promise<void> {
  await db
    .updateTable('notification_outbox')
    .set((eb) => ({ failed_at: sql<Date>`now()`, last_error: error, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('sent_at', 'is', null)
    .execute();
}

/**
 * Puts a failed message back in the queue (after the template or the address was fixed); its payload still holds
 * what it needs, secrets included, since only sending removes them. Returns whether it was failed.
 */
export async function requeueFailedNotification(db: Executor, id: string): Promise<boolean> {
  const result = await db
    .updateTable('notification_outbox')
    .set({ failed_at: null })
    .where('id', '=', id)
    .where('failed_at', 'is not', null)
    .executeTakeFirst();
  return (result.numUpdatedRows ?? 0n) > 0n;
}
