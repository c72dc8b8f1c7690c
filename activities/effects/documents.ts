import type { ApplicationEffects } from '../../machines/effects';
import { StepInputError, type StepContext } from './context';

export const documentEffects = {
  /** Attaches an upload the API stored: it must be this application's, with the digest, kind and size it claims. */
  async attachDocument(ctx: StepContext, doc: ApplicationEffects['attachDocument']) {
    const row = await ctx.trx
      .selectFrom('documents')
      .select(['id', 'sha256', 'kind', 'size_bytes', 'attached_seq'])
      .where('id', '=', doc.documentId)
      .where('application_id', '=', ctx.applicationId)
      .executeTakeFirst();
    if (!row || row.sha256 !== doc.sha256 || row.kind !== doc.kind || row.size_bytes !== doc.sizeBytes) {
      throw new StepInputError('InvalidDocument', [
        { path: 'document', message: 'no such upload for this application: upload the file first' },
      ]);
    }
    if (row.attached_seq !== null) return;
    await ctx.trx
      .updateTable('documents')
      .set({ attached_at: new Date(ctx.occurredAt), attached_seq: ctx.seq })
      .where('id', '=', row.id)
      .execute();
  },
};
