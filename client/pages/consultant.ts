import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MultipartFile, MultipartValue } from '@fastify/multipart';
import { formatDateTime, formatDay, formatEuro, parseEuro } from '../../domain/format';
import type { PreProject } from '../../domain/pre-project';
import { THEMES } from '../../domain/themes';
import { APPLICATION_DOCUMENT_KINDS, COST_CATEGORIES } from '../../machines/events';
import { UserError } from '../errors';
import type { ApplicationSummary, ApplicationView } from '../service/register';
import { html, type Html } from './html';
import {
  addError,
  choices,
  csrfField,
  errorText,
  input,
  notice,
  select,
  textarea,
  words,
  type FieldErrors,
} from './layout';
import { requireUser, runRoute, send, statusOf, type PageRequest, type PagesDeps } from './context';
import { COST_LABELS, DOCUMENT_LABELS, label, THEME_LABELS } from './labels';
import {
  isProjectForm,
  PROJECT_FLASH,
  projectDocuments,
  projectForms,
  projectSection,
  type ProjectAttempt,
  type ProjectFormName,
  type ProjectView,
} from './project';
import { discardedInWords, explain, STATE_NAMES } from './refusals';

type Form = Record<string, unknown>;
const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : Array.isArray(v) ? text(v[0]) : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);
const MAX_ROWS = 30;

type FormName = 'session' | 'preProject' | 'document' | 'complete' | ProjectFormName;
interface Attempt {
  form: FormName;
  values: Form;
  errors: FieldErrors;
  general: string[];
  info?: string[];
}

const FLASH = {
  session: [
    'Sessione registrata: l’impresa ha ricevuto il link e il codice per confermarla.',
    'Session logged: the company received the link and the code to confirm it.',
  ],
  preProject: ['Pre-progetto inviato.', 'Pre-project submitted.'],
  document: ['Documento caricato.', 'Document uploaded.'],
  complete: ['Percorso di accompagnamento chiuso.', 'Accompaniment completed.'],
  ...PROJECT_FLASH,
} as const;

const decimal = (v: string) => (/^-?\d+([.,]\d+)?$/.test(v) ? Number(v.replace(',', '.')) : null);

/** The pre-project form's values from a stored pre-project (the latest version), to start from. */
function valuesOf(pp: PreProject | null): Form {
  if (!pp) return {};
  const v: Form = {
    title: pp.title,
    summary: pp.summary,
    themes: pp.themes,
    grantCents: (pp.grantCents / 100).toFixed(2),
    indicatorRows: String(pp.indicators.length + 1),
    costRows: String(pp.costLines.length + 1),
  };
  pp.indicators.forEach((i, k) => {
    Object.assign(v, {
      [`indicators.${k}.name`]: i.name,
      [`indicators.${k}.theme`]: i.theme,
      [`indicators.${k}.unit`]: i.unit,
      [`indicators.${k}.baseline`]: String(i.baseline),
      [`indicators.${k}.target`]: String(i.target),
      [`indicators.${k}.measurementMethod`]: i.measurementMethod,
    });
  });
  pp.costLines.forEach((c, k) => {
    Object.assign(v, {
      [`costLines.${k}.description`]: c.description,
      [`costLines.${k}.category`]: c.category,
      [`costLines.${k}.amountCents`]: (c.amountCents / 100).toFixed(2),
    });
  });
  if (pp.loan) {
    Object.assign(v, {
      'loan.amountCents': (pp.loan.amountCents / 100).toFixed(2),
      'loan.annualRateBps': String(pp.loan.annualRateBps / 100),
      'loan.months': String(pp.loan.months),
    });
  }
  return v;
}

const rowsOf = (values: Form, key: string) => Math.min(MAX_ROWS, Math.max(2, Number(text(values[key])) || 2));

