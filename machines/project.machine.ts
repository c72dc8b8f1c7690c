import { assign, setup, type StateValueFrom } from 'xstate';
import type { ProjectRules } from '../domain/machine-rules';
import { euro } from '../domain/subsidy';
import { verifiedSupport, type VerificationOutcome } from '../domain/verification';
import type { PreProject } from '../domain/pre-project';
import type { CostLineDecision, FinalReport, InterimReport, Observations, ProjectEvent } from './project.events';
import { projectEffects } from './project.effects';

/**
 * What the project's workflow hands the machine when an application is funded: the forwarded pre-project (its
 * indicators and cost lines are what the final report must account for), the money admitted and disbursed, and
 * the post-award part of the rules the application was pinned to.
 */
export interface ProjectMachineInput {
  applicationId: string;
  callId: string;
  rulesVersion: number;
  rules: ProjectRules;
  /** The version the commission admitted; its indicators and cost lines are the report's checklist. */
  preProject: PreProject;
  preProjectVersion: number;
  admittedGrantCents: number;
  admittedSubsidyCents: number;
  /** What was actually paid (it may be less than admitted): the most that can ever be recovered. */
  disbursedCents: number;
  disbursedOn: string;
}

export type IntentionKind = 'reduction' | 'revocation';
/** Why a reduction or revocation is intended: the verified costs, the report never sent, or the project not done. */
export type IntentionCause = 'verification' | 'missing_report' | 'not_carried_out';
/** Where a dropped revocation goes back to. */
export type RevocationOrigin = 'in_progress' | 'final_report_due' | 'under_verification';
export type RecoveryKind = 'reduction' | 'revocation' | 'withdrawal';
export type ProjectOutcome = 'closed' | 'reduced' | 'revoked' | 'withdrawn';

export interface ReceivedObservations extends Observations {
  /**
   * Received after the observations period ended: kept, but the operator was free to decide without them. Judged by
   * the day they were received, not the day they were recorded: observations sent in time count even if typed in late.
   */
  late: boolean;
}

/**
 * A reduction or revocation announced to the company with its reasons and amount (law 241/1990, art. 10-bis): it
 * takes effect only when an operator confirms it, after the observations period.
 */
export interface Intention {
  kind: IntentionKind;
  cause: IntentionCause;
  from: RevocationOrigin;
  reasons: string[];
  recoveryCents: number;
  observations: ReceivedObservations[];
  /** The last day of the observations period, once it has ended (the workflow's timer says so); null before. */
  periodEndedOn: string | null;
}

export interface PastIntention {
  kind: IntentionKind;
  cause: IntentionCause;
  reasons: string[];
  recoveryCents: number;
  observationsReceived: number;
  outcome: 'confirmed' | 'dropped' | 'overtaken_by_withdrawal';
  motivation: string;
}

export interface CostLineVerification {
  costLine: number;
  description: string;
  plannedCents: number;
  spentCents: number;
  acceptedCents: number;
  reason: string | null;
}

export interface Verification {
  lines: CostLineVerification[];
  money: VerificationOutcome;
}

export interface Repayment {
  amountCents: number;
  repaidOn: string;
}

export interface Recovery {
  kind: RecoveryKind;
  orderedCents: number;
  repaidCents: number;
  repayments: Repayment[];
}

export interface ProjectContext extends ProjectMachineInput {
  extension: { months: number; reason: string } | null;
  interimReports: number;
  realisationEndedOn: string | null;
  /** The final report deadline that passed without a report, when that is why a revocation was intended. */
  reportMissedOn: string | null;
  finalReport: FinalReport | null;
  verification: Verification | null;
  intention: Intention | null;
  pastIntentions: PastIntention[];
  recovery: Recovery | null;
  outcome: ProjectOutcome | null;
  closingReason: string | null;
}

type Of<T extends ProjectEvent['type']> = Extract<ProjectEvent, { type: T }>;
type GuardArgs = { context: ProjectContext; event: ProjectEvent };

export const outstandingCents = (c: Pick<ProjectContext, 'recovery'>) =>
  c.recovery ? c.recovery.orderedCents - c.recovery.repaidCents : 0;

