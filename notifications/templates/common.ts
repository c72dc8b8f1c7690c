import { z } from 'zod';
import { formatDate, type Locale } from '../../domain/format';
import { APPLICATION_STATES, type ApplicationState } from '../../machines/application.machine';
import type { DeadlineKind } from '../../machines/deadlines';
import { ROLES } from '../../domain/roles';

export { LOCALES, type Locale } from '../../domain/format';

/** Who a message is written for: the greeting and some sentences change, the facts do not. */
export const AUDIENCES = ['company', 'consultant', 'operator', 'commission'] as const;
export type Audience = (typeof AUDIENCES)[number];

/** A message that cannot be rendered as stored: unknown template or locale, a payload its schema refuses. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    readonly template: string,
    detail: string,
  ) {
    super(`notification template "${template}": ${detail}`);
  }
}

/** What a template says, before it is laid out as plain text and as HTML (see layout.ts). */
export interface Message {
  subject: string;
  heading: string;
  greeting: string;
  paragraphs: string[];
  /** The one thing to click, shown as a button; `note` follows it. */
  action?: { label: string; href: string; note?: string };
  facts: Fact[];
  /** Longer quoted parts after the facts: a motivation, a list of reasons. */
  sections?: { title: string; text?: string; items?: string[] }[];
}
export type Fact = [label: string, value: string];

export interface TemplateSpec<S extends z.ZodType<Record<string, unknown>>> {
  schema: S;
  /** Payload fields that must not outlive delivery (codes, links): the dispatcher removes them once sent. */
  secret: readonly (keyof z.output<S> & string)[];
  /** Both languages, always: a company reads every message in its own. */
  words: Record<Locale, (payload: z.output<S>) => Message>;
}

/** What the outbox needs of any template, whatever its payload's type. */
export interface AnyTemplate {
  schema: z.ZodType<Record<string, unknown>>;
  secret: readonly string[];
  /** Parses the payload with the template's schema (throws `z.ZodError`) and words it. */
  write(locale: Locale, payload: unknown): Message;
}

export function defineTemplate<S extends z.ZodType<Record<string, unknown>>>(spec: TemplateSpec<S>) {
  return { ...spec, write: (locale: Locale, payload: unknown) => spec.words[locale](spec.schema.parse(payload)) };
}

// ---------------------------------------------------------------------------------------------------------------
// Payload fields shared by the families

export const applicationStateSchema = z.enum(APPLICATION_STATES);
export const audienceSchema = z.enum(AUDIENCES);
export const roleSchema = z.enum(ROLES);
export const nameSchema = z.string().min(1).max(200);
export const instantSchema = z.iso.datetime({ offset: true });
/** http(s) only: the link is written into an href. */
export const linkSchema = z.url({ protocol: /^https?$/ });
export const sessionTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM');

const DEADLINE_KINDS = [
  'accompaniment',
  'integration_answer',
  'commission_decision',
  'funding',
] as const satisfies readonly DeadlineKind[];
export const deadlineSchema = z.strictObject({ kind: z.enum(DEADLINE_KINDS), dueAt: instantSchema });
export type DeadlinePayload = z.output<typeof deadlineSchema>;

export const ids = { applicationId: z.string().min(1), callId: z.string().min(1) };

// ---------------------------------------------------------------------------------------------------------------
// Words

const STATE_WORDS: Record<ApplicationState, Record<Locale, string>> = {
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
export const stateWords = (state: ApplicationState, locale: Locale) => STATE_WORDS[state][locale];

const DEADLINE_WORDS: Record<DeadlineKind, Record<Locale, string>> = {
  accompaniment: { it: 'completamento del percorso di accompagnamento', en: 'completion of the accompaniment' },
  integration_answer: { it: 'risposta alla richiesta di integrazioni', en: 'answer to the integration request' },
  commission_decision: {
    it: 'decisione della Commissione di Valutazione',
    en: 'decision of the evaluation commission',
  },
  funding: { it: "erogazione dell'agevolazione", en: 'disbursement of the financial support' },
};
export const deadlineWords = (kind: DeadlineKind, locale: Locale) => DEADLINE_WORDS[kind][locale];

export const LABELS: Record<
  Locale,
  {
    application: string;
    call: string;
    company: string;
    body: string;
    consultant: string;
    state: string;
    from: string;
    current: string;
    deadline: (what: string) => string;
    amount: string;
    motivation: string;
    reasons: string;
  }
> = {
  it: {
    application: 'Domanda',
    call: 'Bando',
    company: 'Impresa',
    body: 'Soggetto attuatore',
    consultant: 'Consulente',
    state: 'Nuovo stato',
    from: 'Stato precedente',
    current: 'Stato attuale',
    deadline: (what) => `Scadenza (${what})`,
    amount: 'Importo',
    motivation: 'Motivazione',
    reasons: 'Motivi',
  },
  en: {
    application: 'Application',
    call: 'Call',
    company: 'Company',
    body: 'Implementing body',
    consultant: 'Consultant',
    state: 'New state',
    from: 'Previous state',
    current: 'Current state',
    deadline: (what) => `Deadline (${what})`,
    amount: 'Amount',
    motivation: 'Motivation',
    reasons: 'Reasons',
  },
};

export const deadlineFact = (d: DeadlinePayload, locale: Locale): Fact => [
  LABELS[locale].deadline(deadlineWords(d.kind, locale)),
  formatDate(new Date(d.dueAt), locale),
];

const ROLE_GREETINGS: Record<Audience | 'user', Record<Locale, string>> = {
  company: { it: 'Gentile legale rappresentante,', en: 'Dear legal representative,' },
  consultant: { it: 'Gentile consulente,', en: 'Dear consultant,' },
  operator: { it: 'Gentile operatore,', en: 'Dear operator,' },
  commission: {
    it: 'Gentile componente della Commissione di Valutazione,',
    en: 'Dear member of the evaluation commission,',
  },
  user: { it: 'Gentile utente,', en: 'Dear user,' },
};

/** The person by name when one is meant; otherwise the role they read as. */
export function greeting(locale: Locale, name: string | null, role: Audience | 'user'): string {
  if (name === null) return ROLE_GREETINGS[role][locale];
  return locale === 'it' ? `Gentile ${name},` : `Dear ${name},`;
}

/** "Marco Bianchi di SocialFare impresa sociale srl": a person and their body, never an address. */
export function consultantWords(locale: Locale, consultantName: string | null, bodyName: string | null): string {
  if (consultantName && bodyName) return `${consultantName} ${locale === 'it' ? 'di' : 'of'} ${bodyName}`;
  return (
    consultantName ??
    bodyName ??
    (locale === 'it' ? 'il soggetto attuatore assegnato' : 'the assigned implementing body')
  );
}

/** 8 -> "8 ore", 7.5 -> "7,5 ore", 1 -> "1 hour". */
export function hoursWords(hours: number, locale: Locale): string {
  const n = locale === 'it' ? String(hours).replace('.', ',') : String(hours);
  if (locale === 'it') return `${n} ${hours === 1 ? 'ora' : 'ore'}`;
  return `${n} ${hours === 1 ? 'hour' : 'hours'}`;
}

export const daysWords = (days: number, locale: Locale) =>
  locale === 'it' ? `${days} ${days === 1 ? 'giorno' : 'giorni'}` : `${days} ${days === 1 ? 'day' : 'days'}`;

export const applicationSubject = (locale: Locale, applicationId: string, what: string) =>
  locale === 'it'
    ? `InnoSocialMetro - domanda ${applicationId}: ${what}`
    : `InnoSocialMetro - application ${applicationId}: ${what}`;
