/**
 * The e-mails the company's legal representative receives, one template per state the application can enter.
 * Pure: the same (template, locale, payload) always renders the same message, with no clock and no I/O, so a
 * retried delivery sends exactly the text the first attempt would have sent.
 *
 * Templates are data: `TEMPLATES` maps a template name to one wording function per locale. Adding a state means
 * adding an entry; the shared layout (greeting, facts, motivation, footer) lives once in `render`.
 */

import { formatDate, formatEuro, LOCALES, type Locale } from '../domain/format';

export { formatDate, formatEuro, LOCALES, type Locale };

export interface RenderedMail {
  subject: string;
  text: string;
}

/** A message that cannot be rendered as stored: unknown template or locale, a missing or malformed field. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    readonly template: string,
    detail: string,
  ) {
    super(`notification template "${template}": ${detail}`);
  }
}

/** The payload, checked: what every template may use. */
export interface MailFacts {
  applicationId: string;
  callId: string;
  /** The state the application left, when the payload says. */
  from: string | null;
  event: string | null;
  deadline: { kind: string; dueAt: Date } | null;
  motivation: string | null;
  reasons: string[];
  amountCents: number | null;
  /** Who reads it: the greeting changes, the facts do not. */
  audience: Audience;
  /** The payload as stored, for templates that need more than the common facts. */
  raw: Record<string, unknown>;
}

export const AUDIENCES = ['company', 'consultant', 'operator', 'commission'] as const;
export type Audience = (typeof AUDIENCES)[number];

/** What one template says in one locale; `render` wraps it in the common layout. */
interface Wording {
  /** The new state in plain words; it ends the subject and opens the facts. */
  state: string;
  /** The opening paragraph. */
  lead: string;
  /** How an amount in the payload is labelled (grant admitted, sum disbursed). */
  amountLabel?: string;
  /** Lines of facts particular to this message, after the common ones. */
  extra?: string[];
}

type Template = Record<Locale, (f: MailFacts) => Wording>;

const STATE_WORDS: Record<string, Record<Locale, string>> = {
  submitted: { it: 'presentata', en: 'submitted' },
  accompaniment: { it: 'percorso di accompagnamento', en: 'accompaniment' },
  pre_project: { it: 'pre-progetto', en: 'pre-project' },
  commission: { it: "all'esame della Commissione di Valutazione", en: 'under review by the evaluation commission' },
  admitted: { it: 'ammessa', en: 'admitted' },
  rejected: { it: 'non ammessa', en: 'rejected' },
  funded: { it: 'agevolazione erogata', en: 'funded' },
  withdrawn: { it: 'ritirata', en: 'withdrawn' },
  lapsed: { it: 'decaduta', en: 'lapsed' },
};
const stateWords = (state: string, locale: Locale) => STATE_WORDS[state]?.[locale] ?? state.replace(/_/g, ' ');

const DEADLINE_WORDS: Record<string, Record<Locale, string>> = {
  accompaniment: { it: 'completamento del percorso di accompagnamento', en: 'completion of the accompaniment' },
  integration_answer: { it: 'risposta alla richiesta di integrazioni', en: 'answer to the integration request' },
  commission_decision: {
    it: 'decisione della Commissione di Valutazione',
    en: 'decision of the evaluation commission',
  },
  funding: { it: "erogazione dell'agevolazione", en: 'disbursement of the financial support' },
};
const deadlineWords = (kind: string, locale: Locale) => DEADLINE_WORDS[kind]?.[locale] ?? kind.replace(/_/g, ' ');

// ---------------------------------------------------------------------------------------------------------------
// The templates

