import type { MachineRules } from '../domain/machine-rules';
import type { ApplicationContext, ApplicationState } from './application.machine';

export type DeadlineKind = 'accompaniment' | 'integration_answer' | 'commission_decision' | 'funding';

export interface Deadline {
  kind: DeadlineKind;
  dueAt: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Which deadline runs after a transition (DOMAIN.md): accompaniment (and the pre-project it produces) within
 * N days of assignment, the answer to an integration request, the commission's decision, the disbursement.
 * Timers themselves live in the workflow; this only says what is due and when.
 */
export function deadlineAfter(
  from: ApplicationState,
  to: ApplicationState,
  current: Deadline | null,
  rules: MachineRules['deadlines'],
  nowMs: number,
  context: Pick<ApplicationContext, 'budget' | 'assignedOn'>,
): Deadline | null {
  const due = (kind: DeadlineKind, days: number, fromMs = nowMs): Deadline => ({
    kind,
    dueAt: new Date(fromMs + days * DAY_MS).toISOString(),
  });
  // The disbursement clock starts when the money is there, not while the admission waits in the reserve list.
  const fundingDue = () => (context.budget === 'reserved' ? due('funding', rules.fundingDays) : null);
  if (from === to) return to === 'admitted' && current === null ? fundingDue() : current;
  switch (to) {
    case 'accompaniment': {
      // An assignment recorded after it was decided counts from the day it was decided (at the hour recorded).
      const assignedMs = context.assignedOn ? Date.parse(context.assignedOn) + (nowMs % DAY_MS) : nowMs;
      return due('accompaniment', rules.accompanimentDays, Math.min(assignedMs, nowMs));
    }
    case 'pre_project':
      return from === 'commission' ? due('integration_answer', rules.integrationAnswerDays) : current;
    case 'commission':
      return due('commission_decision', rules.commissionDecisionDays);
    case 'admitted':
      return fundingDue();
    default:
      return null;
  }
}
