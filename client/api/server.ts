import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { z } from 'zod';
import type { Config } from '../../config/env';
import type { Db } from '../../db/connect';
import { budgetOverview } from '../../db/repositories/budget';
import {
  createUser,
  listUsers,
  revokeUser,
  userByToken,
  type PublicUser,
  type UserRole,
} from '../../db/repositories/users';
import { readStoredDocument } from '../../activities/documents';
import type { ApplicationCommand } from '../../machines/events';
import type { ApplicationView, CommandMeta } from '../../workflows/messages';
import { ApplicationService, issuesOf } from '../applications';
import { UserError, toUserError } from '../errors';
import { fromUserError, problem, sendProblem } from './problem';
import { RateLimiter } from './rate-limit';
import {
  ApplicationIdParams,
  CallParams,
  ConfirmationBody,
  ConflictBody,
  DecisionBody,
  DocumentBody,
  DocumentParams,
  EvaluationBody,
  IdempotencyKeyHeader,
  ListQuery,
  NewUserBody,
  PreProjectBody,
  SessionBody,
  UserIdParams,
  decisionEvent,
} from './routes';
import { openApiDocument, docsPage, type RouteDoc } from './openapi';

export interface ApiDeps {
  config: Config;
  client: Client;
  db: Db;
  /** Requests per minute per caller; tests lower it to see a 429. */
  rateLimitPerMinute?: number;
}

const BODY_LIMIT = 64 * 1024;
const UPLOAD_LIMIT = 2 * 1024 * 1024;

type Access = 'public' | 'code' | UserRole[];

interface Ctx {
  req: FastifyRequest;
  reply: FastifyReply;
  user: PublicUser | null;
  meta: CommandMeta;
}