const sameName = (a: string, b: string) =>
  a.trim().replace(/\s+/g, ' ').toLowerCase() === b.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * Problems of a list that must name every line of the pre-project exactly once, by position (from 1), and nothing
 * else. `names` are the pre-project's; a line that gives a name must give the same one.
 */
function coverageProblems(
  what: string,
  missingHint: string,
  names: readonly string[],
  lines: readonly { position: number; name?: string }[],
): string[] {
  const problems: string[] = [];
  const seen = new Map<number, number>();
  for (const line of lines) seen.set(line.position, (seen.get(line.position) ?? 0) + 1);
  for (const [position, times] of [...seen].sort((a, b) => a[0] - b[0])) {
    if (position > names.length)
      problems.push(
        `${what} ${position} is not in the pre-project, which has ${names.length}: nothing new can be added to it now`,
      );
    else if (times > 1)
      problems.push(`${what} ${position} (${names[position - 1]}) is given ${times} times: give it once`);
  }
  names.forEach((name, i) => {
    if (!seen.has(i + 1)) problems.push(`${what} ${i + 1} (${name}) is missing: ${missingHint}`);
  });
  for (const line of lines) {
    const expected = names[line.position - 1];
    if (expected !== undefined && line.name !== undefined && !sameName(line.name, expected))
      problems.push(
        `${what} ${line.position} is "${line.name}" here but "${expected}" in the pre-project: check the numbering`,
      );
  }
  return problems;
}

/** Why the final report cannot be accepted for verification, in words the sender can act on; empty if it can. */
export function finalReportProblems(
  report: FinalReport,
  context: Pick<ProjectContext, 'preProject' | 'disbursedOn'>,
): string[] {
  const { preProject, disbursedOn } = context;
  const problems = [
    ...coverageProblems(
      'indicator',
      'give its measured value, the date measured and the evidence',
      preProject.indicators.map((i) => i.name),
      report.indicators.map((i) => ({ position: i.indicator, name: i.name })),
    ),
    ...coverageProblems(
      'cost line',
      'give the amount actually spent (0 if nothing) and its invoices',
      preProject.costLines.map((l) => l.description),
      report.costLines.map((l) => ({ position: l.costLine, name: l.description })),
    ),
  ];
  for (const i of report.indicators) {
    if (i.measuredOn < disbursedOn)
      problems.push(
        `indicator ${i.indicator} (${i.name}) was measured on ${i.measuredOn}, ` +
          `before the project started (disbursed on ${disbursedOn})`,
      );
  }
  for (const l of report.costLines) {
    if (l.spentCents > 0 && l.documents.length === 0)
      problems.push(
        `cost line ${l.costLine} (${l.description}) reports ${euro(l.spentCents)} spent without any document: ` +
          'attach the invoices',
      );
  }
  return problems;
}

/** Why an interim report (SAL) cannot be recorded; empty if it can. */
export function interimReportProblems(report: InterimReport, context: Pick<ProjectContext, 'disbursedOn'>): string[] {
  return report.asOf < context.disbursedOn
    ? [`the interim report is dated ${report.asOf}, before the project started (disbursed on ${context.disbursedOn})`]
    : [];
}

/** Why the realisation period cannot be extended as asked, or null. */
export function extensionProblem(context: Pick<ProjectContext, 'extension' | 'rules'>, months: number): string | null {
  const max = context.rules.postAward.maxExtensionMonths;
  if (context.extension)
    return (
      `the realisation period was already extended once, by ${context.extension.months} months ` +
      `(${context.extension.reason}): the rules allow one extension`
    );
  if (max === 0) return "this call's rules allow no extension of the realisation period";
  if (months > max) return `an extension of ${months} months exceeds the rules' maximum of ${max} months`;
  return null;
}

/** The operator's verdicts joined to the report and the pre-project, line by line (only for a complete verdict). */
function verifiedLines(context: ProjectContext, decisions: readonly CostLineDecision[]): CostLineVerification[] {
  return context.preProject.costLines.map((planned, i) => {
    const decision = decisions.find((d) => d.costLine === i + 1);
    const spent = context.finalReport?.costLines.find((l) => l.costLine === i + 1);
    return {
      costLine: i + 1,
      description: planned.description,
      plannedCents: planned.amountCents,
      spentCents: spent?.spentCents ?? 0,
      acceptedCents: decision?.acceptedCents ?? 0,
      reason: decision?.reason ?? null,
    };
  });
}

