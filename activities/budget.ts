import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/connect';
import {
  adjust,
  BudgetError,
  consume,
  openCallBudget,
  release,
  reserve,
  type AdjustOutcome,
  type AdjustRequest,
  type ReleaseOutcome,
  type ReleaseRequest,
  type ReserveOutcome,
  type ReserveRequest,
} from '../db/repositories/budget';

export const BUDGET_REFUSED = 'BudgetRefused';

/** A BudgetError cannot succeed on retry: it becomes a non-retryable failure; anything else (the database down) retries. */
async function budgetCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof BudgetError)
      throw ApplicationFailure.nonRetryable(err.message, BUDGET_REFUSED, { code: err.code });
    throw err;
  }
}

/** Thin wrappers over the budget ledger; each is idempotent, so Temporal's retries are harmless. */
export function budgetActivities(deps: { db: Db }) {
  const { db } = deps;
  return {
    /** Reserves the admitted amount, opening the call's ledger with its rules' budget on first use. */
    async reserveBudget(input: ReserveRequest & { callBudgetCents: number }): Promise<ReserveOutcome> {
      const { callBudgetCents, ...request } = input;
      return budgetCall(async () => {
        await openCallBudget(db, request.callId, callBudgetCents);
        return reserve(db, request);
      });
    },
    /** What the ledger says of one application: the workflow asks when told that money may have been freed. */
    async budgetStatus(input: { applicationId: string }): Promise<{ status: string; position: number | null } | null> {
      const row = await db
        .selectFrom('budget_reservations')
        .selectAll()
        .where('application_id', '=', input.applicationId)
        .executeTakeFirst();
      if (!row) return null;
      if (row.status !== 'waiting') return { status: row.status, position: null };
      const ahead = await db
        .selectFrom('budget_reservations')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('call_id', '=', row.call_id)
        .where('status', '=', 'waiting')
        .where('queue_position', '<=', row.queue_position)
        .executeTakeFirstOrThrow();
      return { status: 'waiting', position: Number(ahead.n) };
    },
    async releaseBudget(input: ReleaseRequest): Promise<ReleaseOutcome> {
      return budgetCall(() => release(db, input));
    },
    async adjustBudget(input: AdjustRequest): Promise<AdjustOutcome> {
      return budgetCall(() => adjust(db, input));
    },
    async consumeBudget(input: { applicationId: string }): Promise<void> {
      return budgetCall(() => consume(db, input.applicationId));
    },
  };
}
