import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MultipartFile } from '@fastify/multipart';
import type { Db } from '../../db/connect';
import { formatDateTime, formatDay, formatEuro, parseEuro, type Locale } from '../../domain/format';
import {
  PROJECT_DOCUMENT_KINDS,
  type CostLineDecision,
  type FinalReport,
  type InterimReport,
} from '../../machines/project.events';
import { UserError } from '../errors';
import type { projectView } from '../service/projects';
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
import { requireUser, runRoute, statusOf, type PageRequest, type PagesDeps } from './context';
import { COST_LABELS, DOCUMENT_LABELS, label, PROJECT_STATE_LABELS, THEME_LABELS } from './labels';
import { number } from './pre-project-view';
import { explain } from './refusals';

/*
 * The funded project on the consultant's (and the operator's) application page: where it stands, its deadlines, the
 * interim and final report forms and, for operators, the verification of the final report. Every command goes
 * through the project's JSON routes (runRoute), so the checks are the API's and the machine's; the page only turns
 * form rows into the report and refusals into sentences.
 *
 * Documents: each row of a report has its own file input. Files are stored (through the project's upload route) only
 * when the form is otherwise well filled in, or when the person presses "upload the chosen files": a form with a
 * mistake writes nothing. A stored document is then offered in every row's list, already chosen in its own row, so
 * nothing has to be uploaded twice.
 */

export type ProjectView = Awaited<ReturnType<typeof projectView>>;
type Form = Record<string, unknown>;
type T = (it: string, en: string) => string;

export type ProjectFormName = 'finalReport' | 'interimReport' | 'verification';
export interface ProjectAttempt {
  form: ProjectFormName;
  values: Form;
  errors: FieldErrors;
  general: string[];
  /** What went well while the form stays open (files uploaded). */
  info?: string[];
}

export const PROJECT_FLASH = {
  finalReport: [
    'Relazione finale inviata: il progetto passa alla verifica degli operatori.',
    "Final report submitted: the project goes to the operators' verification.",
  ],
  interimReport: ['Relazione intermedia registrata.', 'Interim report recorded.'],
  verification: ['Verifica registrata: l’esito è qui sotto.', 'Verification recorded: the outcome is below.'],
} as const;

export const isProjectForm = (form: string): form is ProjectFormName =>
  form === 'finalReport' || form === 'interimReport' || form === 'verification';

const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : Array.isArray(v) ? text(v[0]) : '');
const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []).filter(Boolean);
const decimal = (v: string) => (/^-?\d+([.,]\d+)?$/.test(v) ? Number(v.replace(',', '.')) : null);
const isDay = (v: string) =>
  /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString().startsWith(v);

/** A project document as the register holds it: what a report names it by, and what people read. */
export interface ProjectDocument {
  id: string;
  kind: string;
  filename: string;
  sha256: string;
  sizeBytes: number;
  /** Named by a report already (then staff may download it). */
  attached: boolean;
}

/** The documents uploaded for the application's project (any report's evidence, invoices...), oldest first. */
export async function projectDocuments(db: Db, applicationId: string): Promise<ProjectDocument[]> {
  const rows = await db
    .selectFrom('documents')
    .select(['id', 'kind', 'filename', 'sha256', 'size_bytes', 'attached_at'])
    .where('application_id', '=', applicationId)
    .where('kind', 'in', [...PROJECT_DOCUMENT_KINDS])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    filename: r.filename,
    sha256: r.sha256,
    sizeBytes: r.size_bytes,
    attached: r.attached_at !== null,
  }));
}

export interface Upload {
  filename: string;
  bytes: Buffer;
}

/**
 * A multipart form's fields as plain strings (repeated names as lists) and its files by field name. An empty file
 * input (no file chosen) is no file.
 */
export async function multipartForm(body: unknown): Promise<{ values: Form; files: Record<string, Upload> }> {
  const values: Form = {};
  const files: Record<string, Upload> = {};
  for (const [key, raw] of Object.entries((body ?? {}) as Record<string, unknown>)) {
    for (const part of Array.isArray(raw) ? raw : [raw]) {
      if (!part || typeof part !== 'object') continue;
      const p = part as { type?: string; value?: unknown };
      if (p.type === 'file') {
        const file = part as MultipartFile;
        if (file.filename) files[key] = { filename: file.filename, bytes: await file.toBuffer() };
      } else if (typeof p.value === 'string') {
        const kept = values[key];
        values[key] = kept === undefined ? p.value : [...list(kept), p.value];
      }
    }
  }
  return { values, files };
}

/** Which stored documents each row offers: an invoice is no evidence of a measure, nor the other way round. */
const EVIDENCE_KINDS: readonly string[] = ['indicator_evidence', 'other'];
const INVOICE_KINDS: readonly string[] = ['invoice', 'payment_proof', 'other'];

const kb = (bytes: number) => `${Math.max(1, Math.round(bytes / 1024))} KB`;
const documentLabel = (d: ProjectDocument, locale: Locale) =>
  `${d.filename} (${label(DOCUMENT_LABELS[locale], d.kind)}, ${kb(d.sizeBytes)})`;

function fileInput(name: string, labelText: string, hint: string, errors: FieldErrors): Html {
  const id = `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const bad = Boolean(errors[name]?.length);
  const described = [`${id}-hint`, bad ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<div class="field${bad ? ' invalid' : ''}">
    <label for="${id}">${labelText}</label><span class="hint" id="${id}-hint">${hint}</span>
    <input
      id="${id}"
      name="${name}"
      type="file"
      accept=".pdf,.odt,.docx,.p7m"
      aria-describedby="${described}"
      ${bad ? html` aria-invalid="true"` : ''}
    />${errorText(errors, name)}
  </div>`;
}