/** Why the operator's verification cannot stand, in words they can act on; empty if it can. */
export function verificationProblems(context: ProjectContext, decisions: readonly CostLineDecision[]): string[] {
  if (!context.finalReport) return ['there is no final report to verify'];
  const problems = coverageProblems(
    'cost line',
    'accept it in full or cut it with a reason',
    context.preProject.costLines.map((l) => l.description),
    decisions.map((d) => ({ position: d.costLine })),
  );
  for (const d of decisions) {
    const spent = context.finalReport.costLines.find((l) => l.costLine === d.costLine);
    if (!spent) continue;
    if (d.acceptedCents > spent.spentCents)
      problems.push(
        `cost line ${d.costLine} (${spent.description}): ${euro(d.acceptedCents)} accepted ` +
          `is more than the ${euro(spent.spentCents)} reported spent`,
      );
    else if (d.acceptedCents < spent.spentCents && !d.reason)
      problems.push(
        `cost line ${d.costLine} (${spent.description}): ${euro(d.acceptedCents)} accepted ` +
          `of the ${euro(spent.spentCents)} spent: a cut needs its reason`,
      );
  }
  return problems;
}

/** The money a complete verification justifies. */
export function verificationOf(context: ProjectContext, decisions: readonly CostLineDecision[]): Verification {
  const lines = verifiedLines(context, decisions);
  return {
    lines,
    money: verifiedSupport({
      admittedGrantCents: context.admittedGrantCents,
      admittedSubsidyCents: context.admittedSubsidyCents,
      disbursedCents: context.disbursedCents,
      lines: lines.map((l) => ({ plannedCents: l.plannedCents, acceptedCents: l.acceptedCents })),
      grantShareBps: context.rules.maxGrantShareBps,
    }),
  };
}

/** Why a repayment cannot be recorded, or null. */
export function repaymentProblem(context: ProjectContext, e: Of<'RECORD_REPAYMENT'>): string | null {
  const outstanding = outstandingCents(context);
  if (e.amountCents > outstanding)
    return `a repayment of ${euro(e.amountCents)} is more than the ${euro(outstanding)} still outstanding`;
  if (e.repaidOn < context.disbursedOn)
    return `a repayment dated ${e.repaidOn} is before the disbursement (${context.disbursedOn})`;
  return null;
}

const verificationIsValid = (context: ProjectContext, event: ProjectEvent) =>
  event.type === 'VERIFY_REPORT' && verificationProblems(context, event.costLines).length === 0;

/** Named, pure guards; project.explain.ts words their refusals. */
export const projectGuards = {
  isInterimReportAdmissible: ({ context, event }: GuardArgs) =>
    event.type === 'SUBMIT_INTERIM_REPORT' && interimReportProblems(event.report, context).length === 0,
  mayExtendRealisation: ({ context, event }: GuardArgs) =>
    event.type === 'EXTEND_REALISATION' && extensionProblem(context, event.months) === null,
  isFinalReportComplete: ({ context, event }: GuardArgs) =>
    event.type === 'SUBMIT_FINAL_REPORT' && finalReportProblems(event.report, context).length === 0,
  verificationJustifiesDisbursement: ({ context, event }: GuardArgs) =>
    verificationIsValid(context, event) &&
    verificationOf(context, (event as Of<'VERIFY_REPORT'>).costLines).money.recoveryCents === 0,
  verificationCallsForReduction: ({ context, event }: GuardArgs) =>
    verificationIsValid(context, event) &&
    verificationOf(context, (event as Of<'VERIFY_REPORT'>).costLines).money.recoveryCents > 0,
  // Law 241/1990: the decision waits for the observations period to run out, even if observations came early.
  isObservationPeriodOver: ({ context }: GuardArgs) => Boolean(context.intention?.periodEndedOn),
  revocationCameFromProgress: ({ context }: GuardArgs) => context.intention?.from === 'in_progress',
  revocationCameFromReportDue: ({ context }: GuardArgs) => context.intention?.from === 'final_report_due',
  revocationCameFromVerification: ({ context }: GuardArgs) => context.intention?.from === 'under_verification',
  repaymentSettlesOutstanding: ({ context, event }: GuardArgs) =>
    event.type === 'RECORD_REPAYMENT' &&
    repaymentProblem(context, event) === null &&
    event.amountCents === outstandingCents(context),
  isRepaymentWithinOutstanding: ({ context, event }: GuardArgs) =>
    event.type === 'RECORD_REPAYMENT' && repaymentProblem(context, event) === null,
};

