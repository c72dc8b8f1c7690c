import { getExternalWorkflowHandle, proxyLocalActivities } from '@temporalio/workflow';
import { transition } from 'xstate';
import type { Activities } from '../activities';
import { INPUT_ERROR_TYPES } from '../domain/errors';
import type { ProjectDeadline } from '../machines/project.deadlines';
import type { ProjectEvent } from '../machines/project.events';
import { projectRefusalReason, type ProjectSnapshot } from '../machines/project.explain';
import { projectMachine, type ProjectState } from '../machines/project.machine';
import { budgetSignal, FAILURE, type CommandMeta } from './messages';
import { asInvalidCommand } from './steps';

/** What a project step recorded: the state, seq and deadline the register now holds, and whom a repayment promoted. */
export interface ProjectStepOutcome {
  seq: number;
  state: ProjectState;
  deadline: ProjectDeadline | null;
  promoted: string[];
}

const { applyProjectStep } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [...INPUT_ERROR_TYPES, FAILURE.outOfStep],
  },
});

/**
 * One project step: the machine decides here, the local activity performs its effects and records the transition
 * in one transaction, and the workflow adopts the register's seq and deadline (as an application's steps do).
 */
export async function projectStep(
  state: { applicationId: string; snapshot: ProjectSnapshot; seq: number },
  event: ProjectEvent,
  meta: CommandMeta,
  refuse: (reason: string) => Error,
): Promise<{ snapshot: ProjectSnapshot; outcome: ProjectStepOutcome }> {
  const reason = projectRefusalReason(state.snapshot, event);
  if (reason) throw refuse(reason);
  const [next] = transition(projectMachine, state.snapshot, event);
  const occurredAt = new Date(Date.now()).toISOString();
  const outcome = await applyProjectStep({
    applicationId: state.applicationId,
    seq: state.seq + 1,
    event,
    meta,
    occurredAt,
  }).catch((err) => {
    throw asInvalidCommand(err);
  });
  if (outcome.state !== next.value || outcome.seq !== state.seq + 1) {
    throw new Error(
      `project register out of step: it says ${outcome.state} at seq ${outcome.seq}, the workflow ${String(next.value)}`,
    );
  }
  // Money repaid went back to the call: the admissions it let through the reserve list check the ledger.
  for (const id of outcome.promoted) await getExternalWorkflowHandle(id).signal(budgetSignal);
  return { snapshot: next, outcome };
}