export const TEMPLATES: Readonly<Record<string, Template>> = {
  'application.submitted': {
    it: (f) => ({
      state: 'domanda ricevuta',
      lead: `abbiamo ricevuto la domanda ${f.applicationId} di partecipazione al bando ${f.callId} di InnoSocialMetro. Ora ne verifichiamo l'ammissibilità; riceverà un messaggio a ogni cambio di stato.`,
    }),
    en: (f) => ({
      state: 'application received',
      lead: `we have received application ${f.applicationId} to the InnoSocialMetro call ${f.callId}. Its eligibility is now being checked; you will receive a message at every change of state.`,
    }),
  },
  'application.accompaniment': {
    it: (f) => ({
      state: 'percorso di accompagnamento avviato',
      lead: `per la domanda ${f.applicationId} è stato avviato il percorso di accompagnamento con il soggetto attuatore assegnato: almeno 8 ore in cui si definisce il progetto di innovazione e se ne valuta l'impatto sociale (pre-progetto).`,
    }),
    en: (f) => ({
      state: 'accompaniment started',
      lead: `the accompaniment of application ${f.applicationId} with the assigned implementing body has started: at least 8 hours in which the innovation project is defined and its social impact assessed (the pre-project).`,
    }),
  },
  'application.pre_project': {
    it: (f) =>
      f.from === 'commission'
        ? {
            state: 'richiesta di integrazioni',
            lead: `la Commissione di Valutazione ha chiesto integrazioni al pre-progetto della domanda ${f.applicationId}. Il pre-progetto torna in lavorazione con il soggetto attuatore e va ripresentato entro la scadenza indicata.`,
          }
        : {
            state: 'pre-progetto in preparazione',
            lead: `il percorso di accompagnamento della domanda ${f.applicationId} è concluso: il pre-progetto è in preparazione con il soggetto attuatore, che lo presenterà alla Commissione di Valutazione.`,
          },
    en: (f) =>
      f.from === 'commission'
        ? {
            state: 'integration requested',
            lead: `the evaluation commission has requested integrations to the pre-project of application ${f.applicationId}. The pre-project goes back to the implementing body and must be resubmitted by the deadline below.`,
          }
        : {
            state: 'pre-project in preparation',
            lead: `the accompaniment of application ${f.applicationId} is complete: the pre-project is being prepared with the implementing body, which will submit it to the evaluation commission.`,
          },
  },
  'application.commission': {
    it: (f) => ({
      state: "all'esame della Commissione di Valutazione",
      lead: `il pre-progetto della domanda ${f.applicationId} è stato trasmesso alla Commissione di Valutazione, che lo esamina e decide sull'ammissione all'agevolazione.`,
    }),
    en: (f) => ({
      state: 'under review by the evaluation commission',
      lead: `the pre-project of application ${f.applicationId} has been forwarded to the evaluation commission, which reviews it and decides on admission to the financial support.`,
    }),
  },
  'application.admitted': {
    it: (f) => ({
      state: "ammessa all'agevolazione",
      lead: `la Commissione di Valutazione ha validato il pre-progetto: la domanda ${f.applicationId} è ammessa all'agevolazione del bando ${f.callId}.`,
      amountLabel: 'Agevolazione concessa',
    }),
    en: (f) => ({
      state: 'admitted to financial support',
      lead: `the evaluation commission has validated the pre-project: application ${f.applicationId} is admitted to the financial support of call ${f.callId}.`,
      amountLabel: 'Support granted',
    }),
  },
  'application.rejected': {
    it: (f) => ({
      state: 'non ammessa',
      lead:
        f.from === 'submitted'
          ? `la domanda ${f.applicationId} non è ammissibile al bando ${f.callId}: l'impresa non ne soddisfa i requisiti.`
          : `la Commissione di Valutazione non ha ammesso la domanda ${f.applicationId} all'agevolazione del bando ${f.callId}.`,
    }),
    en: (f) => ({
      state: 'rejected',
      lead:
        f.from === 'submitted'
          ? `application ${f.applicationId} is not eligible for call ${f.callId}: the company does not meet its requirements.`
          : `the evaluation commission has not admitted application ${f.applicationId} to the financial support of call ${f.callId}.`,
    }),
  },
  'application.funded': {
    it: (f) => ({
      state: 'agevolazione erogata',
      lead: `l'agevolazione della domanda ${f.applicationId} è stata erogata. Il procedimento è concluso.`,
      amountLabel: 'Importo erogato',
    }),
    en: (f) => ({
      state: 'funded, financial support disbursed',
      lead: `the financial support of application ${f.applicationId} has been disbursed. The procedure is complete.`,
      amountLabel: 'Amount disbursed',
    }),
  },
  'application.withdrawn': {
    it: (f) => ({
      state: 'rinuncia registrata, domanda ritirata',
      lead: `abbiamo registrato la rinuncia dell'impresa: la domanda ${f.applicationId} è ritirata e il procedimento è chiuso.`,
    }),
    en: (f) => ({
      state: 'withdrawal recorded, application withdrawn',
      lead: `the company's withdrawal has been recorded: application ${f.applicationId} is withdrawn and the procedure is closed.`,
    }),
  },
  'session.confirmation': {
    it: (f) => {
      const s = sessionFacts(f);
      return {
        state: `conferma della sessione del ${s.date}`,
        lead: `il consulente ${s.consultant} ha registrato una sessione del percorso di accompagnamento della domanda ${f.applicationId}. Se la sessione si è svolta, la confermi con il codice qui sotto (valido una sola volta, fino al ${s.expires.it}); solo le sessioni confermate contano per le ore del percorso.`,
        extra: [`Sessione: ${s.date}, ${s.start}-${s.end}`, `Argomento: ${s.topic}`, `Codice di conferma: ${s.code}`],
      };
    },
    en: (f) => {
      const s = sessionFacts(f);
      return {
        state: `confirm the session of ${s.date}`,
        lead: `consultant ${s.consultant} logged an accompaniment session for application ${f.applicationId}. If it took place, confirm it with the code below (single use, valid until ${s.expires.en}); only confirmed sessions count towards the accompaniment hours.`,
        extra: [`Session: ${s.date}, ${s.start}-${s.end}`, `Topic: ${s.topic}`, `Confirmation code: ${s.code}`],
      };
    },
  },
  'session.confirmed': {
    it: (f) => {
      const s = confirmedFacts(f);
      return {
        state: `sessione del ${s.date} confermata`,
        lead: `l'impresa ha confermato la sessione di accompagnamento del ${s.date} (${s.start}-${s.end}, ${s.topic}) della domanda ${f.applicationId}: ora conta per le ore del percorso.`,
      };
    },
    en: (f) => {
      const s = confirmedFacts(f);
      return {
        state: `session of ${s.date} confirmed`,
        lead: `the company confirmed the accompaniment session of ${s.date} (${s.start}-${s.end}, ${s.topic}) of application ${f.applicationId}: it now counts towards the accompaniment hours.`,
      };
    },
  },
  'deadline.reminder': {
    it: (f) => {
      const d = deadlineOf(f, 'deadline.reminder');
      return {
        state: `promemoria: scadenza tra ${d.daysBefore} giorni`,
        lead: `per la domanda ${f.applicationId} si avvicina la scadenza "${deadlineWords(d.kind, 'it')}": mancano ${d.daysBefore} giorni. Se la scadenza passa senza seguito la domanda decade.`,
      };
    },
    en: (f) => {
      const d = deadlineOf(f, 'deadline.reminder');
      return {
        state: `reminder: deadline in ${d.daysBefore} days`,
        lead: `the deadline "${deadlineWords(d.kind, 'en')}" of application ${f.applicationId} is ${d.daysBefore} days away. If it passes without action the application lapses.`,
      };
    },
  },
  'deadline.escalation': {
    it: (f) => {
      const d = deadlineOf(f, 'deadline.escalation');
      return {
        state: 'scadenza superata, serve un intervento',
        lead: `la scadenza "${deadlineWords(d.kind, 'it')}" della domanda ${f.applicationId} è passata. Le regole del bando prevedono una segnalazione agli operatori anziché la decadenza: la domanda attende un intervento.`,
      };
    },
    en: (f) => {
      const d = deadlineOf(f, 'deadline.escalation');
      return {
        state: 'deadline missed, action needed',
        lead: `the deadline "${deadlineWords(d.kind, 'en')}" of application ${f.applicationId} has passed. The call's rules escalate it to the operators instead of ending the application: it waits for action.`,
      };
    },
  },
  'application.lapsed': {
    it: (f) => ({
      state: 'domanda decaduta',
      lead: `una scadenza del procedimento non è stata rispettata: la domanda ${f.applicationId} è decaduta e il procedimento è chiuso.`,
    }),
    en: (f) => ({
      state: 'application lapsed',
      lead: `a deadline of the procedure was missed: application ${f.applicationId} has lapsed and the procedure is closed.`,
    }),
  },
};

