import { formatEuro } from '../domain/format';
import { supportOf } from '../domain/pre-project';
import type { ApplicationState } from '../machines/application.machine';
import { stateOf } from '../machines/explain';
import type { Published } from './publish';

const day = (iso: string) => iso.slice(0, 10);
const euro = (cents: number) => formatEuro(cents, 'en');
const by = (d: Published['deadline']) => (d ? ` by ${day(d.dueAt)}` : '');

/**
 * Plain words for the Temporal UI's "current details": where the application is, what it waits for, from whom
 * (a role or an implementing body, never a person) and by when. No personal data: staff read this.
 */
export function describeState({ snapshot, deadline, lastActor }: Published): string {
  const c = snapshot.context;
  const requested = c.preProject ? supportOf(c.preProject, c.rules).totalCents : null;
  const body = c.implementingBody ?? 'the implementing body';
  const hours = `${c.verifiedMinutes / 60} of ${c.rules.minimumAccompanimentMinutes / 60} h verified`;
  const lines: Record<ApplicationState, () => string> = {
    submitted: () =>
      c.eligibility === 'eligible'
        ? `**Submitted**, eligible (${c.sizeClass ?? 'size unknown'} enterprise). Waits for an operator to assign an implementing body.`
        : `**Submitted**; eligibility ${c.eligibility}.`,
    accompaniment: () =>
      `**Accompaniment** with ${body}: ${hours} over ${c.sessionsLogged} session(s). ` +
      `Waits for ${body} to log sessions and for the company to confirm them${by(deadline)}.`,
    pre_project: () =>
      c.preProject
        ? `**Pre-project** v${c.preProjectVersion} ready (${euro(requested ?? 0)} requested). Waits for an operator to forward it to the commission${by(deadline)}.`
        : `**Pre-project** being written${c.integrationRequests ? ` (integration request #${c.integrationRequests})` : ''}. Waits for ${body} to submit it${by(deadline)}.`,
    commission: () =>
      `**Commission** evaluating pre-project v${c.forwardedVersion}, ${euro(requested ?? 0)} requested: ` +
      `${c.evaluations.filter((e) => e.version === c.forwardedVersion).length} of ${c.rules.commission.quorum} evaluations. ` +
      `Waits for the commission's members and chair${by(deadline)}.`,
    admitted: () =>
      c.budget === 'waiting'
        ? `**Admitted** for ${euro(c.admittedCents ?? 0)}; waits in the call's reserve list (position ${c.budgetPosition}) for budget to be freed.`
        : `**Admitted** for ${euro(c.admittedCents ?? 0)}, money reserved. Waits for an operator to record the disbursement${by(deadline)}.`,
    rejected: () =>
      c.eligibility === 'ineligible'
        ? `**Rejected** at submission: not eligible (${c.ineligibilityReasons.join(', ')}).`
        : '**Rejected** by the commission.',
    funded: () => `**Funded**: ${euro(c.fundedCents ?? 0)} disbursed on ${c.disbursedOn ?? '?'}.`,
    withdrawn: () =>
      `**Withdrawn**: the company renounced${lastActor ? ` (recorded by ${article(lastActor.role)})` : ''}.`,
    lapsed: () => `**Lapsed**: ${c.closingReason ?? 'a deadline passed'}.`,
  };
  return lines[stateOf(snapshot)]();
}

const article = (role: string) => (role === 'operator' || role === 'auditor' ? `an ${role}` : `the ${role}`);
