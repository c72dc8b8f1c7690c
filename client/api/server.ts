import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { pinnedRules } from '../../config/calls';
import { territoryLoader } from '../../config/comuni';
import type { Config } from '../../config/env';
import type { Db } from '../../db/connect';
import type { PublicUser } from '../../db/repositories/users';
import { userBySession } from '../../db/repositories/web-sessions';
import type { KeyRing } from '../../security/keyring';
import { sessionLinks } from '../../security/links';
import { UserError } from '../errors';
import { ApplicationService } from '../service/applications';
import { toUserError } from '../service/temporal-errors';
import { REDACT } from '../../observability/logger';
import { apiMetrics, mayScrape } from '../../observability/metrics';
import type { Tracing } from '../../observability/tracing';
import { SESSION_COOKIE } from '../pages/context';
import { pagesPlugin } from '../pages/plugin';
import { docsPlugin } from './docs';
import { authenticate } from './auth';
import { parse } from './parse';
import { idempotencyKey } from './commands';
import { fromUserError, problem, sendProblem } from './problem';
import { accompanimentRoutes } from './routes/accompaniment';
import { applicationRoutes } from './routes/applications';
import { commissionRoutes } from './routes/commission';
import { documentRoutes } from './routes/documents';
import { mailRoutes } from './routes/mail';
import { moneyRoutes } from './routes/money';
import { peopleRoutes } from './routes/people';
import { projectRoutes } from './routes/projects';
import { systemRoutes } from './routes/system';
import type { ApiContext, Route } from './routes';

export interface ApiDeps {
  config: Config;
  client: Client;
  db: Db;
  ring: KeyRing;
  /** Requests per minute per client address, and for the routes that take a code or link; tests lower them. */
  rateLimit?: { perMinute: number; strictPerMinute: number };
  /** The pages' session cookie, once the pages exist: who is signed in. */
  sessionUser?: (req: FastifyRequest) => Promise<PublicUser | undefined>;
  /** OpenTelemetry, when the environment asks for it (observability/tracing.ts). */
  tracing?: Tracing | null;
  now?: () => Date;
}

const BODY_LIMIT = 64 * 1024;

/** Every route of the API: one table, which the OpenAPI document, the docs page and the access tests read. */
export function routeTable(): Route[] {
  const routes: Route[] = [];
  routes.push(
    ...systemRoutes(() => routes),
    ...peopleRoutes,
    ...applicationRoutes,
    ...accompanimentRoutes,
    ...documentRoutes,
    ...commissionRoutes,
    ...moneyRoutes,
    ...projectRoutes,
    ...mailRoutes,
  );
  return routes;
}

