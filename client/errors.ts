import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { FAILURE } from '../workflows/messages';

export type ErrorCode =
  | 'invalid_input'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'already_applied'
  | 'event_refused'
  | 'rate_limited'
  | 'document_unavailable'
  | 'temporal_unavailable'
  | 'internal';

/** An error a person can act on: a stable code, a one-line message, and where the problem is. */
export class UserError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { path?: string; message: string }[] = [],
  ) {
    super(message);
  }
}

const httpStatus: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  rate_limited: 429,
  document_unavailable: 410,
  already_applied: 409,
  event_refused: 409,
  temporal_unavailable: 503,
  internal: 500,
};
export const statusOf = (code: ErrorCode) => httpStatus[code];

/** Translates what Temporal throws into UserErrors; anything unrecognised stays an internal error. */
export function toUserError(err: unknown, applicationId?: string): UserError {
  if (err instanceof UserError) return err;
  if (
    err instanceof WorkflowNotFoundError ||
    (err instanceof Error && /workflow.*not found|not found.*workflow/i.test(err.message))
  ) {
    return new UserError('not_found', `no application ${applicationId ?? ''}`.trim());
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return new UserError(
      'already_applied',
      `this company has already applied to this call: application ${err.workflowId}`,
    );
  }
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const failure = err.cause;
    if (failure.type === FAILURE.refused) return new UserError('event_refused', failure.message);
    if (failure.type === FAILURE.forbidden) return new UserError('forbidden', failure.message);
    if (failure.type === FAILURE.invalid) {
      const issues = (failure.details?.[0] as { path: string; message: string }[] | undefined) ?? [];
      return new UserError('invalid_input', failure.message, issues);
    }
    return new UserError('event_refused', failure.message);
  }
  if (err instanceof Error && /connect|ECONNREFUSED|UNAVAILABLE|deadline/i.test(err.message)) {
    return new UserError('temporal_unavailable', `Temporal is not reachable: ${err.message}`);
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
