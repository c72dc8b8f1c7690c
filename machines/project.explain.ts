import type { SnapshotFrom } from 'xstate';
import { euro } from '../domain/subsidy';
import {
  extensionProblem,
  finalReportProblems,
  interimReportProblems,
  outstandingCents,
  projectGuards,
  projectMachine,
  repaymentProblem,
  verificationProblems,
  type ProjectContext,
  type ProjectState,
} from './project.machine';
import { PROJECT_COMMAND_TYPES, type ProjectCommandType, type ProjectEvent } from './project.events';

export type ProjectSnapshot = SnapshotFrom<typeof projectMachine>;
type GuardName = keyof typeof projectGuards;

export const projectStateOf = (snapshot: ProjectSnapshot) => snapshot.value as ProjectState;

const verificationRefusal = (c: ProjectContext, e: ProjectEvent) =>
  e.type === 'VERIFY_REPORT' ? verificationProblems(c, e.costLines).join('; ') : 'not a verification';
const repaymentRefusal = (c: ProjectContext, e: ProjectEvent) =>
  e.type === 'RECORD_REPAYMENT'
    ? (repaymentProblem(c, e) ?? `the ${euro(outstandingCents(c))} outstanding is not settled by this repayment`)
    : 'not a repayment';
const cameFrom = (c: ProjectContext) => `the revocation was started from ${c.intention?.from ?? 'nowhere'}`;

/** Why each guard says no, in words an operator can act on. */
const guardRefusals: Record<GuardName, (context: ProjectContext, event: ProjectEvent) => string> = {
  isInterimReportAdmissible: (c, e) =>
    e.type === 'SUBMIT_INTERIM_REPORT' ? interimReportProblems(e.report, c).join('; ') : 'not an interim report',
  mayExtendRealisation: (c, e) =>
    e.type === 'EXTEND_REALISATION' ? (extensionProblem(c, e.months) ?? 'not allowed') : 'not an extension',
  isFinalReportComplete: (c, e) =>
    e.type === 'SUBMIT_FINAL_REPORT' ? finalReportProblems(e.report, c).join('; ') : 'not a final report',
  verificationJustifiesDisbursement: verificationRefusal,
  verificationCallsForReduction: verificationRefusal,
  isObservationPeriodOver: (c) =>
    `the company's observations period (${c.rules.postAward.observationDays} days from the notice) has not ended yet` +
    (c.intention?.observations.length
      ? ` (${c.intention.observations.length} observation(s) received so far): the decision waits for it to end`
      : ': the decision waits for it to end'),
  revocationCameFromProgress: cameFrom,
  revocationCameFromReportDue: cameFrom,
  revocationCameFromVerification: cameFrom,
  repaymentSettlesOutstanding: repaymentRefusal,
  isRepaymentWithinOutstanding: repaymentRefusal,
};

/** Guards that read the event's payload: without a payload we cannot tell, so they count as "possible". */
const payloadGuards = new Set<GuardName>([
  'isInterimReportAdmissible',
  'mayExtendRealisation',
  'isFinalReportComplete',
  'verificationJustifiesDisbursement',
  'verificationCallsForReduction',
  'repaymentSettlesOutstanding',
  'isRepaymentWithinOutstanding',
]);

interface TransitionLike {
  guard?: { type: string } | string;
}

function candidateTransitions(snapshot: ProjectSnapshot, type: string): TransitionLike[] {
  const node = projectMachine.root.states[projectStateOf(snapshot)];
  return (node?.on as unknown as Record<string, TransitionLike[]> | undefined)?.[type] ?? [];
}

const guardName = (t: TransitionLike) =>
  (typeof t.guard === 'string' ? t.guard : t.guard?.type) as GuardName | undefined;

/**
 * Null when the machine accepts the event in this snapshot, otherwise the reason it does not: the state has no such
 * transition, or named guards refused it (each distinct reason once: several guards may share one).
 */
export function projectRefusalReason(snapshot: ProjectSnapshot, event: ProjectEvent): string | null {
  const state = projectStateOf(snapshot);
  if (snapshot.status !== 'active') return `the project is ${state}, a final state: no further events are accepted`;
  if (snapshot.can(event)) return null;
  const transitions = candidateTransitions(snapshot, event.type);
  if (transitions.length === 0) {
    const allowed = allowedProjectCommands(snapshot);
    return `${event.type} is not possible while the project is ${state}; possible now: ${allowed.join(', ') || 'none'}`;
  }
  const reasons = new Set(
    transitions
      .map(guardName)
      .filter((g): g is GuardName => g !== undefined)
      .map((g) => guardRefusals[g](snapshot.context, event)),
  );
  return `${event.type} refused while the project is ${state}: ${[...reasons].join('; ') || 'not allowed'}`;
}

/** The commands a person could send now (payload-dependent guards aside). */
export function allowedProjectCommands(snapshot: ProjectSnapshot): ProjectCommandType[] {
  if (snapshot.status !== 'active') return [];
  return PROJECT_COMMAND_TYPES.filter((type) =>
    candidateTransitions(snapshot, type).some((t) => {
      const g = guardName(t);
      if (!g || payloadGuards.has(g)) return true;
      return projectGuards[g]({ context: snapshot.context, event: { type } as ProjectEvent });
    }),
  );
}