/** Checkboxes to choose stored documents for one row (its invoices, the interim report's documents). */
function documentChoices(
  name: string,
  legend: string,
  docs: readonly ProjectDocument[],
  values: Form,
  errors: FieldErrors,
  p: PageRequest,
) {
  const t = words(p.locale);
  if (!docs.length)
    return html`<p class="hint">${legend}: ${t('nessun documento ancora caricato.', 'no document uploaded yet.')}</p>
      ${errorText(errors, name)}`;
  return choices({
    name,
    legend,
    kind: 'checkbox',
    options: docs.map((d) => [d.id, documentLabel(d, p.locale)] as const),
    checked: list(values[name]),
    errors,
  });
}

/** The sentence that says where the project stands and what it waits for, from whom, by when. */
function whereItStands(view: ProjectView, locale: Locale): string {
  const t = words(locale);
  const day = (d: string | null | undefined) => (d ? formatDay(d, locale) : '—');
  const money = (c: number) => formatEuro(c, locale);
  const due = view.deadline ? day(view.deadline.dueOn) : '—';
  switch (view.state) {
    case 'in_progress':
      return t(
        `Il progetto è in realizzazione fino al ${day(view.realisationEndsOn)}. Intanto si possono inviare ` +
          `relazioni intermedie (SAL); la relazione finale si invia dopo la fine della realizzazione, entro il ` +
          `${day(view.finalReportDueOn)}.`,
        `The project is carried out until ${day(view.realisationEndsOn)}. Meanwhile interim reports (SAL) can be ` +
          `sent; the final report is sent after the realisation ends, by ${day(view.finalReportDueOn)}.`,
      );
    case 'final_report_due':
      return t(
        `La realizzazione è terminata il ${day(view.realisationEndsOn)}. La relazione finale va inviata entro il ` +
          `${due}: per ogni indicatore il valore misurato, la data e il documento che lo prova; per ogni voce di ` +
          'costo l’importo speso con le fatture. Se manca a quella data, l’agevolazione è revocata.',
        `The realisation ended on ${day(view.realisationEndsOn)}. The final report is due by ${due}: for each ` +
          'indicator the measured value, its date and the evidence; for each cost line the amount spent with its ' +
          'invoices. Missing at that date, the support is revoked.',
      );
    case 'under_verification':
      return t(
        'La relazione finale è in verifica: gli operatori accettano o riducono ogni voce di costo.',
        'The final report is being verified: the operators accept or cut each cost line.',
      );
    case 'reduction_intended':
    case 'revocation_intended': {
      const what = view.state === 'reduction_intended' ? t('ridurre', 'reduce') : t('revocare', 'revoke');
      const amount = money(view.intention?.recoveryCents ?? 0);
      return t(
        `È stata comunicata all’impresa l’intenzione di ${what} l’agevolazione (da recuperare ${amount}). ` +
          `L’impresa può inviare osservazioni entro il ${due}; poi un operatore conferma o archivia.`,
        `The company was told of the intention to ${what} the support (${amount} to recover). It may send ` +
          `observations by ${due}; then an operator confirms or drops it.`,
      );
    }
    case 'reduced':
    case 'revoked':
    case 'withdrawn': {
      const r = view.recovery;
      return t(
        `Da restituire: ${money(r?.orderedCents ?? 0)}; restituiti finora ${money(r?.repaidCents ?? 0)}.`,
        `To be repaid: ${money(r?.orderedCents ?? 0)}; repaid so far ${money(r?.repaidCents ?? 0)}.`,
      );
    }
    case 'closed': {
      const justified = money(view.verification?.money.justifiedCents ?? view.disbursedCents);
      return t(
        `Progetto chiuso: la verifica giustifica ${justified}.`,
        `Project closed: the verification justifies ${justified}.`,
      );
    }
    case 'settled':
      return t('Progetto chiuso: quanto dovuto è stato restituito.', 'Project closed: everything owed was repaid.');
  }
}