const intendRevocation = (
  context: ProjectContext,
  cause: IntentionCause,
  from: RevocationOrigin,
  reasons: string[],
): Intention => ({
  kind: 'revocation',
  cause,
  from,
  reasons,
  recoveryCents: context.disbursedCents,
  observations: [],
  periodEndedOn: null,
});

/** The intention leaves the stage with how it ended; the decision's money (if any) is set by the caller. */
const closeIntention = (context: ProjectContext, outcome: PastIntention['outcome'], motivation: string) =>
  context.intention
    ? [
        ...context.pastIntentions,
        {
          kind: context.intention.kind,
          cause: context.intention.cause,
          reasons: context.intention.reasons,
          recoveryCents: context.intention.recoveryCents,
          observationsReceived: context.intention.observations.length,
          outcome,
          motivation,
        },
      ]
    : context.pastIntentions;

const isLate = (intention: Intention, observations: Observations) =>
  intention.periodEndedOn !== null && observations.receivedOn > intention.periodEndedOn;

const recoveryOf = (kind: RecoveryKind, orderedCents: number): Recovery => ({
  kind,
  orderedCents,
  repaidCents: 0,
  repayments: [],
});

const intentionNotice = ({ context }: { context: ProjectContext }) => ({
  kind: context.intention!.kind,
  cause: context.intention!.cause,
  reasons: context.intention!.reasons,
  recoveryCents: context.intention!.recoveryCents,
  observationDays: context.rules.postAward.observationDays,
});

/**
 * The company may withdraw (rinuncia) while nothing is decided yet: everything disbursed is then recovered, and an
 * intention under way is overtaken. Spread into each open state, not put on the root: xstate's pure `transition()`
 * would run root handlers even in a final state.
 */
const whileOpen = {
  WITHDRAW: {
    target: 'withdrawn',
    actions: [
      'rememberWithdrawal',
      {
        type: 'orderRecovery',
        params: ({ context, event }: { context: ProjectContext; event: Of<'WITHDRAW'> }) => ({
          kind: 'withdrawal' as const,
          amountCents: context.disbursedCents,
          reasons: [event.reason],
        }),
      },
    ],
  },
} as const;

const repaymentActions = [
  'rememberRepayment',
  {
    type: 'recordRepayment',
    params: ({ context, event }: { context: ProjectContext; event: Of<'RECORD_REPAYMENT'> }) => ({
      amountCents: event.amountCents,
      repaidOn: event.repaidOn,
      outstandingAfterCents: outstandingCents(context),
    }),
  },
] as const;

/** Money is owed back: repayments are recorded until nothing is outstanding, then the project is settled. */
const whileRecovering = {
  RECORD_REPAYMENT: [
    { guard: 'repaymentSettlesOutstanding', target: 'settled', actions: repaymentActions },
    { guard: 'isRepaymentWithinOutstanding', actions: repaymentActions },
  ],
} as const;

/** An operator finds the project not carried out: the revocation is announced, and remembers where to go back. */
const startRevocationFrom = (from: RevocationOrigin) =>
  ({
    target: 'revocation_intended',
    actions: [
      { type: 'rememberRevocationForNonRealisation', params: { from } },
      { type: 'notifyIntention', params: intentionNotice },
    ],
  }) as const;

const dropRevocationTo = (
  target: RevocationOrigin,
  guard: 'revocationCameFromProgress' | 'revocationCameFromReportDue' | 'revocationCameFromVerification',
) =>
  ({
    guard,
    target,
    actions: [
      {
        type: 'notifyDecision',
        params: ({ event }: { event: Of<'DROP_REVOCATION'> }) => ({
          kind: 'revocation' as const,
          decision: 'dropped' as const,
          motivation: event.motivation,
          recoveryCents: 0,
        }),
      },
      'dropRevocation',
    ],
  }) as const;