/** The form's rows as the route's pre-project; errors by field, and each sent row's place in the form. */
function parsePreProject(values: Form, t: (it: string, en: string) => string) {
  const errors: FieldErrors = {};
  const need = (key: string, message = t('Campo obbligatorio.', 'Required.')) => {
    const v = text(values[key]);
    if (!v) addError(errors, key, message);
    return v;
  };
  const euro = (key: string) => {
    const v = need(key);
    if (!v) return 0;
    try {
      return parseEuro(v);
    } catch {
      addError(
        errors,
        key,
        t('Un importo in euro come 40000 o 40.000,50.', 'An amount in euro such as 40000 or 40,000.50.'),
      );
      return 0;
    }
  };
  const num = (key: string) => {
    const v = need(key);
    const n = v ? decimal(v) : null;
    if (v && n === null) addError(errors, key, t('Un numero, come 12 o 3,5.', 'A number, such as 12 or 3.5.'));
    return n ?? 0;
  };
  const title = need('title');
  const summary = need('summary');
  const themes = list(values.themes).filter((th) => (THEMES as readonly string[]).includes(th));
  const indicatorRows: number[] = [];
  const indicators: PreProject['indicators'] = [];
  for (let k = 0; k < rowsOf(values, 'indicatorRows'); k++) {
    const f = ['name', 'unit', 'baseline', 'target', 'measurementMethod'].map((x) =>
      text(values[`indicators.${k}.${x}`]),
    );
    if (f.every((x) => !x)) continue;
    indicatorRows.push(k);
    const p = `indicators.${k}`;
    const theme = need(`${p}.theme`, t('Scelga il tema.', 'Choose the theme.'));
    indicators.push({
      name: need(`${p}.name`),
      theme: theme as PreProject['themes'][number],
      unit: need(`${p}.unit`),
      baseline: num(`${p}.baseline`),
      target: num(`${p}.target`),
      measurementMethod: need(`${p}.measurementMethod`),
    });
  }
  if (!indicators.length)
    addError(errors, 'indicators', t('Compili almeno un indicatore.', 'Fill in at least one indicator.'));
  const costRows: number[] = [];
  const costLines: PreProject['costLines'] = [];
  for (let k = 0; k < rowsOf(values, 'costRows'); k++) {
    const p = `costLines.${k}`;
    if (!text(values[`${p}.description`]) && !text(values[`${p}.amountCents`])) continue;
    costRows.push(k);
    const category = need(`${p}.category`, t('Scelga la categoria.', 'Choose the category.'));
    costLines.push({ description: need(`${p}.description`), category, amountCents: euro(`${p}.amountCents`) });
  }
  if (!costLines.length)
    addError(errors, 'costLines', t('Compili almeno una voce di costo.', 'Fill in at least one cost line.'));
  const grantCents = euro('grantCents');
  const loanFields = ['loan.amountCents', 'loan.annualRateBps', 'loan.months'];
  let loan: PreProject['loan'];
  if (loanFields.some((k) => text(values[k]))) {
    const rate = num('loan.annualRateBps');
    const months = need('loan.months');
    if (months && !/^\d{1,3}$/.test(months))
      addError(errors, 'loan.months', t('Un numero di mesi.', 'A number of months.'));
    loan = { amountCents: euro('loan.amountCents'), annualRateBps: Math.round(rate * 100), months: Number(months) };
  }
  const preProject = { title, summary, themes, indicators, costLines, grantCents, ...(loan ? { loan } : {}) };
  return { preProject, errors, indicatorRows, costRows };
}

/** Route errors name the n-th row sent; the form shows them on the row the person filled in. */
function remap(fields: FieldErrors, indicatorRows: number[], costRows: number[]): FieldErrors {
  const out: FieldErrors = {};
  for (const [key, messages] of Object.entries(fields)) {
    const m = /^(indicators|costLines)\.(\d+)(\..*)?$/.exec(key);
    const rows = m?.[1] === 'indicators' ? indicatorRows : costRows;
    const target = m ? `${m[1]}.${rows[Number(m[2])] ?? m[2]}${m[3] ?? ''}` : key === 'document' ? 'file' : key;
    for (const msg of messages) addError(out, target, msg);
  }
  return out;
}

