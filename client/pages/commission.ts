import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatDateTime, formatEuro } from '../../domain/format';
import { machineRules } from '../../domain/machine-rules';
import type { PreProject } from '../../domain/pre-project';
import { tally, type Evaluation } from '../../machines/commission';
import { UserError } from '../errors';
import type { ApplicationSummary, ApplicationView } from '../service/register';
import { seesOthersEvaluations } from '../api/visibility';
import { html, type Html } from './html';
import { addError, choices, csrfField, input, notice, textarea, words, type FieldErrors } from './layout';
import { requireUser, runRoute, send, statusOf, type PageRequest, type PagesDeps } from './context';
import { DOCUMENT_LABELS, label, RECOMMENDATION_LABELS, SIZE_LABELS, THEME_LABELS } from './labels';
import { preProjectDiff, preProjectView } from './pre-project-view';
import { explain, STATE_NAMES } from './refusals';

type Form = Record<string, unknown>;
const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
const RECOMMENDATIONS = ['approve', 'reject', 'request_integration'] as const;

interface Attempt {
  form: 'conflict' | 'evaluation' | 'decision';
  values: Form;
  errors: FieldErrors;
  general: string[];
}

const FLASH = {
  conflict: ['Dichiarazione registrata.', 'Declaration recorded.'],
  evaluation: ['Valutazione registrata.', 'Evaluation recorded.'],
  decision: ['Decisione registrata.', 'Decision recorded.'],
} as const;

interface Version {
  version: number;
  content: PreProject;
  forwardedAt: string | null;
}

