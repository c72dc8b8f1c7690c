import { assign, setup } from 'xstate';
import type { MachineRules } from '../domain/rules';
import type { Theme } from '../domain/themes';
import { eligibleCostOf, type ApplicationEvent, type DocumentUpload, type PreProject, type SessionInput, type StoredDocument } from './events';

export interface ApplicationMachineInput {
  applicationId: string;
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
  sessionsLogged: number;
  verifiedMinutes: number;
  documents: StoredDocument[];
  preProject: PreProject | null;
  preProjectVersion: number;
  /** The pre-project version the commission last received. */
  forwardedVersion: number;
  integrationRequests: number;
  motivation: string | null;
  admittedCents: number | null;
  fundedCents: number | null;
  closingReason: string | null;
}

type Of<T extends ApplicationEvent['type']> = Extract<ApplicationEvent, { type: T }>;

/** Grant as a share of eligible cost, in integer arithmetic (basis points) so no float decides money. */
export const grantWithinShare = (grantCents: number, eligibleCostCents: number, maxShareBps: number) =>
  grantCents * 10_000 <= eligibleCostCents * maxShareBps;

export const preProjectProblems = (p: PreProject, rules: MachineRules): string[] => {
  const problems: string[] = [];
  if (p.themes.length === 0) problems.push('the pre-project must name at least one impact theme');
  if (p.grantCents === 0 && !p.loan) problems.push('the pre-project must request a grant, a loan subsidy or both');
  const eligibleCostCents = eligibleCostOf(p);
  for (const [i, indicator] of p.indicators.entries()) {
    if (!p.themes.includes(indicator.theme)) problems.push(`indicator ${i + 1} (${indicator.name}) measures ${indicator.theme}, which is not among the pre-project's themes`);
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

/** Named, pure guards; `explain.ts` words their refusals. */
export const applicationGuards = {
  hasMinimumHours: ({ context }: GuardArgs) => context.verifiedMinutes >= context.rules.minimumAccompanimentMinutes,
  isPreProjectAdmissible: ({ context, event }: GuardArgs) =>
    event.type === 'SUBMIT_PRE_PROJECT' && preProjectProblems(event.preProject, context.rules).length === 0,
  // After an integration request the commission must get a new version, not the one it sent back.
  hasNewPreProject: ({ context }: GuardArgs) => context.preProject !== null && context.preProjectVersion > context.forwardedVersion,
  isEligibilityConfirmed: ({ context }: GuardArgs) => context.eligibility === 'eligible',
  isEligibilityPending: ({ context }: GuardArgs) => context.eligibility === 'pending',
  isFundingWithinAdmitted: ({ context, event }: GuardArgs) =>
    event.type === 'RECORD_FUNDING' && context.admittedCents !== null && event.amountCents <= context.admittedCents,
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
    storeSession: (_, _params: SessionInput) => undefined,
    storeDocument: (_, _params: DocumentUpload) => undefined,
    confirmEligibility: assign({ eligibility: 'eligible' as const }),
    rememberIneligibility: assign(({ event }) => ({
      eligibility: 'ineligible' as const,
      ineligibilityReasons: (event as Of<'REJECT_INELIGIBLE'>).reasons.map((r) => r.message),
    })),
    assignBody: assign(({ event }) => {
      const e = event as Of<'ASSIGN_BODY'>;
      return { implementingBody: e.implementingBody, consultant: e.consultant };
    }),
    countSession: assign({ sessionsLogged: ({ context }) => context.sessionsLogged + 1 }),
    rememberVerifiedHours: assign({
      verifiedMinutes: ({ event }) => (event as Of<'RECORD_VERIFIED_HOURS'>).verifiedMinutes,
    }),
    rememberDocument: assign({
      documents: ({ context, event }) => {
        const doc = (event as Of<'DOCUMENT_STORED'>).document;
        return context.documents.some((d) => d.documentId === doc.documentId) ? context.documents : [...context.documents, doc];
      },
    }),
    rememberPreProject: assign(({ context, event }) => {
      const p = (event as Of<'SUBMIT_PRE_PROJECT'>).preProject;
      return { preProject: p, preProjectVersion: context.preProjectVersion + 1, themes: p.themes };
    }),
    rememberForwarding: assign({ forwardedVersion: ({ context }) => context.preProjectVersion }),
    rememberIntegrationRequest: assign(({ context, event }) => ({
      integrationRequests: context.integrationRequests + 1,
      motivation: (event as Of<'REQUEST_INTEGRATION'>).motivation,
    })),
    rememberApproval: assign(({ context, event }) => ({
      motivation: (event as Of<'APPROVE'>).motivation,
      admittedCents: context.preProject?.grantCents ?? 0,
    })),
    rememberRejection: assign(({ event }) => ({ motivation: (event as Of<'REJECT'>).motivation })),
    rememberFunding: assign({ fundedCents: ({ event }) => (event as Of<'RECORD_FUNDING'>).amountCents }),
    rememberWithdrawal: assign({ closingReason: ({ event }) => (event as Of<'WITHDRAW'>).reason }),
    rememberLapse: assign({
      closingReason: ({ event }) => `deadline "${(event as Of<'LAPSE'>).deadline}" passed on ${(event as Of<'LAPSE'>).dueAt}`,
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
    sessionsLogged: 0,
    verifiedMinutes: 0,
    documents: [],
    preProject: null,
    preProjectVersion: 0,
    forwardedVersion: 0,
    integrationRequests: 0,
    motivation: null,
    admittedCents: null,
    fundedCents: null,
    closingReason: null,
  }),
  states: {
    submitted: {
      on: {
        CONFIRM_ELIGIBILITY: { guard: 'isEligibilityPending', actions: 'confirmEligibility' },
        REJECT_INELIGIBLE: { guard: 'isEligibilityPending', target: 'rejected', actions: 'rememberIneligibility' },
        ASSIGN_BODY: { guard: 'isEligibilityConfirmed', target: 'accompaniment', actions: 'assignBody' },
        ...whileOpen,
      },
    },
    accompaniment: {
      on: {
        LOG_SESSION: {
          actions: ['countSession', { type: 'storeSession', params: ({ event }) => event.session }],
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
        SUBMIT_PRE_PROJECT: { guard: 'isPreProjectAdmissible', actions: 'rememberPreProject' },
        FORWARD_TO_COMMISSION: { guard: 'hasNewPreProject', target: 'commission', actions: 'rememberForwarding' },
        ...whileOpen,
      },
    },
    commission: {
      on: {
        APPROVE: { target: 'admitted', actions: 'rememberApproval' },
        REJECT: { target: 'rejected', actions: 'rememberRejection' },
        REQUEST_INTEGRATION: { target: 'pre_project', actions: 'rememberIntegrationRequest' },
        ...whileOpen,
      },
    },
    admitted: {
      on: {
        ATTACH_DOCUMENT: { actions: { type: 'storeDocument', params: ({ event }) => event.document } },
        RECORD_FUNDING: { guard: 'isFundingWithinAdmitted', target: 'funded', actions: 'rememberFunding' },
        ...whileOpen,
      },
    },
    rejected: { type: 'final' },
    funded: { type: 'final' },
    withdrawn: { type: 'final' },
    lapsed: { type: 'final' },
  },
});

export type ApplicationMachine = typeof applicationMachine;
export type ApplicationState = 'submitted' | 'accompaniment' | 'pre_project' | 'commission' | 'admitted' | 'rejected' | 'funded' | 'withdrawn' | 'lapsed';
export const APPLICATION_STATES: readonly ApplicationState[] = [
  'submitted', 'accompaniment', 'pre_project', 'commission', 'admitted', 'rejected', 'funded', 'withdrawn', 'lapsed',
];
export const FINAL_STATES: readonly ApplicationState[] = ['rejected', 'funded', 'withdrawn', 'lapsed'];