export const TEMPLATE_NAMES: readonly string[] = Object.keys(TEMPLATES);

/** A text field a particular template needs beyond the common facts. */
function requiredText(f: MailFacts, template: string, field: string): string {
  const v = f.raw[field];
  if (typeof v !== 'string' || v.trim() === '')
    throw new TemplateError(template, `required payload field "${field}" is missing`);
  return v;
}

function confirmedFacts(f: MailFacts) {
  const need = (field: string) => requiredText(f, 'session.confirmed', field);
  return { date: need('date'), start: need('start'), end: need('end'), topic: need('topic') };
}

function deadlineOf(f: MailFacts, template: string) {
  if (!f.deadline) throw new TemplateError(template, 'required payload field "deadline" is missing');
  const daysBefore = f.raw.daysBefore;
  if (typeof daysBefore !== 'number' || !Number.isInteger(daysBefore) || daysBefore < 0)
    throw new TemplateError(template, 'payload field "daysBefore" must be a whole number of days');
  return { kind: f.deadline.kind, daysBefore };
}

function sessionFacts(f: MailFacts) {
  const need = (field: string) => requiredText(f, 'session.confirmation', field);
  const expiresAt = new Date(need('expiresAt'));
  if (Number.isNaN(expiresAt.getTime()))
    throw new TemplateError('session.confirmation', 'payload field "expiresAt" must be an ISO 8601 date');
  return {
    date: need('date'),
    start: need('start'),
    end: need('end'),
    topic: need('topic'),
    consultant: need('consultant'),
    code: need('code'),
    expires: { it: formatDate(expiresAt, 'it'), en: formatDate(expiresAt, 'en') },
  };
}

