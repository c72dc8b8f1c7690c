import { createHash } from 'node:crypto';
import type { PreProject } from '../machines/events';
import type { Db } from '../db/connect';
import { canonicalJson } from './applications';

export function preProjectActivities(deps: { db: Db }) {
  const { db } = deps;
  return {
    /** Keeps every version: a resubmission after an integration request adds a row, never rewrites one. */
    async storePreProject(input: {
      applicationId: string;
      version: number;
      preProject: PreProject;
      submittedBy: string;
    }): Promise<{ digest: string }> {
      const content = canonicalJson(input.preProject);
      const digest = createHash('sha256').update(content).digest('hex');
      await db
        .insertInto('pre_projects')
        .values({
          application_id: input.applicationId,
          version: input.version,
          content,
          content_digest: digest,
          submitted_by: input.submittedBy,
        })
        .onConflict((oc) => oc.columns(['application_id', 'version']).doNothing())
        .execute();
      return { digest };
    },

    /** Marks the version the commission receives; from then on the database refuses any change to it. */
    async freezePreProject(input: { applicationId: string; version: number }): Promise<void> {
      await db
        .updateTable('pre_projects')
        .set({ forwarded_at: new Date() })
        .where('application_id', '=', input.applicationId)
        .where('version', '=', input.version)
        .where('forwarded_at', 'is', null)
        .execute();
    },
  };
}
