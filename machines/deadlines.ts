import type { CallRules } from '../domain/rules';
import type { ApplicationState } from './application.machine';

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
  rules: CallRules['deadlines'],
  nowMs: number,
): Deadline | null {
  if (from === to) return current;
  const due = (kind: DeadlineKind, days: number): Deadline => ({ kind, dueAt: new Date(nowMs + days * DAY_MS).toISOString() });
  switch (to) {
    case 'accompaniment':
      return due('accompaniment', rules.accompanimentDays);
    case 'pre_project':
      return from === 'commission' ? due('integration_answer', rules.integrationAnswerDays) : current;
    case 'commission':
      return due('commission_decision', rules.commissionDecisionDays);
    case 'admitted':
      return due('funding', rules.fundingDays);
    default:
      return null;
  }
}
