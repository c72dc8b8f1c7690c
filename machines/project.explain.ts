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
import type { ProjectCommandType, ProjectEvent } from './project.events';
import { PROJECT_COMMAND_TYPES } from './permissions';
import { refusals } from './refusals';

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

const explained = refusals({
  noun: 'project',
  where: (state) => state,
  refusedIn: false,
  guards: projectGuards,
  wording: guardRefusals,
  payloadGuards,
  commandTypes: PROJECT_COMMAND_TYPES,
});

/** Null when the machine accepts the event in this snapshot, otherwise the reason it does not. */
export const projectRefusalReason = (snapshot: ProjectSnapshot, event: ProjectEvent) =>
  explained.refusalReason(snapshot, event);

/** The commands a person could send now (payload-dependent guards aside). */
export const allowedProjectCommands = (snapshot: ProjectSnapshot): ProjectCommandType[] =>
  explained.allowedCommands(snapshot);