/** Facts of the funded project, its reports and, once verified, the accepted costs. */
function projectFacts(view: ProjectView, p: PageRequest): Html {
  const t = words(p.locale);
  const money = (c: number) => formatEuro(c, p.locale);
  const day = (d: string) => formatDay(d, p.locale);
  const reports = view.reports.length
    ? html`<table>
        <caption>
          ${t('Relazioni inviate', 'Reports submitted')}
        </caption>
        <thead>
          <tr>
            <th scope="col">${t('Relazione', 'Report')}</th>
            <th scope="col">${t('Inviata il', 'Submitted on')}</th>
          </tr>
        </thead>
        <tbody>
          ${view.reports.map(
            (r) =>
              html`<tr>
                <td>
                  ${
                    r.kind === 'final'
                      ? t('Relazione finale', 'Final report')
                      : `${t('Relazione intermedia', 'Interim report')} ${r.number}`
                  }
                </td>
                <td>${formatDateTime(new Date(r.submittedAt), p.locale)}</td>
              </tr>`,
          )}
        </tbody>
      </table>`
    : '';
  const verification = view.verification
    ? html`<table>
        <caption>
          ${t('Verifica delle spese', 'Verification of the costs')}
        </caption>
        <thead>
          <tr>
            <th scope="col">${t('Voce di costo', 'Cost line')}</th>
            <th scope="col" class="num">${t('Prevista', 'Planned')}</th>
            <th scope="col" class="num">${t('Spesa', 'Spent')}</th>
            <th scope="col" class="num">${t('Accettata', 'Accepted')}</th>
            <th scope="col">${t('Motivo', 'Reason')}</th>
          </tr>
        </thead>
        <tbody>
          ${view.verification.lines.map(
            (l) =>
              html`<tr>
                <td>${l.costLine}. ${l.description}</td>
                <td class="num">${money(l.plannedCents)}</td>
                <td class="num">${money(l.spentCents)}</td>
                <td class="num">${money(l.acceptedCents)}</td>
                <td>${l.reason ?? '—'}</td>
              </tr>`,
          )}
        </tbody>
      </table>`
    : '';
  const intention = view.intention
    ? html`<h3>${t('Motivi comunicati all’impresa', 'Reasons given to the company')}</h3>
        <ul>
          ${view.intention.reasons.map((r) => html`<li>${r}</li>`)}
        </ul>`
    : '';
  const badge = view.final ? 'ok' : view.state === 'final_report_due' ? 'wait' : '';
  return html`<dl class="facts">
      <dt>${t('Stato', 'State')}</dt>
      <dd><span class="badge ${badge}">${PROJECT_STATE_LABELS[p.locale][view.state]}</span></dd>
      <dt>${t('Erogati', 'Disbursed')}</dt>
      <dd>${money(view.disbursedCents)} ${t('il', 'on')} ${day(view.disbursedOn)}</dd>
      <dt>${t('Agevolazione ammessa', 'Support admitted')}</dt>
      <dd>
        ${t('contributo', 'grant')}
        ${money(view.admittedGrantCents)}${
          view.admittedSubsidyCents
            ? html` · ${t('contributo in conto interessi', 'interest subsidy')} ${money(view.admittedSubsidyCents)}`
            : ''
        }
      </dd>
      <dt>${t('Fine della realizzazione', 'Realisation ends')}</dt>
      <dd>
        ${day(view.realisationEndsOn)}${
          view.extension
            ? html` (${t('prorogata di', 'extended by')} ${view.extension.months} ${t('mesi', 'months')})`
            : ''
        }
      </dd>
      ${
        view.finalReportDueOn
          ? html`<dt>${t('Relazione finale entro il', 'Final report due by')}</dt>
              <dd>${day(view.finalReportDueOn)}</dd>`
          : ''
      }
      ${
        view.deadline?.kind === 'observations'
          ? html`<dt>${t('Osservazioni entro il', 'Observations due by')}</dt>
              <dd>${day(view.deadline.dueOn)}</dd>`
          : ''
      }
      <dt>${t('Relazioni intermedie', 'Interim reports')}</dt>
      <dd>${view.interimReports}</dd>
    </dl>
    <p>${whereItStands(view, p.locale)}</p>
    ${intention}${reports}${verification}`;
}

function indicatorHeading(view: ProjectView, k: number, locale: Locale): Html {
  const t = words(locale);
  const i = view.preProject.indicators[k]!;
  const direction =
    i.target < i.baseline
      ? t(' · minore è meglio', ' · lower is better')
      : i.target === i.baseline
        ? t(' · obiettivo uguale al valore di partenza', ' · target equals baseline')
        : '';
  return html`<p class="wide row-title" id="h-indicator-${k}">
    <strong>${t('Indicatore', 'Indicator')} ${k + 1}: ${i.name}</strong><br />
    <span class="hint"
      >${label(THEME_LABELS[locale], i.theme)} · ${t('da', 'from')} ${number(i.baseline, locale)} ${t('a', 'to')}
      ${number(i.target, locale)} ${i.unit}${direction} · ${t('metodo', 'method')}: ${i.measurementMethod}</span
    >
  </p>`;
}