function preProjectForm(p: PageRequest, view: ApplicationView, values: Form, errors: FieldErrors, general: Html) {
  const t = words(p.locale);
  const v = (k: string) => text(values[k]);
  const themeOptions = THEMES.map((th) => [th, THEME_LABELS[p.locale][th]] as const);
  const nInd = rowsOf(values, 'indicatorRows');
  const nCost = rowsOf(values, 'costRows');
  return html`<section class="card" aria-labelledby="h-pp">
    <h2 id="h-pp">${t('Pre-progetto', 'Pre-project')}</h2>
    ${general}
    <form method="post" action="/consulente/${view.applicationId}/pre-progetto" novalidate>
      ${csrfField(p.csrf)} <input type="hidden" name="indicatorRows" value="${nInd}" /><input
        type="hidden"
        name="costRows"
        value="${nCost}"
      />
      ${input({ name: 'title', label: t('Titolo', 'Title'), value: v('title'), required: true, errors })}
      ${textarea({ name: 'summary', label: t('Sintesi del progetto', 'Project summary'), value: v('summary'), required: true, errors })}
      ${choices({ name: 'themes', legend: t('Temi di impatto', 'Impact themes'), kind: 'checkbox', options: themeOptions, checked: list(values.themes), errors })}
      <fieldset>
        <legend>${t('Indicatori di impatto', 'Impact indicators')}</legend>
        <span class="hint">${t('Le righe vuote sono ignorate.', 'Empty rows are ignored.')}</span
        >${errorText(errors, 'indicators')}
        ${Array.from({ length: nInd }, (_, k) => {
          const f = (x: string) => `indicators.${k}.${x}`;
          return html`<div class="row-grid" role="group" aria-label="${t('Indicatore', 'Indicator')} ${k + 1}">
            ${input({ name: f('name'), label: `${t('Indicatore', 'Indicator')} ${k + 1}`, value: v(f('name')), errors, className: 'wide' })}
            ${select({ name: f('theme'), label: t('Tema', 'Theme'), value: v(f('theme')), options: [['', '—'], ...themeOptions], errors })}
            ${input({ name: f('unit'), label: t('Unità', 'Unit'), value: v(f('unit')), errors })}
            ${input({ name: f('baseline'), label: t('Valore di partenza', 'Baseline'), value: v(f('baseline')), attrs: { inputmode: 'decimal' }, errors })}
            ${input({ name: f('target'), label: t('Obiettivo', 'Target'), value: v(f('target')), attrs: { inputmode: 'decimal' }, errors })}
            ${input({ name: f('measurementMethod'), label: t('Metodo di misura', 'Measurement method'), value: v(f('measurementMethod')), errors, className: 'wide' })}
          </div>`;
        })}
        <div class="actions">
          <button type="submit" name="add" value="indicator" class="secondary">
            ${t('Aggiungi una riga di indicatore', 'Add an indicator row')}
          </button>
        </div>
      </fieldset>
      <fieldset>
        <legend>${t('Voci di costo ammissibili', 'Eligible cost lines')}</legend>
        ${errorText(errors, 'costLines')}
        ${Array.from({ length: nCost }, (_, k) => {
          const f = (x: string) => `costLines.${k}.${x}`;
          return html`<div class="row-grid" role="group" aria-label="${t('Voce di costo', 'Cost line')} ${k + 1}">
            ${input({ name: f('description'), label: `${t('Voce di costo', 'Cost line')} ${k + 1}`, value: v(f('description')), errors, className: 'wide' })}
            ${select({ name: f('category'), label: t('Categoria', 'Category'), value: v(f('category')), options: [['', '—'], ...COST_CATEGORIES.map((c) => [c, COST_LABELS[p.locale][c]!] as const)], errors })}
            ${input({ name: f('amountCents'), label: t('Importo in euro', 'Amount in euro'), value: v(f('amountCents')), attrs: { inputmode: 'decimal' }, errors })}
          </div>`;
        })}
        <div class="actions">
          <button type="submit" name="add" value="cost" class="secondary">
            ${t('Aggiungi una voce di costo', 'Add a cost line')}
          </button>
        </div>
      </fieldset>
      <fieldset>
        <legend>${t('Agevolazione richiesta', 'Support requested')}</legend>
        ${input({ name: 'grantCents', label: t('Contributo a fondo perduto, in euro', 'Grant, in euro'), hint: t('Al massimo il 50% del costo ammissibile.', 'At most 50% of the eligible cost.'), value: v('grantCents'), required: true, attrs: { inputmode: 'decimal' }, errors })}
        <div class="row-grid">
          ${input({ name: 'loan.amountCents', label: t('Finanziamento bancario (facoltativo), in euro', 'Bank loan (optional), in euro'), value: v('loan.amountCents'), attrs: { inputmode: 'decimal' }, errors })}
          ${input({ name: 'loan.annualRateBps', label: t('Tasso annuo, %', 'Annual rate, %'), value: v('loan.annualRateBps'), attrs: { inputmode: 'decimal' }, errors })}
          ${input({ name: 'loan.months', label: t('Durata in mesi', 'Term in months'), value: v('loan.months'), attrs: { inputmode: 'numeric' }, errors })}
        </div>
      </fieldset>
      <div class="actions">
        <button type="submit" name="add" value="">${t('Invia il pre-progetto', 'Submit the pre-project')}</button>
      </div>
    </form>
  </section>`;
}

