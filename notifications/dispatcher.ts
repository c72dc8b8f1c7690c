import { sql } from 'kysely';
import type { Db } from '../db/connect';
import {
  claimNextPendingNotification,
  markNotificationFailed,
  markNotificationRetry,
  markNotificationSent,
} from '../db/repositories/notifications';
import { isPermanentSmtpError, messageIdFor, type Mailer } from './mailer';
import { render, secretFieldsOf, type RenderedMail } from './templates';

export interface DeliveryFailure {
  id: string;
  error: string;
  /** true: the row is marked failed and never retried; false: it stays pending, `attempts` went up. */
  permanent: boolean;
}

export interface DeliveryReport {
  sent: number;
  failed: DeliveryFailure[];
}

export interface DeliverOptions {
  /** At most this many rows are tried in one call (sent plus failed). */
  limit?: number;
  /** Only the messages about these applications, or only these rows (tests keep to their own); all when absent. */
  applicationIds?: readonly string[];
  ids?: readonly string[];
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 2_000);

/**
 * Sends what the outbox holds, one row per transaction:
 *
 *   BEGIN; SELECT the oldest least-tried pending row FOR UPDATE SKIP LOCKED; render; SMTP send;
 *   UPDATE sent_at and drop the payload's secret fields (or record the failure); COMMIT.
 *
 * The row lock is held across the SMTP exchange, so a second dispatcher (another worker process) skips the row
 * instead of sending it twice, and `sent_at` is committed right after the server accepted the message. A row that
 * cannot render, or that the server refuses for good (5xx), is marked failed and never blocks the rows behind it;
 * a transient error (connection, timeout, 4xx) increments `attempts` and leaves the row pending for a later call.
 * Each row is tried at most once per call.
 */
export async function deliverPending(db: Db, mailer: Mailer, options: DeliverOptions = {}): Promise<DeliveryReport> {
  const limit = options.limit ?? 100;
  const report: DeliveryReport = { sent: 0, failed: [] };
  const tried: string[] = [];

  while (tried.length < limit) {
    // Counted only once the transaction has committed: a failed COMMIT reports nothing it did not record.
    const outcome = await db.transaction().execute(async (trx): Promise<'empty' | 'sent' | DeliveryFailure> => {
      const row = await claimNextPendingNotification(trx, {
        exceptIds: tried,
        ...(options.applicationIds ? { applicationIds: options.applicationIds } : {}),
        ...(options.ids ? { ids: options.ids } : {}),
      });
      if (!row) return 'empty';
      tried.push(row.id);

      let mail: RenderedMail;
      try {
        const payload: unknown = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
        mail = render(row.template, row.locale, payload);
      } catch (err) {
        const error = errorText(err);
        await markNotificationFailed(trx, row.id, error);
        return { id: row.id, error, permanent: true };
      }

      const messageId = messageIdFor(row.idempotency_key);
      try {
        const result = await mailer.send({
          to: { address: row.recipient, name: row.recipient_name },
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId,
        });
        await markNotificationSent(trx, row.id, result.messageId, secretFieldsOf(row.template));
        return 'sent';
      } catch (err) {
        const error = errorText(err);
        const permanent = isPermanentSmtpError(err);
        if (permanent) await markNotificationFailed(trx, row.id, error);
        else await markNotificationRetry(trx, row.id, error);
        return { id: row.id, error, permanent };
      }
    });
    if (outcome === 'empty') break;
    if (outcome === 'sent') report.sent += 1;
    else report.failed.push(outcome);
  }
  return report;
}

export interface DispatcherOptions extends DeliverOptions {
  /** Pause between two runs, counted from the end of the previous run. */
  intervalMs: number;
  /** Called after every run that tried something. */
  onReport?: (report: DeliveryReport) => void;
  /** Called when a run itself fails (the database is unreachable...); the loop carries on. */
  onError?: (err: unknown) => void;
}

export interface Dispatcher {
  /** Stops polling and resolves once the run in progress, if any, has finished. */
  stop(): Promise<void>;
}

/**
 * Polls the outbox: one run immediately, then one `intervalMs` after the previous run ended. Runs never overlap,
 * because the next one is scheduled only when the current one has settled.
 */
export function startDispatcher(db: Db, mailer: Mailer, options: DispatcherOptions): Dispatcher {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;

  const run = async () => {
    try {
      const report = await deliverPending(db, mailer, options);
      if (report.sent > 0 || report.failed.length > 0) options.onReport?.(report);
    } catch (err) {
      if (options.onError) options.onError(err);
      else console.error(`notification dispatcher: ${errorText(err)}`);
    }
  };

  const tick = () => {
    timer = null;
    if (stopped) return;
    running = run().finally(() => {
      running = null;
      if (!stopped) timer = setTimeout(tick, options.intervalMs);
    });
  };
  timer = setTimeout(tick, 0);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

/** How many outbox rows wait for delivery, and how many gave up; kept for the metrics and health checks to come. */
export async function outboxBacklog(db: Db): Promise<{ pending: number; failed: number }> {
  const row = await db
    .selectFrom('notification_outbox')
    .select([
      sql<string>`count(*) filter (where sent_at is null and failed_at is null)`.as('pending'),
      sql<string>`count(*) filter (where failed_at is not null)`.as('failed'),
    ])
    .executeTakeFirstOrThrow();
  return { pending: Number(row.pending), failed: Number(row.failed) };
}
