import type { FastifyInstance } from 'fastify';
import { formatDateTime, formatDay, isLocale, type Locale } from '../../domain/format';
import { UserError } from '../errors';
import { answerSession } from '../api/routes/accompaniment';
import { html, type Html } from './html';
import { addError, csrfField, input, notice, words, type FieldErrors } from './layout';
import { pageRequest, runRoute, send, statusOf, type PageRequest, type PagesDeps } from './context';
import { explain } from './refusals';

/*
 * The company's door. Its personal link (/s/<token>) only shows the session: mail scanners open links, so the
 * answer is the button's POST, which uses the token up. The code from the same e-mail still works at /conferma,
 * for whoever reads the mail on another device. Whatever is refused gets the code route's one generic answer.
 */

type Form = Record<string, unknown>;
const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** The code route's generic answer, in words: forged, unknown, wrong, locked all read the same. */
export function genericRefusal(locale: Locale): string {
  return words(locale)(
    'Il codice o il link non è valido per questa sessione (errato, scaduto o già usato).',
    'The code or link is not valid for this session (wrong, expired or already used).',
  );
}

async function sessionOfLink(deps: PagesDeps, token: string) {
  const claims = token.length <= 400 ? deps.api.links.verify(token) : null;
  if (!claims) return null;
  const row = await deps.api.db
    .selectFrom('accompaniment_sessions')
    .innerJoin('applications', 'applications.id', 'accompaniment_sessions.application_id')
    .leftJoin('consultants', 'consultants.id', 'accompaniment_sessions.consultant_id')
    .leftJoin('implementing_bodies', 'implementing_bodies.id', 'consultants.body_id')
    .select([
      'accompaniment_sessions.id',
      'accompaniment_sessions.session_date',
      'accompaniment_sessions.starts_at',
      'accompaniment_sessions.ends_at',
      'accompaniment_sessions.topic',
      'accompaniment_sessions.confirmed_at',
      'accompaniment_sessions.disputed_at',
      'accompaniment_sessions.code_issue',
      'applications.id as application_id',
      'applications.legal_name',
      'applications.form',
      'consultants.name as consultant_name',
      'implementing_bodies.name as body_name',
    ])
    .where('accompaniment_sessions.id', '=', claims.sessionId)
    .where('accompaniment_sessions.application_id', '=', claims.applicationId)
    .executeTakeFirst();
  if (!row) return null;
  const form = (typeof row.form === 'string' ? JSON.parse(row.form) : row.form) as {
    company?: { legalRepresentative?: { locale?: unknown; name?: string } };
  };
  const locale = form.company?.legalRepresentative?.locale;
  return {
    claims,
    row,
    locale: isLocale(locale) ? locale : ('it' as Locale),
    representative: form.company?.legalRepresentative?.name ?? null,
  };
}

type LinkSession = NonNullable<Awaited<ReturnType<typeof sessionOfLink>>>;

/** Why a genuine link cannot be used any more, or null when it can. */
function linkState(s: LinkSession): 'confirmed' | 'disputed' | 'expired' | null {
  if (s.row.confirmed_at) return 'confirmed';
  if (s.row.disputed_at) return 'disputed';
  if (s.claims.expiresAt.getTime() < Date.now() || s.claims.issue !== s.row.code_issue) return 'expired';
  return null;
}

function sessionFacts(p: PageRequest, s: LinkSession): Html {
  const t = words(p.locale);
  const r = s.row;
  return html`<dl class="facts">
    <dt>${t('Impresa', 'Company')}</dt>
    <dd>${r.legal_name}</dd>
    <dt>${t('Data', 'Date')}</dt>
    <dd>${formatDay(r.session_date, p.locale)}</dd>
    <dt>${t('Orario', 'Time')}</dt>
    <dd>${r.starts_at.slice(0, 5)}–${r.ends_at.slice(0, 5)}</dd>
    <dt>${t('Argomento', 'Topic')}</dt>
    <dd>${r.topic}</dd>
    <dt>${t('Consulente', 'Consultant')}</dt>
    <dd>${r.consultant_name ?? t('il consulente', 'the consultant')}</dd>
    <dt>${t('Soggetto attuatore', 'Implementing body')}</dt>
    <dd>${r.body_name ?? '—'}</dd>
    <dt>${t('Domanda', 'Application')}</dt>
    <dd>${r.application_id}</dd>
  </dl>`;
}

function genericPage(p: PageRequest) {
  const t = words(p.locale);
  return send(
    p,
    400,
    t('Link non valido', 'Link not valid'),
    html`<h1>${t('Conferma della sessione', 'Session confirmation')}</h1>
      <div class="card narrow">
        ${notice('bad', [genericRefusal(p.locale)])}
        <p>
          ${t(
            'Se ha ricevuto un codice di sei cifre, può usarlo nella',
            'If you received a six-digit code, you can use it on the',
          )} <a href="/conferma">${t('pagina di conferma con il codice', 'code confirmation page')}</a>.
        </p>
      </div>`,
  );
}