const GREETINGS: Record<Audience, Record<Locale, string>> = {
  company: { it: 'Gentile legale rappresentante,', en: 'Dear legal representative,' },
  consultant: { it: 'Gentile consulente,', en: 'Dear consultant,' },
  operator: { it: 'Gentile operatore,', en: 'Dear operator,' },
  commission: {
    it: 'Gentile componente della Commissione di Valutazione,',
    en: 'Dear member of the evaluation commission,',
  },
};

const LAYOUT: Record<
  Locale,
  {
    subject: (id: string, state: string) => string;
    application: string;
    call: string;
    state: string;
    from: string;
    deadline: (what: string) => string;
    amount: string;
    motivation: string;
    reasons: string;
    footer: string;
  }
> = {
  it: {
    subject: (id, state) => `InnoSocialMetro - domanda ${id}: ${state}`,
    application: 'Domanda',
    call: 'Bando',
    state: 'Nuovo stato',
    from: 'Stato precedente',
    deadline: (what) => `Scadenza (${what})`,
    amount: 'Importo',
    motivation: 'Motivazione',
    reasons: 'Motivi',
    footer:
      'Messaggio inviato automaticamente da InnoSocialMetro (Città metropolitana di Torino, gestione Finpiemonte). ' +
      'Per informazioni si rivolga al soggetto attuatore o a Finpiemonte; non risponda a questo indirizzo.',
  },
  en: {
    subject: (id, state) => `InnoSocialMetro - application ${id}: ${state}`,
    application: 'Application',
    call: 'Call',
    state: 'New state',
    from: 'Previous state',
    deadline: (what) => `Deadline (${what})`,
    amount: 'Amount',
    motivation: 'Motivation',
    reasons: 'Reasons',
    footer:
      'This message was sent automatically by InnoSocialMetro (Città metropolitana di Torino, managed by Finpiemonte). ' +
      'For information contact your implementing body or Finpiemonte; do not reply to this address.',
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Payload checking

function checkPayload(template: string, payload: unknown): MailFacts {
  const fail = (detail: string): never => {
    throw new TemplateError(template, detail);
  };
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return fail('payload must be a JSON object');
  const p = payload as Record<string, unknown>;
  const text = (field: string, required: boolean): string | null => {
    const value = p[field];
    if (value === undefined || value === null)
      return required ? fail(`required payload field "${field}" is missing`) : null;
    if (typeof value !== 'string' || value.trim() === '')
      return fail(`payload field "${field}" must be a non-empty string`);
    return value;
  };

  const applicationId = text('applicationId', true) as string;
  const callId = text('callId', true) as string;
  const from = text('from', false);
  const to = text('to', false);
  const event = text('event', false);
  const motivation = text('motivation', false);
  if (to !== null && `application.${to}` !== template)
    fail(`payload field "to" is "${to}", which is not the state of this template`);

  let deadline: MailFacts['deadline'] = null;
  if (p.deadline !== undefined && p.deadline !== null) {
    const d = p.deadline as Record<string, unknown>;
    if (typeof d !== 'object' || Array.isArray(d)) fail('payload field "deadline" must be { kind, dueAt } or null');
    if (typeof d.kind !== 'string' || d.kind === '') fail('payload field "deadline.kind" is missing');
    const dueAt = typeof d.dueAt === 'string' ? new Date(d.dueAt) : null;
    if (!dueAt || Number.isNaN(dueAt.getTime())) fail('payload field "deadline.dueAt" must be an ISO 8601 date');
    deadline = { kind: d.kind as string, dueAt: dueAt as Date };
  }

  let reasons: string[] = [];
  if (p.reasons !== undefined && p.reasons !== null) {
    if (!Array.isArray(p.reasons)) fail('payload field "reasons" must be a list');
    // Plain strings, or the eligibility check's { code, field, message } objects.
    reasons = (p.reasons as unknown[]).map((r, i) => {
      const message =
        typeof r === 'string' ? r : r && typeof r === 'object' ? (r as { message?: unknown }).message : undefined;
      return typeof message === 'string' && message.trim() !== ''
        ? message
        : fail(`payload field "reasons[${i}]" must be a non-empty string`);
    });
  }

  let amountCents: number | null = null;
  if (p.amountCents !== undefined && p.amountCents !== null) {
    if (typeof p.amountCents !== 'number' || !Number.isSafeInteger(p.amountCents) || p.amountCents < 0) {
      fail('payload field "amountCents" must be a whole, non-negative number of euro cents');
    }
    amountCents = p.amountCents as number;
  }

  const audience = text('audience', false) ?? 'company';
  if (!(AUDIENCES as readonly string[]).includes(audience))
    fail(`payload field "audience" must be one of ${AUDIENCES.join(', ')}`);

  return {
    applicationId,
    callId,
    from,
    event,
    deadline,
    motivation,
    reasons,
    amountCents,
    audience: audience as Audience,
    raw: p,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

/**
 * Renders one outbox message. Throws `TemplateError` naming the template and the problem when the template or
 * locale is unknown or the payload lacks what the message must say: never a blank or half-filled mail.
 */
export function render(template: string, locale: Locale, payload: unknown): RenderedMail {
  const entry = Object.prototype.hasOwnProperty.call(TEMPLATES, template) ? TEMPLATES[template] : undefined;
  if (!entry) throw new TemplateError(template, `unknown template (known: ${TEMPLATE_NAMES.join(', ')})`);
  if (!(LOCALES as readonly string[]).includes(locale))
    throw new TemplateError(template, `unknown locale "${String(locale)}" (known: ${LOCALES.join(', ')})`);
  const facts = checkPayload(template, payload);
  const words = entry[locale](facts);
  const l = LAYOUT[locale];

  const lines: string[] = [GREETINGS[facts.audience][locale], '', words.lead, ''];
  lines.push(`${l.application}: ${facts.applicationId}`, `${l.call}: ${facts.callId}`, `${l.state}: ${words.state}`);
  if (facts.from) lines.push(`${l.from}: ${stateWords(facts.from, locale)}`);
  if (facts.deadline)
    lines.push(
      `${l.deadline(deadlineWords(facts.deadline.kind, locale))}: ${formatDate(facts.deadline.dueAt, locale)}`,
    );
  if (facts.amountCents !== null)
    lines.push(`${words.amountLabel ?? l.amount}: ${formatEuro(facts.amountCents, locale)}`);
  if (words.extra) lines.push(...words.extra);
  if (facts.motivation) lines.push('', `${l.motivation}:`, facts.motivation.trim());
  if (facts.reasons.length > 0) lines.push('', `${l.reasons}:`, ...facts.reasons.map((r) => `- ${r.trim()}`));
  lines.push('', '-- ', l.footer, '');

  return { subject: l.subject(facts.applicationId, words.state), text: lines.join('\n') };
}

/** Narrows a stored locale column; anything else is a `TemplateError` of that template. */
export function asLocale(template: string, locale: string): Locale {
  if ((LOCALES as readonly string[]).includes(locale)) return locale as Locale;
  throw new TemplateError(template, `unknown locale "${locale}" (known: ${LOCALES.join(', ')})`);
}