function finalReportForm(
  p: PageRequest,
  applicationId: string,
  view: ProjectView,
  docs: readonly ProjectDocument[],
  attempt: ProjectAttempt | undefined,
): Html {
  const t = words(p.locale);
  const values = attempt?.form === 'finalReport' ? attempt.values : {};
  const errors = attempt?.form === 'finalReport' ? attempt.errors : {};
  const v = (k: string) => text(values[k]);
  const docOptions: (readonly [string, string])[] = [
    ['', t('— scelga un documento caricato —', '— choose an uploaded document —')],
    ...docs.filter((d) => EVIDENCE_KINDS.includes(d.kind)).map((d) => [d.id, documentLabel(d, p.locale)] as const),
  ];
  const invoices = docs.filter((d) => INVOICE_KINDS.includes(d.kind));
  const invoicesLegend = t('Fatture e quietanze', 'Invoices and receipts');
  const indicators = view.preProject.indicators.map((i, k) => {
    const f = (x: string) => `indicators.${k}.${x}`;
    return html`<div class="row-grid pairs" role="group" aria-labelledby="h-indicator-${k}">
      ${indicatorHeading(view, k, p.locale)}
      ${input({
        name: f('measured'),
        label: `${t('Valore misurato', 'Measured value')} (${i.unit})`,
        value: v(f('measured')),
        attrs: { inputmode: 'decimal' },
        required: true,
        errors,
      })}
      ${input({
        name: f('measuredOn'),
        type: 'date',
        label: t('Data della misura', 'Date measured'),
        value: v(f('measuredOn')),
        required: true,
        errors,
      })}
      ${select({
        name: f('evidence'),
        label: t('Documento che prova la misura', 'Evidence'),
        value: v(f('evidence')),
        options: docOptions,
        errors,
        className: 'wide',
      })}
      <div class="wide">
        ${fileInput(
          f('file'),
          t('Oppure carichi qui l’evidenza', 'Or upload the evidence here'),
          t('PDF, ODT, DOCX o P7M firmato.', 'PDF, ODT, DOCX or signed P7M.'),
          errors,
        )}
      </div>
    </div>`;
  });
  const costLines = view.preProject.costLines.map((c, k) => {
    const f = (x: string) => `costLines.${k}.${x}`;
    return html`<div class="row-grid pairs" role="group" aria-labelledby="h-cost-${k}">
      <p class="wide row-title" id="h-cost-${k}">
        <strong>${t('Voce di costo', 'Cost line')} ${k + 1}: ${c.description}</strong><br />
        <span class="hint"
          >${label(COST_LABELS[p.locale], c.category)} · ${t('prevista', 'planned')}
          ${formatEuro(c.amountCents, p.locale)}</span
        >
      </p>
      ${input({
        name: f('spentCents'),
        label: t('Speso, in euro', 'Spent, in euro'),
        hint: t('0 se non ha speso nulla su questa voce.', 'Give 0 if nothing was spent on this line.'),
        value: v(f('spentCents')),
        attrs: { inputmode: 'decimal' },
        required: true,
        errors,
      })}
      <div class="wide">${documentChoices(f('documents'), invoicesLegend, invoices, values, errors, p)}</div>
      <div class="wide">
        ${fileInput(
          f('file'),
          t('Carichi una fattura per questa voce', 'Upload an invoice for this line'),
          t('PDF, ODT, DOCX o P7M firmato.', 'PDF, ODT, DOCX or signed P7M.'),
          errors,
        )}
      </div>
    </div>`;
  });
  return html`<section class="card" aria-labelledby="h-final">
    <h2 id="h-final">${t('Relazione finale (rendicontazione)', 'Final report')}</h2>
    ${attempt?.form === 'finalReport' ? notice('ok', attempt.info ?? []) : ''}
    ${attempt?.form === 'finalReport' ? notice('bad', attempt.general) : ''}
    <form
      method="post"
      action="/consulente/${applicationId}/progetto/relazione-finale"
      enctype="multipart/form-data"
      novalidate
    >
      ${csrfField(p.csrf)}
      <fieldset>
        <legend>
          ${t('Indicatori di impatto del pre-progetto ammesso', 'Impact indicators of the admitted pre-project')}
        </legend>
        ${errorText(errors, 'indicators')} ${indicators}
      </fieldset>
      <fieldset>
        <legend>${t('Voci di costo', 'Cost lines')}</legend>
        ${errorText(errors, 'costLines')} ${costLines}
      </fieldset>
      ${textarea({
        name: 'narrative',
        label: t('Relazione sintetica', 'Short narrative'),
        hint: t(
          'Che cosa è stato realizzato, come sono stati misurati gli indicatori, eventuali scostamenti.',
          'What was done, how the indicators were measured, any departures from the plan.',
        ),
        value: v('narrative'),
        required: true,
        errors,
      })}
      <div class="actions">
        <button type="submit" name="action" value="submit">
          ${t('Invia la relazione finale', 'Submit the final report')}
        </button>
        <button type="submit" name="action" value="upload" class="secondary">
          ${t('Carica i file scelti e continua', 'Upload the chosen files and go on')}
        </button>
      </div>
    </form>
  </section>`;
}

function interimReportForm(
  p: PageRequest,
  applicationId: string,
  docs: readonly ProjectDocument[],
  attempt: ProjectAttempt | undefined,
): Html {
  const t = words(p.locale);
  const values = attempt?.form === 'interimReport' ? attempt.values : {};
  const errors = attempt?.form === 'interimReport' ? attempt.errors : {};
  const v = (k: string) => text(values[k]);
  return html`<section class="card" aria-labelledby="h-interim">
    <h2 id="h-interim">${t('Relazione intermedia (SAL)', 'Interim report (SAL)')}</h2>
    ${attempt?.form === 'interimReport' ? notice('bad', attempt.general) : ''}
    <form
      method="post"
      action="/consulente/${applicationId}/progetto/relazione-intermedia"
      enctype="multipart/form-data"
      novalidate
    >
      ${csrfField(p.csrf)}
      <div class="row-grid">
        ${input({
          name: 'interim.asOf',
          type: 'date',
          label: t('Situazione al', 'As of'),
          value: v('interim.asOf'),
          required: true,
          errors,
        })}
        ${input({
          name: 'interim.spentToDateCents',
          label: t('Speso finora, in euro', 'Spent to date, in euro'),
          value: v('interim.spentToDateCents'),
          attrs: { inputmode: 'decimal' },
          required: true,
          errors,
        })}
      </div>
      ${textarea({
        name: 'interim.narrative',
        label: t('Stato di avanzamento', 'Progress'),
        value: v('interim.narrative'),
        required: true,
        errors,
      })}
      ${documentChoices('interim.documents', t('Documenti allegati', 'Documents'), docs, values, errors, p)}
      ${fileInput(
        'interim.file',
        t('Carichi un documento', 'Upload a document'),
        t('Facoltativo. PDF, ODT, DOCX o P7M firmato.', 'Optional. PDF, ODT, DOCX or signed P7M.'),
        errors,
      )}
      <div class="actions">
        <button type="submit">${t('Registra la relazione intermedia', 'Record the interim report')}</button>
      </div>
    </form>
  </section>`;
}

/** A stored document by its digest, as a download link once a report names it (the register serves only those). */
function documentLink(applicationId: string, docs: readonly ProjectDocument[], sha256: string): Html {
  const d = docs.find((x) => x.sha256 === sha256);
  if (!d) return html`${sha256.slice(0, 12)}…`;
  return d.attached
    ? html`<a href="/applications/${applicationId}/documents/${d.id}">${d.filename}</a>`
    : html`${d.filename}`;
}

