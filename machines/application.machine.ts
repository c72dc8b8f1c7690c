import { assign, setup } from 'xstate';
import type { MachineRules } from '../domain/rules';
import { scoreProblems, tally, type Evaluation } from './commission';
import { interestSubsidy, loanProblem, totalSupportCents } from '../domain/subsidy';
import type { Theme } from '../domain/themes';
import {
  eligibleCostOf,
  type ApplicationEvent,
  type DocumentUpload,
  type PreProject,
  type SessionConfirmation,
  type SessionInput,
  type StoredDocument,
} from './events';

export interface ApplicationMachineInput {
  applicationId: string;
  deMinimisRoomCents: number;
  callId: string;
  rulesVersion: number;
  rules: MachineRules;
  themes: Theme[];
}

export interface ApplicationContext extends ApplicationMachineInput {
  eligibility: 'pending' | 'eligible' | 'ineligible';
  ineligibilityReasons: string[];
  implementingBody: string | null;
  consultant: string | null;
  /** The consultant's identity in the registry: two consultants may share a name, never an address. */
  consultantEmail: string | null;
  sessionsLogged: number;
  verifiedMinutes: number;
  /** Why logged sessions do not (fully) count, as the last verification said. */
  discardedSessions: string[];
  /** How much de minimis aid the company may still receive (ceiling minus what it declared). */
  deMinimisRoomCents: number;
  documents: StoredDocument[];
  preProject: PreProject | null;
  preProjectVersion: number;
  /** The pre-project version the commission last received. */
  forwardedVersion: number;
  integrationRequests: number;
  motivation: string | null;
  subsidyCents: number;
  admittedCents: number | null;
  /** The call's budget for this admission: reserved, or waiting in the FIFO reserve list at `budgetPosition`. */
  budget: 'none' | 'reserved' | 'waiting';
  budgetPosition: number | null;
  fundedCents: number | null;
  /** Members' declarations: true = conflict of interest (cannot evaluate), false = none declared. */
  conflicts: Record<string, boolean>;
  evaluations: Evaluation[];
  closingReason: string | null;
}

type Of<T extends ApplicationEvent['type']> = Extract<ApplicationEvent, { type: T }>;

/** Grant as a share of eligible cost, in integer arithmetic (basis points) so no float decides money. */
export const grantWithinShare = (grantCents: number, eligibleCostCents: number, maxShareBps: number) =>
  grantCents * 10_000 <= eligibleCostCents * maxShareBps;

/** What the company would receive: the grant plus the present value of the interest subsidy on its loan. */
export function supportOf(p: PreProject, rules: MachineRules): { subsidyCents: number; totalCents: number } {
  const subsidy = p.loan ? interestSubsidy(p.loan, rules.interestSubsidy) : null;
  const subsidyCents = subsidy?.ok ? subsidy.subsidyCents : 0;
  return { subsidyCents, totalCents: totalSupportCents(p.grantCents, subsidyCents) };
}

export const preProjectProblems = (
  p: PreProject,
  rules: MachineRules,
  deMinimisRoomCents = Number.MAX_SAFE_INTEGER,
): string[] => {
  const problems: string[] = [];
  const support = supportOf(p, rules).totalCents;
  if (support > deMinimisRoomCents) {
    problems.push(
      `the support requested (${support} cents, grant plus interest subsidy) exceeds the de minimis room left to the company (${deMinimisRoomCents} cents)`,
    );
  }
  const loan = p.loan && loanProblem(p.loan, rules.interestSubsidy.maxLoanMonths);
  if (loan) problems.push(`loan.${loan.field}: ${loan.message}`);
  if (p.themes.length === 0) problems.push('the pre-project must name at least one impact theme');
  if (p.grantCents === 0 && !p.loan) problems.push('the pre-project must request a grant, a loan subsidy or both');
  const eligibleCostCents = eligibleCostOf(p);
  for (const [i, indicator] of p.indicators.entries()) {
    if (!p.themes.includes(indicator.theme))
      problems.push(
        `indicator ${i + 1} (${indicator.name}) measures ${indicator.theme}, which is not among the pre-project's themes`,
      );
  }
  if (!grantWithinShare(p.grantCents, eligibleCostCents, rules.maxGrantShareBps)) {
    const max = Math.floor((eligibleCostCents * rules.maxGrantShareBps) / 10_000);
    problems.push(
      `grant of ${p.grantCents} cents exceeds ${rules.maxGrantShareBps / 100}% of eligible cost (${max} cents at most)`,
    );
  }
  return problems;
};

