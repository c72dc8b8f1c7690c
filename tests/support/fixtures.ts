import { createHash, randomInt } from 'node:crypto';
import path from 'node:path';
import { parseRulesFile } from '../../config/calls';
import type { ApplicationForm } from '../../domain/application';
import type { CallRules } from '../../domain/rules';
import { withVatCheckDigit } from '../../domain/vat';
import type {
  CommandOf,
  CommandType,
  PreProjectPayload as PreProject,
  SessionInput,
  StoredDocument,
} from '../../machines/events';
import { PEOPLE } from './people';

export const projectRoot = path.resolve(__dirname, '..', '..');

/** The real rules file of the 2023 call: tests run under the rules the programme uses. */
export const rules2023: CallRules = parseRulesFile(
  path.join(projectRoot, 'config', 'calls', 'innosocialmetro-2023.v1.json'),
);

/** A fresh, valid partita IVA, so every test's company is a different one. */
export const newVatNumber = () => withVatCheckDigit(String(randomInt(1_000_000_000, 9_999_999_999)));

export function applicationForm(
  overrides: { company?: Partial<ApplicationForm['company']> } & Partial<Omit<ApplicationForm, 'company'>> = {},
): ApplicationForm {
  const { company, ...rest } = overrides;
  return {
    callId: 'innosocialmetro-2023',
    company: {
      legalName: 'Officina Sociale Srl',
      vatNumber: newVatNumber(),
      atecoCode: '62.01',
      headcount: 7,
      turnoverCents: 85_000_000,
      balanceSheetCents: 60_000_000,
      operatingSite: { comune: 'Ivrea', address: 'Via Jervis 11' },
      legalRepresentative: { name: 'Giulia Ferraris', email: 'giulia.ferraris@example.org', locale: 'it' },
      ...company,
    },
    themes: ['employment'],
    deMinimisReceivedCents: 0,
    ...rest,
  };
}

/** YYYY-MM-DD, `days` after today (UTC is close enough: fixtures leave whole days of margin). */
export const dayFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

export const session = (
  date: string,
  start: string,
  end: string,
  topic = 'social impact assessment',
): SessionInput => ({
  date,
  start,
  end,
  topic,
  attendees: ['Giulia Ferraris'],
});

/** A complete pre-project; `eligibleCostCents` is shorthand for one cost line of that amount. */
export type PreProjectOverrides = Partial<PreProject> & { eligibleCostCents?: number };
export const preProject = ({ eligibleCostCents = 8_000_000, ...overrides }: PreProjectOverrides = {}): PreProject => ({
  title: 'Laboratorio di riuso tessile',
  summary: 'A repair and reuse workshop employing people at risk of exclusion.',
  themes: ['employment', 'environment'],
  indicators: [
    {
      name: 'Jobs for people at risk of exclusion',
      theme: 'employment',
      unit: 'FTE',
      baseline: 0,
      target: 3,
      measurementMethod: 'payroll records, yearly',
    },
  ],
  costLines: [{ description: 'Sewing and repair equipment', category: 'equipment', amountCents: eligibleCostCents }],
  grantCents: 4_000_000,
  ...overrides,
});

/** A minimal but real PDF, and a file that only pretends to be one. */
export const pdfBytes = (text = 'pre-progetto') =>
  Buffer.from(`%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
export const pdfBase64 = (text?: string) => pdfBytes(text).toString('base64');

/** The reference ATTACH_DOCUMENT carries for a document the API has stored (by default, `pdfBytes()`). */
export const storedDocument = (
  overrides: Partial<StoredDocument> = {},
  bytes: Buffer = pdfBytes(),
): StoredDocument => ({
  documentId: '0d0c0000-0000-4000-8000-000000000001',
  sha256: createHash('sha256').update(bytes).digest('hex'),
  kind: 'pre_project',
  mediaType: 'application/pdf',
  sizeBytes: bytes.length,
  ...overrides,
});

/** One command of every type, each valid at the door (machines/events.ts), sent by the people in PEOPLE. */
export const oneCommandOfEach: { [K in CommandType]: CommandOf<K> } = {
  ASSIGN_BODY: {
    type: 'ASSIGN_BODY',
    implementingBody: 'i3p',
    consultantId: PEOPLE.consultant.actor,
    effectiveOn: '2024-03-01',
  },
  LOG_SESSION: { type: 'LOG_SESSION', session: session('2024-03-05', '09:00', '13:00') },
  CONFIRM_SESSION: { type: 'CONFIRM_SESSION', date: '2024-03-05', start: '09:00', code: '123456' },
  DISPUTE_SESSION: {
    type: 'DISPUTE_SESSION',
    date: '2024-03-05',
    start: '09:00',
    link: 'WyJhcHAiLCJzZXNzaW9uIiwxLDE3MDAwMDAwMDBd.c2lnbmF0dXJl',
  },
  RESEND_SESSION_CODE: { type: 'RESEND_SESSION_CODE', date: '2024-03-05', start: '09:00' },
  ATTACH_DOCUMENT: { type: 'ATTACH_DOCUMENT', document: storedDocument() },
  COMPLETE_ACCOMPANIMENT: { type: 'COMPLETE_ACCOMPANIMENT' },
  SUBMIT_PRE_PROJECT: { type: 'SUBMIT_PRE_PROJECT', preProject: preProject() },
  FORWARD_TO_COMMISSION: { type: 'FORWARD_TO_COMMISSION' },
  DECLARE_CONFLICT: { type: 'DECLARE_CONFLICT', member: PEOPLE.members[0].actor, conflicted: false },
  SUBMIT_EVALUATION: {
    type: 'SUBMIT_EVALUATION',
    member: PEOPLE.members[0].actor,
    scores: { social_impact: 30, innovation: 15, feasibility: 20, territory: 10 },
    recommendation: 'approve',
    motivation: 'good',
  },
  APPROVE: { type: 'APPROVE', motivation: 'ok', chair: PEOPLE.chair.actor },
  REJECT: { type: 'REJECT', motivation: 'no', chair: PEOPLE.chair.actor },
  REQUEST_INTEGRATION: { type: 'REQUEST_INTEGRATION', motivation: 'more detail', chair: PEOPLE.chair.actor },
  RECORD_FUNDING: { type: 'RECORD_FUNDING', amountCents: 1, disbursedOn: '2024-06-01' },
  WITHDRAW: { type: 'WITHDRAW', reason: 'changed mind' },
};
