import type { FastifyRequest } from 'fastify';
import type { ApplicationCommand } from '../../machines/events';
import { UserError, issuesOf } from '../errors';
import type { Call } from './routes';
import { IdempotencyKeyHeader } from './schemas';
import { visibleView } from './visibility';

/** The request's Idempotency-Key, checked: the server reads it before any handler runs, so a bad one does nothing. */
export function idempotencyKey(req: FastifyRequest): string | undefined {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return undefined;
  const parsed = IdempotencyKeyHeader.safeParse(key);
  if (parsed.success) return parsed.data;
  const issues = issuesOf(parsed.error, 'header.Idempotency-Key');
  throw new UserError('invalid_input', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

/**
 * Sends a command to an application's workflow and answers with the application as the caller may now read it.
 * Idempotency-Key becomes the Update's id, namespaced by the caller (another person's key never returns their
 * result); `Prefer: respond-async` delivers it as a signal and answers 202.
 */
export async function sendCommand(
  call: Call<unknown, unknown, unknown>,
  applicationId: string,
  event: ApplicationCommand,
) {
  const { api, meta, req, reply } = call;
  const key = idempotencyKey(req);
  const updateId = key === undefined ? undefined : `${meta.actor}:${key}`;
  if (req.headers.prefer === 'respond-async') {
    await api.service.send(applicationId, event, meta, { mode: 'signal' });
    reply.status(202);
    return { delivered: true, applicationId };
  }
  const result = await api.service.send(applicationId, event, meta, updateId ? { updateId } : {});
  return call.user ? visibleView(api.db, call.user, applicationId, api.rules) : result;
}
