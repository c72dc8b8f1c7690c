import { randomInt } from 'node:crypto';
import path from 'node:path';
import { parseRulesFile } from '../../config/calls';
import type { ApplicationForm } from '../../domain/application';
import type { CallRules } from '../../domain/rules';
import { withVatCheckDigit } from '../../domain/vat';
import type { PreProjectPayload as PreProject, SessionInput } from '../../machines/events';

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
