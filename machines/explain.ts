import { getNextTransitions, type SnapshotFrom } from 'xstate';
import { preProjectProblems } from '../domain/pre-project';
import {
  applicationGuards,
  applicationMachine,
  declarationProblem,
  evaluationProblems,
  type ApplicationContext,
  type ApplicationState,
} from './application.machine';
import type { ApplicationEvent, CommandType } from './events';
import { COMMAND_TYPES } from './permissions';

export type ApplicationSnapshot = SnapshotFrom<typeof applicationMachine>;
type GuardName = keyof typeof applicationGuards;

export const stateOf = (snapshot: ApplicationSnapshot) => snapshot.value as ApplicationState;

const hours = (minutes: number) => `${(minutes / 60).toFixed(minutes % 60 === 0 ? 0 : 2)} h`;

/** Why each guard says no, in words an operator can act on. */
const guardRefusals: Record<GuardName, (context: ApplicationContext, event: ApplicationEvent) => string> = {
  hasMinimumHours: (c) =>
    `verified accompaniment hours are ${hours(c.verifiedMinutes)}, the rules require at least ` +
    `${hours(c.rules.minimumAccompanimentMinutes)}` +
    (c.discardedSessions.length ? ` (not counted: ${c.discardedSessions.join('; ')})` : ''),
  isAssignmentEffective: (c, e) =>
    e.type === 'ASSIGN_BODY'
      ? `the assignment cannot take effect on ${e.effectiveOn}, before the application was submitted on ${c.submittedOn}`
      : 'not an assignment',
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
  mayDeclareConflict: (c, e) => declarationProblem(c, e) ?? 'not a declaration',
  isEvaluationAdmissible: (c, e) => evaluationProblems(c, e) ?? 'not admissible',
  isDeciderFreeOfConflict: () => 'you declared a conflict of interest on this application and cannot decide it',
  quorumApproves: () => 'the quorum has not approved',
  quorumRejects: () => 'the quorum has not rejected',
  quorumAsksIntegration: () => 'the quorum has not asked for integration',
  isFundingWithinAdmitted: (c, e) =>
    c.budget !== 'reserved'
      ? `the call's budget is exhausted: the admission waits in the reserve list` +
        (c.budgetPosition ? ` at position ${c.budgetPosition}` : '')
      : e.type === 'RECORD_FUNDING'
        ? `funding of ${e.amountCents} cents exceeds the admitted amount of ${c.admittedCents ?? 0} cents`
        : 'not a funding record',
};

/** Guards that read the event's payload: without a payload we cannot tell, so they count as "possible". */
const payloadGuards = new Set<GuardName>([
  'isAssignmentEffective',
  'isPreProjectAdmissible',
  'isFundingWithinAdmitted',
  'mayDeclareConflict',
  'isEvaluationAdmissible',
  'isDeciderFreeOfConflict',
]);

type GuardRef = string | { type: string } | { guards: readonly GuardRef[] } | undefined;

/** The named guards of a transition, composite guards (`and`) flattened. */
function guardNames(guard: GuardRef): GuardName[] {
  if (!guard) return [];
  if (typeof guard === 'string') return [guard as GuardName];
  if ('guards' in guard) return guard.guards.flatMap(guardNames);
  return [guard.type as GuardName];
}

const transitionsFor = (snapshot: ApplicationSnapshot, type: string) =>
  getNextTransitions(snapshot).filter((t) => t.eventType === type);

/**
 * Null when the machine accepts the event in this snapshot, otherwise the reason it does not:
 * either the state has no such transition, or a named guard refused it.
 */
export function refusalReason(snapshot: ApplicationSnapshot, event: ApplicationEvent): string | null {
  const state = stateOf(snapshot);
  if (snapshot.status !== 'active') return `the application is ${state}, a final state: no further events are accepted`;
  if (snapshot.can(event)) return null;
  const transitions = transitionsFor(snapshot, event.type);
  if (transitions.length === 0) {
    const allowed = allowedCommands(snapshot);
    return `${event.type} is not possible while the application is in ${state}; possible now: ${allowed.join(', ') || 'none'}`;
  }
  const args = { context: snapshot.context, event };
  const reasons = transitions
    .flatMap((t) => guardNames(t.guard as GuardRef))
    .filter((g) => !applicationGuards[g](args))
    .map((g) => guardRefusals[g](snapshot.context, event));
  return `${event.type} refused in ${state}: ${reasons.join('; ') || 'not allowed'}`;
}

/** The commands a person could send now (payload-dependent guards aside). */
export function allowedCommands(snapshot: ApplicationSnapshot): CommandType[] {
  if (snapshot.status !== 'active') return [];
  const possible = new Set(
    getNextTransitions(snapshot)
      .filter((t) =>
        guardNames(t.guard as GuardRef).every(
          (g) =>
            payloadGuards.has(g) ||
            applicationGuards[g]({ context: snapshot.context, event: { type: t.eventType } as ApplicationEvent }),
        ),
      )
      .map((t) => t.eventType),
  );
  return COMMAND_TYPES.filter((type) => possible.has(type));
}