async function applicationPage(deps: PagesDeps, p: PageRequest, id: string, attempt?: Attempt, status = 200) {
  const t = words(p.locale);
  const view = await runRoute<ApplicationView>(deps, 'GET', '/applications/:id', {
    user: p.user,
    req: p.req,
    reply: p.reply,
    params: { id },
  });
  const facts = view.facts!;
  const can = (c: string) => view.allowedCommands.includes(c as never);
  const sessions = await deps.api.db
    .selectFrom('accompaniment_sessions')
    .select(['session_date', 'starts_at', 'ends_at', 'topic', 'confirmed_at', 'disputed_at', 'confirmation_expires_at'])
    .where('application_id', '=', id)
    .orderBy('session_date')
    .orderBy('starts_at')
    .execute();
  const flashKey = (p.req.query as Form).ok as keyof typeof FLASH | undefined;
  const flash = flashKey && FLASH[flashKey] ? t(FLASH[flashKey][0], FLASH[flashKey][1]) : null;
  // A funded application's project comes first: it is what the consultant works on now.
  const project =
    view.state === 'funded'
      ? projectSection(
          p,
          view.applicationId,
          await runRoute<ProjectView>(deps, 'GET', '/applications/:id/project', {
            user: p.user,
            req: p.req,
            reply: p.reply,
            params: { id },
          }),
          await projectDocuments(deps.api.db, id),
          attempt && isProjectForm(attempt.form) ? (attempt as ProjectAttempt) : undefined,
        )
      : '';
  const errorsOf = (form: FormName) => (attempt?.form === form ? attempt.errors : {});
  const valuesOf_ = (form: FormName) => (attempt?.form === form ? attempt.values : {});
  const generalOf = (form: FormName) => (attempt?.form === form ? notice('bad', attempt.general) : html``);
  const sv = (k: string) => text(valuesOf_('session')[k]);
  const se = errorsOf('session');

  const sessionRows = sessions.map((s) => {
    const state = s.confirmed_at
      ? html`<span class="badge ok">${t('confermata', 'confirmed')}</span>`
      : s.disputed_at
        ? html`<span class="badge bad">${t('contestata: non si è svolta', 'disputed: did not take place')}</span>`
        : s.confirmation_expires_at && s.confirmation_expires_at.getTime() < Date.now()
          ? html`<span class="badge bad">${t('codice scaduto', 'code expired')}</span>`
          : html`<span class="badge wait">${t('in attesa dell’impresa', 'waiting for the company')}</span>`;
    return html`<tr>
      <td>${formatDay(s.session_date, p.locale)}</td>
      <td>${s.starts_at.slice(0, 5)}–${s.ends_at.slice(0, 5)}</td>
      <td>${s.topic}</td>
      <td>${state}</td>
    </tr>`;
  });
  const hours = html`<p class="meter">
    <strong
      >${t('Ore verificate', 'Verified hours')}: ${facts.verifiedHours} ${t('di', 'of')} ${facts.requiredHours}
      ${t('minime', 'minimum')}</strong
    >${
      facts.discardedSessions.length
        ? html` — ${t('non contate', 'not counted')}:
          ${facts.discardedSessions.map((d) => discardedInWords(d, p.locale)).join('; ')}`
        : ''
    }
  </p>`;

  const sessionForm = can('LOG_SESSION')
    ? html`<h3 id="h-log">${t('Registra una sessione', 'Log a session')}</h3>
        ${generalOf('session')}
        <form method="post" action="/consulente/${view.applicationId}/sessioni" novalidate>
          ${csrfField(p.csrf)}
          <div class="row-grid">
            ${input({ name: 'date', type: 'date', label: t('Data', 'Date'), value: sv('date'), required: true, errors: se })}
            ${input({ name: 'start', type: 'time', label: t('Inizio', 'Start'), value: sv('start'), required: true, errors: se })}
            ${input({ name: 'end', type: 'time', label: t('Fine', 'End'), value: sv('end'), required: true, errors: se })}
          </div>
          ${input({ name: 'topic', label: t('Argomento', 'Topic'), value: sv('topic'), required: true, errors: se })}
          ${textarea({ name: 'attendees', label: t('Partecipanti', 'Attendees'), hint: t('Uno per riga.', 'One per line.'), value: sv('attendees'), required: true, errors: se })}
          <div class="actions"><button type="submit">${t('Registra la sessione', 'Log the session')}</button></div>
        </form>`
    : '';
  const completeForm =
    view.state === 'accompaniment'
      ? html`${generalOf('complete')}
          <form method="post" action="/consulente/${view.applicationId}/completa">
            ${csrfField(p.csrf)}
            <div class="actions">
              <button type="submit" class="secondary">
                ${t('Chiudi il percorso di accompagnamento', 'Complete the accompaniment')}
              </button>
            </div>
          </form>`
      : '';

  const accompaniment = html`<section class="card" aria-labelledby="h-sessions">
    <h2 id="h-sessions">${t('Sessioni di accompagnamento', 'Accompaniment sessions')}</h2>
    ${hours}
    ${
      sessions.length
        ? html`<table>
            <thead>
              <tr>
                <th scope="col">${t('Data', 'Date')}</th>
                <th scope="col">${t('Orario', 'Time')}</th>
                <th scope="col">${t('Argomento', 'Topic')}</th>
                <th scope="col">${t('Stato', 'State')}</th>
              </tr>
            </thead>
            <tbody>
              ${sessionRows}
            </tbody>
          </table>`
        : html`<p>${t('Nessuna sessione registrata.', 'No sessions logged yet.')}</p>`
    }
    ${sessionForm}${completeForm}
  </section>`;

  const ppValues = attempt?.form === 'preProject' ? attempt.values : valuesOf(facts.preProject);
  const preProject = can('SUBMIT_PRE_PROJECT')
    ? preProjectForm(p, view, ppValues, errorsOf('preProject'), generalOf('preProject'))
    : facts.preProject
      ? html`<section class="card">
          <h2>${t('Pre-progetto', 'Pre-project')}</h2>
          <p>
            ${t('Versione', 'Version')} ${facts.preProjectVersion}: ${facts.preProject.title} ·
            ${t('richiesti', 'requested')} ${formatEuro(facts.requestedCents ?? 0, p.locale)}
          </p>
        </section>`
      : '';

  const de = errorsOf('document');
  // The project's documents (evidence, invoices) are listed with the project.
  const applicationDocuments = view.documents.filter((d) =>
    (APPLICATION_DOCUMENT_KINDS as readonly string[]).includes(d.kind),
  );
  const documents = html`<section class="card" aria-labelledby="h-docs">
    <h2 id="h-docs">${t('Documenti', 'Documents')}</h2>
    ${
      applicationDocuments.length
        ? html`<ul>
            ${applicationDocuments.map(
              (d) =>
                html`<li>
                  <a href="/applications/${view.applicationId}/documents/${d.documentId}">${d.filename}</a> ·
                  ${label(DOCUMENT_LABELS[p.locale], d.kind)}
                </li>`,
            )}
          </ul>`
        : html`<p>${t('Nessun documento.', 'No documents.')}</p>`
    }
    ${
      can('ATTACH_DOCUMENT')
        ? html`${generalOf('document')}
            <form
              method="post"
              action="/consulente/${view.applicationId}/documenti"
              enctype="multipart/form-data"
              novalidate
            >
              ${csrfField(p.csrf)}
              ${select({ name: 'kind', label: t('Tipo di documento', 'Kind of document'), value: text(valuesOf_('document').kind) || 'pre_project', options: APPLICATION_DOCUMENT_KINDS.filter((k) => k !== 'funding').map((k) => [k, DOCUMENT_LABELS[p.locale][k]] as const), errors: de })}
              <div class="field${de.file ? ' invalid' : ''}">
                <label for="f-file"
                  >${t('File (PDF, ODT, DOCX o P7M firmato)', 'File (PDF, ODT, DOCX or signed P7M)')}</label
                >
                <input
                  id="f-file"
                  name="file"
                  type="file"
                  accept=".pdf,.odt,.docx,.p7m"
                  ${de.file ? html` aria-invalid="true" aria-describedby="f-file-error"` : ''}
                />${errorText(de, 'file')}
              </div>
              <div class="actions">
                <button type="submit">${t('Carica il documento', 'Upload the document')}</button>
              </div>
            </form>`
        : ''
    }
  </section>`;

  return send(
    p,
    status,
    view.company.legalName,
    html`<p>
        <a href="/consulente"
          >←
          ${
            p.user!.role === 'operator'
              ? t('Domande e progetti finanziati', 'Applications and funded projects')
              : t('Le domande del suo soggetto attuatore', "Your body's applications")
          }</a
        >
      </p>
      <h1>${view.company.legalName}</h1>
      <p class="lede">
        ${t('Domanda', 'Application')} ${view.applicationId} ·
        ${STATE_NAMES[p.locale][view.state]}${
          view.deadline && !view.final
            ? html` · ${t('scadenza', 'due')} ${formatDateTime(new Date(view.deadline.dueAt), p.locale)}`
            : ''
        }
      </p>
      ${flash ? notice('ok', [flash]) : ''} ${project}${accompaniment}${preProject}${documents}`,
  );
}

