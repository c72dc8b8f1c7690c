import {
  ActivityFailure,
  ApplicationFailure,
  getExternalWorkflowHandle,
  proxyLocalActivities,
} from '@temporalio/workflow';
import { transition } from 'xstate';
import type { Activities } from '../activities';
import { INPUT_ERROR, INPUT_ERROR_TYPES } from '../domain/errors';
import { applicationMachine } from '../machines/application.machine';
import type { Deadline } from '../machines/deadlines';
import type { ApplicationEvent, IneligibilityReason } from '../machines/events';
import { refusalReason, stateOf, type ApplicationSnapshot } from '../machines/explain';
import { budgetSignal, FAILURE, type CommandMeta, type FieldProblem } from './messages';
import type { Run, Stepper } from './run';

export const SYSTEM: CommandMeta = { actor: 'system', role: 'system' };

/** What a step recorded in PostgreSQL: the follow-up events its effects produced, and where it left the register. */
export interface StepOutcome {
  followUps: ApplicationEvent[];
  seq: number;
  state: string;
  deadline: Deadline | null;
  /** Admissions this step moved out of the reserve list: each is told to check the ledger. */
  promoted: string[];
}

// Local: a step is one short transaction, run inside the workflow task that accepted the command. A worker that
// dies mid-step leaves the task to time out and run again elsewhere; the register's (application, seq) key makes
// the second run return what the first one committed.
const { applyStep, syncBudget } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [...INPUT_ERROR_TYPES, FAILURE.outOfStep],
  },
});

/**
 * A mistake in what was sent (bad session, unknown consultant, wrong code): the sender hears it, nothing changes.
 * A regular activity's failure arrives wrapped in an ActivityFailure; a local activity's arrives as it was thrown.
 */
export function asInvalidCommand(err: unknown): unknown {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure) || !INPUT_ERROR_TYPES.includes(cause.type ?? '')) return err;
  const problems = (cause.details?.[0] as FieldProblem[] | undefined) ?? [{ path: 'event', message: cause.message }];
  if (cause.type === INPUT_ERROR.conflict) {
    // Not FAILURE.refused: that one says the machine refused, which a register ahead of the workflow can explain.
    return ApplicationFailure.create({
      type: FAILURE.conflict,
      message: cause.message,
      nonRetryable: true,
      details: [problems],
    });
  }
  return ApplicationFailure.create({
    type: FAILURE.invalid,
    message: cause.message,
    nonRetryable: true,
    details: [problems],
  });
}

/**
 * The current generation's steps: one local activity performs what the machine asked for, the verification it
 * triggers and the transition record, in one database transaction; the workflow replays the same pure
 * transitions and adopts the register's seq and deadline.
 */
export function oneTransactionSteps(run: Run, eligibility: IneligibilityReason[]): Stepper {
  const { applicationId } = run;

  /** `next` is the snapshot after the step's own event, if it had one; the follow-ups are replayed on it. */
  function adopt(next: ApplicationSnapshot, outcome: StepOutcome, meta: CommandMeta, recorded: number) {
    let snapshot = next;
    for (const followUp of outcome.followUps) snapshot = transition(applicationMachine, snapshot, followUp)[0];
    const seq = run.seq + recorded + outcome.followUps.length;
    if (stateOf(snapshot) !== outcome.state || outcome.seq !== seq) {
      // Not a refusal: the register and the workflow disagree, and a person must look. The task retries meanwhile.
      throw new Error(
        `register out of step: it says ${outcome.state} at seq ${outcome.seq}, the workflow ${stateOf(snapshot)} ` +
          `at seq ${seq}`,
      );
    }
    run.adopt(snapshot, outcome.seq, outcome.deadline, meta);
  }

  async function tellPromoted(ids: readonly string[]) {
    for (const id of ids) await getExternalWorkflowHandle(id).signal(budgetSignal);
  }

  async function apply(event: ApplicationEvent, meta: CommandMeta) {
    const reason = refusalReason(run.snapshot, event);
    if (reason) throw run.refuse(event, reason);
    const [next] = transition(applicationMachine, run.snapshot, event);
    const occurredAt = new Date(Date.now()).toISOString();
    const outcome = await applyStep({ applicationId, seq: run.seq + 1, event, meta, occurredAt }).catch((err) => {
      throw asInvalidCommand(err);
    });
    adopt(next, outcome, meta, 1);
    await tellPromoted(outcome.promoted);
  }

  return {
    begin: () =>
      apply(
        eligibility.length ? { type: 'REJECT_INELIGIBLE', reasons: eligibility } : { type: 'CONFIRM_ELIGIBILITY' },
        SYSTEM,
      ),
    apply,
    async budgetChanged() {
      if (run.state !== 'admitted' || run.snapshot.context.budget !== 'waiting') return;
      const occurredAt = new Date(Date.now()).toISOString();
      // The ledger's answer is the event: the activity reads it and records it only when it moved.
      const outcome = await syncBudget({ applicationId, seq: run.seq + 1, occurredAt });
      if (outcome) adopt(run.snapshot, outcome, SYSTEM, 0);
    },
  };
}