/** The final report as submitted: what the operators verify, and what the consultant sent. */
function reportedSection(p: PageRequest, applicationId: string, view: ProjectView, docs: readonly ProjectDocument[]) {
  const report = view.finalReport as FinalReport | null;
  if (!report) return html``;
  const t = words(p.locale);
  const money = (c: number) => formatEuro(c, p.locale);
  const links = (refs: readonly { sha256: string }[]) =>
    refs.length ? refs.map((r, i) => html`${i ? ', ' : ''}${documentLink(applicationId, docs, r.sha256)}`) : '—';
  return html`<section class="card" aria-labelledby="h-reported">
    <h2 id="h-reported">${t('Relazione finale inviata', 'The final report as submitted')}</h2>
    <table id="t-reported-indicators">
      <caption>
        ${t('Indicatori misurati', 'Indicators measured')}
      </caption>
      <thead>
        <tr>
          <th scope="col">${t('Indicatore', 'Indicator')}</th>
          <th scope="col" class="num">${t('Partenza', 'Baseline')}</th>
          <th scope="col" class="num">${t('Obiettivo', 'Target')}</th>
          <th scope="col" class="num">${t('Misurato', 'Measured')}</th>
          <th scope="col">${t('Data', 'Date')}</th>
          <th scope="col">${t('Evidenza', 'Evidence')}</th>
        </tr>
      </thead>
      <tbody>
        ${report.indicators.map((m) => {
          const planned = view.preProject.indicators[m.indicator - 1];
          return html`<tr>
            <td>${m.indicator}. ${m.name}</td>
            <td class="num">${planned ? `${number(planned.baseline, p.locale)} ${planned.unit}` : '—'}</td>
            <td class="num">${planned ? `${number(planned.target, p.locale)} ${planned.unit}` : '—'}</td>
            <td class="num">${number(m.measured, p.locale)}</td>
            <td>${formatDay(m.measuredOn, p.locale)}</td>
            <td>${links([m.evidence])}</td>
          </tr>`;
        })}
      </tbody>
    </table>
    <table id="t-reported-costs">
      <caption>
        ${t('Spese sostenute', 'Costs incurred')}
      </caption>
      <thead>
        <tr>
          <th scope="col">${t('Voce di costo', 'Cost line')}</th>
          <th scope="col" class="num">${t('Prevista', 'Planned')}</th>
          <th scope="col" class="num">${t('Spesa', 'Spent')}</th>
          <th scope="col">${t('Fatture', 'Invoices')}</th>
        </tr>
      </thead>
      <tbody>
        ${report.costLines.map((l) => {
          const planned = view.preProject.costLines[l.costLine - 1];
          return html`<tr>
            <td>${l.costLine}. ${l.description}</td>
            <td class="num">${planned ? money(planned.amountCents) : '—'}</td>
            <td class="num">${money(l.spentCents)}</td>
            <td>${links(l.documents)}</td>
          </tr>`;
        })}
      </tbody>
    </table>
    <h3>${t('Relazione sintetica', 'Short narrative')}</h3>
    <p class="narrative">${report.narrative}</p>
  </section>`;
}

/** An amount in cents as the form shows it to be edited: no grouping, the page's decimal mark. */
const euroField = (cents: number, locale: Locale) => {
  const plain = (cents / 100).toFixed(2);
  return locale === 'it' ? plain.replace('.', ',') : plain;
};

/**
 * The operator's verification: each cost line accepted in full (the amount spent, already filled in) or cut, with
 * the reason. Whether a cut has its reason, or more than was spent is accepted, is the machine's rule: its refusal
 * comes back next to the line's field.
 */
function verificationForm(
  p: PageRequest,
  applicationId: string,
  view: ProjectView,
  attempt: ProjectAttempt | undefined,
): Html {
  const t = words(p.locale);
  const report = view.finalReport as FinalReport;
  const mine = attempt?.form === 'verification';
  const values = mine ? attempt.values : {};
  const errors = mine ? attempt.errors : {};
  const lines = view.preProject.costLines.map((c, k) => {
    const f = (x: string) => `costLines.${k}.${x}`;
    const spent = report.costLines.find((l) => l.costLine === k + 1)?.spentCents ?? 0;
    return html`<div class="row-grid pairs" role="group" aria-labelledby="h-verify-${k}">
      <p class="wide row-title" id="h-verify-${k}">
        <strong>${t('Voce di costo', 'Cost line')} ${k + 1}: ${c.description}</strong><br />
        <span class="hint"
          >${t('prevista', 'planned')} ${formatEuro(c.amountCents, p.locale)} · ${t('spesa', 'spent')}
          ${formatEuro(spent, p.locale)}</span
        >
      </p>
      ${input({
        name: f('acceptedCents'),
        label: t('Accettato, in euro', 'Accepted, in euro'),
        hint: t('Lasci l’importo speso per accettarlo tutto.', 'Leave the amount spent to accept it in full.'),
        value: mine ? text(values[f('acceptedCents')]) : euroField(spent, p.locale),
        attrs: { inputmode: 'decimal' },
        required: true,
        errors,
      })}
      ${input({
        name: f('reason'),
        label: t('Motivo del taglio', 'Reason for a cut'),
        hint: t('Obbligatorio se accetta meno di quanto speso.', 'Required when less than was spent is accepted.'),
        value: text(values[f('reason')]),
        errors,
      })}
    </div>`;
  });
  return html`<section class="card" aria-labelledby="h-verify">
    <h2 id="h-verify">${t('Verifica della relazione finale', 'Verification of the final report')}</h2>
    <p>
      ${t(
        'Per ogni voce accetti l’importo speso o lo riduca con il motivo. Il sistema calcola l’agevolazione ' +
          'giustificata e, se inferiore a quanto erogato, la riduzione da comunicare all’impresa.',
        'For each line accept the amount spent or cut it with the reason. The system computes the support the ' +
          'accepted costs justify and, when less than was disbursed, the reduction the company is told of.',
      )}
    </p>
    ${mine ? notice('bad', attempt.general) : ''}
    <form method="post" action="/consulente/${applicationId}/progetto/verifica" novalidate>
      ${csrfField(p.csrf)}
      <fieldset>
        <legend>${t('Voci di costo', 'Cost lines')}</legend>
        ${errorText(errors, 'costLines')} ${lines}
      </fieldset>
      <div class="actions">
        <button type="submit">${t('Registra la verifica', 'Record the verification')}</button>
      </div>
    </form>
  </section>`;
}