export function consultantPages(app: FastifyInstance, deps: PagesDeps) {
  const consultant = (req: FastifyRequest, reply: FastifyReply) =>
    requireUser(deps, req, reply, ['consultant', 'operator']);

  app.get('/consulente', async (req, reply) => {
    const p = await consultant(req, reply);
    if (!p) return reply;
    const t = words(p.locale);
    const page = await runRoute<{ items: ApplicationSummary[] }>(deps, 'GET', '/applications', {
      user: p.user,
      req,
      reply,
      query: { limit: '200' },
    });
    // Operators come here for every application (and its project); a consultant sees her body's only.
    const heading =
      p.user!.role === 'operator'
        ? t('Domande e progetti finanziati', 'Applications and funded projects')
        : t('Le domande del suo soggetto attuatore', "Your implementing body's applications");
    return send(
      p,
      200,
      heading,
      html`<h1>${heading}</h1>
        <section class="card">
          ${
            page.items.length
              ? html`<table>
                  <thead>
                    <tr>
                      <th scope="col">${t('Impresa', 'Company')}</th>
                      <th scope="col">${t('Comune', 'Comune')}</th>
                      <th scope="col">${t('Stato', 'State')}</th>
                      <th scope="col">${t('Scadenza', 'Due')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${page.items.map(
                      (i) =>
                        html`<tr>
                          <td><a href="/consulente/${i.applicationId}">${i.companyName}</a></td>
                          <td>${i.comune ?? '—'}</td>
                          <td>${STATE_NAMES[p.locale][i.state]}</td>
                          <td>${i.deadline ? formatDateTime(new Date(i.deadline.dueAt), p.locale) : '—'}</td>
                        </tr>`,
                    )}
                  </tbody>
                </table>`
              : html`<p>${t('Nessuna domanda assegnata.', 'No applications assigned.')}</p>`
          }
        </section>`,
    );
  });

  app.get<{ Params: { id: string } }>('/consulente/:id', async (req, reply) => {
    const p = await consultant(req, reply);
    if (!p) return reply;
    return applicationPage(deps, p, req.params.id);
  });

  projectForms(app, deps, consultant, (p, id, attempt, status) => applicationPage(deps, p, id, attempt, status));

  /** Runs the JSON route behind a form; refused, the page comes back with what was entered and why. */
  async function command(
    p: PageRequest,
    id: string,
    form: FormName,
    values: Form,
    url: string,
    body: unknown,
    remapErrors: (f: FieldErrors) => FieldErrors = (f) => f,
  ) {
    try {
      await runRoute(deps, 'POST', url, { user: p.user, req: p.req, reply: p.reply, params: { id }, body });
    } catch (err) {
      if (!(err instanceof UserError) || err.code === 'internal') throw err;
      const explained = explain(err, p.locale);
      return applicationPage(
        deps,
        p,
        id,
        { form, values, errors: remapErrors(explained.fields), general: explained.general },
        statusOf(err),
      );
    }
    return p.reply.redirect(`/consulente/${encodeURIComponent(id)}?ok=${form}`, 303);
  }

  app.post<{ Params: { id: string } }>(
    '/consulente/:id/sessioni',
    { preHandler: app.csrfProtection },
    async (req, reply) => {
      const p = await consultant(req, reply);
      if (!p) return reply;
      const t = words(p.locale);
      const values = (req.body ?? {}) as Form;
      const errors: FieldErrors = {};
      const [date, start, end, topic] = ['date', 'start', 'end', 'topic'].map((k) => text(values[k]));
      const attendees = text(values.attendees)
        .split(/\r?\n/)
        .map((a: string) => a.trim())
        .filter(Boolean);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date!) || Number.isNaN(Date.parse(date!)))
        addError(errors, 'date', t('Indichi una data valida.', 'Give a valid date.'));
      for (const k of ['start', 'end'] as const) {
        if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(k === 'start' ? start! : end!))
          addError(errors, k, t('Indichi un orario come 09:30.', 'Give a time such as 09:30.'));
      }
      if (!topic) addError(errors, 'topic', t('Scriva l’argomento.', 'Write the topic.'));
      if (!attendees.length)
        addError(errors, 'attendees', t('Scriva almeno un partecipante.', 'Write at least one attendee.'));
      if (Object.keys(errors).length)
        return applicationPage(deps, p, req.params.id, { form: 'session', values, errors, general: [] }, 400);
      return command(p, req.params.id, 'session', values, '/applications/:id/sessions', {
        session: { date, start, end, topic, attendees },
      });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/consulente/:id/completa',
    { preHandler: app.csrfProtection },
    async (req, reply) => {
      const p = await consultant(req, reply);
      if (!p) return reply;
      return command(p, req.params.id, 'complete', {}, '/applications/:id/accompaniment/complete', undefined);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/consulente/:id/pre-progetto',
    { preHandler: app.csrfProtection },
    async (req, reply) => {
      const p = await consultant(req, reply);
      if (!p) return reply;
      const values = { ...((req.body ?? {}) as Form) };
      const add = text(values.add);
      // "Add a row" re-renders the form with one more empty row: nothing is sent.
      if (add === 'indicator' || add === 'cost') {
        const key = add === 'indicator' ? 'indicatorRows' : 'costRows';
        values[key] = String(Math.min(MAX_ROWS, rowsOf(values, key) + 1));
        return applicationPage(deps, p, req.params.id, { form: 'preProject', values, errors: {}, general: [] });
      }
      const parsed = parsePreProject(values, words(p.locale));
      if (Object.keys(parsed.errors).length) {
        return applicationPage(
          deps,
          p,
          req.params.id,
          { form: 'preProject', values, errors: parsed.errors, general: [] },
          400,
        );
      }
      return command(
        p,
        req.params.id,
        'preProject',
        values,
        '/applications/:id/pre-project',
        { preProject: parsed.preProject },
        (f) => remap(f, parsed.indicatorRows, parsed.costRows),
      );
    },
  );

  app.post<{ Params: { id: string } }>(
    '/consulente/:id/documenti',
    { preHandler: app.csrfProtection },
    async (req, reply) => {
      const p = await consultant(req, reply);
      if (!p) return reply;
      const t = words(p.locale);
      const body = (req.body ?? {}) as Record<string, MultipartValue<string> | MultipartFile | undefined>;
      const kind = (body.kind as MultipartValue<string> | undefined)?.value ?? '';
      const file = body.file as MultipartFile | undefined;
      const values = { kind };
      const bytes = file && file.type === 'file' && file.filename ? await file.toBuffer() : null;
      if (!bytes || bytes.length === 0) {
        return applicationPage(
          deps,
          p,
          req.params.id,
          {
            form: 'document',
            values,
            errors: { file: [t('Scelga un file da caricare.', 'Choose a file to upload.')] },
            general: [],
          },
          400,
        );
      }
      return command(
        p,
        req.params.id,
        'document',
        values,
        '/applications/:id/documents',
        { document: { kind, filename: file!.filename, contentBase64: bytes.toString('base64') } },
        (f) => remap(f, [], []),
      );
    },
  );
}
