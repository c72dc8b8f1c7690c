import { romeToday } from '../../domain/rome';
import { StepInputError, type StepContext } from './context';
import type { ApplicationEffects } from '../../machines/effects';

const refuse = (path: string, message: string) => new StepInputError('InvalidAssignment', [{ path, message }]);

export const assignmentEffects = {
  /** Binds the application to a registered, active body and one of its consultants, from the day it was decided. */
  async assignConsultant(ctx: StepContext, p: ApplicationEffects['assignConsultant']) {
    const body = await ctx.trx
      .selectFrom('implementing_bodies')
      .select(['id', 'active'])
      .where('id', '=', p.implementingBody)
      .executeTakeFirst();
    if (!body?.active)
      throw refuse('implementingBody', `"${p.implementingBody}" is not a registered, active implementing body`);
    const consultant = await ctx.trx
      .selectFrom('consultants')
      .select(['id', 'body_id', 'active'])
      .where('id', '=', p.consultantId)
      .executeTakeFirst();
    if (!consultant?.active) throw refuse('consultantId', 'no such consultant in the registry');
    if (consultant.body_id !== body.id) {
      throw refuse('consultantId', `the consultant works for ${consultant.body_id}, not ${body.id}`);
    }
    if (p.effectiveOn > romeToday(ctx.deps.now())) {
      throw refuse('effectiveOn', `${p.effectiveOn} is in the future: an assignment is recorded once decided`);
    }
    await ctx.trx
      .updateTable('applications')
      .set({ consultant_id: consultant.id, assigned_at: new Date(`${p.effectiveOn}T00:00:00Z`) })
      .where('id', '=', ctx.applicationId)
      .execute();
  },
};
