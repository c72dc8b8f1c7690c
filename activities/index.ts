import type { Comune } from '../domain/eligibility';
import type { Db } from '../db/connect';
import { accompanimentActivities } from './accompaniment';
import { applicationActivities } from './applications';
import { documentActivities } from './documents';

export interface ActivityDeps {
  db: Db;
  comuni: readonly Comune[];
  documentsDir: string;
  documentMaxBytes: number;
  now?: () => Date;
}

/** Every activity, built from its dependencies; worker.ts is the only caller outside tests. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...applicationActivities(deps),
    ...accompanimentActivities(deps),
    ...documentActivities({ db: deps.db, documentsDir: deps.documentsDir, maxBytes: deps.documentMaxBytes }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
