import type { Executor } from '../db/repositories/applications';
import { enqueueNotification } from '../db/repositories/notifications';
import { checkedPayload, TemplateError, type Locale, type TemplateName, type TemplatePayload } from './templates';

/** Where a message goes and how it speaks: the address, the reader's language, the person's name (or null). */
export interface Addressee {
  address: string;
  locale: Locale;
  /** Shown in the To header; the payload's `recipientName` must say the same. */
  name: string | null;
}

/** Messages about an application carry its id; a message about a person (a sign-in link) carries null. */
type ApplicationIdOf<T extends TemplateName> = TemplatePayload<T> extends { applicationId: string } ? string : null;

export interface OutgoingMessage<T extends TemplateName> {
  template: T;
  payload: TemplatePayload<T>;
  recipient: Addressee;
  applicationId: ApplicationIdOf<T>;
  /** One message per key, ever: a retried activity or transaction queues nothing more. */
  idempotencyKey: string;
}

/**
 * Queues one message in the outbox, in the caller's transaction, once per idempotency key. The payload is checked
 * against the template's schema first: a payload that does not fit, or that disagrees with the recipient or the
 * application given alongside it, is a programming error and throws a `TemplateError` (nothing is written).
 * Returns whether a row was added (false: the key was already there).
 */
export async function enqueue<T extends TemplateName>(db: Executor, message: OutgoingMessage<T>): Promise<boolean> {
  const { template, recipient } = message;
  const payload = checkedPayload(template, message.payload);
  const about = 'applicationId' in payload ? payload.applicationId : null;
  if (about !== message.applicationId)
    throw new TemplateError(template, `applicationId ${message.applicationId} differs from the payload's (${about})`);
  if ('recipientName' in payload && payload.recipientName !== recipient.name)
    throw new TemplateError(template, "recipient.name differs from the payload's recipientName");
  if (recipient.address.trim() === '') throw new TemplateError(template, 'recipient.address is empty');
  return enqueueNotification(db, {
    idempotency_key: message.idempotencyKey,
    application_id: message.applicationId,
    recipient: recipient.address,
    recipient_name: recipient.name,
    template,
    locale: recipient.locale,
    payload: JSON.stringify(payload),
  });
}
