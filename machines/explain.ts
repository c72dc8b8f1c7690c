import type { SnapshotFrom } from 'xstate';
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
import { refusals } from './refusals';

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

const explained = refusals({
  noun: 'application',
  where: (state) => `in ${state}`,
  refusedIn: true,
  guards: applicationGuards,
  wording: guardRefusals,
  payloadGuards,
  commandTypes: COMMAND_TYPES,
});

/**
 * Null when the machine accepts the event in this snapshot, otherwise the reason it does not:
 * either the state has no such transition, or a named guard refused it.
 */
export const refusalReason = (snapshot: ApplicationSnapshot, event: ApplicationEvent) =>
  explained.refusalReason(snapshot, event);

/** The commands a person could send now (payload-dependent guards aside). */
export const allowedCommands = (snapshot: ApplicationSnapshot): CommandType[] => explained.allowedCommands(snapshot);
