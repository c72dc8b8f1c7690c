import { formatEuro } from '../../domain/format';
import type { ApplicationSummary, ApplicationView } from '../service/register';
import { table } from './output';

const euro = (cents: number | null | undefined) =>
  cents === null || cents === undefined ? '-' : formatEuro(cents, 'it');

/** One application for a terminal: where it is, the company, the facts that matter now, and its timeline. */
export function printView(v: ApplicationView): string {
  const f = v.facts;
  const rows: [string, string][] = [
    ['application', v.applicationId],
    [
      'company',
      `${v.company.legalName} (${v.company.vatNumber}), ${v.company.comune ?? '-'}; ${v.company.sizeClass ?? 'size ?'} enterprise`,
    ],
    ['call', `${v.callId} (rules v${v.rulesVersion})`],
    ['state', v.final ? `${v.state} (final)` : v.state],
    ['deadline', v.deadline ? `${v.deadline.kind} by ${v.deadline.dueAt.slice(0, 10)}` : '-'],
    ['themes', v.themes.join(', ') || '-'],
    [
      'implementing body',
      v.consultant ? `${v.consultant.bodyName} (${v.consultant.name})` : (v.implementingBody ?? '-'),
    ],
  ];
  if (f) {
    rows.push([
      'accompaniment',
      `${f.verifiedHours} of ${f.requiredHours} h verified, ${f.sessionsLogged} session(s) logged`,
    ]);
    rows.push([
      'pre-project',
      f.preProject
        ? `v${f.preProjectVersion} "${f.preProject.title}", grant ${euro(f.preProject.grantCents)} of ${euro(f.eligibleCostCents)}`
        : '-',
    ]);
    rows.push(['admitted', euro(f.admittedCents)], ['funded', euro(f.fundedCents)]);
    if (f.motivation) rows.push(['motivation', f.motivation]);
    if (f.closingReason) rows.push(['closing reason', f.closingReason]);
  }
  rows.push(['documents', v.documents.map((d) => `${d.kind}:${d.filename}`).join(', ') || '-']);
  rows.push(['next', v.allowedCommands.join(', ') || '(none)']);
  const timeline = v.timeline.map((t) => [
    `  ${t.at.replace('T', ' ').slice(0, 16)}`,
    t.event,
    `${t.from ?? '-'} -> ${t.to}`,
    `${t.actor} (${t.role})`,
  ]);
  return `${table(rows.map(([k, val]) => [k, val]))}\n\ntimeline\n${table(timeline)}`;
}

export function printList(items: ApplicationSummary[]): string {
  if (!items.length) return '(no applications)';
  return table(
    items.map((r) => [
      r.applicationId,
      r.state,
      r.companyName,
      r.comune ?? '-',
      r.implementingBody ?? '-',
      r.deadline ? `${r.deadline.kind} ${r.deadline.dueAt.slice(0, 10)}` : '-',
    ]),
  );
}