type GuardArgs = { context: ApplicationContext; event: ApplicationEvent };

/** Why a member's evaluation cannot count, or null. */
export function evaluationProblems(
  context: ApplicationContext,
  e: Extract<ApplicationEvent, { type: 'SUBMIT_EVALUATION' }>,
): string | null {
  if (context.conflicts[e.member] === undefined)
    return `${e.member} must first declare whether they have a conflict of interest`;
  if (context.conflicts[e.member])
    return `${e.member} declared a conflict of interest on this application and cannot evaluate it`;
  if (context.evaluations.some((x) => x.member === e.member && x.version === context.preProjectVersion)) {
    return `${e.member} has already evaluated pre-project v${context.preProjectVersion}`;
  }
  return scoreProblems(e.scores, context.rules.commission);
}

/** Named, pure guards; `explain.ts` words their refusals. */
export const applicationGuards = {
  hasMinimumHours: ({ context }: GuardArgs) => context.verifiedMinutes >= context.rules.minimumAccompanimentMinutes,
  isPreProjectAdmissible: ({ context, event }: GuardArgs) =>
    event.type === 'SUBMIT_PRE_PROJECT' &&
    preProjectProblems(event.preProject, context.rules, context.deMinimisRoomCents).length === 0,
  // After an integration request the commission must get a new version, not the one it sent back.
  hasNewPreProject: ({ context }: GuardArgs) =>
    context.preProject !== null && context.preProjectVersion > context.forwardedVersion,
  isEligibilityConfirmed: ({ context }: GuardArgs) => context.eligibility === 'eligible',
  isEligibilityPending: ({ context }: GuardArgs) => context.eligibility === 'pending',
  // A member declares before evaluating, and cannot change the declaration once they have evaluated.
  mayDeclareConflict: ({ context, event }: GuardArgs) =>
    event.type === 'DECLARE_CONFLICT' &&
    !context.evaluations.some((e) => e.member === event.member && e.version === context.preProjectVersion),
  isEvaluationAdmissible: ({ context, event }: GuardArgs) =>
    event.type === 'SUBMIT_EVALUATION' && evaluationProblems(context, event) === null,
  quorumApproves: ({ context }: GuardArgs) =>
    tally(context.evaluations, context.preProjectVersion, context.rules.commission).decision === 'approve',
  quorumRejects: ({ context }: GuardArgs) =>
    tally(context.evaluations, context.preProjectVersion, context.rules.commission).decision === 'reject',
  quorumAsksIntegration: ({ context }: GuardArgs) =>
    tally(context.evaluations, context.preProjectVersion, context.rules.commission).decision === 'request_integration',
  isFundingWithinAdmitted: ({ context, event }: GuardArgs) =>
    context.budget === 'reserved' &&
    event.type === 'RECORD_FUNDING' &&
    context.admittedCents !== null &&
    event.amountCents <= context.admittedCents,
};

/**
 * Every open state can be withdrawn by the company or lapse on a missed deadline. Spread into each open state
 * rather than put on the root: xstate's pure `transition()` would run root handlers even in a final state.
 */
const whileOpen = {
  WITHDRAW: { target: 'withdrawn', actions: 'rememberWithdrawal' },
  LAPSE: { target: 'lapsed', actions: 'rememberLapse' },
  DOCUMENT_STORED: { actions: 'rememberDocument' },
} as const;

