import { centsToDecimal } from '../../domain/format';
import type { ApplicationSummary } from './register';

const quote = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  // A leading = + - @ would be a formula in a spreadsheet: neutralise it.
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** RFC 4180 CSV, formulas neutralised. */
export const toCsv = (header: string[], rows: unknown[][]) =>
  [header, ...rows].map((r) => r.map(quote).join(',')).join('\n') + '\n';

const euro = (cents: number | null) => (cents === null ? '' : centsToDecimal(cents));

/** The register as CSV: the company's legal name and comune, never its people. */
export function exportCsv(rows: ApplicationSummary[]): string {
  return toCsv(
    [
      'application_id',
      'call_id',
      'state',
      'company',
      'comune',
      'implementing_body',
      'themes',
      'requested_eur',
      'admitted_eur',
      'funded_eur',
      'deadline',
      'deadline_at',
      'submitted_at',
      'closed_at',
    ],
    rows.map((r) => [
      r.applicationId,
      r.callId,
      r.state,
      r.companyName,
      r.comune ?? '',
      r.implementingBody ?? '',
      r.themes.join(';'),
      euro(r.requestedCents),
      euro(r.admittedCents),
      euro(r.fundedCents),
      r.deadline?.kind ?? '',
      r.deadline?.dueAt ?? '',
      r.submittedAt,
      r.closedAt ?? '',
    ]),
  );
}