/** A route that takes no body refuses one: whoever sends fields expects them to count, and they would not. */
function noBody(body: unknown): undefined {
  const empty =
    body === undefined ||
    body === null ||
    (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
  if (!empty) throw new UserError('invalid_input', 'body: this route takes none', [{ path: 'body', message: 'none' }]);
  return undefined;
}

export function buildApi(deps: ApiDeps): FastifyInstance {
  const { config } = deps;
  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: REDACT, censor: '[redacted]' },
      // A company's link carries its token in the path: logged as /s/<redacted>.
      serializers: {
        req: (req) => ({ method: req.method, url: req.url.replace(/\/s\/[^/?]+/, '/s/<redacted>'), ip: req.ip }),
      },
    },
    bodyLimit: BODY_LIMIT,
    // A hop count trusts that many proxies in front: the client address is the one they forwarded.
    trustProxy:
      typeof config.TRUST_PROXY === 'number'
        ? (_address: string, hop: number) => hop < (config.TRUST_PROXY as number)
        : config.TRUST_PROXY,
    // Slow clients cannot hold connections for ever.
    connectionTimeout: 60_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
    // Long path segments reach our own validation (a 400 naming the field) instead of the router's bare 414.
    routerOptions: { maxParamLength: 1_000 },
    // Errors the framework raises before a route runs (a malformed URL) are problems like any other.
    frameworkErrors: (err, _req, reply) => {
      void sendProblem(reply, problem('invalid_input', err.message, [{ path: 'url', message: err.message }]));
    },
  });
  const api: ApiContext = {
    config,
    db: deps.db,
    client: deps.client,
    ring: deps.ring,
    links: sessionLinks(config.ID_SECRET),
    rules: pinnedRules(config.CALLS_DIR),
    service: new ApplicationService({
      config,
      client: deps.client,
      db: deps.db,
      territory: territoryLoader(config.projectRoot),
      ...(deps.now ? { now: deps.now } : {}),
    }),
  };
  const limits = deps.rateLimit ?? { perMinute: 600, strictPerMinute: 20 };
  const routes = routeTable();
  const secureCookies = config.APP_ENV === 'production';
  // The pages' session also authenticates the JSON API, for reading only (downloads from the pages, /me) and for
  // the Temporal UI's codec calls: a cookie never sends commands, so no other site can make a browser send one.
  const cookieUser = deps.sessionUser ?? ((req: FastifyRequest) => userBySession(deps.db, req.cookies[SESSION_COOKIE]));
  const sessionUser = async (req: FastifyRequest) =>
    // The route, not the URL: the UI asks for /codec/decode?preserveStorageRefs=true.
    req.method === 'GET' || req.method === 'HEAD' || req.routeOptions.url === '/codec/decode'
      ? cookieUser(req)
      : undefined;

  void app.register(cookie);
  // Security headers on every answer; the pages' policy: nothing inline, nothing from elsewhere.
  void app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        ...(secureCookies ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: secureCookies ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });

  void app.register(rateLimit, {
    global: true,
    max: limits.perMinute,
    timeWindow: '1 minute',
    allowList: (req) => req.url === '/healthz' || req.url === '/metrics',
    errorResponseBuilder: (_req, context) => {
      const p = problem('rate_limited', `too many requests: slow down and retry in ${Math.ceil(context.ttl / 1000)} s`);
      return Object.assign(new UserError('rate_limited', p.detail), { statusCode: 429 });
    },
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof UserError) return sendProblem(reply, fromUserError(err));
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendProblem(reply, problem('payload_too_large', 'body larger than this route accepts'));
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendProblem(reply, problem('unsupported_media_type', 'send application/json'));
    if (e.statusCode && e.statusCode < 500) {
      return sendProblem(reply, problem('invalid_input', e.message, [{ path: 'body', message: e.message }]));
    }
    const mapped = toUserError(err);
    if (mapped.code === 'internal') req.log.error({ err }, 'internal error');
    return sendProblem(reply, fromUserError(mapped));
  });
  const metrics = apiMetrics(deps.db);
  app.addHook('onResponse', async (req, reply) => {
    metrics.observe(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (req, reply) => {
    if (!mayScrape(config, req)) {
      return sendProblem(reply, problem('unauthorized', 'metrics need the scraper token (METRICS_TOKEN)'));
    }
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problem('not_found', `no route ${req.method} ${req.url}`)));

  const codecCors = (origin: string | undefined) =>
    config.TEMPORAL_UI_ORIGIN && origin === config.TEMPORAL_UI_ORIGIN
      ? {
          'access-control-allow-origin': origin,
          'access-control-allow-credentials': 'true',
          'access-control-allow-headers': 'Content-Type, X-Namespace, Authorization, Authorization-Extras',
          'access-control-allow-methods': 'POST',
          vary: 'Origin',
        }
      : null;

  void app.register(async (scope) => {
    for (const r of routes) {
      scope.route({
        method: r.method,
        url: r.url,
        ...(r.bodyLimit ? { bodyLimit: r.bodyLimit } : {}),
        ...(r.strictRateLimit
          ? { config: { rateLimit: { max: limits.strictPerMinute, timeWindow: '1 minute' } } }
          : {}),
        handler: async (req, reply) => {
          if (r.url === '/codec/decode') reply.headers(codecCors(req.headers.origin) ?? {});
          const user = await authenticate(deps.db, req, r.access, sessionUser);
          const meta = user ? { actor: user.id, role: user.role } : { actor: 'company', role: 'company' as const };
          // Checked before the handler stores anything (an upload, a consultant): a refused request leaves nothing.
          if (r.command) idempotencyKey(req);
          const call = () =>
            r.handler({
              params: parse(r.params, req.params, 'path'),
              query: parse(r.query, req.query, 'query'),
              body: r.body ? parse(r.body, req.body ?? {}, 'body') : noBody(req.body),
              user,
              meta,
              req,
              reply,
              api,
            });
          return deps.tracing ? deps.tracing.request(`${r.method} ${r.url}`, call) : call();
        },
      });
    }
    // The Temporal UI asks before it posts with credentials: answered for its origin only.
    scope.options('/codec/decode', async (req, reply) => {
      const headers = codecCors(req.headers.origin);
      if (!headers) return reply.status(403).send();
      return reply.headers(headers).status(204).send();
    });
  });

  // The interactive reference over /openapi.json, its assets served from the package (no CDN).
  void app.register(docsPlugin);

  void app.register(pagesPlugin, {
    deps: { api, routes, sessionUser: cookieUser, secureCookies },
    strict: { max: limits.strictPerMinute, timeWindow: '1 minute' },
  });
  return app;
}