/**
 * The lifecycle of one application. Pure: guards read context and event, `assign` actions compute context,
 * and the effect actions (storeSession, storeDocument) do nothing here: `transition()` hands them back to the
 * workflow, which performs them through activities and feeds the outcome back as a system event.
 */
export const applicationMachine = setup({
  types: {
    context: {} as ApplicationContext,
    events: {} as ApplicationEvent,
    input: {} as ApplicationMachineInput,
  },
  guards: applicationGuards,
  actions: {
    assignConsultant: (_, _params: { implementingBody: string; consultant: { name: string; email: string } }) =>
      undefined,
    storeSession: (_, _params: SessionInput) => undefined,
    confirmSession: (_, _params: SessionConfirmation) => undefined,
    storeDocument: (_, _params: DocumentUpload) => undefined,
    storePreProject: (_, _params: { version: number; preProject: PreProject }) => undefined,
    freezePreProject: (_, _params: { version: number }) => undefined,
    reserveBudget: (_, _params: { amountCents: number }) => undefined,
    releaseBudget: (_, _params: { reason: string }) => undefined,
    settleBudget: (_, _params: { finalAmountCents: number }) => undefined,
    confirmEligibility: assign({ eligibility: 'eligible' as const }),
    rememberIneligibility: assign(({ event }) => ({
      eligibility: 'ineligible' as const,
      ineligibilityReasons: (event as Of<'REJECT_INELIGIBLE'>).reasons.map((r) => r.message),
    })),
    assignBody: assign(({ event }) => {
      const e = event as Of<'ASSIGN_BODY'>;
      return {
        implementingBody: e.implementingBody,
        consultant: e.consultant.name,
        consultantEmail: e.consultant.email.toLowerCase(),
      };
    }),
    countSession: assign({ sessionsLogged: ({ context }) => context.sessionsLogged + 1 }),
    rememberVerifiedHours: assign(({ event }) => {
      const e = event as Of<'RECORD_VERIFIED_HOURS'>;
      return { verifiedMinutes: e.verifiedMinutes, discardedSessions: e.discarded };
    }),
    rememberDocument: assign({
      documents: ({ context, event }) => {
        const doc = (event as Of<'DOCUMENT_STORED'>).document;
        return context.documents.some((d) => d.documentId === doc.documentId)
          ? context.documents
          : [...context.documents, doc];
      },
    }),
    rememberPreProject: assign(({ context, event }) => {
      const p = (event as Of<'SUBMIT_PRE_PROJECT'>).preProject;
      return { preProject: p, preProjectVersion: context.preProjectVersion + 1, themes: p.themes };
    }),
    rememberForwarding: assign({ forwardedVersion: ({ context }) => context.preProjectVersion }),
    rememberConflict: assign({
      conflicts: ({ context, event }) => {
        const e = event as Of<'DECLARE_CONFLICT'>;
        return { ...context.conflicts, [e.member]: e.conflicted };
      },
    }),
    rememberEvaluation: assign({
      evaluations: ({ context, event }) => {
        const e = event as Of<'SUBMIT_EVALUATION'>;
        const total = Object.values(e.scores).reduce((sum, s) => sum + s, 0);
        return [
          ...context.evaluations,
          {
            member: e.member,
            version: context.preProjectVersion,
            scores: e.scores,
            total,
            recommendation: e.recommendation,
            motivation: e.motivation,
          },
        ];
      },
    }),
    rememberQuorumDecision: assign(({ context }) => {
      const t = tally(context.evaluations, context.preProjectVersion, context.rules.commission);
      const support = context.preProject
        ? supportOf(context.preProject, context.rules)
        : { subsidyCents: 0, totalCents: 0 };
      return t.decision === 'approve'
        ? { motivation: t.motivation, subsidyCents: support.subsidyCents, admittedCents: support.totalCents }
        : t.decision === 'request_integration'
          ? { motivation: t.motivation, integrationRequests: context.integrationRequests + 1 }
          : { motivation: t.motivation };
    }),
    rememberIntegrationRequest: assign(({ context, event }) => ({
      integrationRequests: context.integrationRequests + 1,
      motivation: (event as Of<'REQUEST_INTEGRATION'>).motivation,
    })),
    rememberApproval: assign(({ context, event }) => {
      const support = context.preProject
        ? supportOf(context.preProject, context.rules)
        : { subsidyCents: 0, totalCents: 0 };
      return {
        motivation: (event as Of<'APPROVE'>).motivation,
        subsidyCents: support.subsidyCents,
        admittedCents: support.totalCents,
      };
    }),
    rememberBudget: assign(({ event }) => {
      const e = event as Of<'RECORD_BUDGET'>;
      return { budget: e.status, budgetPosition: e.position };
    }),
    rememberRejection: assign(({ event }) => ({ motivation: (event as Of<'REJECT'>).motivation })),
    rememberFunding: assign({ fundedCents: ({ event }) => (event as Of<'RECORD_FUNDING'>).amountCents }),
    rememberWithdrawal: assign({ closingReason: ({ event }) => (event as Of<'WITHDRAW'>).reason }),
    rememberLapse: assign({
      closingReason: ({ event }) =>
        `deadline "${(event as Of<'LAPSE'>).deadline}" passed on ${(event as Of<'LAPSE'>).dueAt}`,
    }),
  },
}).createMachine({
  id: 'application',
  initial: 'submitted',
  context: ({ input }) => ({
    ...input,
    eligibility: 'pending',
    ineligibilityReasons: [],
    implementingBody: null,
    consultant: null,
    consultantEmail: null,
    sessionsLogged: 0,
    verifiedMinutes: 0,
    discardedSessions: [],
    documents: [],
    preProject: null,
    preProjectVersion: 0,
    forwardedVersion: 0,
    integrationRequests: 0,
    motivation: null,
    subsidyCents: 0,
    admittedCents: null,
    budget: 'none',
    budgetPosition: null,
    fundedCents: null,
    conflicts: {},
    evaluations: [],
    closingReason: null,
  }),
  states: {
    submitted: {
      on: {
        CONFIRM_ELIGIBILITY: { guard: 'isEligibilityPending', actions: 'confirmEligibility' },
        REJECT_INELIGIBLE: { guard: 'isEligibilityPending', target: 'rejected', actions: 'rememberIneligibility' },
        ASSIGN_BODY: {
          guard: 'isEligibilityConfirmed',
          target: 'accompaniment',
          actions: [
            'assignBody',
            {
              type: 'assignConsultant',
              params: ({ event }) => ({ implementingBody: event.implementingBody, consultant: event.consultant }),
            },
          ],
        },
        ...whileOpen,
      },
    },
    accompaniment: {
      on: {
        LOG_SESSION: {
          actions: ['countSession', { type: 'storeSession', params: ({ event }) => event.session }],
        },
        CONFIRM_SESSION: {
          actions: {
            type: 'confirmSession',
            params: ({ event }) => ({ date: event.date, start: event.start, code: event.code }),
          },
        },
        RECORD_VERIFIED_HOURS: { actions: 'rememberVerifiedHours' },
        ATTACH_DOCUMENT: { actions: { type: 'storeDocument', params: ({ event }) => event.document } },
        COMPLETE_ACCOMPANIMENT: { guard: 'hasMinimumHours', target: 'pre_project' },
        ...whileOpen,
      },
    },
    pre_project: {
      on: {
        ATTACH_DOCUMENT: { actions: { type: 'storeDocument', params: ({ event }) => event.document } },
        SUBMIT_PRE_PROJECT: {
          guard: 'isPreProjectAdmissible',
          actions: [
            {
              type: 'storePreProject',
              params: ({ context, event }) => ({
                version: context.preProjectVersion + 1,
                preProject: event.preProject,
              }),
            },
            'rememberPreProject',
          ],
        },
        FORWARD_TO_COMMISSION: {
          guard: 'hasNewPreProject',
          target: 'commission',
          actions: [
            { type: 'freezePreProject', params: ({ context }) => ({ version: context.preProjectVersion }) },
            'rememberForwarding',
          ],
        },
        ...whileOpen,
      },
    },
    commission: {
      on: {
        APPROVE: {
          target: 'admitted',
          actions: [
            'rememberApproval',
            {
              type: 'reserveBudget',
              params: ({ context }) => ({
                amountCents: context.preProject ? supportOf(context.preProject, context.rules).totalCents : 0,
              }),
            },
          ],
        },
        REJECT: { target: 'rejected', actions: 'rememberRejection' },
        REQUEST_INTEGRATION: { target: 'pre_project', actions: 'rememberIntegrationRequest' },
        DECLARE_CONFLICT: { guard: 'mayDeclareConflict', actions: 'rememberConflict' },
        SUBMIT_EVALUATION: { guard: 'isEvaluationAdmissible', actions: 'rememberEvaluation' },
        ...whileOpen,
      },
      // Once a quorum of members without a conflict has evaluated, their majority decides.
      always: [
        {
          description: 'quorum',
          guard: 'quorumApproves',
          target: 'admitted',
          actions: [
            'rememberQuorumDecision',
            {
              type: 'reserveBudget',
              params: ({ context }) => ({
                amountCents: context.preProject ? supportOf(context.preProject, context.rules).totalCents : 0,
              }),
            },
          ],
        },
        { description: 'quorum', guard: 'quorumRejects', target: 'rejected', actions: 'rememberQuorumDecision' },
        {
          description: 'quorum',
          guard: 'quorumAsksIntegration',
          target: 'pre_project',
          actions: 'rememberQuorumDecision',
        },
      ],
    },
    admitted: {
      on: {
        ATTACH_DOCUMENT: { actions: { type: 'storeDocument', params: ({ event }) => event.document } },
        RECORD_BUDGET: { actions: 'rememberBudget' },
        RECORD_FUNDING: {
          guard: 'isFundingWithinAdmitted',
          target: 'funded',
          actions: [
            'rememberFunding',
            { type: 'settleBudget', params: ({ event }) => ({ finalAmountCents: event.amountCents }) },
          ],
        },
        ...whileOpen,
        // Leaving with money reserved (or queued) gives it back to the call.
        WITHDRAW: {
          target: 'withdrawn',
          actions: [
            'rememberWithdrawal',
            { type: 'releaseBudget', params: ({ event }) => ({ reason: `withdrawn: ${event.reason}` }) },
          ],
        },
        LAPSE: {
          target: 'lapsed',
          actions: [
            'rememberLapse',
            { type: 'releaseBudget', params: ({ event }) => ({ reason: `lapsed: ${event.deadline}` }) },
          ],
        },
      },
    },
    rejected: { type: 'final' },
    funded: { type: 'final' },
    withdrawn: { type: 'final' },
    lapsed: { type: 'final' },
  },
});

export type ApplicationMachine = typeof applicationMachine;
export type ApplicationState =
  | 'submitted'
  | 'accompaniment'
  | 'pre_project'
  | 'commission'
  | 'admitted'
  | 'rejected'
  | 'funded'
  | 'withdrawn'
  | 'lapsed';
export const APPLICATION_STATES: readonly ApplicationState[] = [
  'submitted',
  'accompaniment',
  'pre_project',
  'commission',
  'admitted',
  'rejected',
  'funded',
  'withdrawn',
  'lapsed',
];
export const FINAL_STATES: readonly ApplicationState[] = ['rejected', 'funded', 'withdrawn', 'lapsed'];
