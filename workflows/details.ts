import type { ApplicationView } from './messages';

const euro = (cents: number) => `EUR ${(cents / 100).toFixed(2)}`;

/** Plain words for the Temporal UI's "current details": where the application is and what it waits for. */
export function describeState(v: ApplicationView): string {
  const f = v.facts;
  const due = v.deadline ? `\n\nDeadline (${v.deadline.kind.replace('_', ' ')}): ${v.deadline.dueAt.slice(0, 10)}` : '';
  const next = v.allowedCommands.length ? `\n\nWaiting for: ${v.allowedCommands.join(', ')}` : '';
  const lines: Record<ApplicationView['state'], string> = {
    submitted: `**Submitted** to ${v.callId} (rules v${v.rulesVersion}); eligibility ${f.eligibility}.`,
    accompaniment: `**Accompaniment** with ${f.implementingBody}: ${f.verifiedHours} of ${f.requiredHours} h verified over ${f.sessionsLogged} session(s).`,
    pre_project: `**Pre-project** ${f.preProject ? `v${f.preProject.version} "${f.preProject.title}" ready` : 'being written'}${f.integrationRequests ? ` (integration request #${f.integrationRequests})` : ''}.`,
    commission: `**Commission** evaluating pre-project v${f.preProject?.version}: grant requested ${euro(f.preProject?.grantCents ?? 0)}.`,
    admitted: `**Admitted**: ${euro(f.admittedCents ?? 0)}; waiting for disbursement.`,
    rejected: `**Rejected**${f.ineligibilityReasons.length ? ' at submission: not eligible' : ' by the commission'}.`,
    funded: `**Funded**: ${euro(f.fundedCents ?? 0)} disbursed.`,
    withdrawn: '**Withdrawn** by the company.',
    lapsed: `**Lapsed**: ${f.closingReason ?? 'a deadline passed'}.`,
  };
  return lines[v.state] + due + next;
}
