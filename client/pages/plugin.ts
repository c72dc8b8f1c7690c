import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UserError } from '../errors';
import { toUserError } from '../service/temporal-errors';
import { commissionPages } from './commission';
import { companyPages } from './company';
import { consultantPages } from './consultant';
import { pageRequest, send, statusOf, type PagesDeps } from './context';
import { html } from './html';
import { impactPages } from './impact';
import { notice, words } from './layout';
import { explain } from './refusals';
import { signInPages } from './sign-in';
import { STYLESHEET } from './style';

/** The CSRF token of a form: a urlencoded field, or a multipart one (which arrives as { value }). */
function csrfTokenOf(req: FastifyRequest): string | undefined {
  const field = (req.body as Record<string, unknown> | undefined)?._csrf;
  if (typeof field === 'string') return field;
  if (field && typeof field === 'object' && typeof (field as { value?: unknown }).value === 'string') {
    return (field as { value: string }).value;
  }
  return undefined;
}

/**
 * The server-rendered pages, in their own scope: form and multipart bodies and CSRF checks apply to them only,
 * never to the JSON API. Every POST carries a CSRF token (double submit: a cookie-held secret and the form's field).
 */
export async function pagesPlugin(
  app: FastifyInstance,
  opts: { deps: PagesDeps; strict: { max: number; timeWindow: string } },
) {
  const { deps, strict } = opts;
  await app.register(formbody, { bodyLimit: 256 * 1024 });
  await app.register(multipart, {
    attachFieldsToBody: true,
    // One byte over the limit is enough for the upload route's own check to refuse it with its message.
    throwFileSizeLimit: false,
    limits: { files: 1, fields: 10, fileSize: deps.api.config.DOCUMENT_MAX_BYTES + 1 },
  });
  await app.register(csrf, {
    cookieKey: 'ism_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: deps.secureCookies },
    getToken: csrfTokenOf,
  });

  app.setErrorHandler(async (err, req, reply) => {
    const e = err as { code?: string; statusCode?: number };
    const p = await pageRequest(deps, req, reply).catch(() => null);
    if (!p) return reply.status(500).type('text/plain').send('internal error');
    const t = words(p.locale);
    if (e.code === 'FST_CSRF_INVALID_TOKEN' || e.code === 'FST_CSRF_MISSING_SECRET') {
      return send(
        p,
        403,
        t('Modulo scaduto', 'Form expired'),
        html`<h1>${t('Il modulo non è più valido', 'The form is no longer valid')}</h1>
          ${notice('bad', [
            t(
              'Per sicurezza il modulo inviato non è stato accettato (è scaduto o non viene da questa pagina). Nulla è stato registrato: torni indietro, ricarichi la pagina e riprovi.',
              'For safety the form was not accepted (it expired or did not come from this page). Nothing was recorded: go back, reload the page and try again.',
            ),
          ])}`,
      );
    }
    const user =
      err instanceof UserError
        ? err
        : e.statusCode && e.statusCode < 500
          ? new UserError('invalid_input', String((err as Error).message))
          : toUserError(err);
    if (user.code === 'internal') req.log.error({ err }, 'page failed');
    const explained = explain(user, p.locale);
    return send(
      p,
      e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 413 : e.statusCode === 429 ? 429 : statusOf(user),
      t('Non è possibile', 'Not possible'),
      html`<h1>${t('Non è possibile', 'Not possible')}</h1>
        ${notice('bad', [...explained.general, ...Object.values(explained.fields).flat()])}
        <p><a href="/">${t('Torna alla pagina iniziale', 'Back to the start page')}</a></p>`,
    );
  });

  app.get('/pages/style.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );
  signInPages(app, deps, strict);
  companyPages(app, deps, strict);
  commissionPages(app, deps);
  consultantPages(app, deps);
  impactPages(app, deps);
}
