import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PublicUser } from '../../db/repositories/users';
import type { Locale } from '../../domain/format';
import { ERRORS, UserError } from '../errors';
import { parse } from '../api/parse';
import type { ApiContext, Route } from '../api/routes';
import { html, type Part } from './html';
import { localeOf, notice, page, words } from './layout';

/** The pages' sign-in session cookie (also read by the JSON API for downloads and the Temporal UI's codec calls). */
export const SESSION_COOKIE = 'ism_session';
export const SESSION_HOURS = 12;

export interface PagesDeps {
  api: ApiContext;
  /** The JSON API's route table: the pages run its handlers, so both doors take the same path to the machine. */
  routes: readonly Route[];
  sessionUser: (req: FastifyRequest) => Promise<PublicUser | undefined>;
  /** Cookies are Secure outside development and test. */
  secureCookies: boolean;
}

/**
 * Runs one of the JSON API's routes for a page: the same schemas, the same checks (who may act on which
 * application), the same command sent through the same service. The page only turns a form into the route's body
 * and the route's refusals into sentences.
 */
export async function runRoute<T = unknown>(
  deps: PagesDeps,
  method: Route['method'],
  url: string,
  call: {
    user: PublicUser | null;
    req: FastifyRequest;
    reply: FastifyReply;
    params?: unknown;
    query?: unknown;
    body?: unknown;
  },
): Promise<T> {
  const route = deps.routes.find((r) => r.method === method && r.url === url);
  if (!route) throw new Error(`no API route ${method} ${url}`);
  const { user } = call;
  if (Array.isArray(route.access) && (!user || !route.access.includes(user.role))) {
    throw new UserError('forbidden', `${method} ${url} is not for the role ${user?.role ?? 'anonymous'}`);
  }
  const meta = user ? { actor: user.id, role: user.role } : { actor: 'company', role: 'company' as const };
  return (await route.handler({
    params: parse(route.params, call.params ?? {}, 'path'),
    query: parse(route.query, call.query ?? {}, 'query'),
    body: parse(route.body, call.body ?? {}, 'body'),
    user,
    meta,
    req: call.req,
    reply: call.reply,
    api: deps.api,
  })) as T;
}

/** The status a page answers a refusal with: the API's own (400, 403, 409...), never a 500 for a person's mistake. */
export const statusOf = (err: UserError) => ERRORS[err.code].status;

/** A relative path on this site only: `next` never sends anyone elsewhere. */
export const safeNext = (next: unknown, fallback: string) =>
  typeof next === 'string' && /^\/(?![/\\])[\w\-/.?=&%]*$/.test(next) ? next : fallback;

/** Where each role lands after signing in. */
export const homeOf = (user: PublicUser) =>
  user.role === 'commission' ? '/commissione' : user.role === 'consultant' ? '/consulente' : '/area';

export interface PageRequest {
  req: FastifyRequest;
  reply: FastifyReply;
  user: PublicUser | null;
  locale: Locale;
  csrf: string;
}

/** What every page handler starts with: who is signed in, the language, a CSRF token for its forms. */
export async function pageRequest(
  deps: PagesDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  fallbackLocale?: Locale,
): Promise<PageRequest> {
  const user = (await deps.sessionUser(req)) ?? null;
  return { req, reply, user, locale: localeOf(req, reply, fallbackLocale), csrf: reply.generateCsrf() };
}

/** Sends a page with a status. */
export function send(p: PageRequest, status: number, title: string, body: Part) {
  return p.reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page({ locale: p.locale, title, user: p.user, csrf: p.csrf, path: p.req.url, body }).value);
}

/**
 * The signed-in person for a workspace, or a redirect to the sign-in page (then null); a person of another role
 * gets a 403 page saying so.
 */
export async function requireUser(
  deps: PagesDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  roles: readonly PublicUser['role'][],
): Promise<PageRequest | null> {
  const p = await pageRequest(deps, req, reply);
  if (!p.user) {
    await reply.redirect(`/accedi?next=${encodeURIComponent(req.url)}`, 303);
    return null;
  }
  if (!roles.includes(p.user.role)) {
    const t = words(p.locale);
    await send(
      p,
      403,
      t('Pagina non disponibile', 'Page not available'),
      html`<h1>${t('Pagina non disponibile', 'Page not available')}</h1>
        ${notice('bad', [t('Questa pagina non è per il suo ruolo.', 'This page is not for your role.')])}
        <p><a href="${homeOf(p.user)}">${t('Torna alla sua pagina', 'Back to your page')}</a></p>`,
    );
    return null;
  }
  return p;
}
