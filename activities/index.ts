import type { Comune } from '../domain/eligibility';
import type { Db } from '../db/connect';
import { accompanimentActivities } from './accompaniment';
import { budgetActivities } from './budget';
import { applicationActivities } from './applications';
import { documentActivities } from './documents';
import { preProjectActivities } from './pre-projects';

export interface ActivityDeps {
  db: Db;
  /** The comuni of a territory file named by a call's rules. */
  territory: (comuniFile: string) => readonly Comune[];
  documentsDir: string;
  documentMaxBytes: number;
  recipients?: { operators: readonly string[]; commission: readonly string[] };
  now?: () => Date;
}

/** Every activity, built from its dependencies; worker.ts is the only caller outside tests. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...applicationActivities(deps),
    ...accompanimentActivities(deps),
    ...preProjectActivities(deps),
    ...budgetActivities(deps),
    ...documentActivities({ db: deps.db, documentsDir: deps.documentsDir, maxBytes: deps.documentMaxBytes }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
