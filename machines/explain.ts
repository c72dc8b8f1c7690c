import type { SnapshotFrom } from 'xstate';
import {
  applicationGuards,
  applicationMachine,
  evaluationProblems,
  preProjectProblems,
  type ApplicationContext,
  type ApplicationState,
} from './application.machine';
import { COMMAND_TYPES, type ApplicationEvent, type CommandType } from './events';

export type ApplicationSnapshot = SnapshotFrom<typeof applicationMachine>;
type GuardName = keyof typeof applicationGuards;

export const stateOf = (snapshot: ApplicationSnapshot) => snapshot.value as ApplicationState;

const hours = (minutes: number) => `${(minutes / 60).toFixed(minutes % 60 === 0 ? 0 : 2)} h`;

/** Why each guard says no, in words an operator can act on. */
const guardRefusals: Record<GuardName, (context: ApplicationContext, event: ApplicationEvent) => string> = {
  hasMinimumHours: (c) =>
    `verified accompaniment hours are ${hours(c.verifiedMinutes)}, the rules require at least ${hours(c.rules.minimumAccompanimentMinutes)}` +
    (c.discardedSessions.length ? ` (not counted: ${c.discardedSessions.join('; ')})` : ''),
  isPreProjectAdmissible: (c, e) =>
    e.type === 'SUBMIT_PRE_PROJECT'
      ? preProjectProblems(e.preProject, c.rules, c.deMinimisRoomCents).join('; ')
      : 'not a pre-project',
  hasNewPreProject: (c) =>
    c.preProject === null
      ? 'no pre-project has been submitted yet (send SUBMIT_PRE_PROJECT first)'
      : `the commission already has pre-project v${c.forwardedVersion}: submit a revised version first (SUBMIT_PRE_PROJECT)`,
  isEligibilityConfirmed: (c) =>
    c.eligibility === 'pending' ? 'eligibility is still being assessed' : 'the company is not eligible',
  isEligibilityPending: () => 'eligibility has already been assessed',
  mayDeclareConflict: (c, e) =>
    e.type === 'DECLARE_CONFLICT'
      ? `${e.member} has already evaluated pre-project v${c.preProjectVersion}: the declaration stands`
      : 'not a declaration',
  isEvaluationAdmissible: (c, e) =>
    e.type === 'SUBMIT_EVALUATION' ? (evaluationProblems(c, e) ?? 'not admissible') : 'not an evaluation',
  quorumApproves: () => 'the quorum has not approved',
  quorumRejects: () => 'the quorum has not rejected',
  quorumAsksIntegration: () => 'the quorum has not asked for integration',
  isFundingWithinAdmitted: (c, e) =>
    c.budget !== 'reserved'
      ? `the call's budget is exhausted: the admission waits in the reserve list${c.budgetPosition ? ` at position ${c.budgetPosition}` : ''}`
      : e.type === 'RECORD_FUNDING'
        ? `funding of ${e.amountCents} cents exceeds the admitted amount of ${c.admittedCents ?? 0} cents`
        : 'not a funding record',
};

/** Guards that read the event's payload: without a payload we cannot tell, so they count as "possible". */
const payloadGuards = new Set<GuardName>([
  'isPreProjectAdmissible',
  'isFundingWithinAdmitted',
  'mayDeclareConflict',
  'isEvaluationAdmissible',
]);

interface TransitionLike {
  guard?: { type: string } | string;
  target?: unknown;
  actions: readonly unknown[];
}

function candidateTransitions(snapshot: ApplicationSnapshot, type: string): TransitionLike[] {
  const node = applicationMachine.root.states[stateOf(snapshot)];
  return (node?.on as unknown as Record<string, TransitionLike[]> | undefined)?.[type] ?? [];
}

const guardName = (t: TransitionLike) =>
  (typeof t.guard === 'string' ? t.guard : t.guard?.type) as GuardName | undefined;

/**
 * Null when the machine accepts the event in this snapshot, otherwise the reason it does not:
 * either the state has no such transition, or a named guard refused it.
 */
export function refusalReason(snapshot: ApplicationSnapshot, event: ApplicationEvent): string | null {
  const state = stateOf(snapshot);
  if (snapshot.status !== 'active') return `the application is ${state}, a final state: no further events are accepted`;
  if (snapshot.can(event)) return null;
  const transitions = candidateTransitions(snapshot, event.type);
  if (transitions.length === 0) {
    const allowed = allowedCommands(snapshot);
    return `${event.type} is not possible while the application is in ${state}; possible now: ${allowed.join(', ') || 'none'}`;
  }
  const reasons = transitions
    .map(guardName)
    .filter((g): g is GuardName => g !== undefined)
    .map((g) => guardRefusals[g](snapshot.context, event));
  return `${event.type} refused in ${state}: ${reasons.join('; ') || 'not allowed'}`;
}

/** The commands a person could send now (payload-dependent guards aside). */
export function allowedCommands(snapshot: ApplicationSnapshot): CommandType[] {
  if (snapshot.status !== 'active') return [];
  return COMMAND_TYPES.filter((type) =>
    candidateTransitions(snapshot, type).some((t) => {
      const g = guardName(t);
      if (!g || payloadGuards.has(g)) return true;
      return applicationGuards[g]({ context: snapshot.context, event: { type } as ApplicationEvent });
    }),
  );
}
