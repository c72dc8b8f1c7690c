import type { ActivityDeps } from './effects/context';
import { projectActivities } from './project/steps';
import { reminderActivities } from './reminders';
import { stepActivities } from './steps';

export type { ActivityDeps } from './effects/context';

/** Every activity, built from its dependencies; worker.ts is the only caller outside tests. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...stepActivities(deps),
    ...reminderActivities(deps),
    ...projectActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
