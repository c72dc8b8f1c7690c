import { adjust, consume, openCallBudget, release, reserve } from '../../db/repositories/budget';
import { INPUT_ERROR } from '../../domain/errors';
import { romeToday } from '../../domain/rome';
import type { ApplicationEffects } from '../../machines/effects';
import { StepInputError, type EffectOutcome, type StepContext } from './context';

export const budgetEffects = {
  /** Reserves the admitted amount, opening the call's ledger with its rules' budget on first use. */
  async reserveBudget(ctx: StepContext, p: ApplicationEffects['reserveBudget']): Promise<EffectOutcome> {
    await openCallBudget(ctx.trx, ctx.callId, ctx.rules.budgetCents);
    const outcome = await reserve(ctx.trx, {
      applicationId: ctx.applicationId,
      callId: ctx.callId,
      amountCents: p.amountCents,
    });
    const position = outcome.status === 'waiting' ? outcome.position : null;
    return { followUps: [{ type: 'RECORD_BUDGET', status: outcome.status, position }] };
  },

  /** Gives the reserved (or queued) money back to the call; whoever it lets through the reserve list is told. */
  async releaseBudget(ctx: StepContext, p: ApplicationEffects['releaseBudget']): Promise<EffectOutcome> {
    const { promoted } = await release(ctx.trx, { applicationId: ctx.applicationId, reason: p.reason });
    return { promoted };
  },

  /** A smaller disbursement than admitted frees the difference for the reserve list; the rest is spent. */
  async settleBudget(ctx: StepContext, p: ApplicationEffects['settleBudget']): Promise<EffectOutcome> {
    // A disbursement is recorded once made: a date ahead would start the project's clock on a guess.
    const today = romeToday(new Date(ctx.occurredAt));
    if (ctx.after.disbursedOn && ctx.after.disbursedOn > today) {
      throw new StepInputError(INPUT_ERROR.funding, [
        { path: 'disbursedOn', message: `${ctx.after.disbursedOn} is in the future: record a disbursement once made` },
      ]);
    }
    const promoted =
      p.finalAmountCents < (ctx.before.admittedCents ?? 0)
        ? (await adjust(ctx.trx, { applicationId: ctx.applicationId, finalAmountCents: p.finalAmountCents })).promoted
        : [];
    await consume(ctx.trx, ctx.applicationId);
    return { promoted };
  },
};