interface Route extends RouteDoc {
  handler: (ctx: Ctx) => Promise<unknown>;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = issuesOf(result.error, where);
  throw new UserError('invalid_input', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
}

export function buildApi(deps: ApiDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Long path segments reach our own validation (a 400 naming the field) instead of the router's bare 414.
    routerOptions: { maxParamLength: 1_000 },
    // Errors the framework raises before a route runs (a malformed URL) are problems like any other.
    frameworkErrors: (err, _req, reply) => {
      void sendProblem(reply, problem('invalid_input', 400, err.message, [{ path: 'url', message: err.message }]));
    },
  });
  const service = new ApplicationService(deps.client, deps.config);
  const limiter = new RateLimiter(deps.rateLimitPerMinute ?? 600);

  /** The application, if this user may see it: consultants see their own body's only. */
  async function visible(ctx: Ctx, id: string): Promise<ApplicationView> {
    const view = await service.view(id);
    if (ctx.user?.role === 'consultant' && view.facts.implementingBody !== ctx.user.body_id) {
      throw new UserError('forbidden', `application ${id} is not assigned to your implementing body`);
    }
    return view;
  }

  /** What a user may read of a view: evaluations are the commission's and the operators', never a conflicted member's. */
  function redact(user: PublicUser | null, view: ApplicationView): ApplicationView {
    const conflicted = user?.role === 'commission' && view.facts.conflicts[user.id] === true;
    const seesAll =
      user?.role === 'operator' || user?.role === 'auditor' || (user?.role === 'commission' && !conflicted);
    const evaluations = seesAll ? view.facts.evaluations : view.facts.evaluations.filter((e) => e.member === user?.id);
    return { ...view, facts: { ...view.facts, evaluations } };
  }

  async function command(ctx: Ctx, id: string, event: ApplicationCommand) {
    const key = ctx.req.headers['idempotency-key'];
    const updateId = key === undefined ? undefined : parse(IdempotencyKeyHeader, key, 'header.Idempotency-Key');
    if (ctx.req.headers.prefer === 'respond-async') {
      await service.send(id, event, ctx.meta, { mode: 'signal' });
      ctx.reply.status(202);
      return { delivered: true, applicationId: id };
    }
    return redact(ctx.user, (await service.send(id, event, ctx.meta, updateId ? { updateId } : {}))!);
  }

  const id = (ctx: Ctx) => parse(ApplicationIdParams, ctx.req.params, 'path').id;
  const body = <T>(schema: z.ZodType<T>, ctx: Ctx) => parse(schema, ctx.req.body ?? {}, 'body');
  const staff: UserRole[] = ['operator', 'auditor', 'commission', 'consultant'];

  const routes: Route[] = [
    {
      method: 'GET',
      url: '/healthz',
      access: 'public',
      summary: 'Database and Temporal reachability',
      handler: async ({ reply }) => {
        const database = await sql`select 1`.execute(deps.db).then(
          () => ({ ok: true, detail: 'reachable' }),
          (err: Error) => ({ ok: false, detail: err.message }),
        );
        const temporal = await deps.client.workflowService.getSystemInfo({}).then(
          () => ({ ok: true, detail: deps.config.TEMPORAL_ADDRESS }),
          (err: Error) => ({ ok: false, detail: err.message }),
        );
        const ok = database.ok && temporal.ok;
        reply.status(ok ? 200 : 503);
        return { status: ok ? 'ok' : 'degraded', database, temporal };
      },
    },
    {
      method: 'GET',
      url: '/openapi.json',
      access: 'public',
      summary: 'This API, as OpenAPI 3.1',
      handler: async ({ req }) => openApiDocument(`${req.protocol}://${req.host}`, routes),
    },
    {
      method: 'GET',
      url: '/docs',
      access: 'public',
      summary: 'Human-readable API documentation',
      handler: async ({ req, reply }) => {
        reply.type('text/html; charset=utf-8');
        return docsPage(openApiDocument(`${req.protocol}://${req.host}`, routes));
      },
    },
    {
      method: 'GET',
      url: '/me',
      access: staff,
      summary: 'Who the token belongs to',
      handler: async ({ user }) => user,
    },
    {
      method: 'GET',
      url: '/applications',
      access: staff,
      query: ListQuery,
      summary: 'Applications visible to you: the commission sees those awaiting it, a consultant those of their body',
      handler: async (ctx) => {
        const q = parse(ListQuery, ctx.req.query, 'query');
        const u = ctx.user!;
        const filter = {
          state: (u.role === 'commission' ? 'commission' : q.state) as never,
          callId: q.call,
          body: u.role === 'consultant' ? u.body_id! : q.body,
          theme: q.theme,
        };
        return service.list(filter);
      },
    },
    {
      method: 'GET',
      url: '/applications/:id',
      access: staff,
      params: ApplicationIdParams,
      summary: 'One application: state, facts, timeline, possible commands',
      handler: async (ctx) => redact(ctx.user, await visible(ctx, id(ctx))),
    },
    {
      method: 'GET',
      url: '/applications/:id/pre-projects',
      access: staff,
      params: ApplicationIdParams,
      summary: 'Every pre-project version, with indicators and cost lines',
      handler: async (ctx) => {
        const appId = id(ctx);
        await visible(ctx, appId);
        const rows = await deps.db
          .selectFrom('pre_projects')
          .selectAll()
          .where('application_id', '=', appId)
          .orderBy('version')
          .execute();
        return rows.map((r) => ({
          version: r.version,
          content: r.content,
          digest: r.content_digest,
          submittedAt: r.submitted_at,
          forwardedAt: r.forwarded_at,
        }));
      },
    },
    {
      method: 'GET',
      url: '/applications/:id/documents/:documentId',
      access: staff,
      params: DocumentParams,
      summary: 'Download a document (its integrity is checked first)',
      produces: 'application/octet-stream',
      handler: async (ctx) => {
        const p = parse(DocumentParams, ctx.req.params, 'path');
        await visible(ctx, p.id);
        const doc = await deps.db
          .selectFrom('documents')
          .selectAll()
          .where('id', '=', p.documentId)
          .where('application_id', '=', p.id)
          .executeTakeFirst();
        if (!doc) throw new UserError('not_found', `no document ${p.documentId} in application ${p.id}`);
        // A missing or damaged copy is never served, and its path on disk is nobody's business.
        const bytes = await readStoredDocument(deps.config.DOCUMENTS_DIR, doc.sha256).catch((err: Error) => {
          console.error(`api: document ${doc.id} (${doc.sha256}) unreadable: ${err.message}`);
          throw new UserError(
            'document_unavailable',
            `the stored copy of document ${doc.id} is missing or damaged; ask an operator to upload it again`,
          );
        });
        ctx.reply
          .type(doc.media_type)
          .header('content-disposition', `attachment; filename="${doc.filename.replace(/[^\w.-]/g, '_')}"`);
        return bytes;
      },
    },
    {
      method: 'POST',
      url: '/applications/:id/conflict',
      access: ['commission'],
      params: ApplicationIdParams,
      body: ConflictBody,
      command: true,
      summary: 'Declare (or deny) a conflict of interest on an application, before evaluating it',
      handler: async (ctx) =>
        command(ctx, id(ctx), {
          type: 'DECLARE_CONFLICT',
          member: ctx.meta.actor,
          conflicted: body(ConflictBody, ctx).conflicted,
        }),
    },
    {
      method: 'POST',
      url: '/applications/:id/evaluations',
      access: ['commission'],
      params: ApplicationIdParams,
      body: EvaluationBody,
      command: true,
      summary:
        "Submit your evaluation: a score per configured criterion, a recommendation and a motivation; the quorum's majority decides",
      handler: async (ctx) =>
        command(ctx, id(ctx), { type: 'SUBMIT_EVALUATION', member: ctx.meta.actor, ...body(EvaluationBody, ctx) }),
    },
    {
      method: 'POST',
      url: '/applications/:id/decision',
      access: ['commission'],
      params: ApplicationIdParams,
      body: DecisionBody,
      command: true,
      summary: "The chair records the commission's decision: approve, reject or request integration",
      handler: async (ctx) => {
        if (!ctx.user?.chair)
          throw new UserError(
            'forbidden',
            'only the chair of the commission records a decision; members submit evaluations',
          );
        const b = body(DecisionBody, ctx);
        return command(ctx, id(ctx), { type: decisionEvent[b.decision], motivation: b.motivation });
      },
    },
    {
      method: 'POST',
      url: '/applications/:id/sessions',
      access: ['consultant', 'operator'],
      params: ApplicationIdParams,
      body: SessionBody,
      command: true,
      summary: 'Log an accompaniment session; the company is e-mailed a code to confirm it',
      handler: async (ctx) => {
        await visible(ctx, id(ctx));
        return command(ctx, id(ctx), { type: 'LOG_SESSION', session: body(SessionBody, ctx).session });
      },
    },
    {
      method: 'POST',
      url: '/applications/:id/documents',
      access: ['consultant', 'operator'],
      params: ApplicationIdParams,
      body: DocumentBody,
      command: true,
      bodyLimit: UPLOAD_LIMIT,
      summary: 'Upload a document (PDF, ODT, DOCX or signed P7M, base64)',
      handler: async (ctx) => {
        await visible(ctx, id(ctx));
        return command(ctx, id(ctx), { type: 'ATTACH_DOCUMENT', document: body(DocumentBody, ctx).document });
      },
    },
    {
      method: 'POST',
      url: '/applications/:id/pre-project',
      access: ['consultant', 'operator'],
      params: ApplicationIdParams,
      body: PreProjectBody,
      command: true,
      summary: 'Submit a (new version of the) pre-project',
      handler: async (ctx) => {
        await visible(ctx, id(ctx));
        return command(ctx, id(ctx), { type: 'SUBMIT_PRE_PROJECT', preProject: body(PreProjectBody, ctx).preProject });
      },
    },
    {
      method: 'POST',
      url: '/applications/:id/sessions/confirm',
      access: 'code',
      params: ApplicationIdParams,
      body: ConfirmationBody,
      command: true,
      summary: 'The company confirms a session with the single-use code from its e-mail (the code is the credential)',
      handler: async (ctx) => command(ctx, id(ctx), { type: 'CONFIRM_SESSION', ...body(ConfirmationBody, ctx) }),
    },
    {
      method: 'GET',
      url: '/calls/:callId/budget',
      access: ['operator', 'auditor'],
      params: CallParams,
      summary: "A call's budget: committed, available, reserve list",
      handler: async (ctx) => {
        const { callId } = parse(CallParams, ctx.req.params, 'path');
        const overview = await budgetOverview(deps.db, callId);
        if (!overview) throw new UserError('not_found', `call ${callId} has no budget yet (no admission so far)`);
        return overview;
      },
    },
    {
      method: 'GET',
      url: '/users',
      access: ['operator'],
      summary: 'Users and their roles (never their tokens)',
      handler: async () => listUsers(deps.db),
    },
    {
      method: 'POST',
      url: '/users',
      access: ['operator'],
      body: NewUserBody,
      summary: 'Create a user; the answer carries its bearer token, shown this once',
      handler: async (ctx) => {
        const b = body(NewUserBody, ctx);
        if (
          b.body &&
          !(await deps.db.selectFrom('implementing_bodies').select('id').where('id', '=', b.body).executeTakeFirst())
        ) {
          throw new UserError('invalid_input', `body: "${b.body}" is not a registered implementing body`, [
            { path: 'body.body', message: 'unknown implementing body' },
          ]);
        }
        ctx.reply.status(201);
        return createUser(deps.db, { name: b.name, role: b.role, bodyId: b.body ?? null, chair: b.chair });
      },
    },
    {
      method: 'DELETE',
      url: '/users/:userId',
      access: ['operator'],
      params: UserIdParams,
      summary: "Revoke a user's token",
      handler: async (ctx) => {
        const { userId } = parse(UserIdParams, ctx.req.params, 'path');
        if (!(await revokeUser(deps.db, userId))) throw new UserError('not_found', `no active user ${userId}`);
        return { revoked: userId };
      },
    },
  ];

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof UserError) return sendProblem(reply, fromUserError(err));
    const fastifyError = err as { statusCode?: number; code?: string; message: string };
    if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendProblem(reply, problem('payload_too_large', 413, 'body larger than this route accepts'));
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendProblem(reply, problem('unsupported_media_type', 415, 'send application/json'));
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      return sendProblem(
        reply,
        problem('invalid_input', 400, fastifyError.message, [{ path: 'body', message: fastifyError.message }]),
      );
    }
    return sendProblem(reply, fromUserError(toUserError(err)));
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, problem('not_found', 404, `no route ${req.method} ${req.url}`)),
  );

  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      ...(route.bodyLimit ? { bodyLimit: route.bodyLimit } : {}),
      handler: async (req, reply) => {
        // Counted before authentication, so guessing tokens or codes is slowed down too.
        if (!limiter.allow(req.ip))
          throw new UserError('rate_limited', 'too many requests: slow down and retry in a minute');
        const user = await authenticate(req, route.access);
        const meta: CommandMeta = user
          ? { actor: user.id, role: user.role }
          : { actor: 'legal representative', role: 'company' };
        return route.handler({ req, reply, user, meta });
      },
    });
  }

  /** Bearer token → user; 401 when missing or unknown, 403 when the role is not one this route serves. */
  async function authenticate(req: FastifyRequest, access: Access): Promise<PublicUser | null> {
    if (access === 'public' || access === 'code') return null;
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const user = token ? await userByToken(deps.db, token) : undefined;
    if (!user)
      throw new UserError(
        'unauthorized',
        header ? 'the bearer token is not valid (unknown or revoked)' : 'send Authorization: Bearer <token>',
      );
    if (!access.includes(user.role))
      throw new UserError('forbidden', `${req.method} ${req.routeOptions.url} is not for the role ${user.role}`);
    return user;
  }

  return app;
}
