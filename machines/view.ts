import { supportOf } from '../domain/pre-project';
import { eligibleCostOf } from '../domain/pre-project';
import type { ApplicationContext } from './application.machine';

/**
 * What people read of an application's machine state: its context without the rules it runs under (those are the
 * call's, shown elsewhere), plus the figures derived from it. Derived, not copied: a field added to the context
 * appears here by itself.
 */
export type ApplicationFacts = Omit<ApplicationContext, 'rules' | 'applicationId' | 'callId' | 'rulesVersion'> & {
  verifiedHours: number;
  requiredHours: number;
  eligibleCostCents: number | null;
  requestedCents: number | null;
};

export function factsOf(context: ApplicationContext): ApplicationFacts {
  const { rules, applicationId: _id, callId: _call, rulesVersion: _version, ...facts } = context;
  return {
    ...facts,
    verifiedHours: context.verifiedMinutes / 60,
    requiredHours: rules.minimumAccompanimentMinutes / 60,
    eligibleCostCents: context.preProject ? eligibleCostOf(context.preProject) : null,
    requestedCents: context.preProject ? supportOf(context.preProject, rules).totalCents : null,
  };
}
