import { and, assertEvent, assign, setup, type StateValueFrom } from 'xstate';
import { preProjectProblems, supportOf, type PreProject } from '../domain/pre-project';
import type { MachineRules } from '../domain/machine-rules';
import type { Theme } from '../domain/themes';
import { scoreProblems, tally, type Evaluation } from './commission';
import { applicationEffects } from './effects';
import { projectInputOf } from './project.input';
import type { ApplicationEvent, StoredDocument } from './events';

/** What an application starts with: no personal data, only what the machine's guards read. */
export interface ApplicationMachineInput {
  applicationId: string;
  callId: string;
  rulesVersion: number;
  rules: MachineRules;
  themes: Theme[];
  /** How much de minimis aid the company may still receive (ceiling minus what it declared). */
  deMinimisRoomCents: number;
  /** Micro or small enterprise (Recommendation 2003/361/EC); null when it is neither (then it is not eligible). */
  sizeClass: 'micro' | 'small' | null;
  /** The calendar day (Rome) the application was registered: nothing is effective before it. */
  submittedOn: string;
}

export interface ApplicationContext extends ApplicationMachineInput {
  eligibility: 'pending' | 'eligible' | 'ineligible';
  /** The codes of the reasons (their wording, which may quote the company's figures, stays in PostgreSQL). */
  ineligibilityReasons: string[];
  implementingBody: string | null;
  /** The consultant's id in the registry (their name and address live in PostgreSQL). */
  consultantId: string | null;
  assignedOn: string | null;
  sessionsLogged: number;
  verifiedMinutes: number;
  /** Why logged sessions do not (fully) count, as the last verification said. */
  discardedSessions: string[];
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
  disbursedOn: string | null;
  /** Members' declarations: true = conflict of interest (final; cannot evaluate or decide), false = none. */
  conflicts: Record<string, boolean>;
  evaluations: Evaluation[];
  closingReason: string | null;
}

type GuardArgs = { context: ApplicationContext; event: ApplicationEvent };

/** Why a member's evaluation cannot count, or null. */
export function evaluationProblems(context: ApplicationContext, event: ApplicationEvent): string | null {
  assertEvent(event, 'SUBMIT_EVALUATION');
  const declared = context.conflicts[event.member];
  if (declared === undefined) return 'declare first whether you have a conflict of interest on this application';
  if (declared) return 'you declared a conflict of interest on this application and cannot evaluate it';
  if (context.evaluations.some((x) => x.member === event.member && x.version === context.preProjectVersion)) {
    return `you have already evaluated pre-project v${context.preProjectVersion}`;
  }
  return scoreProblems(event.scores, context.rules.commission);
}

/** Why this declaration cannot be made, or null: a conflict is final, and so is "none" once one has evaluated. */
export function declarationProblem(context: ApplicationContext, event: ApplicationEvent): string | null {
  assertEvent(event, 'DECLARE_CONFLICT');
  if (context.conflicts[event.member] === true) return 'a declared conflict of interest is final';
  const evaluated = context.evaluations.some(
    (e) => e.member === event.member && e.version === context.preProjectVersion,
  );
  if (evaluated) return `you have already evaluated pre-project v${context.preProjectVersion}: the declaration stands`;
  return null;
}

/** Named, pure guards; `explain.ts` words their refusals. */
export const applicationGuards = {
  hasMinimumHours: ({ context }: GuardArgs) => context.verifiedMinutes >= context.rules.minimumAccompanimentMinutes,
  isAssignmentEffective: ({ context, event }: GuardArgs) =>
    event.type === 'ASSIGN_BODY' && event.effectiveOn >= context.submittedOn,
  isPreProjectAdmissible: ({ context, event }: GuardArgs) =>
    event.type === 'SUBMIT_PRE_PROJECT' &&
    preProjectProblems(event.preProject, context.rules, context.deMinimisRoomCents).length === 0,
  // After an integration request the commission must get a new version, not the one it sent back.
  hasNewPreProject: ({ context }: GuardArgs) =>
    context.preProject !== null && context.preProjectVersion > context.forwardedVersion,
  isEligibilityConfirmed: ({ context }: GuardArgs) => context.eligibility === 'eligible',
  isEligibilityPending: ({ context }: GuardArgs) => context.eligibility === 'pending',
  mayDeclareConflict: ({ context, event }: GuardArgs) =>
    event.type === 'DECLARE_CONFLICT' && declarationProblem(context, event) === null,
  isEvaluationAdmissible: ({ context, event }: GuardArgs) =>
    event.type === 'SUBMIT_EVALUATION' && evaluationProblems(context, event) === null,
  // Histories from before decisions named their maker carry no chair: nothing to check there.
  isDeciderFreeOfConflict: ({ context, event }: GuardArgs) =>
    !('chair' in event) || typeof event.chair !== 'string' || context.conflicts[event.chair] !== true,
  quorumApproves: ({ context }: GuardArgs) => quorum(context) === 'approve',
  quorumRejects: ({ context }: GuardArgs) => quorum(context) === 'reject',
  quorumAsksIntegration: ({ context }: GuardArgs) => quorum(context) === 'request_integration',
  isFundingWithinAdmitted: ({ context, event }: GuardArgs) =>
    context.budget === 'reserved' &&
    event.type === 'RECORD_FUNDING' &&
    context.admittedCents !== null &&
    event.amountCents <= context.admittedCents,
};

