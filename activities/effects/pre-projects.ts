import { canonicalJson, digestOf } from '../digest';
import type { ApplicationEffects } from '../../machines/effects';
import type { StepContext } from './context';

export const preProjectEffects = {
  /** Keeps every version: a resubmission after an integration request adds a row, never rewrites one. */
  async storePreProject(ctx: StepContext, p: ApplicationEffects['storePreProject']) {
    const content = canonicalJson(p.preProject);
    await ctx.trx
      .insertInto('pre_projects')
      .values({
        application_id: ctx.applicationId,
        version: p.version,
        content,
        content_digest: digestOf(content),
        submitted_by: ctx.meta.actor,
        submitted_at: ctx.occurredAt,
      })
      .execute();
  },

  /** Marks the version the commission receives; from then on the database refuses any change to it. */
  async freezePreProject(ctx: StepContext, p: ApplicationEffects['freezePreProject']) {
    await ctx.trx
      .updateTable('pre_projects')
      .set({ forwarded_at: new Date(ctx.occurredAt) })
      .where('application_id', '=', ctx.applicationId)
      .where('version', '=', p.version)
      .where('forwarded_at', 'is', null)
      .execute();
  },
};
