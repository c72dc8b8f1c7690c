import { requeueFailedNotification } from '../../../db/repositories/notifications';
import { UserError } from '../../errors';
import { route, type Route } from '../routes';
import { MailParams, MailQuery, OutboxSchema, RequeueBody, RequeuedSchema } from '../schemas';

/** The outbox as operators see it: who, what, where it stands; never the payload (codes and links are in it). */
export const mailRoutes: Route[] = [
  route({
    method: 'GET',
    url: '/mail',
    access: ['operator'],
    summary: 'The notification outbox: recipient, template, status (pending, sent, failed), attempts and last error',
    query: MailQuery,
    response: OutboxSchema,
    handler: async ({ api, query }) => {
      let q = api.db
        .selectFrom('notification_outbox')
        .select([
          'id',
          'application_id',
          'recipient',
          'template',
          'locale',
          'created_at',
          'sent_at',
          'failed_at',
          'attempts',
          'last_error',
        ])
        .orderBy('id', 'desc')
        .limit(500);
      if (query.status === 'pending') q = q.where('sent_at', 'is', null).where('failed_at', 'is', null);
      if (query.status === 'sent') q = q.where('sent_at', 'is not', null);
      if (query.status === 'failed') q = q.where('failed_at', 'is not', null);
      if (query.application) q = q.where('application_id', '=', query.application);
      const rows = await q.execute();
      return rows.map((r) => ({
        id: r.id,
        applicationId: r.application_id,
        recipient: r.recipient,
        template: r.template,
        locale: r.locale,
        status: r.sent_at ? 'sent' : r.failed_at ? 'failed' : 'pending',
        createdAt: r.created_at,
        sentAt: r.sent_at,
        attempts: r.attempts,
        lastError: r.last_error,
      }));
    },
  }),
  route({
    method: 'POST',
    url: '/mail/:messageId/requeue',
    access: ['operator'],
    summary: 'Put a failed message back in the queue (after fixing the address or the template)',
    params: MailParams,
    response: RequeuedSchema,
    handler: async ({ api, params }) => {
      if (!(await requeueFailedNotification(api.db, params.messageId))) {
        throw new UserError('not_found', `no failed message ${params.messageId}`);
      }
      return { requeued: [params.messageId] };
    },
  }),
  route({
    method: 'POST',
    url: '/mail/requeue',
    access: ['operator'],
    summary: 'Put every failed message back in the queue',
    body: RequeueBody,
    response: RequeuedSchema,
    handler: async ({ api }) => {
      const failed = await api.db
        .selectFrom('notification_outbox')
        .select('id')
        .where('failed_at', 'is not', null)
        .execute();
      for (const { id } of failed) await requeueFailedNotification(api.db, id);
      return { requeued: failed.map((f) => f.id) };
    },
  }),
];