async function applicationPage(deps: PagesDeps, p: PageRequest, id: string, attempt?: Attempt, status = 200) {
  const t = words(p.locale);
  const call = { user: p.user, req: p.req, reply: p.reply, params: { id } };
  const view = await runRoute<ApplicationView>(deps, 'GET', '/applications/:id', call);
  const versions = await runRoute<Version[]>(deps, 'GET', '/applications/:id/pre-projects', call);
  const rules = deps.api.rules(view.callId, view.rulesVersion);
  const mRules = machineRules(rules);
  const facts = view.facts!;
  const me = p.user!;
  const declared = facts.conflicts[me.id];
  const evaluatedNow = facts.evaluations.some((e) => e.member === me.id && e.version === facts.forwardedVersion);
  const inCommission = view.state === 'commission';
  const flashKey = (p.req.query as Form).ok as keyof typeof FLASH | undefined;
  const flash = flashKey && FLASH[flashKey] ? t(FLASH[flashKey][0], FLASH[flashKey][1]) : null;
  const errors = attempt?.errors ?? {};
  const values = attempt?.values ?? {};
  const generalFor = (form: Attempt['form']) => (attempt?.form === form ? notice('bad', attempt.general) : '');

  const company = html`<section class="card" aria-labelledby="h-company">
    <h2 id="h-company">${t('Impresa', 'Company')}</h2>
    <dl class="facts">
      <dt>${t('Ragione sociale', 'Legal name')}</dt>
      <dd>${view.company.legalName}</dd>
      <dt>${t('Comune della sede operativa', 'Comune of the operating site')}</dt>
      <dd>${view.company.comune ?? '—'}</dd>
      <dt>${t('Codice ATECO', 'ATECO activity code')}</dt>
      <dd>${view.company.atecoCode ?? '—'}</dd>
      <dt>${t('Dimensione', 'Size class')}</dt>
      <dd>${label(SIZE_LABELS[p.locale], view.company.sizeClass)}</dd>
      <dt>${t('Temi', 'Themes')}</dt>
      <dd>${view.themes.map((th) => label(THEME_LABELS[p.locale], th)).join(', ')}</dd>
      <dt>${t('Soggetto attuatore', 'Implementing body')}</dt>
      <dd>${view.consultant?.bodyName ?? view.implementingBody ?? '—'}</dd>
      <dt>${t('Stato', 'State')}</dt>
      <dd>
        ${STATE_NAMES[p.locale][view.state]}${
          view.deadline && !view.final
            ? html` · ${t('decisione entro il', 'decision due by')}
              ${formatDateTime(new Date(view.deadline.dueAt), p.locale)}`
            : ''
        }
      </dd>
    </dl>
  </section>`;

  const pp = facts.preProject;
  const preProject = html`<section class="card" aria-labelledby="h-pp">
    <h2 id="h-pp">
      ${t('Pre-progetto trasmesso', 'Forwarded pre-project')} (${t('versione', 'version')} ${facts.forwardedVersion})
    </h2>
    ${pp ? preProjectView(pp, mRules, p.locale) : html`<p>${t('Nessun pre-progetto trasmesso.', 'No pre-project forwarded.')}</p>`}
  </section>`;

  const earlier = versions.filter((v) => v.forwardedAt && v.version < facts.forwardedVersion);
  const history = earlier.length
    ? html`<section class="card" aria-labelledby="h-versions">
        <h2 id="h-versions">${t('Versioni precedenti', 'Earlier versions')}</h2>
        ${versions
          .filter((v) => v.forwardedAt)
          .slice(1)
          .map((v, k, list) => {
            const before = versions.filter((x) => x.forwardedAt)[k]!;
            const rows = preProjectDiff(before.content, v.content, p.locale);
            void list;
            return html`<details${v.version === facts.forwardedVersion ? html` open` : ''}><summary>${t('Dalla versione', 'From version')} ${before.version} ${t(
              'alla versione',
              'to version',
            )} ${v.version}: ${rows.length} ${t('modifiche', 'changes')}</summary>
<table class="diff"><thead><tr><th scope="col">${t('Campo', 'Field')}</th><th scope="col">${t('Prima', 'Before')}</th><th scope="col">${t(
              'Dopo',
              'After',
            )}</th></tr></thead>
<tbody>${rows.map(
              ([f, a, b]) =>
                html`<tr>
                  <th scope="row">${f}</th>
                  <td><del>${a}</del></td>
                  <td><ins>${b}</ins></td>
                </tr>`,
            )}</tbody></table></details>`;
          })}
      </section>`
    : '';

  const documents = html`<section class="card" aria-labelledby="h-docs">
    <h2 id="h-docs">${t('Documenti', 'Documents')}</h2>
    ${
      view.documents.length
        ? html`<ul>
            ${view.documents.map(
              (d) =>
                html`<li>
                  <a href="/applications/${view.applicationId}/documents/${d.documentId}">${d.filename}</a> ·
                  ${label(DOCUMENT_LABELS[p.locale], d.kind)} · ${Math.max(1, Math.round(d.sizeBytes / 1024))} KB
                </li>`,
            )}
          </ul>`
        : html`<p>${t('Nessun documento.', 'No documents.')}</p>`
    }
  </section>`;

  const conflict =
    declared === undefined && inCommission
      ? html`<section class="card" aria-labelledby="h-conflict">
          <h2 id="h-conflict">${t('Conflitto di interessi', 'Conflict of interest')}</h2>
          ${generalFor('conflict')}
          <form method="post" action="/commissione/${view.applicationId}/conflitto" novalidate>
            ${csrfField(p.csrf)}
            ${choices({
              name: 'conflicted',
              legend: t(
                'Ha un conflitto di interessi su questa domanda?',
                'Do you have a conflict of interest on this application?',
              ),
              hint: t(
                'Una dichiarazione di conflitto è definitiva: non potrà valutare né decidere.',
                'A declared conflict is final: you will neither evaluate nor decide.',
              ),
              kind: 'radio',
              options: [
                ['no', t('No, nessun conflitto', 'No conflict')],
                ['yes', t('Sì, ho un conflitto', 'Yes, I have a conflict')],
              ],
              checked: [text(values.conflicted)],
              errors: attempt?.form === 'conflict' ? errors : {},
            })}
            <div class="actions">
              <button type="submit">${t('Registra la dichiarazione', 'Record the declaration')}</button>
            </div>
          </form>
        </section>`
      : html`<section class="card">
          <h2>${t('Conflitto di interessi', 'Conflict of interest')}</h2>
          <p>
            ${
              declared === undefined
                ? t('Nessuna dichiarazione.', 'No declaration.')
                : declared
                  ? t(
                      'Ha dichiarato un conflitto di interessi: non valuta né decide questa domanda.',
                      'You declared a conflict of interest: you neither evaluate nor decide this application.',
                    )
                  : t('Ha dichiarato di non avere conflitti di interessi.', 'You declared no conflict of interest.')
            }
          </p>
        </section>`;

  const own = facts.evaluations.find((e) => e.member === me.id && e.version === facts.forwardedVersion);
  const criteria = rules.commission.criteria;
  const evalErrors = attempt?.form === 'evaluation' ? errors : {};
  const evaluation =
    inCommission && declared !== true && !evaluatedNow
      ? html`<section class="card" aria-labelledby="h-eval">
          <h2 id="h-eval">${t('La sua valutazione', 'Your evaluation')}</h2>
          ${generalFor('evaluation')}${evalErrors.conflicted ? notice('bad', evalErrors.conflicted) : ''}
          <form method="post" action="/commissione/${view.applicationId}/valutazione" novalidate>
            ${csrfField(p.csrf)}
            ${criteria.map(
              (c) =>
                html`<div class="criterion">
                  ${input({
                    name: `scores.${c.code}`,
                    type: 'number',
                    label: `${c.label} (${t('da 0 a', '0 to')} ${c.maxScore})`,
                    hint: c.guidance,
                    value: text(values[`scores.${c.code}`]),
                    required: true,
                    attrs: { min: 0, max: c.maxScore, step: '1', inputmode: 'numeric' },
                    errors: evalErrors,
                  })}
                </div>`,
            )}
            ${choices({
              name: 'recommendation',
              legend: t('Raccomandazione', 'Recommendation'),
              kind: 'radio',
              options: RECOMMENDATIONS.map((r) => [r, RECOMMENDATION_LABELS[p.locale][r]] as const),
              checked: [text(values.recommendation)],
              errors: evalErrors,
            })}
            ${textarea({ name: 'motivation', label: t('Motivazione', 'Motivation'), value: text(values.motivation), required: true, errors: evalErrors })}
            <div class="actions">
              <button type="submit">${t('Invia la valutazione', 'Submit the evaluation')}</button>
            </div>
          </form>
        </section>`
      : own
        ? html`<section class="card">
            <h2>${t('La sua valutazione', 'Your evaluation')}</h2>
            ${evaluationTable([own], criteria, p)}
          </section>`
        : '';

  const counted = facts.evaluations.filter((e) => e.version === facts.forwardedVersion);
  const seesAll = seesOthersEvaluations(me, view);
  const tallied = tally(facts.evaluations, facts.forwardedVersion, rules.commission);
  const tallySection =
    seesAll && counted.length >= rules.commission.quorum
      ? html`<section class="card" aria-labelledby="h-tally">
          <h2 id="h-tally">${t('Esito del quorum', 'Tally of the quorum')}</h2>
          <p>
            ${counted.length} ${t('valutazioni', 'evaluations')} (${t('quorum', 'quorum')} ${rules.commission.quorum}):
            ${RECOMMENDATIONS.map((r) => `${RECOMMENDATION_LABELS[p.locale][r]} ${tallied.votes[r]}`).join(', ')}.
            ${t('Punteggio medio', 'Average score')} ${tallied.averageTotal.toFixed(1)} ${t('su', 'of')}
            ${tallied.maxTotal}.
            ${tallied.decision ? html`<strong>${t('Esito', 'Outcome')}: ${RECOMMENDATION_LABELS[p.locale][tallied.decision]}</strong>` : ''}
          </p>
          ${evaluationTable(counted, criteria, p)}
        </section>`
      : seesAll
        ? html`<section class="card">
            <h2>${t('Valutazioni', 'Evaluations')}</h2>
            <p>
              ${counted.length} ${t('di', 'of')} ${rules.commission.quorum}
              ${t('valutazioni necessarie per il quorum.', 'evaluations needed for the quorum.')}
            </p>
            ${evaluationTable(counted, criteria, p)}
          </section>`
        : '';

  const decErrors = attempt?.form === 'decision' ? errors : {};
  const decision =
    me.chair && inCommission && declared !== true
      ? html`<section class="card" aria-labelledby="h-decision">
          <h2 id="h-decision">${t('Decisione del presidente', "The chair's decision")}</h2>
          ${generalFor('decision')}
          <form method="post" action="/commissione/${view.applicationId}/decisione" novalidate>
            ${csrfField(p.csrf)}
            ${choices({
              name: 'decision',
              legend: t('Decisione della commissione', "The commission's decision"),
              kind: 'radio',
              options: RECOMMENDATIONS.map((r) => [r, RECOMMENDATION_LABELS[p.locale][r]] as const),
              checked: [text(values.decision)],
              errors: decErrors,
            })}
            ${textarea({ name: 'motivation', label: t('Motivazione', 'Motivation'), value: text(values.motivation), required: true, errors: decErrors })}
            <div class="actions">
              <button type="submit">${t('Registra la decisione', 'Record the decision')}</button>
            </div>
          </form>
        </section>`
      : '';

  const outcome =
    !inCommission && view.state !== 'pre_project'
      ? notice('info', [`${t('La domanda è', 'The application is')} ${STATE_NAMES[p.locale][view.state]}.`])
      : '';

  return send(
    p,
    status,
    view.company.legalName,
    html`<p><a href="/commissione">← ${t('Domande da valutare', 'Applications to evaluate')}</a></p>
      <h1>${view.company.legalName}</h1>
      <p class="lede">
        ${t('Domanda', 'Application')} ${view.applicationId} ·
        ${view.callId}${
          facts.requestedCents !== null
            ? html` · ${t('richiesti', 'requested')} ${formatEuro(facts.requestedCents, p.locale)}`
            : ''
        }
      </p>
      ${flash ? notice('ok', [flash]) : ''}${outcome}
      ${company}${preProject}${history}${documents}${conflict}${evaluation}${tallySection}${decision}`,
  );
}