/** The project's part of the application page: facts, documents, and the report form the state calls for. */
export function projectSection(
  p: PageRequest,
  applicationId: string,
  view: ProjectView,
  docs: readonly ProjectDocument[],
  attempt: ProjectAttempt | undefined,
): Html {
  const t = words(p.locale);
  const can = (c: string) => view.allowedCommands.includes(c as never);
  const documents = docs.length
    ? html`<h3>${t('Documenti del progetto', "The project's documents")}</h3>
        <ul>
          ${docs.map(
            (d) =>
              html`<li>
                ${
                  d.attached
                    ? html`<a href="/applications/${applicationId}/documents/${d.id}">${d.filename}</a>`
                    : d.filename
                }
                · ${label(DOCUMENT_LABELS[p.locale], d.kind)} ·
                ${kb(d.sizeBytes)}${
                  d.attached ? '' : html` · ${t('non ancora in una relazione', 'not yet in a report')}`
                }
              </li>`,
          )}
        </ul>`
    : '';
  return html`<section class="card" aria-labelledby="h-project">
      <h2 id="h-project">${t('Progetto finanziato', 'Funded project')}</h2>
      ${projectFacts(view, p)}${documents}
    </section>
    ${reportedSection(p, applicationId, view, docs)}
    ${can('VERIFY_REPORT') && p.user?.role === 'operator' ? verificationForm(p, applicationId, view, attempt) : ''}
    ${can('SUBMIT_FINAL_REPORT') ? finalReportForm(p, applicationId, view, docs, attempt) : ''}
    ${can('SUBMIT_INTERIM_REPORT') ? interimReportForm(p, applicationId, docs, attempt) : ''}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the forms

interface Reader {
  errors: FieldErrors;
  need(key: string, message?: string): string;
  number(key: string): number;
  day(key: string): string;
  euro(key: string): number;
}

function reader(values: Form, t: T): Reader {
  const errors: FieldErrors = {};
  const need = (key: string, message = t('Campo obbligatorio.', 'Required.')) => {
    const v = text(values[key]);
    if (!v) addError(errors, key, message);
    return v;
  };
  return {
    errors,
    need,
    number(key) {
      const v = need(key);
      const n = v ? decimal(v) : null;
      if (v && n === null) addError(errors, key, t('Un numero, come 12 o 3,5.', 'A number, such as 12 or 3.5.'));
      return n ?? 0;
    },
    day(key) {
      const v = need(key, t('Indichi la data.', 'Give the date.'));
      if (v && !isDay(v)) addError(errors, key, t('Indichi una data valida.', 'Give a valid date.'));
      return v;
    },
    euro(key) {
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
    },
  };
}

const refOf = (d: ProjectDocument) => ({
  sha256: d.sha256,
  kind: d.kind as (typeof PROJECT_DOCUMENT_KINDS)[number],
  sizeBytes: d.sizeBytes,
});

/**
 * The final report from the form, one line per indicator and cost line of the admitted pre-project, in its order.
 * `pending`: rows whose file is still to be uploaded (their evidence is not missing).
 */
export function readFinalReport(
  values: Form,
  view: ProjectView,
  docs: readonly ProjectDocument[],
  pending: ReadonlySet<string>,
  t: T,
): { report: FinalReport; errors: FieldErrors } {
  const r = reader(values, t);
  const byId = new Map(docs.map((d) => [d.id, d]));
  const chosen = (key: string) =>
    list(values[key]).flatMap((id) => {
      const d = byId.get(id);
      if (!d) addError(r.errors, key, t('Scelga uno dei documenti caricati.', 'Choose one of the uploaded documents.'));
      return d ? [d] : [];
    });
  const indicators = view.preProject.indicators.map((i, k) => {
    const p = `indicators.${k}`;
    const measured = r.number(`${p}.measured`);
    const measuredOn = r.day(`${p}.measuredOn`);
    const evidence = chosen(`${p}.evidence`)[0];
    if (!evidence && !text(values[`${p}.evidence`]) && !pending.has(`${p}.file`))
      addError(
        r.errors,
        `${p}.evidence`,
        t('Scelga o carichi il documento che prova la misura.', 'Choose or upload the evidence of the measure.'),
      );
    return { indicator: k + 1, name: i.name, measured, measuredOn, evidence: evidence ? refOf(evidence) : null };
  });
  const costLines = view.preProject.costLines.map((c, k) => {
    const p = `costLines.${k}`;
    return {
      costLine: k + 1,
      description: c.description,
      spentCents: r.euro(`${p}.spentCents`),
      documents: chosen(`${p}.documents`).map(refOf),
    };
  });
  const narrative = r.need('narrative', t('Scriva una breve relazione.', 'Write a short narrative.'));
  return { report: { narrative, indicators, costLines } as FinalReport, errors: r.errors };
}

export function readInterimReport(
  values: Form,
  docs: readonly ProjectDocument[],
  t: T,
): { report: InterimReport; errors: FieldErrors } {
  const r = reader(values, t);
  const byId = new Map(docs.map((d) => [d.id, d]));
  const ids = list(values['interim.documents']);
  if (ids.some((id) => !byId.has(id)))
    addError(
      r.errors,
      'interim.documents',
      t('Scelga uno dei documenti caricati.', 'Choose one of the uploaded documents.'),
    );
  const report = {
    asOf: r.day('interim.asOf'),
    spentToDateCents: r.euro('interim.spentToDateCents'),
    narrative: r.need('interim.narrative', t('Descriva lo stato di avanzamento.', 'Describe the progress.')),
    documents: ids.flatMap((id) => (byId.has(id) ? [refOf(byId.get(id)!)] : [])),
  };
  return { report, errors: r.errors };
}

/** The operator's verdicts from the form, one per cost line of the admitted pre-project, in its order. */
export function readVerification(
  values: Form,
  view: ProjectView,
  t: T,
): { costLines: CostLineDecision[]; errors: FieldErrors } {
  const r = reader(values, t);
  const costLines = view.preProject.costLines.map((_, k) => {
    const acceptedCents = r.euro(`costLines.${k}.acceptedCents`);
    const reason = text(values[`costLines.${k}.reason`]);
    return { costLine: k + 1, acceptedCents, ...(reason ? { reason } : {}) };
  });
  return { costLines, errors: r.errors };
}

/**
 * The route's and the machine's field paths, as the form names its inputs: a document reference's parts name the
 * row's document choice; a line's number or name (never typed) its measured value; the interim form's prefix.
 */
export function formFieldOf(form: ProjectFormName, field: string): string {
  if (form === 'verification') return field.replace(/^(costLines\.\d+)\.(costLine|spentCents)$/, '$1.acceptedCents');
  if (form === 'interimReport') {
    const top = field.replace(/^documents(\..*)?$/, 'documents');
    return `interim.${top}`;
  }
  return field
    .replace(/^(indicators\.\d+)\.(indicator|name)$/, '$1.measured')
    .replace(/^(indicators\.\d+\.evidence)\..*$/, '$1')
    .replace(/^(costLines\.\d+)\.(costLine|description)$/, '$1.spentCents')
    .replace(/^(costLines\.\d+\.documents)\..*$/, '$1');
}

// ---------------------------------------------------------------------------------------------------------------
// The forms' routes

type Render = (p: PageRequest, id: string, attempt?: ProjectAttempt, status?: number) => Promise<unknown>;

/** Multipart limits of the report forms: one file per row, many small fields. */
const REPORT_FORM_LIMITS = {
  multipartOptions: { limits: { files: 60, fields: 3_000, parts: 3_100, fieldSize: 65_536 } },
};

export function projectForms(
  app: FastifyInstance,
  deps: PagesDeps,
  guard: (req: FastifyRequest, reply: FastifyReply) => Promise<PageRequest | null>,
  render: Render,
) {
  const call = (p: PageRequest, id: string) => ({ user: p.user, req: p.req, reply: p.reply, params: { id } });

  /** Stores each chosen file through the project's upload route and chooses it in its row; refusals by the row. */
  async function upload(
    p: PageRequest,
    id: string,
    files: { field: string; target: string; many: boolean; kind: string; file: Upload }[],
    values: Form,
    errors: FieldErrors,
  ): Promise<number> {
    let stored = 0;
    for (const f of files) {
      try {
        const doc = await runRoute<{ documentId: string }>(deps, 'POST', '/applications/:id/project/documents', {
          ...call(p, id),
          body: {
            document: { kind: f.kind, filename: f.file.filename, contentBase64: f.file.bytes.toString('base64') },
          },
        });
        values[f.target] = f.many ? [...new Set([...list(values[f.target]), doc.documentId])] : doc.documentId;
        stored += 1;
      } catch (err) {
        if (!(err instanceof UserError) || err.code === 'internal') throw err;
        const explained = explain(err, p.locale);
        for (const message of [...explained.general, ...Object.values(explained.fields).flat()])
          addError(errors, f.field, message);
      }
    }
    return stored;
  }

  /** Sends the report through its route; refused, the page comes back with what was entered and why. */
  async function command(p: PageRequest, id: string, form: ProjectFormName, values: Form, url: string, body: unknown) {
    try {
      await runRoute(deps, 'POST', url, { ...call(p, id), body });
    } catch (err) {
      if (!(err instanceof UserError) || err.code === 'internal') throw err;
      const explained = explain(err, p.locale);
      const errors: FieldErrors = {};
      for (const [field, messages] of Object.entries(explained.fields))
        for (const m of messages) addError(errors, formFieldOf(form, field), m);
      // The fields may be far down a long form: the top of it says that nothing was recorded, and where to look.
      const general = explained.general.length
        ? explained.general
        : [
            words(p.locale)(
              'Nulla è stato registrato: corregga i campi indicati qui sotto.',
              'Nothing was recorded: correct the fields shown below.',
            ),
          ];
      return render(p, id, { form, values, errors, general }, statusOf(err));
    }
    return p.reply.redirect(`/consulente/${encodeURIComponent(id)}?ok=${form}`, 303);
  }

  app.post<{ Params: { id: string } }>(
    '/consulente/:id/progetto/relazione-finale',
    { preHandler: app.csrfProtection, config: REPORT_FORM_LIMITS },
    async (req, reply) => {
      const p = await guard(req, reply);
      if (!p) return reply;
      const t = words(p.locale);
      const id = req.params.id;
      const { values, files } = await multipartForm(req.body);
      const view = await runRoute<ProjectView>(deps, 'GET', '/applications/:id/project', call(p, id));
      const chosen = [
        ...view.preProject.indicators.map((_, k) => ({
          field: `indicators.${k}.file`,
          target: `indicators.${k}.evidence`,
          many: false,
          kind: 'indicator_evidence',
        })),
        ...view.preProject.costLines.map((_, k) => ({
          field: `costLines.${k}.file`,
          target: `costLines.${k}.documents`,
          many: true,
          kind: 'invoice',
        })),
      ].flatMap((f) => (files[f.field] ? [{ ...f, file: files[f.field]! }] : []));

      if (text(values.action) === 'upload') {
        if (!chosen.length)
          return render(
            p,
            id,
            {
              form: 'finalReport',
              values,
              errors: {},
              general: [t('Non ha scelto alcun file.', 'No file was chosen.')],
            },
            400,
          );
        const errors: FieldErrors = {};
        const stored = await upload(p, id, chosen, values, errors);
        const info = stored
          ? [
              t(
                `File caricati: ${stored}. Sono già scelti nelle loro righe; la relazione non è ancora inviata.`,
                `Files uploaded: ${stored}. They are chosen in their rows; the report is not submitted yet.`,
              ),
            ]
          : [];
        const failed = Object.keys(errors).length > 0;
        return render(p, id, { form: 'finalReport', values, errors, general: [], info }, failed ? 400 : 200);
      }

      const docs = await projectDocuments(deps.api.db, id);
      const first = readFinalReport(values, view, docs, new Set(chosen.map((f) => f.field)), t);
      if (Object.keys(first.errors).length) {
        // Nothing is stored from a form with a mistake: the files chosen must be chosen again.
        for (const f of chosen)
          addError(
            first.errors,
            f.field,
            t(
              `Il file ${f.file.filename} non è stato caricato: lo scelga di nuovo.`,
              `The file ${f.file.filename} was not uploaded: choose it again.`,
            ),
          );
        const general = [
          t(
            'La relazione non è stata inviata: corregga i campi indicati.',
            'The report was not submitted: correct the fields shown.',
          ),
        ];
        return render(p, id, { form: 'finalReport', values, errors: first.errors, general }, 400);
      }
      const uploadErrors: FieldErrors = {};
      await upload(p, id, chosen, values, uploadErrors);
      if (Object.keys(uploadErrors).length) {
        const general = [
          t(
            'La relazione non è stata inviata: un file non è stato accettato. ' +
              'Quelli accettati sono scelti nelle loro righe.',
            'The report was not submitted: a file was not accepted. Those accepted are chosen in their rows.',
          ),
        ];
        return render(p, id, { form: 'finalReport', values, errors: uploadErrors, general }, 400);
      }
      const { report } = readFinalReport(values, view, await projectDocuments(deps.api.db, id), new Set(), t);
      return command(p, id, 'finalReport', values, '/applications/:id/project/final-report', { report });
    },
  );

  // Verifying is the operators' part (the route's access says so too): a consultant gets the page's 403.
  app.post<{ Params: { id: string } }>(
    '/consulente/:id/progetto/verifica',
    { preHandler: app.csrfProtection },
    async (req, reply) => {
      const p = await requireUser(deps, req, reply, ['operator']);
      if (!p) return reply;
      const id = req.params.id;
      const values = { ...((req.body ?? {}) as Form) };
      const view = await runRoute<ProjectView>(deps, 'GET', '/applications/:id/project', call(p, id));
      const { costLines, errors } = readVerification(values, view, words(p.locale));
      if (Object.keys(errors).length) return render(p, id, { form: 'verification', values, errors, general: [] }, 400);
      return command(p, id, 'verification', values, '/applications/:id/project/verification', { costLines });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/consulente/:id/progetto/relazione-intermedia',
    { preHandler: app.csrfProtection, config: REPORT_FORM_LIMITS },
    async (req, reply) => {
      const p = await guard(req, reply);
      if (!p) return reply;
      const t = words(p.locale);
      const id = req.params.id;
      const { values, files } = await multipartForm(req.body);
      const file = files['interim.file'];
      const first = readInterimReport(values, await projectDocuments(deps.api.db, id), t);
      if (Object.keys(first.errors).length) {
        if (file)
          addError(
            first.errors,
            'interim.file',
            t(
              `Il file ${file.filename} non è stato caricato: lo scelga di nuovo.`,
              `The file ${file.filename} was not uploaded: choose it again.`,
            ),
          );
        return render(p, id, { form: 'interimReport', values, errors: first.errors, general: [] }, 400);
      }
      if (file) {
        const errors: FieldErrors = {};
        const one = { field: 'interim.file', target: 'interim.documents', many: true, kind: 'interim_report', file };
        await upload(p, id, [one], values, errors);
        if (Object.keys(errors).length)
          return render(p, id, { form: 'interimReport', values, errors, general: [] }, 400);
      }
      const { report } = readInterimReport(values, await projectDocuments(deps.api.db, id), t);
      return command(p, id, 'interimReport', values, '/applications/:id/project/interim-report', { report });
    },
  );
}