const quorum = (c: ApplicationContext) => tally(c.evaluations, c.preProjectVersion, c.rules.commission).decision;
const admission = (c: ApplicationContext) => (c.preProject ? supportOf(c.preProject, c.rules) : null);

/**
 * Every open state can be withdrawn by the company or lapse on a missed deadline. Spread into each open state
 * rather than put on the root: xstate's pure `transition()` would run root handlers even in a final state.
 */
const whileOpen = {
  WITHDRAW: { target: 'withdrawn', actions: 'rememberWithdrawal' },
  LAPSE: { target: 'lapsed', actions: 'rememberLapse' },
} as const;
const attachable = {
  ATTACH_DOCUMENT: {
    actions: [
      'rememberDocument',
      { type: 'attachDocument', params: ({ event }: { event: ApplicationEvent }) => documentOf(event) },
    ],
  },
} as const satisfies Record<string, { actions: readonly unknown[] }>;
const documentOf = (event: ApplicationEvent) => {
  assertEvent(event, 'ATTACH_DOCUMENT');
  return event.document;
};
const decisions = { guard: 'isDeciderFreeOfConflict' } as const;

/**
 * The lifecycle of one application. Pure: guards read context and event, `assign` actions compute context, and
 * the effects (machines/effects.ts) do nothing here: `transition()` hands them back to whoever runs the step,
 * which performs them and feeds the outcome back as system events.
 */
