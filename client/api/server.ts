import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Config } from '../../config/env';
import type { Db } from '../../db/connect';
import { ApplicationService, issuesOf } from '../applications';
import { UserError, toUserError } from '../errors';
import { fromUserError, problem, sendProblem } from './problem';
import { ApplicationIdParams, DecisionBody, IdempotencyKeyHeader, decisionEvent } from './routes';
import { openApiDocument } from './openapi';
import { SessionConfirmationSchema } from '../../machines/events';

export interface ApiDeps {
  config: Config;
  client: Client;
  db: Db;
}

const BODY_LIMIT = 64 * 1024;

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = issuesOf(result.error, where);
  throw new UserError('invalid_input', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });
  const service = new ApplicationService(deps.client, deps.config);
  // Until issue #4 brings bearer tokens, every decision is attributed to the commission as a body.
  const commission = { actor: 'commission', role: 'commission' as const };

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof UserError) return sendProblem(reply, fromUserError(err));
    const fastifyError = err as { statusCode?: number; code?: string; message: string };
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, problem('payload_too_large', 413, `body larger than ${BODY_LIMIT} bytes`));
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendProblem(reply, problem('unsupported_media_type', 415, 'send application/json'));
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      return sendProblem(reply, problem('invalid_input', 400, fastifyError.message, [{ path: 'body', message: fastifyError.message }]));
    }
    const user = toUserError(err);
    return sendProblem(reply, fromUserError(user));
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problem('not_found', 404, `no route ${req.method} ${req.url}`)));

  app.get('/openapi.json', async (req) => openApiDocument(`${req.protocol}://${req.host}`));

  app.get('/healthz', async (_req, reply) => {
    const database = await sql`select 1`.execute(deps.db).then(
      () => ({ ok: true, detail: 'reachable' }),
      (err: Error) => ({ ok: false, detail: err.message }),
    );
    const temporal = await deps.client.workflowService.getSystemInfo({}).then(
      () => ({ ok: true, detail: deps.config.TEMPORAL_ADDRESS }),
      (err: Error) => ({ ok: false, detail: err.message }),
    );
    const ok = database.ok && temporal.ok;
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', database, temporal });
  });

  app.get('/applications/:id', async (req) => {
    const { id } = parse(ApplicationIdParams, req.params, 'path');
    return service.view(id);
  });

  app.post('/applications/:id/decision', async (req, reply) => {
    const { id } = parse(ApplicationIdParams, req.params, 'path');
    const body = parse(DecisionBody, req.body ?? {}, 'body');
    const key = req.headers['idempotency-key'];
    const updateId = key === undefined ? undefined : parse(IdempotencyKeyHeader, key, 'header.Idempotency-Key');
    const event = { type: decisionEvent[body.decision], motivation: body.motivation };
    if (req.headers.prefer === 'respond-async') {
      await service.send(id, event, commission, { mode: 'signal' });
      return reply.status(202).send({ delivered: true, applicationId: id });
    }
    return service.send(id, event, commission, updateId ? { updateId } : {});
  });

  // The link in the company's e-mail: the single-use code is the credential, nothing else is needed.
  app.post('/applications/:id/sessions/confirm', async (req) => {
    const { id } = parse(ApplicationIdParams, req.params, 'path');
    const body = parse(SessionConfirmationSchema, req.body ?? {}, 'body');
    return service.send(id, { type: 'CONFIRM_SESSION', ...body }, { actor: 'legal representative', role: 'company' });
  });

  return app;
}