function usedPage(p: PageRequest, s: LinkSession, state: 'confirmed' | 'disputed' | 'expired', justNow = false) {
  const t = words(p.locale);
  const when = (d: Date | null) => (d ? formatDateTime(d, p.locale) : '');
  const message =
    state === 'confirmed'
      ? justNow
        ? t(
            'Grazie: la sessione è confermata e conta per le ore del percorso.',
            'Thank you: the session is confirmed and counts towards the accompaniment hours.',
          )
        : t(
            `Questa sessione è già stata confermata (${when(s.row.confirmed_at)}): il link non serve più.`,
            `This session was already confirmed (${when(s.row.confirmed_at)}): the link is no longer needed.`,
          )
      : state === 'disputed'
        ? justNow
          ? t(
              'Abbiamo registrato che la sessione non si è svolta: non conta per le ore, e il consulente e gli operatori sono stati avvisati.',
              'We recorded that the session did not take place: it does not count, and the consultant and the operators have been told.',
            )
          : t(
              `Per questa sessione ha già segnalato che non si è svolta (${when(s.row.disputed_at)}): il link non serve più.`,
              `You already reported that this session did not take place (${when(s.row.disputed_at)}): the link is no longer needed.`,
            )
        : t(
            'Questo link è scaduto o è stato sostituito da un codice più recente. Se la sessione va ancora confermata, chieda al consulente di inviarle un nuovo codice.',
            'This link has expired or was replaced by a newer code. If the session still needs confirming, ask the consultant to send you a new code.',
          );
  return send(
    p,
    justNow ? 200 : 410,
    t('Conferma della sessione', 'Session confirmation'),
    html`<h1>${t('Conferma della sessione', 'Session confirmation')}</h1>
      <div class="card narrow">
        ${notice(justNow ? 'ok' : state === 'expired' ? 'bad' : 'info', [message])}${sessionFacts(p, s)}
      </div>`,
  );
}

function answerPage(p: PageRequest, s: LinkSession, token: string) {
  const t = words(p.locale);
  const greeting = s.representative ? t(`Gentile ${s.representative},`, `Dear ${s.representative},`) : '';
  return send(
    p,
    200,
    t('Conferma della sessione', 'Session confirmation'),
    html`<h1>${t('Conferma della sessione di accompagnamento', 'Confirm the accompaniment session')}</h1>
      <p class="lede">
        ${greeting}
        ${t(
          'il consulente ha registrato questa sessione. Ci dica se si è svolta: solo le sessioni confermate contano per le ore del percorso.',
          'the consultant logged this session. Tell us whether it took place: only confirmed sessions count towards the accompaniment hours.',
        )}
      </p>
      <div class="card narrow">
        ${sessionFacts(p, s)}
        <form method="post" action="/s/${token}">
          ${csrfField(p.csrf)}
          <div class="actions">
            <button type="submit" name="answer" value="confirm" class="big">${t('Conferma', 'Confirm')}</button>
            <button type="submit" name="answer" value="dispute" class="big danger">
              ${t('Non si è svolta', 'It did not take place')}
            </button>
          </div>
        </form>
      </div>`,
  );
}

function codeForm(p: PageRequest, values: Form, errors: FieldErrors, general: string[] = []) {
  const t = words(p.locale);
  const v = (k: string) => text(values[k]);
  return html`<h1>${t('Conferma con il codice', 'Confirm with the code')}</h1>
    <p class="lede">
      ${t(
        "Per chi legge l'e-mail su un altro dispositivo: i dati sono nell'e-mail di conferma della sessione.",
        'For whoever reads the e-mail on another device: the details are in the session confirmation e-mail.',
      )}
    </p>
    ${notice('bad', general)}
    <div class="card narrow">
      <form method="post" action="/conferma" novalidate>
        ${csrfField(p.csrf)}
        ${input({ name: 'application', label: t('Numero della domanda', 'Application number'), hint: t('Come nell’e-mail, per esempio innosocialmetro-2023.0123456789abcdef0123', 'As in the e-mail, e.g. innosocialmetro-2023.0123456789abcdef0123'), value: v('application'), required: true, errors })}
        ${input({ name: 'date', type: 'date', label: t('Data della sessione', 'Session date'), value: v('date'), required: true, errors })}
        ${input({ name: 'start', type: 'time', label: t('Ora di inizio', 'Start time'), value: v('start'), required: true, errors })}
        ${input({ name: 'code', label: t('Codice di conferma (6 cifre)', 'Confirmation code (6 digits)'), value: v('code'), required: true, attrs: { inputmode: 'numeric', autocomplete: 'one-time-code' }, errors })}
        <div class="actions">
          <button type="submit" name="answer" value="confirm">
            ${t('Conferma la sessione', 'Confirm the session')}
          </button>
          <button type="submit" name="answer" value="dispute" class="danger">
            ${t('La sessione non si è svolta', 'The session did not take place')}
          </button>
        </div>
      </form>
    </div>`;
}

