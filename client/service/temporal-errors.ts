import { WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { FAILURE, type FieldProblem } from '../../workflows/messages';
import { UserError, type ErrorCode } from '../errors';

const BY_FAILURE: Record<string, ErrorCode> = {
  [FAILURE.refused]: 'event_refused',
  [FAILURE.conflict]: 'event_refused',
  [FAILURE.forbidden]: 'forbidden',
  [FAILURE.invalid]: 'invalid_input',
  [FAILURE.untrusted]: 'invalid_input',
  [FAILURE.outOfStep]: 'internal',
  [FAILURE.behind]: 'temporal_unavailable',
};

/** Translates what Temporal throws into UserErrors; anything unrecognised stays an internal error. */
export function toUserError(err: unknown, applicationId?: string): UserError {
  if (err instanceof UserError) return err;
  if (err instanceof WorkflowNotFoundError)
    return new UserError('not_found', `no application ${applicationId ?? ''}`.trim());
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return new UserError(
      'already_applied',
      `this company has already applied to this call: application ${err.workflowId}`,
    );
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const failure = err.cause;
    const problems =
      failure.type === FAILURE.invalid || failure.type === FAILURE.conflict
        ? ((failure.details?.[0] as FieldProblem[] | undefined) ?? [])
        : [];
    return new UserError(BY_FAILURE[failure.type ?? ''] ?? 'event_refused', failure.message, problems);
  }
  if (err instanceof Error && /ECONNREFUSED|UNAVAILABLE|failed to connect|deadline exceeded/i.test(err.message)) {
    return new UserError('temporal_unavailable', `Temporal is not reachable: ${err.message}`);
  }
  // The workflow's task failed (typically: its worker died) while the Update was in it, or fails still and takes no
  // Update now (FAILED_PRECONDITION); or the wait for the answer was cut. The command may or may not have been taken
  // in: sent again with the same id, it counts once. Transient, not an internal error.
  const causeText = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
  const taskFailed = /unexpected workflow task failure|workflow task in failed state/i;
  if (
    err instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
    (err instanceof Error && taskFailed.test(`${err.message} ${causeText}`))
  ) {
    return new UserError(
      'temporal_unavailable',
      `${applicationId ? `application ${applicationId}` : 'the application'} could not take the command in just ` +
        'now (its workflow task failed, e.g. its worker stopped): send it again (with the same Idempotency-Key it ' +
        'counts once)',
    );
  }
  // Temporal wraps the server's reason in `cause`: say it, not only "Failed to start Workflow".
  const reason =
    err instanceof Error && err.cause instanceof Error
      ? `${err.message}: ${err.cause.message}`
      : err instanceof Error
        ? err.message
        : String(err);
  return new UserError('internal', reason);
}
