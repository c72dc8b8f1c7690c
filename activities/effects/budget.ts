import { adjust, consume, openCallBudget, release, reserve } from '../../db/repositories/budget';
import type { ApplicationEffects } from '../../machines/effects';
import type { EffectOutcome, StepContext } from './context';

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
    const promoted =
      p.finalAmountCents < (ctx.before.admittedCents ?? 0)
        ? (await adjust(ctx.trx, { applicationId: ctx.applicationId, finalAmountCents: p.finalAmountCents })).promoted
        : [];
    await consume(ctx.trx, ctx.applicationId);
    return { promoted };
  },
};