export function companyPages(app: FastifyInstance, deps: PagesDeps, strict: { max: number; timeWindow: string }) {
  app.get<{ Params: { token: string } }>('/s/:token', { config: { rateLimit: strict } }, async (req, reply) => {
    const s = await sessionOfLink(deps, req.params.token);
    const p = await pageRequest(deps, req, reply, s?.locale);
    if (!s) return genericPage(p);
    const state = linkState(s);
    return state ? usedPage(p, s, state) : answerPage(p, s, req.params.token);
  });

  app.post<{ Params: { token: string } }>(
    '/s/:token',
    { config: { rateLimit: strict }, preHandler: app.csrfProtection },
    async (req, reply) => {
      const s = await sessionOfLink(deps, req.params.token);
      const p = await pageRequest(deps, req, reply, s?.locale);
      if (!s) return genericPage(p);
      const state = linkState(s);
      if (state) return usedPage(p, s, state);
      const answer = text((req.body as Form | undefined)?.answer);
      if (answer !== 'confirm' && answer !== 'dispute') return answerPage(p, s, req.params.token);
      const type = answer === 'confirm' ? 'CONFIRM_SESSION' : 'DISPUTE_SESSION';
      try {
        await answerSession(deps.api, req.log, s.row.application_id, type, {
          date: s.row.session_date,
          start: s.row.starts_at.slice(0, 5),
          link: req.params.token,
        });
      } catch (err) {
        if (err instanceof UserError && err.code === 'invalid_input') return genericPage(p);
        throw err;
      }
      return usedPage(p, s, answer === 'confirm' ? 'confirmed' : 'disputed', true);
    },
  );

  app.get('/conferma', async (req, reply) => {
    const p = await pageRequest(deps, req, reply);
    return send(p, 200, words(p.locale)('Conferma con il codice', 'Confirm with the code'), codeForm(p, {}, {}));
  });

  app.post('/conferma', { config: { rateLimit: strict }, preHandler: app.csrfProtection }, async (req, reply) => {
    const p = await pageRequest(deps, req, reply);
    const t = words(p.locale);
    const body = (req.body ?? {}) as Form;
    const errors: FieldErrors = {};
    const [application, date, start, code] = ['application', 'date', 'start', 'code'].map((k) => text(body[k]));
    if (!/^[a-z0-9-]+\.[0-9a-f]{20}$/.test(application!))
      addError(
        errors,
        'application',
        t('Copi il numero della domanda dall’e-mail.', 'Copy the application number from the e-mail.'),
      );
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date!) || Number.isNaN(Date.parse(date!)))
      addError(errors, 'date', t('Indichi una data valida.', 'Give a valid date.'));
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(start!))
      addError(errors, 'start', t('Indichi un orario come 09:30.', 'Give a time such as 09:30.'));
    if (!/^\d{6}$/.test(code!)) addError(errors, 'code', t('Il codice ha sei cifre.', 'The code has six digits.'));
    const title = t('Conferma con il codice', 'Confirm with the code');
    if (Object.keys(errors).length) return send(p, 400, title, codeForm(p, body, errors));
    const url = body.answer === 'dispute' ? '/applications/:id/sessions/dispute' : '/applications/:id/sessions/confirm';
    try {
      await runRoute(deps, 'POST', url, {
        user: null,
        req,
        reply,
        params: { id: application },
        body: { date, start, code },
      });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      const general = err.code === 'invalid_input' ? [genericRefusal(p.locale)] : explain(err, p.locale).general;
      return send(p, statusOf(err), title, codeForm(p, body, {}, general));
    }
    return send(
      p,
      200,
      title,
      html`<h1>${title}</h1>
        <div class="card narrow">
          ${notice('ok', [
            body.answer === 'dispute'
              ? t(
                  'Abbiamo registrato che la sessione non si è svolta; il consulente e gli operatori sono stati avvisati.',
                  'We recorded that the session did not take place; the consultant and the operators have been told.',
                )
              : t(
                  'Grazie: la sessione è confermata e conta per le ore del percorso.',
                  'Thank you: the session is confirmed and counts towards the accompaniment hours.',
                ),
          ])}
        </div>`,
    );
  });
}