const observationHandling = {
  SUBMIT_OBSERVATIONS: {
    actions: [
      {
        type: 'storeObservations',
        params: ({ context, event }: { context: ProjectContext; event: Of<'SUBMIT_OBSERVATIONS'> }) => ({
          kind: context.intention!.kind,
          observations: event.observations,
          late: isLate(context.intention!, event.observations),
        }),
      },
      'rememberObservations',
    ],
  },
  END_OBSERVATION_PERIOD: { actions: 'rememberObservationPeriodEnd' },
} as const;

/**
 * The lifecycle of one funded project. Pure like the application's machine: guards read context and event, `assign`
 * actions compute context, and the effect actions do nothing here: `transition()` hands them back to the project's
 * workflow, which performs them through activities (stores the reports, writes the recovery order in the ledger...).
 *
 * Ends: `closed` (final) when the verified costs justify what was disbursed, or a reduction was dropped. A confirmed
 * reduction or revocation, or a withdrawal, leaves money owed: `reduced`, `revoked` and `withdrawn` are open states
 * that take repayments, and the repayment that clears the debt moves to the final state `settled`. The state value
 * then no longer says why money was owed, so `outcome` in the context keeps it (and `projectStatus` reads both):
 * one final state for "nothing left to do" keeps the workflow's end condition the machine's own (`status === 'done'`).
 */
