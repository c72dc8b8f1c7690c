import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { userByToken } from '../../db/repositories/users';
import {
  activeUserByEmail,
  createSignInLink,
  createWebSession,
  linksSentSince,
  revokeWebSession,
  signInLinkUsable,
  useSignInLink,
} from '../../db/repositories/web-sessions';
import { enqueue } from '../../notifications/outbox';
import { html } from './html';
import { csrfField, input, notice, words, type FieldErrors } from './layout';
import {
  homeOf,
  pageRequest,
  requireUser,
  safeNext,
  send,
  SESSION_COOKIE,
  SESSION_HOURS,
  type PageRequest,
  type PagesDeps,
} from './context';

const LINK_MINUTES = 30;
/** A person asking for more links than this in a quarter of an hour gets the same answer and no more mail. */
const LINKS_PER_QUARTER = 3;
/** Every answer to the sign-in request takes at least this long: the timing says nothing about the address. */
const ANSWER_FLOOR_MS = 300;

type Form = Record<string, unknown>;
const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

function signInForms(
  p: PageRequest,
  values: { email?: string; next?: string },
  errors: FieldErrors,
  lines: string[] = [],
) {
  const t = words(p.locale);
  const next = values.next ? html`<input type="hidden" name="next" value="${values.next}" />` : '';
  return html`<h1>${t('Accesso', 'Sign in')}</h1>
    <p class="lede">
      ${t(
        'Per i membri della commissione, i consulenti dei soggetti attuatori, gli operatori e i revisori.',
        'For commission members, consultants of the implementing bodies, operators and auditors.',
      )}
    </p>
    ${notice('bad', lines)}
    <div class="card narrow">
      <h2>${t('Ricevi un link di accesso', 'Get a sign-in link')}</h2>
      <form method="post" action="/accedi" novalidate>
        ${csrfField(p.csrf)}${next}
        ${input({
          name: 'email',
          type: 'email',
          label: t('Indirizzo e-mail registrato', 'Registered e-mail address'),
          hint: t(
            'Le invieremo un link valido una sola volta, per 30 minuti.',
            'We will send you a link that works once, for 30 minutes.',
          ),
          value: values.email,
          required: true,
          attrs: { autocomplete: 'email' },
          errors,
        })}
        <div class="actions"><button type="submit">${t('Invia il link', 'Send the link')}</button></div>
      </form>
    </div>
    <div class="card narrow">
      <h2>${t('Oppure accedi con il tuo token', 'Or sign in with your token')}</h2>
      <form method="post" action="/accedi/token" novalidate>
        ${csrfField(p.csrf)}${next}
        ${input({
          name: 'token',
          type: 'password',
          label: t('Token personale', 'Personal token'),
          hint: t(
            'Il token ricevuto dagli operatori (inizia con ism_).',
            'The token the operators gave you (it starts with ism_).',
          ),
          required: true,
          attrs: { autocomplete: 'off' },
          errors,
        })}
        <div class="actions"><button type="submit" class="secondary">${t('Accedi', 'Sign in')}</button></div>
      </form>
    </div>`;
}