function evaluationTable(
  list: Evaluation[],
  criteria: { code: string; label: string; maxScore: number }[],
  p: PageRequest,
): Html {
  const t = words(p.locale);
  return html`<table>
    <thead>
      <tr>
        <th scope="col">${t('Membro', 'Member')}</th>
        ${criteria.map((c) => html`<th scope="col" class="num">${c.label} (/${c.maxScore})</th>`)}
        <th scope="col" class="num">${t('Totale', 'Total')}</th>
        <th scope="col">${t('Raccomandazione', 'Recommendation')}</th>
        <th scope="col">${t('Motivazione', 'Motivation')}</th>
      </tr>
    </thead>
    <tbody>
      ${list.map(
        (e, k) =>
          html`<tr>
            <td>${e.member === p.user!.id ? t('Lei', 'You') : `${t('Membro', 'Member')} ${k + 1}`}</td>
            ${criteria.map((c) => html`<td class="num">${e.scores[c.code] ?? '—'}</td>`)}
            <td class="num">${e.total}</td>
            <td>${RECOMMENDATION_LABELS[p.locale][e.recommendation]}</td>
            <td>${e.motivation}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function commissionPages(app: FastifyInstance, deps: PagesDeps) {
  const member = (req: FastifyRequest, reply: FastifyReply) => requireUser(deps, req, reply, ['commission']);

  app.get('/commissione', async (req, reply) => {
    const p = await member(req, reply);
    if (!p) return reply;
    const t = words(p.locale);
    const page = await runRoute<{ items: ApplicationSummary[] }>(deps, 'GET', '/applications', {
      user: p.user,
      req,
      reply,
      query: { state: 'commission', limit: '200' },
    });
    const rows = await Promise.all(
      page.items.map(async (item) => {
        const view = await runRoute<ApplicationView>(deps, 'GET', '/applications/:id', {
          user: p.user,
          req,
          reply,
          params: { id: item.applicationId },
        });
        const f = view.facts!;
        const declared = f.conflicts[p.user!.id];
        const done = f.evaluations.some((e) => e.member === p.user!.id && e.version === f.forwardedVersion);
        const status =
          declared === true
            ? html`<span class="badge bad">${t('conflitto dichiarato', 'conflict declared')}</span>`
            : done
              ? html`<span class="badge ok">${t('valutata', 'evaluated')}</span>`
              : declared === false
                ? html`<span class="badge wait">${t('da valutare', 'to evaluate')}</span>`
                : html`<span class="badge wait">${t('da dichiarare e valutare', 'to declare and evaluate')}</span>`;
        return { item, view, waiting: declared !== true && !done, status };
      }),
    );
    const table = (list: typeof rows) =>
      list.length
        ? html`<table>
            <thead>
              <tr>
                <th scope="col">${t('Impresa', 'Company')}</th>
                <th scope="col">${t('Comune', 'Comune')}</th>
                <th scope="col">${t('Temi', 'Themes')}</th>
                <th scope="col" class="num">${t('Richiesti', 'Requested')}</th>
                <th scope="col">${t('Decisione entro', 'Decision due')}</th>
                <th scope="col">${t('Il suo compito', 'Your part')}</th>
              </tr>
            </thead>
            <tbody>
              ${list.map(
                ({ item, view, status }) =>
                  html`<tr>
                    <td><a href="/commissione/${item.applicationId}">${item.companyName}</a></td>
                    <td>${item.comune ?? '—'}</td>
                    <td>${item.themes.map((th) => label(THEME_LABELS[p.locale], th)).join(', ')}</td>
                    <td class="num">
                      ${view.facts?.requestedCents != null ? formatEuro(view.facts.requestedCents, p.locale) : '—'}
                    </td>
                    <td>${item.deadline ? formatDateTime(new Date(item.deadline.dueAt), p.locale) : '—'}</td>
                    <td>${status}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : html`<p>${t('Nessuna domanda.', 'No applications.')}</p>`;
    return send(
      p,
      200,
      t('Commissione di valutazione', 'Evaluation commission'),
      html`<h1>${t('Commissione di valutazione', 'Evaluation commission')}</h1>
        <p class="lede">
          ${t('Le domande trasmesse alla commissione.', 'The applications forwarded to the commission.')}
        </p>
        <section class="card">
          <h2>${t('In attesa della sua valutazione', 'Awaiting your evaluation')}</h2>
          ${table(rows.filter((r) => r.waiting))}
        </section>
        <section class="card">
          <h2>${t('Altre domande in commissione', 'Other applications in commission')}</h2>
          ${table(rows.filter((r) => !r.waiting))}
        </section>`,
    );
  });

  app.get<{ Params: { id: string } }>('/commissione/:id', async (req, reply) => {
    const p = await member(req, reply);
    if (!p) return reply;
    return applicationPage(deps, p, req.params.id);
  });

  /** Runs a command route for a form; refused, the page comes back with the entered values and the reasons. */
  const submit = (
    form: Attempt['form'],
    url: string,
    toBody: (values: Form, p: PageRequest) => { body?: unknown; errors: FieldErrors },
  ) =>
    app.post<{ Params: { id: string } }>(
      `/commissione/:id/${{ conflict: 'conflitto', evaluation: 'valutazione', decision: 'decisione' }[form]}`,
      { preHandler: app.csrfProtection },
      async (req, reply) => {
        const p = await member(req, reply);
        if (!p) return reply;
        const values = (req.body ?? {}) as Form;
        const { body, errors } = toBody(values, p);
        if (Object.keys(errors).length) {
          return applicationPage(deps, p, req.params.id, { form, values, errors, general: [] }, 400);
        }
        try {
          await runRoute(deps, 'POST', url, { user: p.user, req, reply, params: { id: req.params.id }, body });
        } catch (err) {
          if (!(err instanceof UserError) || err.code === 'internal') throw err;
          const explained = explain(err, p.locale);
          return applicationPage(
            deps,
            p,
            req.params.id,
            { form, values, errors: explained.fields, general: explained.general },
            statusOf(err),
          );
        }
        return reply.redirect(`/commissione/${encodeURIComponent(req.params.id)}?ok=${form}`, 303);
      },
    );

  submit('conflict', '/applications/:id/conflict', (values, p) => {
    const errors: FieldErrors = {};
    const v = text(values.conflicted);
    if (v !== 'yes' && v !== 'no')
      addError(errors, 'conflicted', words(p.locale)('Scelga una risposta.', 'Choose an answer.'));
    return { body: { conflicted: v === 'yes' }, errors };
  });

  submit('evaluation', '/applications/:id/evaluations', (values, p) => {
    const t = words(p.locale);
    const errors: FieldErrors = {};
    const scores: Record<string, number> = {};
    for (const [key, raw] of Object.entries(values)) {
      if (!key.startsWith('scores.')) continue;
      const code = key.slice('scores.'.length);
      const v = text(raw);
      if (!/^\d{1,4}$/.test(v))
        addError(errors, key, t('Indichi un punteggio intero, da 0 in su.', 'Give a whole-number score, 0 or more.'));
      else scores[code] = Number(v);
    }
    const recommendation = text(values.recommendation);
    if (!(RECOMMENDATIONS as readonly string[]).includes(recommendation))
      addError(errors, 'recommendation', t('Scelga una raccomandazione.', 'Choose a recommendation.'));
    const motivation = text(values.motivation);
    if (!motivation) addError(errors, 'motivation', t('Scriva la motivazione.', 'Write the motivation.'));
    return { body: { scores, recommendation, motivation }, errors };
  });

  submit('decision', '/applications/:id/decision', (values, p) => {
    const t = words(p.locale);
    const errors: FieldErrors = {};
    const decision = text(values.decision);
    if (!(RECOMMENDATIONS as readonly string[]).includes(decision))
      addError(errors, 'decision', t('Scelga la decisione.', 'Choose the decision.'));
    const motivation = text(values.motivation);
    if (!motivation) addError(errors, 'motivation', t('Scriva la motivazione.', 'Write the motivation.'));
    return { body: { decision, motivation }, errors };
  });
}