export const applicationMachine = setup({
  types: {
    context: {} as ApplicationContext,
    events: {} as ApplicationEvent,
    input: {} as ApplicationMachineInput,
  },
  guards: applicationGuards,
  actions: {
    ...applicationEffects,
    confirmEligibility: assign({ eligibility: 'eligible' as const }),
    rememberIneligibility: assign(({ event }) => {
      assertEvent(event, 'REJECT_INELIGIBLE');
      return { eligibility: 'ineligible' as const, ineligibilityReasons: event.reasons.map((r) => r.code) };
    }),
    assignBody: assign(({ event }) => {
      assertEvent(event, 'ASSIGN_BODY');
      return {
        implementingBody: event.implementingBody,
        consultantId: event.consultantId,
        assignedOn: event.effectiveOn,
      };
    }),
    countSession: assign({ sessionsLogged: ({ context }) => context.sessionsLogged + 1 }),
    rememberVerifiedHours: assign(({ event }) => {
      assertEvent(event, 'RECORD_VERIFIED_HOURS');
      return { verifiedMinutes: event.verifiedMinutes, discardedSessions: event.discarded };
    }),
    rememberDocument: assign({
      documents: ({ context, event }) => {
        assertEvent(event, 'ATTACH_DOCUMENT');
        const doc = event.document;
        return context.documents.some((d) => d.documentId === doc.documentId)
          ? context.documents
          : [...context.documents, doc];
      },
    }),
    rememberPreProject: assign(({ context, event }) => {
      assertEvent(event, 'SUBMIT_PRE_PROJECT');
      const p = event.preProject;
      return { preProject: p, preProjectVersion: context.preProjectVersion + 1, themes: p.themes };
    }),
    rememberForwarding: assign({ forwardedVersion: ({ context }) => context.preProjectVersion }),
    rememberConflict: assign({
      conflicts: ({ context, event }) => {
        assertEvent(event, 'DECLARE_CONFLICT');
        return { ...context.conflicts, [event.member]: event.conflicted };
      },
    }),
    rememberEvaluation: assign({
      evaluations: ({ context, event }) => {
        assertEvent(event, 'SUBMIT_EVALUATION');
        const total = Object.values(event.scores).reduce((sum, s) => sum + s, 0);
        const { member, scores, recommendation, motivation } = event;
        return [
          ...context.evaluations,
          { member, version: context.preProjectVersion, scores, total, recommendation, motivation },
        ];
      },
    }),
    rememberQuorumDecision: assign(({ context }) => {
      const t = tally(context.evaluations, context.preProjectVersion, context.rules.commission);
      const support = admission(context);
      if (t.decision === 'approve') {
        return {
          motivation: t.motivation,
          subsidyCents: support?.subsidyCents ?? 0,
          admittedCents: support?.totalCents ?? 0,
        };
      }
      if (t.decision === 'request_integration') {
        return { motivation: t.motivation, integrationRequests: context.integrationRequests + 1 };
      }
      return { motivation: t.motivation };
    }),
    rememberIntegrationRequest: assign(({ context, event }) => {
      assertEvent(event, 'REQUEST_INTEGRATION');
      return { integrationRequests: context.integrationRequests + 1, motivation: event.motivation };
    }),
    rememberApproval: assign(({ context, event }) => {
      assertEvent(event, 'APPROVE');
      const support = admission(context);
      return {
        motivation: event.motivation,
        subsidyCents: support?.subsidyCents ?? 0,
        admittedCents: support?.totalCents ?? 0,
      };
    }),
    rememberBudget: assign(({ event }) => {
      assertEvent(event, 'RECORD_BUDGET');
      return { budget: event.status, budgetPosition: event.position };
    }),
    rememberRejection: assign(({ event }) => {
      assertEvent(event, 'REJECT');
      return { motivation: event.motivation };
    }),
    rememberFunding: assign(({ event }) => {
      assertEvent(event, 'RECORD_FUNDING');
      return { fundedCents: event.amountCents, disbursedOn: event.disbursedOn };
    }),
    rememberWithdrawal: assign(({ event }) => {
      assertEvent(event, 'WITHDRAW');
      return { closingReason: event.reason };
    }),
    rememberLapse: assign(({ event }) => {
      assertEvent(event, 'LAPSE');
      return { closingReason: `deadline "${event.deadline}" passed on ${event.dueAt}` };
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
    consultantId: null,
    assignedOn: null,
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
    disbursedOn: null,
    conflicts: {},
    evaluations: [],
    closingReason: null,
  }),
  states: {
    submitted: {
      on: {
        CONFIRM_ELIGIBILITY: { guard: 'isEligibilityPending', actions: 'confirmEligibility' },
        REJECT_INELIGIBLE: { guard: 'isEligibilityPending', target: 'rejected', actions: 'rememberIneligibility' },
        ASSIGN_BODY: [
          {
            guard: and(['isEligibilityConfirmed', 'isAssignmentEffective']),
            target: 'accompaniment',
            actions: [
              'assignBody',
              {
                type: 'assignConsultant',
                params: ({ event }) => ({
                  implementingBody: event.implementingBody,
                  consultantId: event.consultantId,
                  effectiveOn: event.effectiveOn,
                }),
              },
            ],
          },
        ],
        ...whileOpen,
      },
    },
    accompaniment: {
      on: {
        LOG_SESSION: { actions: ['countSession', { type: 'storeSession', params: ({ event }) => event.session }] },
        CONFIRM_SESSION: { actions: { type: 'confirmSession', params: ({ event }) => answer(event) } },
        DISPUTE_SESSION: { actions: { type: 'disputeSession', params: ({ event }) => answer(event) } },
        RESEND_SESSION_CODE: {
          actions: { type: 'resendSessionCode', params: ({ event }) => ({ date: event.date, start: event.start }) },
        },
        RECORD_VERIFIED_HOURS: { actions: 'rememberVerifiedHours' },
        COMPLETE_ACCOMPANIMENT: { guard: 'hasMinimumHours', target: 'pre_project' },
        ...attachable,
        ...whileOpen,
      },
    },
    pre_project: {
      on: {
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
        ...attachable,
        ...whileOpen,
      },
    },
    commission: {
      on: {
        APPROVE: {
          ...decisions,
          target: 'admitted',
          actions: [
            'rememberApproval',
            { type: 'reserveBudget', params: ({ context }) => ({ amountCents: admission(context)?.totalCents ?? 0 }) },
          ],
        },
        REJECT: { ...decisions, target: 'rejected', actions: 'rememberRejection' },
        REQUEST_INTEGRATION: { ...decisions, target: 'pre_project', actions: 'rememberIntegrationRequest' },
        DECLARE_CONFLICT: { guard: 'mayDeclareConflict', actions: 'rememberConflict' },
        SUBMIT_EVALUATION: { guard: 'isEvaluationAdmissible', actions: 'rememberEvaluation' },
        ...attachable,
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
            { type: 'reserveBudget', params: ({ context }) => ({ amountCents: admission(context)?.totalCents ?? 0 }) },
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
        RECORD_BUDGET: { actions: 'rememberBudget' },
        RECORD_FUNDING: {
          guard: 'isFundingWithinAdmitted',
          target: 'funded',
          actions: [
            'rememberFunding',
            { type: 'settleBudget', params: ({ event }) => ({ finalAmountCents: event.amountCents }) },
            { type: 'openProject', params: ({ context, event }) => projectInputOf(context, event) },
          ],
        },
        ...attachable,
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

function answer(event: ApplicationEvent) {
  assertEvent(event, ['CONFIRM_SESSION', 'DISPUTE_SESSION']);
  return { date: event.date, start: event.start, ...(event.code ? { code: event.code } : { link: event.link }) };
}

export type ApplicationMachine = typeof applicationMachine;
/** Derived from the machine: a new state is a new member here, and every `Record<ApplicationState, ...>` asks. */
export type ApplicationState = StateValueFrom<ApplicationMachine> & string;
export const APPLICATION_STATES = Object.keys(applicationMachine.config.states ?? {}) as ApplicationState[];
export const FINAL_STATES = APPLICATION_STATES.filter((s) => applicationMachine.states[s]?.type === 'final');