export function signInPages(app: FastifyInstance, deps: PagesDeps, strict: { max: number; timeWindow: string }) {
  const { api } = deps;
  const startSession = async (p: PageRequest, userId: string, next: unknown, fallback: string) => {
    const { token } = await createWebSession(api.db, userId, SESSION_HOURS * 3_600_000);
    void p.reply.setCookie(SESSION_COOKIE, token, {
      path: '/',
      httpOnly: true,
      secure: deps.secureCookies,
      sameSite: 'lax',
      maxAge: SESSION_HOURS * 3_600,
    });
    return p.reply.redirect(safeNext(next, fallback), 303);
  };

  app.get('/', async (req, reply) => {
    const user = await deps.sessionUser(req);
    return reply.redirect(user ? homeOf(user) : '/accedi', 303);
  });

  app.get('/accedi', async (req, reply) => {
    const p = await pageRequest(deps, req, reply);
    const next = safeNext((req.query as Form).next, '');
    return send(p, 200, words(p.locale)('Accesso', 'Sign in'), signInForms(p, { next }, {}));
  });

  app.post('/accedi', { config: { rateLimit: strict }, preHandler: app.csrfProtection }, async (req, reply) => {
    const started = Date.now();
    const p = await pageRequest(deps, req, reply);
    const t = words(p.locale);
    const body = (req.body ?? {}) as Form;
    const email = text(body.email);
    const next = safeNext(body.next, '');
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      const errors = {
        email: [
          t('Scriva un indirizzo e-mail come nome@esempio.it.', 'Write an e-mail address such as name@example.org.'),
        ],
      };
      return send(p, 400, t('Accesso', 'Sign in'), signInForms(p, { email, next }, errors));
    }
    const user = await activeUserByEmail(api.db, email);
    if (
      user?.email &&
      (await linksSentSince(api.db, user.id, new Date(Date.now() - 15 * 60_000))) < LINKS_PER_QUARTER
    ) {
      await api.db.transaction().execute(async (trx) => {
        const link = await createSignInLink(trx, user.id, LINK_MINUTES * 60_000);
        const url = `${api.config.publicUrl}/accedi/${link.token}${next ? `?next=${encodeURIComponent(next)}` : ''}`;
        await enqueue(trx, {
          template: 'user.sign-in',
          idempotencyKey: `sign-in:${createHash('sha256').update(link.token).digest('hex')}`,
          applicationId: null,
          recipient: { address: user.email!, locale: p.locale, name: user.name },
          payload: { recipientName: user.name, link: url, expiresAt: link.expiresAt.toISOString() },
        });
      });
    }
    // The same answer, after the same time, whether or not the address has an account.
    await new Promise((r) => setTimeout(r, Math.max(0, ANSWER_FLOOR_MS - (Date.now() - started))));
    return send(
      p,
      200,
      t('Controlli la posta', 'Check your mail'),
      html`<h1>${t('Controlli la posta', 'Check your mail')}</h1>
        <div class="card narrow">
          ${notice('info', [
            t(
              `Se ${email} è l'indirizzo di un account, le abbiamo inviato un link di accesso: vale una sola volta, per ${LINK_MINUTES} minuti.`,
              `If ${email} belongs to an account, we have sent it a sign-in link: it works once, for ${LINK_MINUTES} minutes.`,
            ),
          ])}
          <p>
            ${t('Non è arrivato nulla? Controlli lo spam o', 'Nothing arrived? Check the spam folder or')}
            <a href="/accedi">${t('riprovi', 'try again')}</a>.
          </p>
        </div>`,
    );
  });

  app.post('/accedi/token', { config: { rateLimit: strict }, preHandler: app.csrfProtection }, async (req, reply) => {
    const p = await pageRequest(deps, req, reply);
    const t = words(p.locale);
    const body = (req.body ?? {}) as Form;
    const token = text(body.token);
    const user = token ? await userByToken(api.db, token) : undefined;
    if (!user) {
      const errors = {
        token: [
          token
            ? t('Token non valido (sconosciuto o revocato).', 'This token is not valid (unknown or revoked).')
            : t('Incolli il suo token.', 'Paste your token.'),
        ],
      };
      return send(
        p,
        token ? 401 : 400,
        t('Accesso', 'Sign in'),
        signInForms(p, { next: safeNext(body.next, '') }, errors),
      );
    }
    return startSession(p, user.id, body.next, homeOf(user));
  });

  // A mail scanner opening the link only sees this page: the session starts with the button's POST.
  app.get<{ Params: { token: string } }>('/accedi/:token', { config: { rateLimit: strict } }, async (req, reply) => {
    const p = await pageRequest(deps, req, reply);
    const t = words(p.locale);
    const usable = req.params.token.length <= 100 && (await signInLinkUsable(api.db, req.params.token));
    if (!usable) return send(p, 410, t('Link non valido', 'Link not valid'), expiredLink(p));
    const next = safeNext((req.query as Form).next, '');
    return send(
      p,
      200,
      t('Accesso', 'Sign in'),
      html`<h1>${t('Accesso a InnoSocialMetro', 'Sign in to InnoSocialMetro')}</h1>
        <div class="card narrow">
          <p>
            ${t('Prema il pulsante per entrare. Il link vale una sola volta.', 'Press the button to sign in. The link works once.')}
          </p>
          <form method="post" action="/accedi/${req.params.token}">
            ${csrfField(p.csrf)}${next ? html`<input type="hidden" name="next" value="${next}" />` : ''}
            <div class="actions"><button type="submit" class="big">${t('Accedi', 'Sign in')}</button></div>
          </form>
        </div>`,
    );
  });

  app.post<{ Params: { token: string } }>(
    '/accedi/:token',
    { config: { rateLimit: strict }, preHandler: app.csrfProtection },
    async (req, reply) => {
      const p = await pageRequest(deps, req, reply);
      const user = req.params.token.length <= 100 ? await useSignInLink(api.db, req.params.token) : undefined;
      if (!user) return send(p, 410, words(p.locale)('Link non valido', 'Link not valid'), expiredLink(p));
      return startSession(p, user.id, (req.body as Form | undefined)?.next, homeOf(user));
    },
  );

  app.post('/esci', { preHandler: app.csrfProtection }, async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token) await revokeWebSession(api.db, token);
    void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, secure: deps.secureCookies, sameSite: 'lax' });
    return reply.redirect('/accedi', 303);
  });

  // Operators and auditors work from the CLI and the Temporal UI: their page says how the session serves them.
  app.get('/area', async (req, reply) => {
    const p = await requireUser(deps, req, reply, ['operator', 'auditor']);
    if (!p) return reply;
    const t = words(p.locale);
    return send(
      p,
      200,
      t('La sua area', 'Your area'),
      html`<h1>${t('Buongiorno', 'Hello')} ${p.user!.name}</h1>
        <div class="card">
          <p>
            ${t(
              'Con questo accesso la Temporal UI mostra i dati decifrati delle domande (endpoint codec).',
              'While you are signed in, the Temporal UI shows the applications’ decoded data (codec endpoint).',
            )}
          </p>
          <ul>
            ${
              p.user!.role === 'operator'
                ? html`<li>
                    <a href="/consulente"
                      >${t(
                        'Domande e progetti finanziati: relazioni finali e verifica',
                        'Applications and funded projects: final reports and verification',
                      )}</a
                    >
                  </li>`
                : ''
            }
            <li>
              <a href="/impatto"
                >${t('Impatto del programma: progetti, indicatori, risorse', "The programme's impact")}</a
              >
            </li>
            <li><a href="/docs">${t('Riferimento interattivo della API', 'Interactive API reference')}</a></li>
            <li>
              ${t('Le operazioni si fanno con la CLI:', 'Operations go through the CLI:')}
              <code>npx innosocial --help</code>
            </li>
          </ul>
        </div>`,
    );
  });
}

function expiredLink(p: PageRequest) {
  const t = words(p.locale);
  return html`<h1>${t('Link non più valido', 'Link no longer valid')}</h1>
    <div class="card narrow">
      ${notice('bad', [
        t(
          'Questo link di accesso è già stato usato oppure è scaduto.',
          'This sign-in link has already been used or has expired.',
        ),
      ])}
      <p><a href="/accedi">${t('Chieda un nuovo link', 'Ask for a new link')}</a></p>
    </div>`;
}