export const projectMachine = setup({
  types: {
    context: {} as ProjectContext,
    events: {} as ProjectEvent,
    input: {} as ProjectMachineInput,
  },
  guards: projectGuards,
  actions: {
    ...projectEffects,
    countInterimReport: assign({ interimReports: ({ context }) => context.interimReports + 1 }),
    rememberExtension: assign({
      extension: ({ event }) => {
        const e = event as Of<'EXTEND_REALISATION'>;
        return { months: e.months, reason: e.reason };
      },
    }),
    rememberRealisationEnd: assign({ realisationEndedOn: ({ event }) => (event as Of<'END_REALISATION'>).endedOn }),
    rememberFinalReport: assign({ finalReport: ({ event }) => (event as Of<'SUBMIT_FINAL_REPORT'>).report }),
    rememberVerification: assign({
      verification: ({ context, event }) => verificationOf(context, (event as Of<'VERIFY_REPORT'>).costLines),
    }),
    rememberClosure: assign({ outcome: 'closed' as const }),
    rememberReductionIntended: assign({
      intention: ({ context }) => {
        const v = context.verification!;
        const cuts = v.lines
          .filter((l) => l.acceptedCents < l.spentCents)
          .map(
            (l) =>
              `cost line ${l.costLine} (${l.description}): ` +
              `${euro(l.acceptedCents)} accepted of ${euro(l.spentCents)} spent: ${l.reason}`,
          );
        return {
          kind: 'reduction' as const,
          cause: 'verification' as const,
          from: 'under_verification' as const,
          reasons: [...cuts, ...v.money.explanation],
          recoveryCents: v.money.recoveryCents,
          observations: [],
          periodEndedOn: null,
        };
      },
    }),
    rememberRevocationForMissingReport: assign(({ context, event }) => {
      const { dueOn } = event as Of<'EXPIRE_REPORT_DEADLINE'>;
      return {
        reportMissedOn: dueOn,
        intention: intendRevocation(context, 'missing_report', 'final_report_due', [
          `the final report, due by ${dueOn}, was not received`,
        ]),
      };
    }),
    rememberRevocationForNonRealisation: assign(({ context, event }, params: { from: RevocationOrigin }) => ({
      intention: intendRevocation(context, 'not_carried_out', params.from, (event as Of<'START_REVOCATION'>).reasons),
    })),
    rememberObservations: assign({
      intention: ({ context, event }) => ({
        ...context.intention!,
        observations: [
          ...context.intention!.observations,
          {
            ...(event as Of<'SUBMIT_OBSERVATIONS'>).observations,
            late: isLate(context.intention!, (event as Of<'SUBMIT_OBSERVATIONS'>).observations),
          },
        ],
      }),
    }),
    rememberObservationPeriodEnd: assign({
      intention: ({ context, event }) => ({
        ...context.intention!,
        periodEndedOn: (event as Of<'END_OBSERVATION_PERIOD'>).endedOn,
      }),
    }),
    confirmReduction: assign(({ context, event }) => ({
      outcome: 'reduced' as const,
      recovery: recoveryOf('reduction', context.intention!.recoveryCents),
      pastIntentions: closeIntention(context, 'confirmed', (event as Of<'CONFIRM_REDUCTION'>).motivation),
      intention: null,
      closingReason: (event as Of<'CONFIRM_REDUCTION'>).motivation,
    })),
    dropReduction: assign(({ context, event }) => ({
      outcome: 'closed' as const,
      pastIntentions: closeIntention(context, 'dropped', (event as Of<'DROP_REDUCTION'>).motivation),
      intention: null,
    })),
    confirmRevocation: assign(({ context, event }) => ({
      outcome: 'revoked' as const,
      recovery: recoveryOf('revocation', context.intention!.recoveryCents),
      pastIntentions: closeIntention(context, 'confirmed', (event as Of<'CONFIRM_REVOCATION'>).motivation),
      intention: null,
      closingReason: (event as Of<'CONFIRM_REVOCATION'>).motivation,
    })),
    dropRevocation: assign(({ context, event }) => ({
      pastIntentions: closeIntention(context, 'dropped', (event as Of<'DROP_REVOCATION'>).motivation),
      intention: null,
      // Missing was the report; once the revocation is dropped a new deadline runs and the miss is history.
      reportMissedOn: null,
    })),
    rememberWithdrawal: assign(({ context, event }) => {
      const { reason } = event as Of<'WITHDRAW'>;
      return {
        outcome: 'withdrawn' as const,
        recovery: recoveryOf('withdrawal', context.disbursedCents),
        pastIntentions: closeIntention(context, 'overtaken_by_withdrawal', reason),
        intention: null,
        closingReason: reason,
      };
    }),
    rememberRepayment: assign({
      recovery: ({ context, event }) => {
        const e = event as Of<'RECORD_REPAYMENT'>;
        const r = context.recovery!;
        return {
          ...r,
          repaidCents: r.repaidCents + e.amountCents,
          repayments: [...r.repayments, { amountCents: e.amountCents, repaidOn: e.repaidOn }],
        };
      },
    }),
  },
}).createMachine({
  id: 'project',
  initial: 'in_progress',
  context: ({ input }) => ({
    ...input,
    extension: null,
    interimReports: 0,
    realisationEndedOn: null,
    reportMissedOn: null,
    finalReport: null,
    verification: null,
    intention: null,
    pastIntentions: [],
    recovery: null,
    outcome: null,
    closingReason: null,
  }),
  states: {
    in_progress: {
      on: {
        SUBMIT_INTERIM_REPORT: {
          guard: 'isInterimReportAdmissible',
          actions: [
            {
              type: 'storeInterimReport',
              params: ({ context, event }) => ({ number: context.interimReports + 1, report: event.report }),
            },
            'countInterimReport',
          ],
        },
        EXTEND_REALISATION: { guard: 'mayExtendRealisation', actions: 'rememberExtension' },
        END_REALISATION: { target: 'final_report_due', actions: 'rememberRealisationEnd' },
        START_REVOCATION: startRevocationFrom('in_progress'),
        ...whileOpen,
      },
    },
    final_report_due: {
      on: {
        SUBMIT_FINAL_REPORT: {
          guard: 'isFinalReportComplete',
          target: 'under_verification',
          actions: [
            'rememberFinalReport',
            { type: 'storeFinalReport', params: ({ event }) => ({ report: event.report }) },
          ],
        },
        EXPIRE_REPORT_DEADLINE: {
          target: 'revocation_intended',
          actions: ['rememberRevocationForMissingReport', { type: 'notifyIntention', params: intentionNotice }],
        },
        START_REVOCATION: startRevocationFrom('final_report_due'),
        ...whileOpen,
      },
    },
    under_verification: {
      on: {
        VERIFY_REPORT: [
          {
            guard: 'verificationJustifiesDisbursement',
            target: 'closed',
            actions: [
              'rememberVerification',
              { type: 'storeVerification', params: ({ context }) => context.verification! },
              'rememberClosure',
            ],
          },
          {
            guard: 'verificationCallsForReduction',
            target: 'reduction_intended',
            actions: [
              'rememberVerification',
              { type: 'storeVerification', params: ({ context }) => context.verification! },
              'rememberReductionIntended',
              { type: 'notifyIntention', params: intentionNotice },
            ],
          },
        ],
        START_REVOCATION: startRevocationFrom('under_verification'),
        ...whileOpen,
      },
    },
    reduction_intended: {
      on: {
        ...observationHandling,
        CONFIRM_REDUCTION: {
          guard: 'isObservationPeriodOver',
          target: 'reduced',
          actions: [
            {
              type: 'notifyDecision',
              params: ({ context, event }) => ({
                kind: 'reduction' as const,
                decision: 'confirmed' as const,
                motivation: event.motivation,
                recoveryCents: context.intention!.recoveryCents,
              }),
            },
            {
              type: 'orderRecovery',
              params: ({ context, event }) => ({
                kind: 'reduction' as const,
                amountCents: context.intention!.recoveryCents,
                reasons: [...context.intention!.reasons, event.motivation],
              }),
            },
            'confirmReduction',
          ],
        },
        DROP_REDUCTION: {
          target: 'closed',
          actions: [
            {
              type: 'notifyDecision',
              params: ({ event }) => ({
                kind: 'reduction' as const,
                decision: 'dropped' as const,
                motivation: event.motivation,
                recoveryCents: 0,
              }),
            },
            'dropReduction',
          ],
        },
        ...whileOpen,
      },
    },
    revocation_intended: {
      on: {
        ...observationHandling,
        CONFIRM_REVOCATION: {
          guard: 'isObservationPeriodOver',
          target: 'revoked',
          actions: [
            {
              type: 'notifyDecision',
              params: ({ context, event }) => ({
                kind: 'revocation' as const,
                decision: 'confirmed' as const,
                motivation: event.motivation,
                recoveryCents: context.intention!.recoveryCents,
              }),
            },
            {
              type: 'orderRecovery',
              params: ({ context, event }) => ({
                kind: 'revocation' as const,
                amountCents: context.intention!.recoveryCents,
                reasons: [...context.intention!.reasons, event.motivation],
              }),
            },
            'confirmRevocation',
          ],
        },
        DROP_REVOCATION: [
          dropRevocationTo('in_progress', 'revocationCameFromProgress'),
          dropRevocationTo('final_report_due', 'revocationCameFromReportDue'),
          dropRevocationTo('under_verification', 'revocationCameFromVerification'),
        ],
        ...whileOpen,
      },
    },
    reduced: { on: whileRecovering },
    revoked: { on: whileRecovering },
    withdrawn: { on: whileRecovering },
    closed: { type: 'final' },
    settled: { type: 'final' },
  },
});

export type ProjectMachine = typeof projectMachine;
/** Derived from the machine: a new state appears here, and every `Record<ProjectState, ...>` asks for it. */
export type ProjectState = StateValueFrom<ProjectMachine> & string;
export const PROJECT_STATES = Object.keys(projectMachine.config.states ?? {}) as ProjectState[];
export const PROJECT_FINAL_STATES: readonly ProjectState[] = ['closed', 'settled'];
/** Nothing decided yet: the company can still withdraw. */
export const PROJECT_OPEN_STATES: readonly ProjectState[] = [
  'in_progress',
  'final_report_due',
  'under_verification',
  'reduction_intended',
  'revocation_intended',
];
/** A decision left money owed: repayments are recorded here. */
export const PROJECT_RECOVERING_STATES: readonly ProjectState[] = ['reduced', 'revoked', 'withdrawn'];

/**
 * The status people read (the impact report, the pages): the state, except that a settled project shows what it
 * was settled for (reduced, revoked, withdrawn); whether the money came back is in the recovered figures.
 */
export type ProjectStatus = Exclude<ProjectState, 'settled'>;
export function projectStatus(state: ProjectState, context: Pick<ProjectContext, 'outcome'>): ProjectStatus {
  return state === 'settled' ? (context.outcome ?? 'closed') : state;
}
